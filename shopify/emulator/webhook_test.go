package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/acpbridge/acpbridge/shopify/emulator"
)

func TestWebhookRedeliveryKeepsID(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	ctx := context.Background()

	d, err := b.emu.SendWebhook(ctx, testShop, "customers/redact", b.emu.CustomersRedactPayload(testShop, "ann@example.com"))
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("SendWebhook: %v, status %d", err, d.Status)
	}
	first := sink.next(t, "customers/redact")
	if err := b.emu.Redeliver(ctx, d); err != nil {
		t.Fatal(err)
	}
	second := sink.next(t, "customers/redact")

	for _, h := range []string{"X-Shopify-Webhook-Id", "X-Shopify-Event-Id", "X-Shopify-Triggered-At", "X-Shopify-Hmac-Sha256"} {
		if first.header.Get(h) == "" || first.header.Get(h) != second.header.Get(h) {
			t.Errorf("%s: first %q, redelivery %q", h, first.header.Get(h), second.header.Get(h))
		}
	}
	if first.header.Get("X-Shopify-Webhook-Id") != d.ID || string(second.body) != string(d.Body) {
		t.Error("redelivery differs from the delivery")
	}
	if first.header.Get("X-Shopify-Shop-Domain") != testShop || first.header.Get("X-Shopify-API-Version") != "2026-10" {
		t.Errorf("headers=%v", first.header)
	}
}

func TestWebhookSignatureRejectedByApp(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL; c.APISecret = "rotated-secret" })
	d, err := b.emu.SendWebhook(context.Background(), testShop, "shop/redact", b.emu.ShopRedactPayload(testShop))
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != http.StatusUnauthorized {
		t.Errorf("status=%d, want the app's 401 for a foreign signature", d.Status)
	}
}

func TestStoreChangesSendWebhooks(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	p := b.emu.Products(testShop)[5]
	v := p.Variants[0]

	// Not installed yet: Shopify notifies nobody.
	if err := b.emu.SetInventory(testShop, v.GID(), 9); err != nil {
		t.Fatal(err)
	}
	b.install(t, testShop, true)

	if err := b.emu.SetInventory(testShop, v.GID(), 3); err != nil {
		t.Fatal(err)
	}
	var inv map[string]any
	_ = json.Unmarshal(sink.next(t, "inventory_levels/update").body, &inv)
	if inv["inventory_item_id"] != float64(v.InventoryItemID) || inv["available"] != 3.0 || inv["location_id"] == nil || !contains(inv["admin_graphql_api_id"].(string), "gid://shopify/InventoryLevel/") {
		t.Errorf("inventory payload=%v", inv)
	}

	if err := b.emu.UpdateProduct(testShop, p.GID(), func(p *emulator.Product) { p.Title = "Renamed" }); err != nil {
		t.Fatal(err)
	}
	var upd map[string]any
	_ = json.Unmarshal(sink.next(t, "products/update").body, &upd)
	if upd["id"] != float64(p.ID) || upd["title"] != "Renamed" || upd["admin_graphql_api_id"] != p.GID() || dig(upd, "variants", 0, "inventory_quantity") != 3.0 {
		t.Errorf("update payload=%v", upd)
	}

	if err := b.emu.DeleteProduct(testShop, p.GID()); err != nil {
		t.Fatal(err)
	}
	var del map[string]any
	_ = json.Unmarshal(sink.next(t, "products/delete").body, &del)
	if del["id"] != float64(p.ID) || len(del) != 1 {
		t.Errorf("delete payload=%v", del)
	}
	if got := len(b.emu.Products(testShop)); got != 24 {
		t.Errorf("%d products after delete, want 24", got)
	}
	if err := b.emu.DeleteProduct(testShop, p.GID()); err == nil {
		t.Error("deleting twice succeeded")
	}
}

func TestUninstall(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	tok := b.install(t, testShop, true)

	d, err := b.emu.Uninstall(context.Background(), testShop)
	if err != nil || d.Status != http.StatusOK {
		t.Fatalf("Uninstall: %v", err)
	}
	var shop map[string]any
	_ = json.Unmarshal(sink.next(t, "app/uninstalled").body, &shop)
	if shop["myshopify_domain"] != testShop || shop["id"] == nil {
		t.Errorf("app/uninstalled payload=%v", shop)
	}
	if status, _ := b.gql(t, testShop, tok["access_token"].(string), `{ shop { name } }`, nil); status != http.StatusUnauthorized {
		t.Errorf("app token after uninstall: status %d, want 401", status)
	}
	status, _ := b.token(t, testShop, map[string]any{"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]})
	if status != http.StatusBadRequest {
		t.Errorf("refresh after uninstall: status %d, want 400", status)
	}
	b.mustData(t, testShop, b.emu.StaffToken(testShop), `{ shop { name } }`, nil) // staff access is not the app's
	b.install(t, testShop, true)                                                  // reinstall works
}

func TestCompliancePayloads(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tests := []struct {
		name    string
		payload map[string]any
		keys    []string
	}{
		{"DataRequest", b.emu.CustomersDataRequestPayload(testShop, "ann@example.com"), []string{"shop_id", "shop_domain", "orders_requested", "customer", "data_request"}},
		{"CustomersRedact", b.emu.CustomersRedactPayload(testShop, "ann@example.com"), []string{"shop_id", "shop_domain", "customer", "orders_to_redact"}},
		{"ShopRedact", b.emu.ShopRedactPayload(testShop), []string{"shop_id", "shop_domain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if len(tt.payload) != len(tt.keys) {
				t.Errorf("payload=%v, want keys %v", tt.payload, tt.keys)
			}
			for _, k := range tt.keys {
				if _, ok := tt.payload[k]; !ok {
					t.Errorf("missing %s in %v", k, tt.payload)
				}
			}
			if tt.payload["shop_domain"] != testShop {
				t.Errorf("shop_domain=%v", tt.payload["shop_domain"])
			}
		})
	}
}
