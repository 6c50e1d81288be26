package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// TestScopesChange: App Bridge's scopes API grants only declared optional
// scopes and never revokes a required one; every change reaches the app's
// existing and refreshed tokens at once and is sent, signed, as
// app/scopes_update with the previous and current grant; orderCreate's
// customer.toUpsert needs write_customers.
func TestScopesChange(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	required := []string{"read_products", "write_orders"}
	b := setup(t, func(c *emulator.Config) {
		c.AppURL = sink.URL
		c.Scopes = required
		c.OptionalScopes = []string{"read_publications", "write_customers"}
	})
	tok := b.install(t, testShop, true)
	access := tok["access_token"].(string)
	const pubs = `{ publications(first: 5) { nodes { id } } }`
	if _, resp := b.gql(t, testShop, access, pubs, nil); errorCode(resp) != "ACCESS_DENIED" {
		t.Fatalf("publications without read_publications: %v", resp)
	}
	bridge := func(action string, scopes ...string) (int, map[string]any) {
		return b.postJSON(t, b.emu.URL()+"/emulator/app-bridge/scopes", nil,
			map[string]any{"shop": testShop, "api_key": testKey, "action": action, "scopes": scopes})
	}
	if status, out := bridge("query"); status != http.StatusOK || len(out["granted"].([]any)) != 2 || len(out["optional"].([]any)) != 2 {
		t.Errorf("query: %d %v", status, out)
	}
	for _, tc := range []struct {
		action, scope string
		want          int
	}{
		{"grant", "write_products", http.StatusUnprocessableEntity}, // not an optional scope
		{"revoke", "write_orders", http.StatusUnprocessableEntity},  // required
		{"forget", "read_publications", http.StatusBadRequest},
	} {
		if status, out := bridge(tc.action, tc.scope); status != tc.want {
			t.Errorf("%s %s: %d %v, want %d", tc.action, tc.scope, status, out, tc.want)
		}
	}
	if status, _ := b.postJSON(t, b.emu.URL()+"/emulator/app-bridge/scopes", nil,
		map[string]any{"shop": testShop, "api_key": "someone-else", "action": "grant", "scopes": []string{"read_publications"}}); status != http.StatusNotFound {
		t.Errorf("another app's key: %d", status)
	}

	status, out := bridge("grant", "read_publications")
	if status != http.StatusOK || out["result"] != "granted-all" || !slices.Contains(toStrings(dig(out, "detail", "granted")), "read_publications") {
		t.Fatalf("grant: %d %v", status, out)
	}
	w := sink.next(t, "app/scopes_update")
	var p struct{ Previous, Current []string }
	if err := json.Unmarshal(w.body, &p); err != nil || slices.Contains(p.Previous, "read_publications") ||
		!slices.Contains(p.Current, "read_publications") || !slices.Contains(p.Current, "write_orders") {
		t.Errorf("app/scopes_update payload %s (%v)", w.body, err)
	}
	if w.header.Get("X-Shopify-Shop-Domain") != testShop || w.header.Get("X-Shopify-Hmac-Sha256") == "" {
		t.Errorf("headers %v", w.header)
	}
	b.mustData(t, testShop, access, pubs, nil) // the token in hand sees the grant
	installed := b.mustData(t, testShop, access, `{ currentAppInstallation { accessScopes { handle } } }`, nil)
	var handles []string
	for _, s := range dig(installed, "currentAppInstallation", "accessScopes").([]any) {
		handles = append(handles, s.(map[string]any)["handle"].(string))
	}
	if !slices.Contains(handles, "read_publications") {
		t.Errorf("accessScopes %v", handles)
	}

	// customer.toUpsert needs write_customers.
	v := b.emu.Products(testShop)[0].Variants[0]
	order := simpleOrder(v, 1, "cs_scopes")
	order["customer"] = map[string]any{"toUpsert": map[string]any{"email": "ann@example.com", "firstName": "Ann"}}
	create := `mutation C($order: OrderCreateOrderInput!) { orderCreate(order: $order) { order { id } userErrors { message } } }`
	if _, resp := b.gql(t, testShop, access, create, map[string]any{"order": order}); errorCode(resp) != "ACCESS_DENIED" {
		t.Errorf("toUpsert without write_customers: %v", resp)
	}
	if d, err := b.emu.GrantScopes(context.Background(), testShop, "write_customers"); err != nil || d.Status != http.StatusOK {
		t.Fatalf("GrantScopes: %v %v", d, err)
	}
	if data := b.mustData(t, testShop, access, create, map[string]any{"order": order}); dig(data, "orderCreate", "order", "id") == nil {
		t.Errorf("toUpsert with write_customers: %v", data)
	}

	// Taken back: refused again, refreshed tokens included.
	if d, err := b.emu.RevokeScopes(context.Background(), testShop, "read_publications"); err != nil || d.Status != http.StatusOK {
		t.Fatalf("RevokeScopes: %v %v", d, err)
	}
	_, refreshed := b.token(t, testShop, map[string]any{"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
	if refreshed["scope"] != "read_products,write_orders,write_customers" {
		t.Errorf("refreshed scope %v", refreshed["scope"])
	}
	for _, tk := range []string{access, refreshed["access_token"].(string)} {
		if _, resp := b.gql(t, testShop, tk, pubs, nil); errorCode(resp) != "ACCESS_DENIED" {
			t.Errorf("publications after the revoke: %v", resp)
		}
	}
	if d, err := b.emu.RevokeScopes(context.Background(), testShop, "read_publications"); d != nil || err != nil {
		t.Errorf("revoking what is not granted: %v %v", d, err)
	}
	if got := b.emu.Scopes(testShop); !slices.Equal(got, []string{"read_products", "write_orders", "write_customers"}) {
		t.Errorf("Scopes = %v", got)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
