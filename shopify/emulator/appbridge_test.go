package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

// TestAppBridgeStandIn: the emulator serves its App Bridge script and signs
// ID tokens, as Shopify admin does, only for a shop the app is installed
// on and only for this app's client id; the tokens verify like Shopify's.
func TestAppBridgeStandIn(t *testing.T) {
	b := setup(t, nil)
	resp, err := http.Get(b.emu.AppBridgeURL())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(string(js), "shopify-reload") {
		t.Fatalf("script: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	token := func(shop, key string) (int, string) {
		resp, err := http.Post(b.emu.URL()+"/emulator/app-bridge/id-token", "application/json",
			strings.NewReader(`{"shop":"`+shop+`","api_key":"`+key+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			IDToken string `json:"id_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.IDToken
	}
	if status, tok := token(testShop, testKey); status != http.StatusNotFound || tok != "" {
		t.Errorf("before the app is installed: %d", status)
	}
	b.install(t, testShop, true)
	status, tok := token(testShop, testKey)
	if status != 200 {
		t.Fatalf("installed: %d", status)
	}
	claims, err := shopify.VerifyIDToken(tok, testKey, testSecret, b.clock.Now().Add(time.Second))
	if err != nil || claims.Dest != "https://"+testShop {
		t.Errorf("token: %v %+v", err, claims)
	}
	for name, args := range map[string][2]string{
		"another app":          {testShop, "someone-else"},
		"a shop not installed": {otherShop, testKey},
		"an unknown shop":      {"nobody.myshopify.com", testKey},
	} {
		if status, tok := token(args[0], args[1]); status != http.StatusNotFound || tok != "" {
			t.Errorf("%s: %d", name, status)
		}
	}
}
