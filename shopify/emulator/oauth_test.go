package emulator_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

func TestOAuthCodeFlow(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	redirect := "http://127.0.0.1:1/auth/callback"
	q := url.Values{
		"client_id":    {testKey},
		"scope":        {"read_products,write_orders"},
		"redirect_uri": {redirect},
		"state":        {"nonce-123"},
	}
	resp, err := b.client.Get("https://" + testShop + "/admin/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusFound; got != want {
		t.Fatalf("authorize status=%d, want %d", got, want)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cb := loc.Query()
	if err := shopify.VerifyQuery(cb, testSecret, b.clock.Now()); err != nil {
		t.Fatalf("callback query does not verify: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Errorf("callback=%q, want %q", got, redirect)
	}
	if cb.Get("state") != "nonce-123" || cb.Get("shop") != testShop || cb.Get("code") == "" {
		t.Errorf("callback query=%v", cb)
	}
	host, err := base64.RawStdEncoding.DecodeString(cb.Get("host"))
	if err != nil || string(host) != "admin.shopify.com/store/demo-shop" {
		t.Errorf("host=%q (%v), want admin.shopify.com/store/demo-shop", host, err)
	}

	status, tok := b.token(t, testShop, map[string]any{"code": cb.Get("code"), "expiring": "1"})
	if status != http.StatusOK {
		t.Fatalf("code grant status=%d body=%v", status, tok)
	}
	if tok["scope"] != "read_products,write_orders" || tok["expires_in"] != 3600.0 || tok["refresh_token_expires_in"] != 2592000.0 {
		t.Errorf("token response=%v", tok)
	}
	if !contains(tok["access_token"].(string), "shpat_") || !contains(tok["refresh_token"].(string), "shprt_") {
		t.Errorf("token formats: %v", tok)
	}
	data := b.mustData(t, testShop, tok["access_token"].(string), `{ shop { myshopifyDomain } }`, nil)
	if got := dig(data, "shop", "myshopifyDomain"); got != testShop {
		t.Errorf("shop=%v", got)
	}

	t.Run("CodeReuseRejected", func(t *testing.T) {
		status, body := b.token(t, testShop, map[string]any{"code": cb.Get("code"), "expiring": "1"})
		if status != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("reuse: status=%d body=%v, want 400 invalid_request", status, body)
		}
	})
}

func TestOAuthAuthorizeRejects(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name       string
		clientID   string
		redirect   string
		shop       string
		wantStatus int
	}{
		{"UnknownClient", "nope", "http://127.0.0.1:1/auth/callback", testShop, http.StatusBadRequest},
		{"RedirectNotAllowed", testKey, "https://evil.example/cb", testShop, http.StatusBadRequest},
		{"UnknownShop", testKey, "http://127.0.0.1:1/auth/callback", "nosuch.myshopify.com", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := url.Values{"client_id": {tt.clientID}, "scope": {"read_products"}, "redirect_uri": {tt.redirect}}
			resp, err := b.client.Get("https://" + tt.shop + "/admin/oauth/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status=%d, want %d", resp.StatusCode, tt.wantStatus)
			}
		})
	}
}

func TestCodeExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	q := url.Values{"client_id": {testKey}, "scope": {"read_products"}, "redirect_uri": {"http://127.0.0.1:1/auth/callback"}}
	resp, err := b.client.Get("https://" + testShop + "/admin/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	b.clock.Advance(61 * time.Second)
	status, body := b.token(t, testShop, map[string]any{"code": loc.Query().Get("code")})
	if status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("expired code: status=%d body=%v", status, body)
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	first := b.install(t, testShop, true)
	rt := first["refresh_token"].(string)

	status, second := b.token(t, testShop, map[string]any{"grant_type": "refresh_token", "refresh_token": rt})
	if status != http.StatusOK || second["refresh_token"] == rt || second["access_token"] == first["access_token"] {
		t.Fatalf("refresh: status=%d body=%v", status, second)
	}
	status, body := b.token(t, testShop, map[string]any{"grant_type": "refresh_token", "refresh_token": rt})
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: status=%d body=%v, want 400 invalid_grant", status, body)
	}
	// The access token issued before the refresh lives until it expires.
	b.mustData(t, testShop, first["access_token"].(string), `{ shop { name } }`, nil)
	b.clock.Advance(time.Hour + time.Second)
	if status, _ := b.gql(t, testShop, first["access_token"].(string), `{ shop { name } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("expired access token: status=%d, want 401", status)
	}
	if got := b.emu.Stats(testShop).Refreshes; got != 1 {
		t.Errorf("Refreshes=%d, want 1", got)
	}
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rt := b.install(t, testShop, true)["refresh_token"].(string)
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Go(func() {
			statuses[i], _ = b.token(t, testShop, map[string]any{"grant_type": "refresh_token", "refresh_token": rt})
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		} else if s != http.StatusBadRequest {
			t.Errorf("status=%d, want 200 or 400", s)
		}
	}
	if ok != 1 {
		t.Errorf("%d refreshes succeeded, want exactly 1 (statuses %v)", ok, statuses)
	}
}

func TestTokenExchange(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	now := b.clock.Now()
	claims := func(shop string, exp time.Time) shopify.IDTokenClaims {
		return shopify.IDTokenClaims{
			Issuer: "https://" + shop + "/admin", Dest: "https://" + shop, Audience: testKey, Subject: "42",
			Exp: exp.Unix(), Nbf: exp.Add(-time.Minute).Unix(), Iat: exp.Add(-time.Minute).Unix(),
		}
	}
	tests := []struct {
		name      string
		idToken   string
		secret    string
		wantCode  int
		wantError string
	}{
		{"Valid", b.emu.IDToken(testShop, "42"), testSecret, http.StatusOK, ""},
		{"Expired", shopify.SignIDToken(claims(testShop, now.Add(-time.Minute)), testSecret), testSecret, http.StatusBadRequest, "invalid_subject_token"},
		{"ForeignSigned", shopify.SignIDToken(claims(testShop, now.Add(time.Minute)), "someone-else"), testSecret, http.StatusBadRequest, "invalid_subject_token"},
		{"OtherShop", b.emu.IDToken(otherShop, "42"), testSecret, http.StatusBadRequest, "invalid_subject_token"},
		{"WrongClientSecret", b.emu.IDToken(testShop, "42"), "wrong", http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := b.postJSON(t, "https://"+testShop+"/admin/oauth/access_token", nil, map[string]any{
				"client_id": testKey, "client_secret": tt.secret,
				"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
				"subject_token":        tt.idToken,
				"subject_token_type":   "urn:ietf:params:oauth:token-type:id_token",
				"requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
				"expiring":             "1",
			})
			if status != tt.wantCode {
				t.Fatalf("status=%d, want %d (body %v)", status, tt.wantCode, body)
			}
			if tt.wantError != "" && body["error"] != tt.wantError {
				t.Errorf("error=%v, want %s", body["error"], tt.wantError)
			}
			if tt.wantError == "" && (body["refresh_token"] == nil || body["scope"] == "") {
				t.Errorf("token response=%v", body)
			}
		})
	}
}

func TestNonExpiringTokenHasNoRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.install(t, testShop, false)
	if _, ok := tok["refresh_token"]; ok {
		t.Errorf("expiring=0 response has a refresh token: %v", tok)
	}
	if _, ok := tok["expires_in"]; ok {
		t.Errorf("expiring=0 response has expires_in: %v", tok)
	}
}
