package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// cartCall is one cart request of the agent, with an Idempotency-Key on
// POST and PUT (key "" makes one up); every answer must match the official
// 2026-04-17 schemas (Cart, or Error), or 2025-09-29's Error.
func (a *agent) cartCall(method, path, key string, body any) response {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("API-Version", string(a.version))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost || method == http.MethodPut {
		if key == "" {
			a.seq++
			key = fmt.Sprintf("%s-cart-%d-%p", a.t.Name(), a.seq, a)
		}
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if err := json.Unmarshal(b, &r.m); err != nil {
		a.t.Fatalf("%s %s: %d, not a JSON object: %q", method, path, resp.StatusCode, b)
	}
	if resp.StatusCode < 300 {
		err = acptest.ValidateCart("Cart", b)
	} else {
		err = acptest.Validate(a.version, "Error", b)
	}
	if err != nil {
		a.t.Errorf("%s %s: the %d answer does not match the schema: %v\n%s", method, path, resp.StatusCode, err, b)
	}
	return r
}

// cartDraft is the emulated shop's draft order of a cart.
func cartDraft(t *testing.T, e *checkoutEnv, cartID string) *emulator.DraftOrder {
	t.Helper()
	var out *emulator.DraftOrder
	for _, d := range e.emu.Drafts(testShop) {
		for _, at := range d.CustomAttributes {
			if at.Key == checkout.CartAttribute && at.Value == cartID {
				if out != nil {
					t.Fatalf("cart %s has two drafts", cartID)
				}
				out = &d
			}
			if at.Key == checkout.HandoffAttribute {
				t.Errorf("a draft names a session: %+v", d.CustomAttributes)
			}
		}
	}
	return out
}

func discoveryServices(t *testing.T, e *checkoutEnv) []string {
	t.Helper()
	a := e.agent(t, acp.V20260417)
	resp, err := http.Get(a.base + "/.well-known/acp.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := acptest.Validate(acp.V20260417, "DiscoveryResponse", b); err != nil {
		t.Errorf("discovery: %v\n%s", err, b)
	}
	var d struct {
		Capabilities struct{ Services []string } `json:"capabilities"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d.Capabilities.Services
}

// TestCarts is the cart capability through the real routes, the real
// pipeline and the Shopify emulator, on each database: carts are
// advertised (and served) only once the shop sells through Shopify's
// checkout; create → get → put price the cart from the catalog and
// Shopify, and keep one draft order with exactly the cart's lines, stock
// held, whose invoice URL (continue_url) shows those lines at the
// emulator's checkout; a PUT retried with its key is replayed; cancel
// answers the cart, which is then gone, and its draft is deleted, the
// stock released. A cart that cannot be bought has no continue_url, and a
// 2025-09-29 agent finds no carts.
func TestCarts(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		a := e.agent(t, acp.V20260417)
		create := map[string]any{"line_items": []any{map[string]any{"id": item(e.items.inStock, 2).ID, "quantity": 2}},
			"buyer": map[string]any{"email": "ada@example.com"}}

		// Delegated payment (the test's custom distribution): no carts.
		if s := discoveryServices(t, e); slices.Contains(s, "carts") {
			t.Errorf("carts advertised for a delegated-payment shop: %v", s)
		}
		if r := a.cartCall("POST", "/carts", "", create); r.status != http.StatusNotFound || r.str("code") != "not_found" {
			t.Fatalf("cart of a delegated-payment shop: %d %s", r.status, r.body)
		}
		if _, err := e.svc.Agents().SetCompletionMethod(ctx, e.sh.ID, app.CompletionShopifyCheckout); err != nil {
			t.Fatal(err)
		}
		if s := discoveryServices(t, e); !slices.Equal(s, []string{"checkout", "carts"}) {
			t.Errorf("services %v; want checkout and carts", s)
		}

		r := a.cartCall("POST", "/carts", "", create)
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id, invoice := r.str("id"), r.str("continue_url")
		price := e.items.inStock.PriceCents
		if got := totals(t, r); got["items_base_amount"] != 2*price || got["total"] != got["subtotal"] || r.str("currency") != "usd" ||
			invoice == "" || r.str("buyer", "email") != "ada@example.com" || r.str("expires_at") == "" {
			t.Fatalf("created cart: %s", r.body)
		}
		if strings.Contains(string(r.body), `"type":"tax"`) {
			t.Errorf("an address-less shipped cart shows tax: %s", r.body)
		}
		if g := a.cartCall("GET", "/carts/"+id, "", nil); g.status != http.StatusOK || !bytes.Equal(g.body, r.body) {
			t.Fatalf("get: %d %s\nwant %s", g.status, g.body, r.body)
		}

		put := map[string]any{"line_items": []any{
			map[string]any{"id": item(e.items.inStock, 3).ID, "quantity": 3},
			map[string]any{"id": item(e.items.digital, 1).ID},
		}}
		u := a.cartCall("PUT", "/carts/"+id, "put-1", put)
		if u.status != http.StatusOK || u.str("continue_url") != invoice || u.m["buyer"] != nil {
			t.Fatalf("put: %d %s", u.status, u.body)
		}
		if got := totals(t, u); got["items_base_amount"] != 3*price+e.items.digital.PriceCents {
			t.Errorf("put totals %v", got)
		}
		if again := a.cartCall("PUT", "/carts/"+id, "put-1", put); again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, u.body) {
			t.Errorf("retried put: %s %s", again.header, again.body)
		}

		d := cartDraft(t, e, id)
		if d == nil || d.InvoiceURL != invoice || len(d.Lines) != 2 || d.ShippingAddress != nil || d.Shipping != nil {
			t.Fatalf("draft %+v", d)
		}
		variant := "gid://shopify/ProductVariant/" + strconv.FormatInt(e.items.inStock.ID, 10)
		if got := e.emu.Reserved(testShop, d.GID())[variant]; got != 3 {
			t.Errorf("reserved %d of the cart's 3", got)
		}
		resp, err := http.Get(invoice)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range d.Lines {
			if l.Title == "" || !strings.Contains(string(page), l.Title) || !strings.Contains(string(page), "<td>"+strconv.Itoa(l.Quantity)+"</td>") {
				t.Errorf("the checkout page does not show %s × %d:\n%s", l.Title, l.Quantity, page)
			}
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("checkout page: %d", resp.StatusCode)
		}

		c := a.cartCall("POST", "/carts/"+id+"/cancel", "", nil)
		if c.status != http.StatusOK || c.str("id") != id || totals(t, c)["items_base_amount"] != 3*price+e.items.digital.PriceCents {
			t.Fatalf("cancel: %d %s", c.status, c.body)
		}
		for _, g := range []response{a.cartCall("GET", "/carts/"+id, "", nil), a.cartCall("PUT", "/carts/"+id, "", put),
			a.cartCall("POST", "/carts/"+id+"/cancel", "", map[string]any{})} {
			if g.status != http.StatusNotFound || g.str("type") != "invalid_request" || g.str("code") != "not_found" {
				t.Errorf("after cancel: %d %s", g.status, g.body)
			}
		}
		waitFor(t, "the canceled cart's draft deleted", func() bool { return cartDraft(t, e, id) == nil })
		if res := e.emu.Reserved(testShop, d.GID()); len(res) != 0 {
			t.Errorf("still reserved: %v", res)
		}
		if _, err := e.emu.PayDraft(invoice, ""); !errors.Is(err, emulator.ErrNotFound) {
			t.Errorf("paying a canceled cart's draft: %v", err)
		}

		// A cart nobody reads again: housekeeping deletes it and its draft.
		unread := a.cartCall("POST", "/carts", "", create)
		unreadID, exp := unread.str("id"), mustTime(t, unread.str("expires_at"))
		if cartDraft(t, e, unreadID) == nil {
			t.Fatalf("unread cart without a draft: %s", unread.body)
		}
		waitForStartupHousekeeping(t, e.svc.Store().DB()) // it reads the clock moved next
		e.svc.Carts().Now = func() time.Time { return exp.Add(time.Second) }
		if n, err := e.svc.Checkout().ExpireOverdue(ctx); err != nil || n != 1 {
			t.Errorf("ExpireOverdue = %d, %v; want the one cart", n, err)
		}
		waitFor(t, "the expired cart's draft deleted", func() bool { return cartDraft(t, e, unreadID) == nil })
		e.svc.Carts().Now = nil
		if g := a.cartCall("GET", "/carts/"+unreadID, "", nil); g.status != http.StatusNotFound {
			t.Errorf("expired cart: %d %s", g.status, g.body)
		}

		// Nothing to buy: the cart says why, and offers no checkout.
		oos := a.cartCall("POST", "/carts", "", map[string]any{"line_items": []any{map[string]any{"id": item(e.items.outOfStock, 1).ID}}})
		if oos.status != http.StatusCreated || oos.m["continue_url"] != nil || !hasMessage(oos, "error/out_of_stock") ||
			cartDraft(t, e, oos.str("id")) != nil {
			t.Errorf("out-of-stock cart: %d %s", oos.status, oos.body)
		}

		old := e.agent(t, acp.V20250929)
		if o := old.cartCall("POST", "/carts", "", create); o.status != http.StatusNotFound {
			t.Errorf("2025-09-29 cart: %d %s", o.status, o.body)
		}
		if bad := a.cartCall("POST", "/carts", "", map[string]any{"line_items": []any{}}); bad.status != http.StatusBadRequest {
			t.Errorf("empty cart: %d %s", bad.status, bad.body)
		}
	})
}
