package service_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/web"
)

// TestAdminAgentsAPI: from the embedded admin (App Bridge ID token) a
// merchant creates and revokes agent keys, sets signing, the webhook and
// Stripe, and sees the base URL; the key works at once and stops when
// revoked; secrets are shown once and never listed; bad input changes
// nothing.
func TestAdminAgentsAPI(t *testing.T) {
	t.Parallel()
	e, _, _ := syncedEnv(t, app.DatabaseSQLite)
	call := func(method, path, body, token string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, e.svc.URL()+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out, resp.Header
	}
	tok := e.emu.IDToken(testShop, "1")

	if status, _, _ := call("GET", "/api/agents", "", ""); status != 401 {
		t.Errorf("without an ID token: %d", status)
	}
	if status, _, _ := call("GET", "/api/agents", "", "forged.token.value"); status != 401 {
		t.Errorf("with a forged ID token: %d", status)
	}
	status, out, h := call("POST", "/api/agents/keys", `{"label":"ChatGPT"}`, tok)
	key, _ := out["api_key"].(string)
	if status != 201 || !strings.HasPrefix(key, agents.APIKeyPrefix+"_") || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("create key: %d %v", status, out)
	}
	id := int64(out["id"].(float64))
	if status, out, _ = call("POST", "/api/agents/stripe", `{"key":"`+e.stripe.RestrictedKey(testStripeAccount)+`"}`, tok); status != 200 || out["stripe_account_id"] != testStripeAccount {
		t.Fatalf("connect Stripe: %d %v", status, out)
	}
	for name, body := range map[string]string{
		"stripe key refused by Stripe": `{"key":"rk_test_notarealkey123456"}`,
		"not a Stripe key":             `{"key":"hello"}`,
		"unknown field":                `{"key":"rk_test_x","extra":1}`,
	} {
		if status, out, _ := call("POST", "/api/agents/stripe", body, tok); status != 400 {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
	if status, out, _ = call("POST", "/api/agents/webhook", `{"url":"http://agent.example/hook"}`, tok); status != 400 || out["param"] != "webhook_url" {
		t.Errorf("plain-http public webhook URL: %d %v", status, out)
	}
	if status, out, _ = call("POST", "/api/agents/signing-secret", `{"require":false}`, tok); status != 200 || !strings.HasPrefix(out["signing_secret"].(string), "acpb_sig_") {
		t.Fatalf("signing secret: %d %v", status, out)
	}

	status, out, _ = call("GET", "/api/agents", "", tok)
	if status != 200 || out["base_url"] != web.ACPBaseURL(e.svc.URL(), testShop) || out["stripe_account_id"] != testStripeAccount ||
		out["signing_secret_set"] != true || len(out["api_keys"].([]any)) != 1 {
		t.Fatalf("GET /api/agents: %d %v", status, out)
	}
	if b, _ := json.Marshal(out); strings.Contains(string(b), key) || strings.Contains(string(b), "acpb_sig_") {
		t.Fatal("the listing shows a secret")
	}

	// The key works for the agent at once, and stops when revoked.
	a := &agent{t: t, base: web.ACPBaseURL(e.svc.URL(), testShop), key: key, version: acp.V20260417}
	if r := a.do("GET", "/checkout_sessions/cs_nosuchsession", nil); r.status != 404 {
		t.Errorf("a new key: %d %s (want 404: authenticated, no such session)", r.status, r.body)
	}
	if status, _, _ := call("DELETE", "/api/agents/keys/"+strconv.FormatInt(id, 10), "", tok); status != 204 {
		t.Fatalf("revoke: %d", status)
	}
	if r := a.do("GET", "/checkout_sessions/cs_nosuchsession", nil); r.status != 401 {
		t.Errorf("a revoked key: %d", r.status)
	}
	if status, _, _ := call("DELETE", "/api/agents/keys/999999", "", tok); status != 404 {
		t.Errorf("revoking an unknown key: %d", status)
	}
}
