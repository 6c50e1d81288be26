package service_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

// pointsBudget is the Shopify cost points one whole conversation may take
// (issue 17: from 87 delegated, 126 through Shopify's checkout): a shop's
// bucket restores 100 points a second, so this is what caps its purchases
// per second. It is a budget of API points, not a timing.
const pointsBudget = 30

// conversation is one agent's whole purchase as cmd/acpbench drives it:
// create (cart and buyer), the address, the last shipping option, then
// complete (delegated) or the buyer paying at continue_url (handoff). It
// returns the session id once it is completed and the shop's catalog has
// taken in the sale's stock change (the order's own webhooks are part of
// what a conversation costs).
func (e *checkoutEnv) conversation(t *testing.T, a *agent, qty int, street string, handoff bool) string {
	t.Helper()
	v := e.items.inStock
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(v, qty)}, true, nil))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.str("id")
	address := californiaAddress()
	address["line_one"] = street
	r = a.do("POST", "/checkout_sessions/"+id, a.addressUpdate(address))
	opts, _ := r.m["fulfillment_options"].([]any)
	if r.status != http.StatusOK || len(opts) < 2 {
		t.Fatalf("address: %d %s", r.status, r.body)
	}
	last := opts[len(opts)-1].(map[string]any)["id"].(string)
	r = a.do("POST", "/checkout_sessions/"+id, a.selectOption(last))
	if r.status != http.StatusOK {
		t.Fatalf("shipping: %d %s", r.status, r.body)
	}
	if handoff {
		pay(t, r.str("continue_url"), totals(t, r)["total"])
		waitFor(t, "the handoff session completed", func() bool {
			return a.do("GET", "/checkout_sessions/"+id, nil).str("status") == "completed"
		})
	} else if r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.str("status") != "completed" {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	// The sale's inventory webhook reaches the catalog.
	var want int
	for _, p := range e.emu.Products(testShop) {
		for _, pv := range p.Variants {
			if pv.ID == v.ID {
				want = pv.InventoryQuantity
			}
		}
	}
	waitFor(t, "the catalog has the sale's stock", func() bool {
		page, err := e.svc.Store().CatalogOfVariants(context.Background(), e.sh.ID, []int64{v.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, vs := range page.Variants {
			for _, cv := range vs {
				if cv.VariantID == v.ID {
					return cv.InventoryQuantity == int64(want)
				}
			}
		}
		return false
	})
	return id
}

// TestShopifyPointsPerConversation counts the Shopify cost points (the
// emulator's actual query cost, as cmd/acpbench reports them) of whole
// conversations through the real code path, for both completion methods
// on both databases: a cart state no one priced before, then another
// buyer (another street) with the same cart and region, whose calculation
// is shared. Delegated payment stays within the budget even cold.
func TestShopifyPointsPerConversation(t *testing.T) {
	t.Parallel()
	for _, handoff := range []bool{false, true} {
		name := "delegated"
		if handoff {
			name = "shopify_checkout"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
				var e *checkoutEnv
				if handoff {
					e = newHandoffEnv(t, kind).checkoutEnv
				} else {
					e = newCheckoutEnv(t, kind)
				}
				a := e.agent(t, acp.V20260417)
				for i, tt := range []struct {
					what   string
					budget int
				}{
					// A handoff conversation writes its draft order
					// once, when the buyer follows continue_url.
					{"first of its cart state", pointsBudget},
					{"same cart and region, another buyer", pointsBudget},
				} {
					before := e.emu.Stats(testShop).Cost
					id := e.conversation(t, a, 2, strconv.Itoa(100+i)+" Market St", handoff)
					cost := e.emu.Stats(testShop).Cost - before
					t.Logf("%s, %s: %d Shopify points (session %s)", name, tt.what, cost, id)
					if cost > tt.budget {
						t.Errorf("%s: %d Shopify points, budget %d", tt.what, cost, tt.budget)
					}
					if cost == 0 {
						t.Errorf("%s: no Shopify points counted: the emulator's cost is not being read", tt.what)
					}
				}
			})
		})
	}
}

// TestHandoffCompletedByDraftWebhookAlone: the order's own webhooks
// (orders/create, orders/paid) complete a handoff session from their
// payload, with no read of the order; draft_orders/update, which names the
// order only by id, leaves them a while first. When they never arrive, it
// completes the session itself, with one read of the order's name and
// status page.
func TestHandoffCompletedByDraftWebhookAlone(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t, app.DatabaseSQLite)
	target := e.svc.URL()
	lost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if topic := req.Header.Get("X-Shopify-Topic"); topic == "orders/create" || topic == "orders/paid" {
			w.WriteHeader(http.StatusOK) // taken, never passed on
			return
		}
		body, _ := io.ReadAll(req.Body)
		out, _ := http.NewRequestWithContext(req.Context(), req.Method, target+req.URL.RequestURI(), bytes.NewReader(body))
		out.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	t.Cleanup(lost.Close)
	e.emu.SetAppURL(lost.URL)
	t.Cleanup(func() { e.emu.SetAppURL(target) })

	a := e.agent(t, acp.V20260417)
	id, total, link := e.handedOff(t, a, 1)
	invoice := follow(t, link)
	calls := e.emu.Stats(testShop).GraphQLCalls
	pay(t, invoice, total)
	var r response
	waitFor(t, "completed by draft_orders/update", func() bool {
		r = a.do("GET", "/checkout_sessions/"+id, nil)
		return r.str("status") == "completed"
	})
	if r.str("order", "id") == "" || r.str("order", "permalink_url") == "" {
		t.Errorf("completed without the order's id and status page: %s", r.body)
	}
	// One read of the order, after the wait (the stock refresh of the
	// sale's inventory webhook may add one more call).
	if n := e.emu.Stats(testShop).GraphQLCalls - calls; n < 1 || n > 2 {
		t.Errorf("%d Shopify calls from the payment to the completion, want the order's read (and the stock refresh)", n)
	}
}
