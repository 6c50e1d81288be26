package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

const (
	testKey    = "test-client-id"
	testSecret = "test-client-secret"
	testShop   = "demo-shop.myshopify.com"
	otherShop  = "other-shop.myshopify.com"
)

func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC))
}

// bundle is one started emulator with its clock and an HTTP client that
// reaches it the way the app does.
type bundle struct {
	emu    *emulator.Emulator
	clock  *testkit.Clock
	client *http.Client
}

// setup starts an emulator with two shops and a fixed clock; edit may change
// the config first.
func setup(t *testing.T, edit func(*emulator.Config)) *bundle {
	t.Helper()
	c := newClock()
	cfg := emulator.Config{
		APIKey:    testKey,
		APISecret: testSecret,
		AppURL:    "http://127.0.0.1:1", // nothing listens: tests that need the app set their own
		Shops:     []string{testShop, otherShop},
		Now:       c.Now,
		Seed:      42,
		BulkDelay: 20 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	e, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	client := &http.Client{
		Transport: e.Transport(nil),
		Timeout:   10 * time.Second,
		// The app never follows Shopify's redirects itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &bundle{emu: e, clock: c, client: client}
}

// postJSON posts a JSON body and decodes a JSON answer; it fails the test
// when no answer arrives.
func (b *bundle) postJSON(t *testing.T, url string, headers map[string]string, body any) (int, map[string]any) {
	t.Helper()
	status, out, err := b.tryPostJSON(url, headers, body)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return status, out
}

// tryPostJSON is postJSON for calls that may time out.
func (b *bundle) tryPostJSON(url string, headers map[string]string, body any) (int, map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("status %d, body %q is not JSON: %w", resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode, out, nil
}

// token asks for an access token; body gets client_id and client_secret.
func (b *bundle) token(t *testing.T, shop string, body map[string]any) (int, map[string]any) {
	t.Helper()
	body["client_id"], body["client_secret"] = testKey, testSecret
	return b.postJSON(t, "https://"+shop+"/admin/oauth/access_token", nil, body)
}

// install runs a token exchange, as the embedded app does on first load, and
// returns the token response.
func (b *bundle) install(t *testing.T, shop string, expiring bool) map[string]any {
	t.Helper()
	exp := "0"
	if expiring {
		exp = "1"
	}
	status, resp := b.token(t, shop, map[string]any{
		"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
		"subject_token":        b.emu.IDToken(shop, "42"),
		"subject_token_type":   "urn:ietf:params:oauth:token-type:id_token",
		"requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
		"expiring":             exp,
	})
	if status != http.StatusOK {
		t.Fatalf("token exchange: status %d, body %v", status, resp)
	}
	return resp
}

// gql posts a GraphQL document with a token and returns status and body.
func (b *bundle) gql(t *testing.T, shop, token, query string, vars map[string]any) (int, map[string]any) {
	t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	return b.postJSON(t, b.emu.GraphQLURL(shop), map[string]string{"X-Shopify-Access-Token": token}, body)
}

// mustData runs a query that must succeed and returns its data.
func (b *bundle) mustData(t *testing.T, shop, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	status, resp := b.gql(t, shop, token, query, vars)
	if status != http.StatusOK || resp["errors"] != nil {
		t.Fatalf("query failed: status %d, body %v", status, resp)
	}
	data, _ := resp["data"].(map[string]any)
	return data
}

// dig walks decoded JSON by keys and indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// webhookSink is an httptest server acting as the app's webhook endpoint.
type webhookSink struct {
	*httptest.Server
	got chan receivedWebhook
}

type receivedWebhook struct {
	header http.Header
	body   []byte
}

func newWebhookSink(t *testing.T) *webhookSink {
	t.Helper()
	s := &webhookSink{got: make(chan receivedWebhook, 32)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !shopify.VerifyWebhook(body, r.Header.Get("X-Shopify-Hmac-Sha256"), testSecret) {
			w.WriteHeader(http.StatusUnauthorized)
		}
		s.got <- receivedWebhook{header: r.Header.Clone(), body: body}
	}))
	t.Cleanup(s.Close)
	return s
}

// next waits for a webhook of the given topic, skipping others.
func (s *webhookSink) next(t *testing.T, topic string) receivedWebhook {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case w := <-s.got:
			if w.header.Get("X-Shopify-Topic") == topic {
				return w
			}
		case <-deadline:
			t.Fatalf("no %s webhook within 5s", topic)
		}
	}
}

// errorCode returns errors[0].extensions.code of a GraphQL response.
func errorCode(resp map[string]any) string {
	s, _ := dig(resp, "errors", 0, "extensions", "code").(string)
	return s
}

func errorMessage(resp map[string]any) string {
	s, _ := dig(resp, "errors", 0, "message").(string)
	return s
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
