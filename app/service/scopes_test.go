package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/merchant"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// featuresOff names the shop's features that are off, by key.
func featuresOff(fs []app.Feature) string {
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.Key
	}
	return strings.Join(keys, ",")
}

// waitProcessed waits until the app has processed the emulator's delivery
// and returns the stored event.
func (e *checkoutEnv) waitProcessed(t *testing.T, d *emulator.Delivery) *app.WebhookEvent {
	t.Helper()
	if d == nil || d.Status != http.StatusOK {
		t.Fatalf("delivery %+v", d)
	}
	var got *app.WebhookEvent
	waitFor(t, d.Topic+" processed", func() bool {
		evs, err := e.svc.Store().WebhookEvents(context.Background(), testShop, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.WebhookID == d.ID && ev.ProcessedAt != nil {
				got = ev
				return true
			}
		}
		return false
	})
	return got
}

// buyAs completes a purchase by a buyer of that first name (and email);
// the shipping address is Ada Lovelace's, so the Shopify customer is named
// after the buyer only when the order upserts it.
func (e *checkoutEnv) buyAs(t *testing.T, first, email string) emulator.Order {
	t.Helper()
	a := e.agent(t, acp.V20260417)
	body := a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress())
	body["buyer"] = map[string]any{"first_name": first, "last_name": "Tester", "email": email}
	r := a.do("POST", "/checkout_sessions", body)
	if r.status != http.StatusCreated || r.str("status") != "ready_for_payment" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.str("id")
	if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.status != http.StatusOK {
		t.Fatalf("complete as %s: %d %s", first, r.status, r.body)
	}
	return e.shopifyOrder(t, id)
}

// TestScopesUpdateDisablesFeatures: app/scopes_update, signed and sent by
// the emulator when the grant changes, is stored; a scope taken back turns
// off exactly the feature that needs it (write_customers: the buyer is no
// longer upserted as the shop's customer, and the purchase still
// completes; read_publications: the sales channel check), and the overview
// says which are off and offers the grant.
func TestScopesUpdateDisablesFeatures(t *testing.T) {
	t.Parallel()
	for _, kind := range []app.DatabaseKind{app.DatabaseSQLite, app.DatabasePostgres} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e := newCheckoutEnv(t, kind)
			ctx := context.Background()
			if off := featuresOff(e.shop(t).FeaturesOff()); off != "channel_check,customer_records" {
				t.Fatalf("after install, features off = %q: optional scopes are not granted at install", off)
			}

			// Both optional scopes granted: both features on.
			d, err := e.emu.GrantScopes(ctx, testShop, app.ScopeReadPublications, app.ScopeWriteCustomers)
			if err != nil {
				t.Fatal(err)
			}
			ev := e.waitProcessed(t, d)
			sh := e.shop(t)
			if !sh.HasScope(app.ScopeWriteCustomers) || !sh.HasScope(app.ScopeReadPublications) || len(sh.FeaturesOff()) != 0 {
				t.Fatalf("after the grant: scopes %q, outcome %q", sh.Scopes, ev.Outcome)
			}
			if o := e.buyAs(t, "Grace", "grace@example.com"); o.Customer == nil || o.Customer.FirstName != "Grace" {
				t.Errorf("with write_customers the buyer is not upserted: %+v", o.Customer)
			}

			// write_customers taken back: only the customer records go.
			d, err = e.emu.RevokeScopes(ctx, testShop, app.ScopeWriteCustomers)
			if err != nil {
				t.Fatal(err)
			}
			ev = e.waitProcessed(t, d)
			sh = e.shop(t)
			if off := featuresOff(sh.FeaturesOff()); off != "customer_records" || sh.HasScope(app.ScopeWriteCustomers) ||
				!strings.Contains(ev.Outcome, "features off: customer_records") {
				t.Fatalf("after revoking write_customers: off %q, scopes %q, outcome %q", off, sh.Scopes, ev.Outcome)
			}
			// The emulator refuses customer.toUpsert without the scope, so
			// this purchase completes only if the order no longer sends it.
			if o := e.buyAs(t, "Linus", "linus@example.com"); o.Email != "linus@example.com" || o.Customer == nil || o.Customer.FirstName == "Linus" {
				t.Errorf("without write_customers: order email %q, customer %+v (named by the upsert?)", o.Email, o.Customer)
			}
			if err := e.emu.SetSalesChannels(testShop, []string{"Online Store", "ChatGPT"}); err != nil {
				t.Fatal(err)
			}
			admin := &merchant.Admin{Store: e.svc.Store(), Feeds: e.svc.Feeds(), Agents: e.svc.Agents(),
				Channels: &merchant.ShopifyChannels{Shopify: e.svc.Shopify()}}
			ov, err := admin.Overview(ctx, sh)
			if err != nil || !slices.Equal(ov.ChannelWarns, []string{"ChatGPT"}) || featuresOff(ov.FeaturesOff) != "customer_records" {
				t.Fatalf("overview with read_publications: %v, warns %v (%s), off %q", err, ov.ChannelWarns, ov.ChannelError, featuresOff(ov.FeaturesOff))
			}

			// read_publications taken back: the channel check goes too, and
			// Shopify is not asked (no error: the check is off, not failing).
			d, err = e.emu.RevokeScopes(ctx, testShop, app.ScopeReadPublications)
			if err != nil {
				t.Fatal(err)
			}
			e.waitProcessed(t, d)
			sh = e.shop(t)
			ov, err = (&merchant.Admin{Store: e.svc.Store(), Feeds: e.svc.Feeds(), Agents: e.svc.Agents(),
				Channels: &merchant.ShopifyChannels{Shopify: e.svc.Shopify()}}).Overview(ctx, sh)
			if err != nil || len(ov.ChannelWarns) != 0 || ov.ChannelError != "" || featuresOff(ov.FeaturesOff) != "channel_check,customer_records" {
				t.Fatalf("overview without read_publications: %v, warns %v (%s), off %q", err, ov.ChannelWarns, ov.ChannelError, featuresOff(ov.FeaturesOff))
			}
			c := newAdminClient(t, e)
			_, _, body := c.page("/admin", nil)
			for _, want := range []string{`data-feature="channel_check"`, `data-grant-scope="read_publications"`,
				`data-feature="customer_records"`, `data-grant-scope="write_customers"`, `/static/scopes.js`} {
				if !strings.Contains(body, want) {
					t.Errorf("overview page lacks %s:\n%s", want, grep(body, "feature"))
				}
			}
			// The required scopes were never touched.
			for _, sc := range e.cfg.Scopes {
				if !sh.HasScope(sc) {
					t.Errorf("required scope %s lost", sc)
				}
			}
		})
	}
}

// appBridgeScopes calls the emulator's App Bridge scopes API as the
// stand-in script does when the merchant answers the permission modal.
func appBridgeScopes(t *testing.T, e *checkoutEnv, action string, scopes ...string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"shop": testShop, "api_key": testClientID, "action": action, "scopes": scopes})
	resp, err := http.Post(e.emu.URL()+"/emulator/app-bridge/scopes", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestOptionalScopeGrantedInContext: the merchant grants read_publications
// from the overview (App Bridge's scopes.request, accepted in Shopify's
// modal); the page's call to /api/scopes/sync stores the grant at once and
// the channel check is on. App Bridge grants only declared optional scopes
// and never revokes a required one.
func TestOptionalScopeGrantedInContext(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	c := newAdminClient(t, e)
	if err := e.emu.SetSalesChannels(testShop, []string{"Online Store", "ChatGPT"}); err != nil {
		t.Fatal(err)
	}
	if ov, err := e.svc.Admin().Overview(ctx, e.shop(t)); err != nil || len(ov.ChannelWarns) != 0 || ov.ChannelError != "" {
		t.Fatalf("before the grant: %v, warns %v (%s)", err, ov.ChannelWarns, ov.ChannelError)
	}

	if status, out := appBridgeScopes(t, e, "grant", "write_products"); status != http.StatusUnprocessableEntity {
		t.Errorf("granting an undeclared scope: %d %v", status, out)
	}
	if status, out := appBridgeScopes(t, e, "revoke", "write_orders"); status != http.StatusUnprocessableEntity {
		t.Errorf("revoking a required scope: %d %v", status, out)
	}
	status, out := appBridgeScopes(t, e, "grant", app.ScopeReadPublications)
	if status != http.StatusOK || out["result"] != "granted-all" {
		t.Fatalf("grant: %d %v", status, out)
	}
	status, out = c.api("POST", "/api/scopes/sync", "{}", testShop)
	if status != http.StatusOK || !app.HasScope(out["scopes"].(string), app.ScopeReadPublications) {
		t.Fatalf("sync: %d %v", status, out)
	}
	on := map[string]bool{}
	for _, f := range out["features"].([]any) {
		m := f.(map[string]any)
		on[m["key"].(string)] = m["on"].(bool)
	}
	if !on["channel_check"] || on["customer_records"] {
		t.Errorf("features after granting read_publications: %v", on)
	}
	ov, err := e.svc.Admin().Overview(ctx, e.shop(t))
	if err != nil || !slices.Equal(ov.ChannelWarns, []string{"ChatGPT"}) || featuresOff(ov.FeaturesOff) != "customer_records" {
		t.Fatalf("after the grant: %v, warns %v (%s), off %q", err, ov.ChannelWarns, ov.ChannelError, featuresOff(ov.FeaturesOff))
	}
	// The app/scopes_update the grant sent is processed too, to the same end.
	ds := e.emu.Deliveries(testShop, "app/scopes_update")
	if len(ds) != 1 {
		t.Fatalf("%d app/scopes_update deliveries, want 1", len(ds))
	}
	if ev := e.waitProcessed(t, ds[0]); !strings.Contains(ev.Outcome, "read_publications") {
		t.Errorf("outcome %q", ev.Outcome)
	}
	if _, _, body := c.page("/admin", nil); !strings.Contains(body, "data-channel-warning") || strings.Contains(body, `data-grant-scope="read_publications"`) {
		t.Errorf("overview after the grant:\n%s", grep(body, "channel"))
	}
}
