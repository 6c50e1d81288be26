package service_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// Quotes come from the synced catalog, which Shopify's webhooks keep
// current; the step that commits (complete, writing a handoff draft order)
// checks price and stock with Shopify live. These tests change the shop
// with and without the webhook reaching the app.

// productOf is the emulated product holding variant v.
func (e *checkoutEnv) productOf(t *testing.T, v emulator.Variant) string {
	t.Helper()
	for _, p := range e.emu.Products(testShop) {
		for _, pv := range p.Variants {
			if pv.ID == v.ID {
				return strconv.FormatInt(p.ID, 10)
			}
		}
	}
	t.Fatalf("no product holds variant %d", v.ID)
	return ""
}

// setPrice changes the variant's price in Shopify (products/update is sent).
func (e *checkoutEnv) setPrice(t *testing.T, v emulator.Variant, cents int64) {
	t.Helper()
	err := e.emu.UpdateProduct(testShop, e.productOf(t, v), func(p *emulator.Product) {
		for i := range p.Variants {
			if p.Variants[i].ID == v.ID {
				p.Variants[i].PriceCents = cents
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// withoutWebhooks runs fn with Shopify's webhooks to the app lost (as if
// not delivered yet): the catalog does not hear of fn's changes.
func (e *checkoutEnv) withoutWebhooks(fn func()) {
	e.emu.SetAppURL("http://127.0.0.1:1")
	defer e.emu.SetAppURL(e.svc.URL())
	fn()
}

// unitAmount is the session's first line's unit amount.
func unitAmount(t *testing.T, r response) int64 {
	t.Helper()
	field := "line_items"
	if r.m["line_items"] == nil {
		field = "items" // 2025-09-29 sessions list line_items too; be lenient
	}
	n, err := strconv.ParseInt(r.str(field, "0", "unit_amount"), 10, 64)
	if err != nil {
		t.Fatalf("no unit amount in %s", r.body)
	}
	return n
}

// TestQuoteFollowsCatalogWebhooks: a price change that reaches the app by
// webhook is the next quote's price, with no live lookup on the way.
func TestQuoteFollowsCatalogWebhooks(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		a := e.agent(t, acp.V20260417)
		v := e.items.inStock
		r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(v, 1)}, true, californiaAddress()))
		if r.status != http.StatusCreated || unitAmount(t, r) != v.PriceCents {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.str("id")
		newPrice := v.PriceCents + 250
		e.setPrice(t, v, newPrice)
		n := 0
		waitFor(t, "the quote follows the webhook", func() bool {
			n++
			r = a.do("POST", "/checkout_sessions/"+id, map[string]any{"order_notes": "note " + strconv.Itoa(n)})
			return r.status == http.StatusOK && unitAmount(t, r) == newPrice
		})
		if r.str("status") != "ready_for_payment" {
			t.Errorf("after the price change: %s", r.body)
		}
		// A quote makes no live variant lookup: updates that change
		// nothing Shopify prices make no Shopify call at all.
		calls := e.emu.Stats(testShop).GraphQLCalls
		a.do("POST", "/checkout_sessions/"+id, map[string]any{"order_notes": "once more"})
		if got := e.emu.Stats(testShop).GraphQLCalls - calls; got != 0 {
			t.Errorf("an update with the quote's inputs unchanged made %d Shopify calls, want 0", got)
		}
	})
}

// TestCompleteCatchesUnsyncedChanges: a price or stock change Shopify knows
// but whose webhook has not reached the app is caught by complete's live
// check: nothing is charged, the session says precisely what changed and
// shows the new price; completing again pays the new total.
func TestCompleteCatchesUnsyncedChanges(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		a := e.agent(t, acp.V20260417)
		v := e.items.inStock
		tests := []struct {
			name   string
			qty    int
			change func()
			// want is the message; status the session's after the
			// refused complete.
			want, status string
			newPrice     int64 // 0: the price stays
		}{
			{"price", 1, func() { e.setPrice(t, v, v.PriceCents+300) }, "warning/price_change@$.line_items[0]", "ready_for_payment", v.PriceCents + 300},
			{"stock", 2, func() {
				if err := e.emu.SetInventory(testShop, strconv.FormatInt(v.ID, 10), 1); err != nil {
					t.Fatal(err)
				}
			}, "error/quantity_exceeded@$.line_items[0]", "not_ready_for_payment", 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id, total := e.readySession(t, a, tt.qty)
				e.withoutWebhooks(tt.change)
				r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
				if r.status != http.StatusOK || r.str("status") != tt.status || !hasMessage(r, tt.want) {
					t.Fatalf("complete after an unsynced %s change: %d %s, want %s with %s", tt.name, r.status, r.body, tt.status, tt.want)
				}
				if n := len(e.charges(id)); n != 0 {
					t.Errorf("%d charges after a refused complete, want none", n)
				}
				if n := e.ordersOf(id); n != 0 {
					t.Errorf("%d orders after a refused complete, want none", n)
				}
				if tt.newPrice == 0 {
					return
				}
				if got := unitAmount(t, r); got != tt.newPrice {
					t.Errorf("unit amount after the refused complete: %d, want the new price %d", got, tt.newPrice)
				}
				newTotal := totals(t, r)["total"]
				if newTotal == total {
					t.Fatalf("total unchanged (%d) after a price change", total)
				}
				r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
				if r.str("status") != "completed" {
					t.Fatalf("complete again: %s", r.body)
				}
				e.checkOnce(t, id, newTotal)
			})
		}
	})
}

// TestHandoffDraftCatchesUnsyncedChanges: writing a handoff session's
// draft order (when the buyer follows continue_url) commits its price, so
// it is preceded by the live check: a price change the catalog has not
// heard of becomes the session's price (with price_change, for the agent)
// and the buyer is told the new total before any draft is written;
// following the link again writes the draft at that total. A stock
// shortfall leaves the session not payable and without a draft.
func TestHandoffDraftCatchesUnsyncedChanges(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newHandoffEnv(t, kind)
		a := e.agent(t, acp.V20260417)
		v := e.items.inStock
		// The same cart was just quoted: its calculation, at the old
		// price, is cached, so only the live check can see the change.
		e.handedOff(t, a, 1)
		e.handedOff(t, a, 2)

		newPrice := v.PriceCents + 400
		e.withoutWebhooks(func() { e.setPrice(t, v, newPrice) })
		id, _, link := e.handedOff(t, a, 1)
		status, page := visit(t, link)
		if status != http.StatusConflict || !strings.Contains(page, "price") || e.draftOf(t, id) != nil {
			t.Fatalf("following the link after an unsynced price change: %d, draft %+v\n%s", status, e.draftOf(t, id), page)
		}
		r := a.do("GET", "/checkout_sessions/"+id, nil)
		if got := unitAmount(t, r); got != newPrice || !hasMessage(r, "warning/price_change@$.line_items[0]") || r.str("status") != "requires_escalation" {
			t.Errorf("the session after the check: %s at %d (messages %v), want the live price %d with price_change", r.str("status"), got, messages(r), newPrice)
		}
		follow(t, link)
		if d := e.draftOf(t, id); d == nil || d.TotalCents != totals(t, r)["total"] {
			t.Errorf("draft %+v, want one of the session's total %d", d, totals(t, r)["total"])
		}

		e.withoutWebhooks(func() {
			if err := e.emu.SetInventory(testShop, strconv.FormatInt(v.ID, 10), 1); err != nil {
				t.Fatal(err)
			}
		})
		id, _, link = e.handedOff(t, a, 2)
		if status, page := visit(t, link); status != http.StatusConflict || !strings.Contains(page, "not ready") {
			t.Errorf("following the link beyond the unsynced stock: %d\n%s", status, page)
		}
		r = a.do("GET", "/checkout_sessions/"+id, nil)
		if r.str("status") != "not_ready_for_payment" || !hasMessage(r, "error/quantity_exceeded@$.line_items[0]") || r.str("continue_url") != "" {
			t.Fatalf("the session beyond the unsynced stock: %s", r.body)
		}
		if d := e.draftOf(t, id); d != nil {
			t.Errorf("a draft order for a cart Shopify cannot fill: %+v", d)
		}
	})
}

// visit is the buyer opening a link without following redirects: its
// status and page.
func visit(t *testing.T, link string) (int, string) {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestCompleteRetriedAfterShopifyDown: when complete's live check cannot
// reach Shopify, the session asks to try again (nothing charged), and the
// retry, with Shopify back and nothing changed, pays the total the agent
// was shown: the failed check is no price change.
func TestCompleteRetriedAfterShopifyDown(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.agent(t, acp.V20260417)
	id, _ := e.readySession(t, a, 3)
	// The agent chose the dearer option: the failed check must not lose it.
	r := a.do("POST", "/checkout_sessions/"+id, a.selectOption("shopify-Express"))
	if r.str("status") != "ready_for_payment" {
		t.Fatalf("choose Express: %s", r.body)
	}
	total := totals(t, r)["total"]
	e.emu.FailNext(5, http.StatusServiceUnavailable)
	r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	e.emu.FailNext(0, 0)
	if r.status != http.StatusOK || r.str("status") != "not_ready_for_payment" || !hasMessage(r, "error/") {
		t.Fatalf("complete with Shopify down: %d %s", r.status, r.body)
	}
	if n := len(e.charges(id)); n != 0 {
		t.Fatalf("%d charges while Shopify was down", n)
	}
	r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if r.str("status") != "completed" {
		t.Fatalf("complete with Shopify back: %s", r.body)
	}
	e.checkOnce(t, id, total)
}
