package service_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/shopify"
)

// jobsFor counts the River jobs of a kind whose args name the event id.
// storedWebhooks returns the test shop's stored deliveries of a topic,
// newest first.
func (e *shopifyEnv) storedWebhooks(t *testing.T, topic string) []*app.WebhookEvent {
	t.Helper()
	evs, err := e.svc.Store().WebhookEvents(t.Context(), testShop, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*app.WebhookEvent
	for _, ev := range evs {
		if ev.Topic == topic {
			out = append(out, ev)
		}
	}
	return out
}

func jobsFor(t *testing.T, e *checkoutEnv, kind app.DatabaseKind, jobKind string, eventID int64) int {
	t.Helper()
	q := `SELECT count(*) FROM river_job WHERE kind = '` + jobKind + `' AND args->>'event_id' = '` + strconv.FormatInt(eventID, 10) + `'`
	if kind == app.DatabaseSQLite {
		q = `SELECT count(*) FROM river_job WHERE kind = '` + jobKind + `' AND json_extract(args, '$.event_id') = ` + strconv.FormatInt(eventID, 10)
	}
	var n int
	if err := e.db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// gatedReceiver is an agent's order-event endpoint that holds the first
// delivery until released, then answers it with the given status; later
// deliveries get 200.
type gatedReceiver struct {
	srv     *httptest.Server
	arrived chan struct{}
	release chan int
	mu      sync.Mutex
	n       int
}

func newGatedReceiver(t *testing.T) *gatedReceiver {
	r := &gatedReceiver{arrived: make(chan struct{}), release: make(chan int)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.n++
		first := r.n == 1
		r.mu.Unlock()
		status := http.StatusOK
		if first {
			close(r.arrived)
			status = <-r.release
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *gatedReceiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// TestOrderEventFirstAttemptInline: a completion's order_create is sent
// right after its transaction commits, without a River job. While that
// attempt is under way, neither a delivery job nor the sweep takes the
// event; once it has failed, the sweep hands it to one job (once), which
// delivers it.
func TestOrderEventFirstAttemptInline(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		rcv := newGatedReceiver(t)
		if _, err := e.svc.Agents().RotateWebhookSecret(ctx, e.sh.ID, rcv.srv.URL+"/order_events"); err != nil {
			t.Fatal(err)
		}
		events := e.svc.OrderEvents()
		a := e.agent(t, acp.V20260417)
		id, _ := e.readySession(t, a, 1)
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		if r.status != http.StatusOK || r.str("status") != "completed" {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		select {
		case <-rcv.arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("the order_create was not sent after the completion")
		}
		evs, err := events.Events(ctx, e.sh.ID, id)
		if err != nil || len(evs) != 1 || evs[0].Status != orderevents.Pending || evs[0].ClaimedUntil == nil {
			t.Fatalf("event during the first attempt: %+v, %v", evs, err)
		}
		ev := evs[0]

		// The first attempt holds the event: a job waits, the sweep leaves it.
		var claimed *app.Claimed
		if err := events.Deliver(ctx, ev.ID); !errors.As(err, &claimed) {
			t.Fatalf("a job's delivery during the first attempt: %v, want app.Claimed", err)
		}
		if err := events.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if n := jobsFor(t, e, kind, "agent_event_deliver", ev.ID); n != 0 {
			t.Fatalf("%d delivery jobs during the first attempt, want 0", n)
		}

		// The agent refuses it: the attempt is kept, the claim left past.
		rcv.release <- http.StatusInternalServerError
		waitFor(t, "the first attempt recorded", func() bool {
			cur, err := e.svc.Store().AgentEvent(ctx, ev.ID)
			return err == nil && cur.Attempts == 1
		})
		if cur, _ := e.svc.Store().AgentEvent(ctx, ev.ID); cur.Status != orderevents.Pending ||
			cur.ClaimedUntil != nil && cur.ClaimedUntil.After(time.Now()) {
			t.Fatalf("after a failed first attempt: %+v", cur)
		}

		// The sweep hands it to one job (twice swept, still one), which
		// delivers it.
		for range 2 {
			if err := events.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := jobsFor(t, e, kind, "agent_event_deliver", ev.ID); n != 1 {
			t.Fatalf("%d delivery jobs after the sweep, want 1", n)
		}
		waitFor(t, "the job's delivery", func() bool {
			cur, err := e.svc.Store().AgentEvent(ctx, ev.ID)
			return err == nil && cur.Status == orderevents.Delivered
		})
		cur, _ := e.svc.Store().AgentEvent(ctx, ev.ID)
		atts, _ := e.svc.Store().AgentEventAttempts(ctx, ev.ID)
		if cur.Attempts != 2 || len(atts) != 2 || atts[0].StatusCode != 500 || atts[1].StatusCode != 200 || rcv.requests() != 2 {
			t.Fatalf("delivered: %+v, attempts %+v, %d requests; want 2 attempts (500, 200)", cur, atts, rcv.requests())
		}
	})
}

// TestWebhookInlineThenSweep: Shopify's webhooks of cheap topics are
// processed in the request that stores them, without a River job; one
// whose processing fails stays unprocessed and claimed (a job does not
// take it meanwhile), and once the claim has passed the sweep hands it to
// one job, which processes it: the refund reaches Stripe once.
func TestWebhookInlineThenSweep(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		rcv := newOrderReceiver(t)
		secret, err := e.svc.Agents().RotateWebhookSecret(ctx, e.sh.ID, rcv.srv.URL+"/order_events")
		if err != nil {
			t.Fatal(err)
		}
		rcv.mu.Lock()
		rcv.secret = secret
		rcv.mu.Unlock()
		a := e.agent(t, acp.V20260417)
		id, _ := e.readySession(t, a, 1)
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		if r.status != http.StatusOK || r.str("status") != "completed" {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		orderID := r.str("order", "id")

		// The order's stock change: processed inline, neither stored nor
		// given a job.
		waitFor(t, "the stock change processed", func() bool {
			_, _, body := get(t, e.svc.MetricsURL())
			return strings.Contains(body, `acpbridge_shopify_webhooks_total{receipt="processed",topic="inventory_levels/update"} 1`)
		})
		if evs := e.storedWebhooks(t, "inventory_levels/update"); len(evs) != 0 {
			t.Fatalf("inventory webhook stored %+v, want processed inline, not stored", evs[0])
		}

		// A refund whose processing fails (Shopify's order query): the
		// delivery is stored (200) and stays unprocessed under its claim.
		e.failShopify("GetOrder", 1, http.StatusInternalServerError)
		if err := e.emu.RefundOrder(testShop, orderID, 1000, ""); err != nil {
			t.Fatal(err)
		}
		refund := e.waitWebhook(t, shopify.TopicRefundsCreate, func(*app.WebhookEvent) bool { return e.shopifyFaultHits() == 1 })
		if refund.ProcessedAt != nil || refund.ClaimedUntil == nil || !refund.ClaimedUntil.After(time.Now()) {
			t.Fatalf("refund webhook after a failed inline processing: %+v", refund)
		}
		var claimed *app.Claimed
		if err := e.svc.Shopify().ProcessWebhook(ctx, refund.ID); !errors.As(err, &claimed) {
			t.Fatalf("a job under the claim: %v, want app.Claimed", err)
		}
		if err := e.svc.Shopify().SweepWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		if n := jobsFor(t, e, kind, "shopify_webhook", refund.ID); n != 0 {
			t.Fatalf("%d jobs under the claim, want 0", n)
		}
		if in := intentOf(t, e, id); in.AmountRefunded != 0 {
			t.Fatalf("refunded %d before the webhook was processed", in.AmountRefunded)
		}

		// The claim passes (as InlineClaim later): the sweep hands it to
		// one job, which processes it.
		if _, err := e.db.Exec(`UPDATE webhook_events SET claimed_until = received_at WHERE id = ` + strconv.FormatInt(refund.ID, 10)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := e.svc.Shopify().SweepWebhooks(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := jobsFor(t, e, kind, "shopify_webhook", refund.ID); n != 1 {
			t.Fatalf("%d jobs after the sweep, want 1", n)
		}
		e.waitWebhook(t, shopify.TopicRefundsCreate, func(ev *app.WebhookEvent) bool { return ev.ProcessedAt != nil })
		if in := intentOf(t, e, id); in.AmountRefunded != 1000 || len(in.Refunds) != 1 {
			t.Fatalf("Stripe: refunded %d in %d refunds, want 1000 in 1", in.AmountRefunded, len(in.Refunds))
		}
		waitFor(t, "the order_update", func() bool { return len(rcv.of(id)) == 2 })
	})
}

// waitWebhook waits for the shop's newest delivery of a topic to satisfy
// done, and returns it.
func (e *checkoutEnv) waitWebhook(t *testing.T, topic string, done func(ev *app.WebhookEvent) bool) *app.WebhookEvent {
	t.Helper()
	var got *app.WebhookEvent
	waitFor(t, topic+" webhook", func() bool {
		evs, err := e.svc.Store().WebhookEvents(context.Background(), testShop, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Topic == topic {
				got = ev
				return done(ev)
			}
		}
		return false
	})
	return got
}
