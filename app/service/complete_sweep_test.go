package service_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
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
	stopped := func(lease time.Duration) (string, int64) {
		id, total := e.readySession(t, a, 1)
		e.failShopify("orderCreate", 1, http.StatusServiceUnavailable)
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		if r.str("status") != "complete_in_progress" {
			t.Fatalf("complete with Shopify down: %d %s", r.status, r.body)
		}
		// As a driver that died would leave it: leased until then.
		now := time.Now()
		if ok, err := st.LeasePayment(ctx, id, now, now.Add(lease)); err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}
		return id, total
	}
	lapsed, total := stopped(-time.Second)
	held, _ := stopped(time.Minute)
	threeDS, _ := e.readySession(t, a, 1)
	if r := a.do("POST", "/checkout_sessions/"+threeDS+"/complete", a.paymentBody(e.token(stripeemu.KindRequires3DS))); r.str("status") != "authentication_required" {
		t.Fatalf("complete with a 3-D Secure card: %d %s", r.status, r.body)
	}
	declined, _ := e.readySession(t, a, 1)
	if r := a.do("POST", "/checkout_sessions/"+declined+"/complete", a.paymentBody(e.token(stripeemu.KindDecline))); r.str("status") != "ready_for_payment" {
		t.Fatalf("declined complete: %d %s", r.status, r.body)
	}
	time.Sleep(60 * time.Millisecond) // the order search lag

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
