package service_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/shops"
)

// TestCompleteOrderLookup: Shopify's order search (FindOrderBySource) is
// asked only once an orderCreate may have written an order of the session:
// never before the first one, and after an unanswered one only once the
// search lag has passed, when it finds the order written (one order).
func TestCompleteOrderLookup(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	const lag = time.Second
	e.svc.Checkout().Completer.OrderSearchLag = lag
	lookups := func() int { return e.emu.Stats(testShop).Operations["FindOrderBySource"].Calls }
	a := e.agent(t, acp.V20260417)
	complete := func(id string) response {
		return a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	}

	id, total := e.readySession(t, a, 1)
	before := lookups()
	if r := complete(id); r.str("status") != "completed" {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	if n := lookups() - before; n != 0 {
		t.Errorf("the first orderCreate was preceded by %d order lookups, want none", n)
	}
	e.checkOnce(t, id, total)

	id, total = e.readySession(t, a, 1)
	e.failShopify("orderCreate", 1, 0) // written, but the answer is lost
	before = lookups()
	sent := time.Now()
	if r := complete(id); r.str("status") != "complete_in_progress" {
		t.Fatalf("complete with the order's answer lost: %d %s", r.status, r.body)
	}
	if r := complete(id); r.str("status") != "complete_in_progress" && time.Since(sent) < lag {
		t.Fatalf("complete again within the search lag: %d %s", r.status, r.body)
	}
	if n := lookups() - before; n != 0 && time.Since(sent) < lag {
		t.Errorf("%d order lookups within the search lag, want none", n)
	}
	time.Sleep(lag) // the order search lag
	if r := complete(id); r.str("status") != "completed" {
		t.Fatalf("complete after the search lag: %d %s", r.status, r.body)
	}
	if n := lookups() - before; n != 1 {
		t.Errorf("%d order lookups after the unanswered orderCreate, want 1", n)
	}
	e.checkOnce(t, id, total)
}

// TestSweepResumesLapsedCompletions: the sweep hands a completion whose
// driver went away (its lease lapsed) to the resume job, which finishes it
// once; it leaves alone one a live lease holds and ones that wait for the
// buyer (3-D Secure, declined).
func TestSweepResumesLapsedCompletions(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	e.svc.Checkout().Completer.OrderSearchLag = 50 * time.Millisecond
	ctx := t.Context()
	st := e.svc.Store()
	a := e.agent(t, acp.V20260417)
	stopped := func() (string, int64) {
		id, total := e.readySession(t, a, 1)
		e.failShopify("orderCreate", 1, http.StatusServiceUnavailable)
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		if r.str("status") != "complete_in_progress" {
			t.Fatalf("complete with Shopify down: %d %s", r.status, r.body)
		}
		// Held, as a live driver would hold it: no sweep takes it.
		now := time.Now()
		if ok, err := st.LeasePayment(ctx, id, now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}
		return id, total
	}
	// Both held for now: a sweep (the 15 s one, or the start-up one running
	// late on a loaded machine) must not resume the first while the second
	// still waits for the orderCreate failure meant for it.
	lapsed, total := stopped()
	held, _ := stopped()
	threeDS, _ := e.readySession(t, a, 1)
	if r := a.do("POST", "/checkout_sessions/"+threeDS+"/complete", a.paymentBody(e.token(stripeemu.KindRequires3DS))); r.str("status") != "authentication_required" {
		t.Fatalf("complete with a 3-D Secure card: %d %s", r.status, r.body)
	}
	declined, _ := e.readySession(t, a, 1)
	if r := a.do("POST", "/checkout_sessions/"+declined+"/complete", a.paymentBody(e.token(stripeemu.KindDecline))); r.str("status") != "ready_for_payment" {
		t.Fatalf("declined complete: %d %s", r.status, r.body)
	}
	time.Sleep(60 * time.Millisecond) // the order search lag

	// Now the first one's driver dies: its lease lapses.
	if err := st.ReleasePayment(ctx, lapsed); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if ok, err := st.LeasePayment(ctx, lapsed, now, now.Add(-time.Second)); err != nil || !ok {
		t.Fatalf("lapse the first completion's lease: %v %v", ok, err)
	}
	if err := e.svc.Queue().EnqueueTx(ctx, jobs.SweepArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lapsed completion resumed", func() bool {
		return a.do("GET", "/checkout_sessions/"+lapsed, nil).str("status") == "completed"
	})
	e.checkOnce(t, lapsed, total)
	for id, want := range map[string]string{held: "complete_in_progress", threeDS: "authentication_required", declined: "ready_for_payment"} {
		var n int
		err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = ? AND CAST(args AS TEXT) LIKE ?",
			app.ResumeCompletionArgs{}.Kind(), "%"+id+"%").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s (%s): %d resume jobs, want none", id, want, n)
		}
		if got := a.do("GET", "/checkout_sessions/"+id, nil).str("status"); got != want {
			t.Errorf("%s: status %s, want %s", id, got, want)
		}
	}
	var n int
	if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = ? AND CAST(args AS TEXT) LIKE ?",
		app.ResumeCompletionArgs{}.Kind(), "%"+lapsed+"%").Scan(&n); err != nil || n != 1 {
		t.Errorf("resume jobs of the lapsed completion: %d (%v), want 1", n, err)
	}
}

// countingPayments counts the payment record writes made before an order
// exists (authorised, no order id): the write before orderCreate. (Hiding
// the store's CompletionStore makes the final record a transaction with an
// UpdatePayment too, of the completed payment, which is not counted.)
type countingPayments struct {
	checkout.PaymentStore
	updates atomic.Int32
}

func (c *countingPayments) UpdatePayment(ctx context.Context, p *checkout.Payment) error {
	if p.State == checkout.PaymentAuthorized && p.OrderID == "" {
		c.updates.Add(1)
	}
	return c.PaymentStore.UpdatePayment(ctx, p)
}

// TestCompleteSendsOrderUnrecorded: the request that begins a completion
// sends orderCreate without writing its payment record first (issue 17:
// one statement per purchase fewer); the record it began with says so.
func TestCompleteSendsOrderUnrecorded(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		cp := e.svc.Checkout().Completer
		counter := &countingPayments{PaymentStore: cp.Store}
		cp.Store = counter
		a := e.agent(t, acp.V20260417)
		id, total := e.readySession(t, a, 1)
		if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.str("status") != "completed" {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		if n := counter.updates.Load(); n != 0 {
			t.Errorf("%d payment record writes before orderCreate, want 0", n)
		}
		e.checkOnce(t, id, total)
		p, err := e.svc.Store().CheckoutPayment(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Details.Unrecorded || !p.Details.OrderSent || p.LeaseUntil != nil {
			t.Errorf("recorded payment: unrecorded %v, order_sent %v, lease %v; want false, true, none",
				p.Details.Unrecorded, p.Details.OrderSent, p.LeaseUntil)
		}
	})
}

// TestResumePresumesUnrecordedOrderSent: a driver that died after sending
// orderCreate, before it recorded anything, leaves its record as it began
// it (unrecorded, no order_sent). The driver that takes it over must not
// create a second order: it presumes the first was sent, waits for the
// search lag, finds that order and captures once.
func TestResumePresumesUnrecordedOrderSent(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		const lag = 300 * time.Millisecond
		e.svc.Checkout().Completer.OrderSearchLag = lag
		ctx := t.Context()
		st := e.svc.Store()
		a := e.agent(t, acp.V20260417)
		id, total := e.readySession(t, a, 1)
		e.failShopify("orderCreate", 1, 0) // the order is written, its answer lost
		if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.str("status") != "complete_in_progress" {
			t.Fatalf("complete with the order's answer lost: %d %s", r.status, r.body)
		}
		if n := e.ordersOf(id); n != 1 {
			t.Fatalf("%d orders after the lost answer, want 1", n)
		}
		// Make the record what a driver that died right after sending
		// orderCreate leaves: as its beginning wrote it, leased (lapsed).
		var details string
		if err := st.DB().QueryRowContext(ctx, rebind(kind, "SELECT details FROM checkout_payments WHERE session_id = ?"), id).Scan(&details); err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(details), &d); err != nil {
			t.Fatal(err)
		}
		delete(d, "order_sent")
		delete(d, "order_attempt_at")
		d["unrecorded"] = true
		b, _ := json.Marshal(d)
		if _, err := st.DB().ExecContext(ctx, rebind(kind, "UPDATE checkout_payments SET details = ?, lease_until = ? WHERE session_id = ?"),
			string(b), time.Now().Add(-time.Second).UTC(), id); err != nil {
			t.Fatal(err)
		}

		// The agent asks again at once: the new driver may not create an
		// order yet, nor look one up before the search lag.
		taken := time.Now()
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		if r.str("status") == "completed" && time.Since(taken) < lag {
			t.Fatalf("completed within the search lag of the takeover: %s", r.body)
		}
		if n := e.ordersOf(id); n != 1 {
			t.Fatalf("%d orders right after the takeover, want 1", n)
		}
		time.Sleep(lag)
		waitFor(t, "the completion finished", func() bool {
			return a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))).str("status") == "completed"
		})
		e.checkOnce(t, id, total)
	})
}

// TestOwnOrderNewsFiltered: with shopify.app.toml's subscription filters
// (shops.WebhookFilters), Shopify does not send orders/create and
// orders/paid for the order the app's orderCreate wrote at all: a purchase
// brings only its stock's news. (TestHandoffPurchase has the handoff's
// orders pass the same filters.)
func TestOwnOrderNewsFiltered(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	if err := e.emu.SetWebhookFilters(shops.WebhookFilters); err != nil {
		t.Fatal(err)
	}
	a := e.agent(t, acp.V20260417)
	id, total := e.readySession(t, a, 1)
	if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.str("status") != "completed" {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	e.checkOnce(t, id, total)
	waitFor(t, "the order's stock news", func() bool { return len(e.emu.Deliveries(testShop, "inventory_levels/update")) > 0 })
	waitWebhooksDone(t, e)
	for _, topic := range []string{"orders/create", "orders/paid"} {
		if ds := e.emu.Deliveries(testShop, topic); len(ds) != 0 {
			t.Errorf("%d %s deliveries of the app's own order, want none", len(ds), topic)
		}
	}
	_, _, body := get(t, e.svc.MetricsURL())
	if strings.Contains(body, `topic="orders/create"`) || strings.Contains(body, `topic="orders/paid"`) {
		t.Errorf("order news reached the app:\n%s", grep(body, "acpbridge_shopify_webhooks"))
	}
}

// TestOwnOrderNewsNotStored: Shopify announces the order the app's
// orderCreate wrote with orders/create and orders/paid, as any order; they
// ask nothing of the app, are answered without being stored (no row, and
// so none of the buyer's data kept), and are counted on /metrics as
// ignored.
func TestOwnOrderNewsNotStored(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		a := e.agent(t, acp.V20260417)
		id, total := e.readySession(t, a, 1)
		if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.str("status") != "completed" {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		e.checkOnce(t, id, total)
		want := []string{
			`acpbridge_shopify_webhooks_total{receipt="ignored",topic="orders/create"} 1`,
			`acpbridge_shopify_webhooks_total{receipt="ignored",topic="orders/paid"} 1`,
		}
		var body string
		waitFor(t, "the order's news counted", func() bool {
			_, _, body = get(t, e.svc.MetricsURL())
			return strings.Contains(body, want[0]) && strings.Contains(body, want[1])
		})
		for _, topic := range []string{"orders/create", "orders/paid"} {
			if evs := e.storedWebhooks(t, topic); len(evs) != 0 {
				t.Errorf("%s stored %+v, want nothing", topic, evs[0])
			}
		}
		// The order's stock news was processed in its request, not stored.
		if !strings.Contains(body, `acpbridge_shopify_webhooks_total{receipt="processed",topic="inventory_levels/update"}`) {
			t.Errorf("inventory_levels/update not counted processed:\n%s", grep(body, "acpbridge_shopify_webhooks"))
		}
	})
}
