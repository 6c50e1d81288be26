package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

// Secrets the OAuth tests send; no error may ever contain one.
const (
	oClientSecret = "shpss_client-secret-value"
	oCode         = "auth-code-0907a61c0c8d"
	oIDToken      = "id.token.value-jwt"
	oRefresh      = "shprt_refresh-token-value"
	oAccess       = "shpat_access-token-value"
	oNewRefresh   = "shprt_new-refresh-token"
)

var oauthSecrets = []string{oClientSecret, oCode, oIDToken, oRefresh, oAccess, oNewRefresh}

var oauthNow = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func newOAuth(client *http.Client) *shopify.OAuth {
	return &shopify.OAuth{
		ClientID:     "client-id",
		ClientSecret: oClientSecret,
		HTTPClient:   client,
		Now:          func() time.Time { return oauthNow },
	}
}

// noSecrets fails the test if s contains any of the test secrets.
func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range oauthSecrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s %q contains a secret", what, s)
		}
	}
}

type grantCall func(ctx context.Context, o *shopify.OAuth, shop string) (*shopify.Token, error)

var grants = []struct {
	name     string
	call     grantCall
	wantBody map[string]string
}{
	{
		name: "authorization code",
		call: func(ctx context.Context, o *shopify.OAuth, shop string) (*shopify.Token, error) {
			return o.ExchangeCode(ctx, shop, oCode)
		},
		wantBody: map[string]string{"client_id": "client-id", "client_secret": oClientSecret, "code": oCode, "expiring": "1"},
	},
	{
		name: "token exchange",
		call: func(ctx context.Context, o *shopify.OAuth, shop string) (*shopify.Token, error) {
			return o.ExchangeIDToken(ctx, shop, oIDToken)
		},
		wantBody: map[string]string{
			"client_id": "client-id", "client_secret": oClientSecret,
			"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
			"subject_token":        oIDToken,
			"subject_token_type":   "urn:ietf:params:oauth:token-type:id_token",
			"requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
			"expiring":             "1",
		},
	},
	{
		name: "refresh",
		call: func(ctx context.Context, o *shopify.OAuth, shop string) (*shopify.Token, error) {
			return o.Refresh(ctx, shop, oRefresh)
		},
		wantBody: map[string]string{"client_id": "client-id", "client_secret": oClientSecret, "grant_type": "refresh_token", "refresh_token": oRefresh},
	},
}

const expiringResponse = `{"access_token":"` + oAccess + `","scope":"read_products,write_orders","expires_in":3600,` +
	`"refresh_token":"` + oNewRefresh + `","refresh_token_expires_in":2592000}`

func TestOAuthGrantRequests(t *testing.T) {
	t.Parallel()
	for _, g := range grants {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu       sync.Mutex
				gotBody  map[string]string
				problems []string
			)
			client := shopServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if r.Method != http.MethodPost || r.URL.Path != "/admin/oauth/access_token" || r.Host != "demo.myshopify.com" {
					problems = append(problems, fmt.Sprintf("request %s %s%s", r.Method, r.Host, r.URL.Path))
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					problems = append(problems, "Content-Type "+ct)
				}
				// The secret travels in the body only.
				if strings.Contains(r.URL.RawQuery, oClientSecret) {
					problems = append(problems, "secret in query")
				}
				for k, vs := range r.Header {
					if strings.Contains(strings.Join(vs, ","), oClientSecret) {
						problems = append(problems, "secret in header "+k)
					}
				}
				if err := json.NewDecoder(r.Body).Decode(&gotBody); err != nil {
					problems = append(problems, "body: "+err.Error())
				}
				io.WriteString(w, expiringResponse)
			}))
			tok, err := g.call(context.Background(), newOAuth(client), "Demo.myshopify.com")
			if err != nil {
				t.Fatalf("grant: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range problems {
				t.Error(p)
			}
			if len(gotBody) != len(g.wantBody) {
				t.Errorf("body has %d fields %v, want %d", len(gotBody), keys(gotBody), len(g.wantBody))
			}
			for k, want := range g.wantBody {
				if got := gotBody[k]; got != want {
					t.Errorf("body[%s] = %q, want %q", k, got, want)
				}
			}
			checkExpiringToken(t, tok)
		})
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func checkExpiringToken(t *testing.T, tok *shopify.Token) {
	t.Helper()
	if tok.AccessToken != oAccess || tok.RefreshToken != oNewRefresh || tok.Scope != "read_products,write_orders" {
		t.Errorf("token = %q/%q scope %q, want %q/%q", tok.AccessToken, tok.RefreshToken, tok.Scope, oAccess, oNewRefresh)
	}
	if want := oauthNow.Add(time.Hour); tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, want)
	}
	if want := oauthNow.Add(30 * 24 * time.Hour); tok.RefreshExpiresAt == nil || !tok.RefreshExpiresAt.Equal(want) {
		t.Errorf("RefreshExpiresAt = %v, want %v", tok.RefreshExpiresAt, want)
	}
}

func TestOAuthNonExpiringToken(t *testing.T) {
	t.Parallel()
	client := shopServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"access_token":"`+oAccess+`","scope":"read_products"}`)
	}))
	tok, err := newOAuth(client).ExchangeCode(context.Background(), "demo.myshopify.com", oCode)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if tok.AccessToken != oAccess || tok.Scope != "read_products" {
		t.Errorf("token = %q scope %q, want %q read_products", tok.AccessToken, tok.Scope, oAccess)
	}
	if tok.ExpiresAt != nil || tok.RefreshExpiresAt != nil || tok.RefreshToken != "" {
		t.Errorf("non-expiring token got ExpiresAt %v RefreshExpiresAt %v RefreshToken %q, want nil, nil, empty",
			tok.ExpiresAt, tok.RefreshExpiresAt, tok.RefreshToken)
	}
}

func TestOAuthErrors(t *testing.T) {
	t.Parallel()
	// Shopify's descriptions are made to echo the secrets here to prove
	// they never reach an error message.
	echo := oCode + " " + oClientSecret + " " + oIDToken + " " + oRefresh
	tests := []struct {
		name       string
		status     int
		body       string
		want       error // nil: none of the sentinels
		wantStatus int
	}{
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"` + echo + `"}`, shopify.ErrInvalidGrant, 400},
		{"invalid_subject_token", 400, `{"error":"invalid_subject_token","error_description":"` + echo + `"}`, shopify.ErrInvalidGrant, 400},
		{"used code", 400, `{"error":"invalid_request","error_description":"The authorization code was not found or was already used ` + echo + `"}`, shopify.ErrInvalidGrant, 400},
		{"other invalid_request", 400, `{"error":"invalid_request","error_description":"missing client_id"}`, nil, 400},
		{"invalid_client", 401, `{"error":"invalid_client","error_description":"` + echo + `"}`, shopify.ErrInvalidClient, 401},
		{"unavailable", 503, `<html>down ` + echo + `</html>`, shopify.ErrUnavailable, 503},
		{"server error", 500, `{"error":"` + oClientSecret + `"}`, shopify.ErrUnavailable, 500},
		{"rate limited", 429, ``, shopify.ErrUnavailable, 429},
		{"redirect not followed", 307, ``, nil, 307},
		{"no access token", 200, `{"scope":"read_products"}`, nil, 0},
		{"not json", 200, `access_token=` + oAccess, nil, 0},
		{"too large", 200, `{"access_token":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			client := shopServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) > 1 {
					t.Errorf("request %d to %s: redirect was followed", hits.Load(), r.URL.Path)
				}
				if tt.status == 307 {
					http.Redirect(w, r, "https://evil.myshopify.com/steal", 307)
					return
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			for _, g := range grants {
				hits.Store(0)
				tok, err := g.call(context.Background(), newOAuth(client), "demo.myshopify.com")
				if err == nil {
					t.Fatalf("%s: got token %v, want error", g.name, tok)
				}
				for _, s := range []error{shopify.ErrInvalidGrant, shopify.ErrInvalidClient, shopify.ErrUnavailable} {
					if got := errors.Is(err, s); got != (s == tt.want) {
						t.Errorf("%s: errors.Is(%v, %v) = %t, want %t", g.name, err, s, got, !got)
					}
				}
				var se *shopify.StatusError
				if errors.As(err, &se) != (tt.wantStatus != 0) || (se != nil && se.Status != tt.wantStatus) {
					t.Errorf("%s: StatusError = %v, want status %d", g.name, se, tt.wantStatus)
				}
				noSecrets(t, "error", err.Error())
			}
		})
	}
}

func TestOAuthNetworkError(t *testing.T) {
	t.Parallel()
	client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})}
	for _, g := range grants {
		_, err := g.call(context.Background(), newOAuth(client), "demo.myshopify.com")
		if !errors.Is(err, shopify.ErrUnavailable) {
			t.Errorf("%s: err = %v, want ErrUnavailable", g.name, err)
		}
		if errors.Is(err, shopify.ErrInvalidGrant) {
			t.Errorf("%s: err = %v, must not be ErrInvalidGrant", g.name, err)
		}
		noSecrets(t, "error", err.Error())
	}
}

func TestOAuthRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	client := shopServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, expiringResponse)
	}))
	tests := []struct {
		name  string
		shop  string
		oauth func(*http.Client) *shopify.OAuth
		want  error
	}{
		{"bad shop", "evil.com", newOAuth, shopify.ErrBadShop},
		{"look-alike shop", "demo.myshopify.com.evil.com", newOAuth, shopify.ErrBadShop},
		{"shop with path", "demo.myshopify.com/admin", newOAuth, shopify.ErrBadShop},
		{"no secret", "demo.myshopify.com", func(c *http.Client) *shopify.OAuth {
			o := newOAuth(c)
			o.ClientSecret = ""
			return o
		}, shopify.ErrInvalidClient},
	}
	for _, tt := range tests {
		for _, g := range grants {
			_, err := g.call(context.Background(), tt.oauth(client), tt.shop)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s/%s: err = %v, want %v", tt.name, g.name, err, tt.want)
			}
		}
	}
	o := newOAuth(client)
	for name, call := range map[string]func() error{
		"empty code":          func() error { _, err := o.ExchangeCode(context.Background(), "demo.myshopify.com", ""); return err },
		"empty ID token":      func() error { _, err := o.ExchangeIDToken(context.Background(), "demo.myshopify.com", ""); return err },
		"empty refresh token": func() error { _, err := o.Refresh(context.Background(), "demo.myshopify.com", ""); return err },
	} {
		if err := call(); !errors.Is(err, shopify.ErrInvalidGrant) {
			t.Errorf("%s: err = %v, want ErrInvalidGrant", name, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestOAuthDefaultDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want time.Duration
	}{
		{"none given: 15s", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, 15 * time.Second},
		{"caller's kept", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Hour)
		}, time.Hour},
	}
	for _, tt := range tests {
		var left time.Duration
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if dl, ok := r.Context().Deadline(); ok {
				left = time.Until(dl)
			}
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(expiringResponse)), Request: r}, nil
		})}
		ctx, cancel := tt.ctx()
		_, err := newOAuth(client).ExchangeCode(ctx, "demo.myshopify.com", oCode)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if left <= tt.want-5*time.Second || left > tt.want {
			t.Errorf("%s: deadline in %v, want about %v", tt.name, left, tt.want)
		}
	}
}

func TestAuthorizeURL(t *testing.T) {
	t.Parallel()
	o := newOAuth(nil)
	got := o.AuthorizeURL("Demo.myshopify.com", "nonce-1", "https://app.example.com/auth/callback", []string{"read_products", "write_orders"})
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("AuthorizeURL = %q: %v", got, err)
	}
	if u.Scheme != "https" || u.Host != "demo.myshopify.com" || u.Path != "/admin/oauth/authorize" {
		t.Errorf("AuthorizeURL = %q, want https://demo.myshopify.com/admin/oauth/authorize?…", got)
	}
	want := url.Values{
		"client_id":    {"client-id"},
		"scope":        {"read_products,write_orders"},
		"redirect_uri": {"https://app.example.com/auth/callback"},
		"state":        {"nonce-1"},
	}
	if q := u.Query(); q.Encode() != want.Encode() {
		t.Errorf("query = %v, want %v (offline: no grant_options)", q, want)
	}
	noSecrets(t, "authorize URL", got)
	if got := o.AuthorizeURL("evil.com/x?", "n", "https://app.example.com/cb", nil); got != "" {
		t.Errorf("AuthorizeURL(bad shop) = %q, want empty", got)
	}
}

func TestTokenRedacted(t *testing.T) {
	t.Parallel()
	exp := oauthNow.Add(time.Hour)
	tok := &shopify.Token{AccessToken: oAccess, RefreshToken: oNewRefresh, Scope: "read_products", ExpiresAt: &exp}
	for _, s := range []string{fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", *tok), fmt.Sprintf("%#v", tok), fmt.Sprint(*tok)} {
		noSecrets(t, "formatted token", s)
		if !strings.Contains(s, "read_products") {
			t.Errorf("formatted token %q lacks the scope", s)
		}
	}
}
