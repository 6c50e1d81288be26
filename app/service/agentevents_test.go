package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// orderReceiver is the agent's order-event endpoint: it verifies every
// delivery's Merchant-Signature with the shop's webhook secret, keeps the
// bodies, and can refuse the next deliveries.
type orderReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	secret   string
	fail     int // answer 500 to this many more deliveries
	received []receivedEvent
}

type receivedEvent struct {
	status int
	header http.Header
	body   []byte
	m      map[string]any
}

func (e receivedEvent) data(key string) any {
	d, _ := e.m["data"].(map[string]any)
	return d[key]
}

func newOrderReceiver(t *testing.T) *orderReceiver {
	r := &orderReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		ev := receivedEvent{header: req.Header.Clone(), body: body}
		if err := orderevents.Verify([]byte(r.secret), req.Header.Get("Merchant-Signature"), body, time.Now()); err != nil {
			r.t.Errorf("delivery with a bad signature: %v", err)
			ev.status = http.StatusUnauthorized
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/json" {
			r.t.Errorf("Content-Type %q", ct)
		}
		if ts, err := time.Parse(time.RFC3339, req.Header.Get("Timestamp")); err != nil || time.Since(ts) > time.Minute {
			r.t.Errorf("Timestamp %q: %v", req.Header.Get("Timestamp"), err)
		}
		if req.Header.Get("Request-Id") == "" {
			r.t.Error("no Request-Id")
		}
		if err := json.Unmarshal(body, &ev.m); err != nil {
			r.t.Errorf("not JSON: %s", body)
		}
		if ev.status == 0 && r.fail > 0 {
			r.fail--
			ev.status = http.StatusInternalServerError
		}
		if ev.status == 0 {
			ev.status = http.StatusOK
		}
		r.received = append(r.received, ev)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ev.status)
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// of returns the deliveries answered 200 of a session's events.
func (r *orderReceiver) of(sessionID string) []receivedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []receivedEvent
	for _, ev := range r.received {
		if ev.status == http.StatusOK && ev.data("checkout_session_id") == sessionID {
			out = append(out, ev)
		}
	}
	return out
}

// attemptsOf counts every delivery of a session's events, refused or not.
func (r *orderReceiver) attemptsOf(sessionID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.received {
		if ev.data("checkout_session_id") == sessionID {
			n++
		}
	}
	return n
}

// shopifyRecorder sits between the emulator and the app and keeps every
// webhook delivery, so a test can redeliver one exactly.
type shopifyRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []*emulator.Delivery
}

func newShopifyRecorder(t *testing.T, e *checkoutEnv) *shopifyRecorder {
	rec := &shopifyRecorder{}
	target := e.svc.URL()
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		out, _ := http.NewRequestWithContext(req.Context(), req.Method, target+req.URL.RequestURI(), bytes.NewReader(body))
		out.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		triggered, _ := time.Parse(time.RFC3339Nano, req.Header.Get("X-Shopify-Triggered-At"))
		rec.mu.Lock()
		rec.got = append(rec.got, &emulator.Delivery{ID: req.Header.Get("X-Shopify-Webhook-Id"), EventID: req.Header.Get("X-Shopify-Event-Id"),
			Topic: req.Header.Get("X-Shopify-Topic"), Shop: req.Header.Get("X-Shopify-Shop-Domain"), Body: body, TriggeredAt: triggered,
			Status: resp.StatusCode})
		rec.mu.Unlock()
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(rec.srv.Close)
	e.emu.SetAppURL(rec.srv.URL)
	t.Cleanup(func() { e.emu.SetAppURL(target) })
	return rec
}

func (rec *shopifyRecorder) last(topic string) *emulator.Delivery {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := len(rec.got) - 1; i >= 0; i-- {
		if rec.got[i].Topic == topic {
			return rec.got[i]
		}
	}
	return nil
}

// checkEventBody validates an event body as its version defines it.
func checkEventBody(t *testing.T, v acp.Version, body []byte) {
	t.Helper()
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("event is not a JSON object: %s", body)
	}
	if v == acp.V20260417 {
		if len(ev) != 2 || ev["type"] == nil || ev["data"] == nil {
			t.Errorf("WebhookEvent is {type, data}: %s", body)
		}
		if err := acptest.Validate(v, "Order", ev["data"]); err != nil {
			t.Errorf("data is not a valid Order: %v\n%s", err, ev["data"])
		}
		var d map[string]any
		_ = json.Unmarshal(ev["data"], &d)
		if d["type"] != "order" || d["status"] == nil || d["status"] == "" {
			t.Errorf("data needs type order and a status: %s", ev["data"])
		}
		return
	}
	checkWebhook2025(t, body)
}

// checkWebhook2025 checks a body against the 2025-09-29 OpenAPI webhook
// schema (components.schemas of openapi.agentic_checkout_webhook.yaml;
// no JSON Schema of it exists), field by field: WebhookEvent {type enum
// [order_create, order_update], data} with no other property;
// EventDataOrder {type const order, checkout_session_id, permalink_url
// (uri), status enum [created, manual_review, confirmed, canceled,
// shipped, fulfilled], refunds [Refund]}, all required, no other; Refund
// {type enum [store_credit, original_payment], amount integer}.
func checkWebhook2025(t *testing.T, body []byte) {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	keys := func(where string, m map[string]any, want ...string) {
		if len(m) != len(want) {
			t.Errorf("%s has %d properties, want exactly %v: %v", where, len(m), want, m)
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: %q missing", where, k)
			}
		}
	}
	in := func(where string, v any, vals ...string) {
		for _, x := range vals {
			if v == x {
				return
			}
		}
		t.Errorf("%s = %v, want one of %v", where, v, vals)
	}
	keys("WebhookEvent", ev, "type", "data")
	in("type", ev["type"], "order_create", "order_update")
	d, _ := ev["data"].(map[string]any)
	keys("EventDataOrder", d, "type", "checkout_session_id", "permalink_url", "status", "refunds")
	in("data.type", d["type"], "order")
	in("data.status", d["status"], "created", "manual_review", "confirmed", "canceled", "shipped", "fulfilled")
	if s, _ := d["checkout_session_id"].(string); s == "" {
		t.Error("checkout_session_id is not a string")
	}
	if u, _ := d["permalink_url"].(string); !strings.HasPrefix(u, "http") {
		t.Errorf("permalink_url %q", u)
	}
	refunds, ok := d["refunds"].([]any)
	if !ok {
		t.Errorf("refunds is not an array: %v", d["refunds"])
	}
	for _, r := range refunds {
		m, _ := r.(map[string]any)
		keys("Refund", m, "type", "amount")
		in("refund.type", m["type"], "store_credit", "original_payment")
		if a, ok := m["amount"].(float64); !ok || a != float64(int64(a)) {
			t.Errorf("refund amount %v is not an integer", m["amount"])
		}
	}
}

// refunded sums a received event's refunds (either version).
func refunded(v acp.Version, ev receivedEvent) (refunds, cancellations int64) {
	if v == acp.V20250929 {
		rs, _ := ev.data("refunds").([]any)
		for _, r := range rs {
			refunds += int64(r.(map[string]any)["amount"].(float64))
		}
		return refunds, 0
	}
	adj, _ := ev.data("adjustments").([]any)
	for _, a := range adj {
		m := a.(map[string]any)
		switch m["type"] {
		case "refund":
			refunds += int64(m["amount"].(float64))
		case "cancellation":
			cancellations += int64(m["amount"].(float64))
		}
	}
	return refunds, cancellations
}

func intentOf(t *testing.T, e *checkoutEnv, sessionID string) stripeemu.Intent {
	t.Helper()
	for _, in := range e.charges(sessionID) {
		if in.Captured || in.Authorizations > 0 {
			return in
		}
	}
	t.Fatalf("session %s has no charge", sessionID)
	return stripeemu.Intent{}
}

func TestMerchantSignature(t *testing.T) {
	t.Parallel()
	secret, body, now := []byte("acpb_whsec_test"), []byte(`{"type":"order_create"}`), time.Unix(1_790_000_000, 0)
	h := orderevents.Sign(secret, now, body)
	if !strings.HasPrefix(h, "t=1790000000,v1=") || len(h) != len("t=1790000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := orderevents.Verify(secret, h, body, now.Add(299*time.Second)); err != nil {
		t.Errorf("valid: %v", err)
	}
	for name, c := range map[string]struct {
		secret []byte
		header string
		body   []byte
		now    time.Time
	}{
		"other secret": {[]byte("other"), h, body, now},
		"other body":   {secret, h, []byte(`{"type":"order_update"}`), now},
		"too old":      {secret, h, body, now.Add(301 * time.Second)},
		"future":       {secret, h, body, now.Add(-301 * time.Second)},
		"missing":      {secret, "", body, now},
		"malformed":    {secret, "v1=" + h[16:] + ",t=1790000000", body, now},
		"short":        {secret, h[:len(h)-1], body, now},
	} {
		if err := orderevents.Verify(c.secret, c.header, c.body, c.now); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// TestAgentOrderEvents follows agents' orders after the purchase, in each
// version: one order_create per completion, a delivery retried until the
// agent takes it, a shipment's tracking, a partial refund passed on to
// Stripe exactly once however often Shopify tells it, and a cancellation
// that gives the rest back.
func TestAgentOrderEvents(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		rcv := newOrderReceiver(t)
		secret, err := e.svc.Agents().RotateWebhookSecret(ctx, e.sh.ID, rcv.srv.URL+"/agentic_checkout/webhooks/order_events")
		if err != nil {
			t.Fatal(err)
		}
		rcv.mu.Lock()
		rcv.secret = secret
		rcv.mu.Unlock()
		rec := newShopifyRecorder(t, e)
		events := e.svc.OrderEvents()

		eachVersion(t, func(t *testing.T, v acp.Version) {
			a := e.agent(t, v)
			buy := func() (string, string, int64) {
				t.Helper()
				id, total := e.readySession(t, a, 2)
				r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
				if r.status != http.StatusOK || r.str("status") != "completed" {
					t.Fatalf("complete: %d %s", r.status, r.body)
				}
				return id, r.str("order", "id"), total
			}
			waitEvents := func(id string, n int) []receivedEvent {
				t.Helper()
				waitFor(t, "order events", func() bool { return len(rcv.of(id)) >= n })
				got := rcv.of(id)
				for _, ev := range got {
					checkEventBody(t, v, ev.body)
				}
				return got
			}

			// 1. Completing sends exactly one order_create.
			id, orderID, total := buy()
			first := waitEvents(id, 1)[0]
			if first.m["type"] != "order_create" || first.data("permalink_url") == "" {
				t.Errorf("first event: %s", first.body)
			}
			if v == acp.V20260417 && (first.data("id") != orderID || first.data("status") != "confirmed") {
				t.Errorf("order_create data: %s", first.body)
			}
			again := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
			if again.str("status") != "completed" {
				t.Errorf("complete again: %s", again.body)
			}
			if err := e.svc.Checkout().ResumeCompletion(ctx, e.sh.ID, id); err != nil {
				t.Fatal(err)
			}
			// The agent has the body before the worker records the delivery
			// (the answer comes first): wait for the record, not just the body.
			waitFor(t, "the delivery recorded", func() bool {
				evs, err := events.Events(ctx, e.sh.ID, id)
				return err != nil || len(evs) != 1 || evs[0].Status != orderevents.Pending
			})
			evs, err := events.Events(ctx, e.sh.ID, id)
			if err != nil || len(evs) != 1 || evs[0].Type != "order_create" || evs[0].Status != orderevents.Delivered ||
				evs[0].Attempts != 1 || !bytes.Equal(evs[0].Body, first.body) || evs[0].APIVersion != v {
				t.Fatalf("stored events: %+v, %v", evs, err)
			}

			// 2. Shipped with tracking.
			tr := emulator.Tracking{Company: "UPS", Number: "1Z999AA10123456784", URL: "https://www.ups.com/track?tracknum=1Z999AA10123456784"}
			if err := e.emu.FulfillOrder(testShop, orderID, tr); err != nil {
				t.Fatal(err)
			}
			shipped := waitEvents(id, 2)[1]
			if shipped.m["type"] != "order_update" || shipped.data("status") != "shipped" {
				t.Errorf("after fulfillment: %s", shipped.body)
			}
			if v == acp.V20260417 {
				fs, _ := shipped.data("fulfillments").([]any)
				f, _ := func() (map[string]any, bool) {
					if len(fs) == 1 {
						m, ok := fs[0].(map[string]any)
						return m, ok
					}
					return nil, false
				}()
				if f["carrier"] != tr.Company || f["tracking_number"] != tr.Number || f["tracking_url"] != tr.URL ||
					f["type"] != "shipping" || f["status"] != "shipped" {
					t.Errorf("fulfillments: %v", fs)
				}
			}

			// 3. A partial refund in Shopify refunds the Stripe charge by as
			// much, and the agent hears of it.
			if err := e.emu.RefundOrder(testShop, orderID, 1000, "damaged box"); err != nil {
				t.Fatal(err)
			}
			upd := waitEvents(id, 3)[2]
			if r, _ := refunded(v, upd); r != 1000 {
				t.Errorf("refund event: %s", upd.body)
			}
			if in := intentOf(t, e, id); in.AmountRefunded != 1000 || len(in.Refunds) != 1 {
				t.Errorf("Stripe: refunded %d in %d refunds, want 1000 in 1", in.AmountRefunded, len(in.Refunds))
			}

			// Shopify tells it again: a redelivery (same webhook id), and the
			// same refund under a new webhook id. Still one Stripe refund.
			d := rec.last("refunds/create")
			if d == nil {
				t.Fatal("no refunds/create delivery recorded")
			}
			if err := e.emu.Redeliver(ctx, d); err != nil || d.Status != http.StatusOK {
				t.Fatalf("redeliver: %v (%d)", err, d.Status)
			}
			if _, err := e.emu.SendWebhook(ctx, testShop, "refunds/create", json.RawMessage(d.Body)); err != nil {
				t.Fatal(err)
			}
			waitEvents(id, 4) // the second delivery is processed (and tells the agent again)
			if in := intentOf(t, e, id); in.AmountRefunded != 1000 || len(in.Refunds) != 1 {
				t.Errorf("after the duplicates, Stripe: refunded %d in %d refunds, want 1000 in 1", in.AmountRefunded, len(in.Refunds))
			}

			// 4. Another order: the agent refuses the first two deliveries;
			// the third attempt delivers it, and all three are kept.
			rcv.mu.Lock()
			rcv.fail = 2
			rcv.mu.Unlock()
			id2, orderID2, total2 := buy()
			var ev2 *orderevents.Event
			waitFor(t, "the first attempt", func() bool {
				evs, _ := events.Events(ctx, e.sh.ID, id2)
				if len(evs) == 1 && evs[0].Attempts >= 1 {
					ev2 = evs[0]
				}
				return ev2 != nil
			})
			for i := 0; i < 5; i++ {
				cur, err := e.svc.Store().AgentEvent(ctx, ev2.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur.Status == orderevents.Delivered {
					break
				}
				_ = events.Deliver(ctx, ev2.ID) // as River's retries would
			}
			cur, _ := e.svc.Store().AgentEvent(ctx, ev2.ID)
			atts, _ := e.svc.Store().AgentEventAttempts(ctx, ev2.ID)
			if cur.Status != orderevents.Delivered || cur.Attempts != 3 || len(atts) != 3 || atts[0].StatusCode != 500 ||
				atts[1].StatusCode != 500 || atts[2].StatusCode != 200 || cur.DeliveredAt == nil {
				t.Errorf("after retries: %+v, attempts %+v", cur, atts)
			}
			if n, ok := rcv.attemptsOf(id2), len(rcv.of(id2)); n != 3 || ok != 1 {
				t.Errorf("receiver: %d deliveries, %d accepted; want 3 and 1", n, ok)
			}

			// 5. Partly refunded, then cancelled: Stripe gives back the rest,
			// and the order is canceled with a cancellation adjustment.
			if err := e.emu.RefundOrder(testShop, orderID2, 500, ""); err != nil {
				t.Fatal(err)
			}
			waitEvents(id2, 2)
			if err := e.emu.CancelOrder(testShop, orderID2, "customer"); err != nil {
				t.Fatal(err)
			}
			canceled := waitEvents(id2, 3)[2]
			if canceled.data("status") != "canceled" {
				t.Errorf("after cancel: %s", canceled.body)
			}
			r, c := refunded(v, canceled)
			if v == acp.V20260417 && (r != 500 || c != total2-500) || v == acp.V20250929 && r != total2 {
				t.Errorf("cancel event: refunds %d, cancellation %d (total %d): %s", r, c, total2, canceled.body)
			}
			if in := intentOf(t, e, id2); in.AmountRefunded != total2 || len(in.Refunds) != 2 {
				t.Errorf("Stripe after cancel: refunded %d of %d in %d refunds", in.AmountRefunded, total2, len(in.Refunds))
			}
			if total <= 1000 || total2 <= 500 {
				t.Errorf("totals %d, %d too small for the refunds tested", total, total2)
			}

			// 6. No webhook URL: the event fails at once, with the reason.
			set, err := e.svc.Store().ACPSettings(ctx, e.sh.ID)
			if err != nil {
				t.Fatal(err)
			}
			saved := *set
			set.WebhookURL = ""
			if err := e.svc.Store().SaveACPSettings(ctx, *set); err != nil {
				t.Fatal(err)
			}
			if err := events.Emit(ctx, e.sh.ID, id, acp.EventOrderUpdate); err != nil {
				t.Fatal(err)
			}
			var last *orderevents.Event
			waitFor(t, "the event without a URL to fail", func() bool {
				evs, _ := events.Events(ctx, e.sh.ID, id)
				last = evs[len(evs)-1]
				return last.Status == orderevents.Failed
			})
			if last.Attempts != 0 || !strings.Contains(last.LastError, "no order-event webhook URL") {
				t.Errorf("failed event: %+v", last)
			}
			if err := e.svc.Store().SaveACPSettings(ctx, saved); err != nil {
				t.Fatal(err)
			}
		})
	})
}
