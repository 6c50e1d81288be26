package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

// TestDataRequestExport: two buyers check out at the shop, and one of them
// at another shop too; Shopify relays the first buyer's data request. The
// export the merchant downloads from the admin holds exactly that buyer's
// checkouts at this shop (buyer, address, lines, order) and nothing of the
// other buyer or shop; another shop's admin cannot download it. Then
// customers/redact removes the buyer's sealed data, and the other buyer's
// stays.
func TestDataRequestExport(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	a := e.agent(t, acp.V20260417)
	buy := func(email, phone, line string, complete bool) string {
		t.Helper()
		body := a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, false, map[string]any{"name": "Buyer", "line_one": line,
			"city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"})
		body["buyer"] = map[string]any{"first_name": "B", "last_name": "Uyer", "email": email, "phone_number": phone}
		r := a.do("POST", "/checkout_sessions", body)
		if r.str("status") != "ready_for_payment" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.str("id")
		if complete {
			if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.str("status") != "completed" {
				t.Fatalf("complete: %s", r.body)
			}
		}
		return id
	}
	x1 := buy("xavier@buyers.example", "+14155550101", "1 Xavier St", true)
	x2 := buy("Xavier@Buyers.example", "+14155550101", "1 Xavier St", false)
	y := buy("yolanda@buyers.example", "+14155550202", "2 Yolanda Ave", false)
	// The same buyer at another shop.
	other, err := e.svc.Store().SaveShopInstall(ctx, app.Shop{Domain: "other-shop.myshopify.com"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := e.svc.Store().CreateCheckoutSession(ctx, &checkout.Session{ID: "cs_othershop", ShopID: other.ID, Version: acp.V20260417,
		Status: acp.StatusReadyForPayment, Currency: "USD", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
		State: checkout.State{Buyer: &acp.Buyer{Email: "xavier@buyers.example", PhoneNumber: "+14155550303"}}}); err != nil {
		t.Fatal(err)
	}

	d, err := e.emu.SendWebhook(ctx, testShop, "customers/data_request", e.emu.CustomersDataRequestPayload(testShop, "xavier@buyers.example"))
	if err != nil || d.Status != 200 {
		t.Fatalf("data request: %+v %v", d, err)
	}
	c := newAdminClient(t, e)
	var list []any
	waitFor(t, "the data request's export", func() bool {
		status, out := c.api("GET", "/api/privacy/data-requests", "", testShop)
		list, _ = out["data_requests"].([]any)
		return status == 200 && len(list) == 1 && list[0].(map[string]any)["has_export"] == true
	})
	req := list[0].(map[string]any)
	id := strconv.FormatInt(int64(req["id"].(float64)), 10)
	if held := req["held"].(map[string]any); held["checkout_sessions"] != float64(2) {
		t.Errorf("listed counts %v, want the buyer's 2 sessions", held)
	}

	get := func(shop string) (int, http.Header, []byte) {
		r, _ := http.NewRequest("GET", e.svc.URL()+"/api/privacy/data-requests/"+id+"/export", nil)
		r.Header.Set("Authorization", "Bearer "+e.emu.IDToken(shop, "1"))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	status, h, body := get(testShop)
	if status != 200 || !strings.Contains(h.Get("Content-Disposition"), "attachment") || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %v %s", status, h, body)
	}
	var exp app.CustomerExport
	if err := json.Unmarshal(body, &exp); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range exp.CheckoutSessions {
		ids = append(ids, s.ID)
		if s.Buyer == nil || s.Buyer.Phone != "+14155550101" || s.Fulfillment == nil || s.Fulfillment.Address == nil ||
			s.Fulfillment.Address.LineOne != "1 Xavier St" || len(s.Lines) != 1 {
			t.Errorf("session %s exported as %+v", s.ID, s)
		}
		if s.ID == x1 && (s.Order == nil || s.Order.ID == "") {
			t.Errorf("the completed session's order is not exported: %+v", s)
		}
	}
	slices.Sort(ids)
	want := []string{x1, x2}
	slices.Sort(want)
	if !slices.Equal(ids, want) || len(exp.Carts) != 0 {
		t.Fatalf("exported sessions %v (carts %d), want exactly %v", ids, len(exp.Carts), want)
	}
	for _, foreign := range []string{y, "yolanda", "2 Yolanda Ave", "+14155550202", "cs_othershop", "+14155550303"} {
		if strings.Contains(string(body), foreign) {
			t.Errorf("the export holds %q of another buyer or shop", foreign)
		}
	}
	if status, _, _ := get("other-shop.myshopify.com"); status != http.StatusNotFound {
		t.Errorf("another shop's admin downloads the export: %d", status)
	}

	// customers/redact on sealed data.
	if d, err := e.emu.SendWebhook(ctx, testShop, "customers/redact", e.emu.CustomersRedactPayload(testShop, "xavier@buyers.example")); err != nil || d.Status != 200 {
		t.Fatalf("redact: %+v %v", d, err)
	}
	waitFor(t, "the redaction", func() bool {
		cs, err := e.svc.Store().CheckoutSession(ctx, e.sh.ID, x1)
		return err == nil && cs.State.Buyer == nil
	})
	for sid, kept := range map[string]bool{x1: false, x2: false, y: true} {
		cs, err := e.svc.Store().CheckoutSession(ctx, e.sh.ID, sid)
		if err != nil || (cs.State.Buyer != nil) != kept || (cs.State.Fulfillment != nil) != kept || len(cs.State.Quote.Lines) != 1 {
			t.Errorf("%s after the redaction: %+v, %v; want buyer kept=%v and the lines", sid, cs, err, kept)
		}
	}
	if cs, err := e.svc.Store().CheckoutSession(ctx, other.ID, "cs_othershop"); err != nil || cs.State.Buyer == nil {
		t.Errorf("the redaction reached another shop: %+v, %v", cs, err)
	}
}
