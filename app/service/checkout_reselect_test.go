package service_test

import (
	"net/http"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestCheckoutReselectAfterFailedQuote: Shopify fails while the agent picks
// a shipping option (and changes what Shopify must price); the session says "try again in a moment" (a 2xx with a
// recoverable message, its options gone with the failed quote). The agent
// sends the same choice again once Shopify is back: it is accepted and
// priced, not refused with a 400 "not one of the session's options" that
// no retry could fix. Found by the load driver with 20% upstream faults
// (cmd/acpbench, docs/reliability.md).
func TestCheckoutReselectAfterFailedQuote(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	qty := 0
	eachVersion(t, func(t *testing.T, v acp.Version) {
		a := e.agent(t, v)
		// A cart of its own per version: a calculation cached by the
		// other version would need no Shopify at all.
		qty++
		r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, qty)}, true, californiaAddress()))
		opts, _ := r.m["fulfillment_options"].([]any)
		if r.status != http.StatusCreated || r.str("status") != "ready_for_payment" || len(opts) < 2 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.str("id")
		second := opts[1].(map[string]any)["id"].(string)

		// Choosing among the quoted options needs no Shopify call (each
		// option's tax is known): the choice comes with a change of
		// quantity, which Shopify must price.
		choice := a.selectOption(second)
		for k, v := range a.createBody([]acp.ItemInput{item(e.items.inStock, qty+2)}, false, nil) {
			if k == "line_items" || k == "items" {
				choice[k] = v
			}
		}
		e.emu.FailNext(20, http.StatusServiceUnavailable)
		r = a.do("POST", "/checkout_sessions/"+id, choice)
		e.emu.FailNext(0, 0)
		if r.status != http.StatusOK || r.str("status") != "not_ready_for_payment" {
			t.Fatalf("select with Shopify down: %d %s, want 200 not_ready_for_payment", r.status, r.body)
		}

		r = a.do("POST", "/checkout_sessions/"+id, a.selectOption(second))
		if r.status != http.StatusOK || r.str("status") != "ready_for_payment" {
			t.Fatalf("select again with Shopify back: %d %s, want 200 ready_for_payment", r.status, r.body)
		}
		selected := r.str("fulfillment_option_id")
		if v == acp.V20260417 {
			selected = r.str("selected_fulfillment_options", "0", "option_id")
		}
		if selected != second {
			t.Errorf("selected option = %q, want %q", selected, second)
		}
	})
}
