package service_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/web"
)

// paymentBody is a complete request of the agent's version with a token.
func (a *agent) paymentBody(token string) map[string]any {
	if a.version == acp.V20250929 {
		return map[string]any{"payment_data": map[string]any{"token": token, "provider": "stripe"}}
	}
	return map[string]any{"payment_data": map[string]any{"handler_id": acp.StripeSPTHandlerID,
		"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": token}}}}
}

// readySession opens a session for a shippable item up to ready_for_payment.
func (e *checkoutEnv) readySession(t *testing.T, a *agent, qty int) (string, int64) {
	t.Helper()
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, qty)}, true, californiaAddress()))
	if r.status != http.StatusCreated || r.str("status") != "ready_for_payment" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.str("id"), totals(t, r)["total"]
}

func (e *checkoutEnv) token(kind string) string {
	return e.stripe.GrantToken(testStripeAccount, kind, "usd", 1_000_000, time.Time{})
}

// charges lists the Stripe intents of a session.
func (e *checkoutEnv) charges(sessionID string) []stripeemu.Intent {
	var out []stripeemu.Intent
	for _, in := range e.stripe.Intents(testStripeAccount) {
		if in.Metadata["checkout_session_id"] == sessionID {
			out = append(out, in)
		}
	}
	return out
}

// ordersOf counts the emulated shop's orders for a session.
func (e *checkoutEnv) ordersOf(sessionID string) int {
	n := 0
	for _, o := range e.emu.Orders(testShop) {
		if o.SourceIdentifier == sessionID {
			n++
		}
	}
	return n
}

// checkOnce asserts exactly one captured charge of total and one order.
func (e *checkoutEnv) checkOnce(t *testing.T, sessionID string, total int64) {
	t.Helper()
	var captured int
	for _, in := range e.charges(sessionID) {
		if in.Authorizations > 0 {
			captured++
			if !in.Captured || in.AmountCaptured != total {
				t.Errorf("charge %s: captured %v, %d of %d", in.ID, in.Captured, in.AmountCaptured, total)
			}
		}
	}
	if captured != 1 {
		t.Errorf("session %s: %d authorised charges, want exactly 1 (%+v)", sessionID, captured, e.charges(sessionID))
	}
	if n := e.ordersOf(sessionID); n != 1 {
		t.Errorf("session %s: %d Shopify orders, want exactly 1", sessionID, n)
	}
}

// TestCompletePurchase: a complete charges once, writes one paid order
// with the session's totals, and answers completed with the order; asking
// again gives the same answer and does nothing more.
func TestCompletePurchase(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		eachVersion(t, func(t *testing.T, v acp.Version) {
			a := e.agent(t, v)
			id, total := e.readySession(t, a, 2)
			body := a.paymentBody(e.token(stripeemu.KindApprove))
			if v == acp.V20260417 { // the buyer opts in to the shop's emails
				body["marketing_consents"] = []map[string]any{{"channel": "email", "opted_in": true}}
			}
			r := a.do("POST", "/checkout_sessions/"+id+"/complete", body)
			if r.status != http.StatusOK || r.str("status") != "completed" {
				t.Fatalf("complete: %d %s", r.status, r.body)
			}
			if r.str("order", "checkout_session_id") != id || r.str("order", "id") == "" || r.str("order", "permalink_url") == "" {
				t.Errorf("order = %s", r.str("order"))
			}
			e.checkOnce(t, id, total)
			for _, o := range e.emu.Orders(testShop) {
				if o.SourceIdentifier != id {
					continue
				}
				if o.TotalCents != total || o.FinancialStatus != "PAID" {
					t.Errorf("Shopify order total %d (%s), session total %d", o.TotalCents, o.FinancialStatus, total)
				}
				if o.BuyerAcceptsMarketing != (v == acp.V20260417) || o.Email != "ada@example.com" || o.ShippingAddress == nil || len(o.ShippingLines) != 1 {
					t.Errorf("Shopify order: accepts marketing %v, email %q, address %v, %d shipping lines", o.BuyerAcceptsMarketing, o.Email, o.ShippingAddress, len(o.ShippingLines))
				}
			}
			again := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
			if again.status != http.StatusOK || again.str("status") != "completed" || again.str("order", "id") != r.str("order", "id") {
				t.Errorf("complete again: %d %s", again.status, again.body)
			}
			e.checkOnce(t, id, total)
			if c := a.do("POST", "/checkout_sessions/"+id+"/cancel", nil); c.status != http.StatusMethodNotAllowed {
				t.Errorf("cancel of a completed session: %d", c.status)
			}
		})
	})
}

// TestCompleteDeclined: a decline charges nothing, writes no order, and
// leaves the session payable with a payment_declined message; another
// token then completes it.
func TestCompleteDeclined(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	eachVersion(t, func(t *testing.T, v acp.Version) {
		a := e.agent(t, v)
		id, total := e.readySession(t, a, 1)
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindDecline)))
		if r.status != http.StatusOK || r.str("status") != "ready_for_payment" || !hasMessage(r, "error/payment_declined") {
			t.Fatalf("declined complete: %d %s", r.status, r.body)
		}
		if n := e.ordersOf(id); n != 0 {
			t.Errorf("a declined payment made %d orders", n)
		}
		r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		if r.status != http.StatusOK || r.str("status") != "completed" {
			t.Fatalf("second try: %d %s", r.status, r.body)
		}
		e.checkOnce(t, id, total)
	})
}

// TestCompleteBadPayment: what cannot be a payment is a 4xx, nothing runs.
func TestCompleteBadPayment(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.agent(t, acp.V20260417)
	id, _ := e.readySession(t, a, 1)
	bad := map[string]any{"payment_data": map[string]any{"handler_id": "someone_else",
		"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": "spt_x"}}}}
	if r := a.do("POST", "/checkout_sessions/"+id+"/complete", bad); r.status != 400 || r.str("param") != "$.payment_data.handler_id" {
		t.Errorf("unknown handler: %d %s", r.status, r.body)
	}
	// A token of another seller, or one that is too small, is refused by
	// Stripe: the session stays payable and says so.
	e.stripe.AddAccount("acct_1Elsewhere")
	foreign := e.stripe.GrantToken("acct_1Elsewhere", stripeemu.KindApprove, "usd", 1_000_000, time.Time{})
	small := e.stripe.GrantToken(testStripeAccount, stripeemu.KindApprove, "usd", 1, time.Time{})
	expired := e.stripe.GrantToken(testStripeAccount, stripeemu.KindApprove, "usd", 1_000_000, time.Now().Add(-time.Minute))
	euro := e.stripe.GrantToken(testStripeAccount, stripeemu.KindApprove, "eur", 1_000_000, time.Time{})
	// A token already spent on another purchase.
	spent, _ := e.readySession(t, a, 1)
	used := e.token(stripeemu.KindApprove)
	if r := a.do("POST", "/checkout_sessions/"+spent+"/complete", a.paymentBody(used)); r.str("status") != "completed" {
		t.Fatalf("first use of a token: %s", r.body)
	}
	revoked := e.token(stripeemu.KindApprove)
	if err := e.stripe.RevokeToken(revoked); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"foreign": foreign, "below the amount": small, "expired": expired,
		"other currency": euro, "already used": used, "revoked": revoked, "unknown": "spt_doesnotexist"} {
		r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(tok))
		if r.status != 200 || r.str("status") != "ready_for_payment" || !hasMessage(r, "error/payment_declined") {
			t.Errorf("%s token: %d %s", name, r.status, r.body)
		}
	}
	if n := e.ordersOf(id); n != 0 {
		t.Errorf("refused tokens made %d orders", n)
	}
	// Complete on a canceled session is refused.
	id2, _ := e.readySession(t, a, 1)
	a.do("POST", "/checkout_sessions/"+id2+"/cancel", nil)
	if r := a.do("POST", "/checkout_sessions/"+id2+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.status != http.StatusConflict {
		t.Errorf("complete of a canceled session: %d %s", r.status, r.body)
	}
}

// TestCompleteFailuresAreResumed: an unknown Stripe outcome, a Shopify
// failure before or after the order is written, each leave the session in
// progress; the next complete (or the resume job) finishes it with exactly
// one charge and one order.
func TestCompleteFailuresAreResumed(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabasePostgres)
	// Shopify's order search lags behind its writes: the app must not
	// take "not found" right after a lost answer for "not written".
	if err := e.emu.SetOrderSearchLag(testShop, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	e.svc.Checkout().Completer.OrderSearchLag = 500 * time.Millisecond
	stripeFaults := func() int { return e.stripe.Stats().Faults }
	tests := []struct {
		name   string
		inject func()
		hits   func() int
		// first is the first answer's status; "" when either is right
		// (Stripe calls are retried within the request with the same
		// idempotency key; a throttled call may or may not be).
		first  string
		faults int // how many injected faults must be hit in all, at least
	}{
		{"stripe answer lost after charging", func() { e.stripe.DropAfterProcessing(1) }, stripeFaults, "completed", 1},
		{"stripe 500 after charging", func() { e.stripe.FailAfterProcessing(1) }, stripeFaults, "completed", 1},
		{"shopify down before the order", func() { e.failShopify("orderCreate", 2, http.StatusServiceUnavailable) }, e.shopifyFaultHits, "complete_in_progress", 2},
		// The order is looked up only once an orderCreate may have
		// written one: after an unanswered one, whose lookup is then
		// throttled.
		{"shopify throttling the order lookup", func() {
			e.failShopify("orderCreate", 1, 0)
			e.failShopify("source_identifier", 1, http.StatusTooManyRequests)
		}, e.shopifyFaultHits, "complete_in_progress", 2},
		{"shopify answer lost after the order", func() { e.failShopify("orderCreate", 1, 0) }, e.shopifyFaultHits, "complete_in_progress", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.agent(t, acp.V20260417)
			id, total := e.readySession(t, a, 1)
			before := tt.hits()
			tt.inject()
			first := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
			if first.status != http.StatusOK {
				t.Fatalf("complete: %d %s", first.status, first.body)
			}
			if tt.first != "" && first.str("status") != tt.first {
				t.Fatalf("first answer: %s, want %s (did the fault bite?)\n%s", first.str("status"), tt.first, first.body)
			}
			if tt.hits() == before {
				t.Fatal("the injected fault was never hit")
			}
			final := first
			for i := 0; final.str("status") != "completed" && i < 40; i++ {
				if final.str("status") != "complete_in_progress" {
					t.Fatalf("after a failure: status %s %s", final.str("status"), final.body)
				}
				time.Sleep(50 * time.Millisecond) // an agent polling
				final = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
			}
			if final.str("status") != "completed" {
				t.Fatalf("never completed: %s", final.body)
			}
			if hit := tt.hits() - before; hit < tt.faults {
				t.Errorf("%d injected faults hit, want %d", hit, tt.faults)
			}
			e.checkOnce(t, id, total)
		})
	}
}

// TestCompleteResumeJob: with no retry from the agent, the resume job
// finishes an interrupted completion.
func TestCompleteResumeJob(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	e.svc.Checkout().Completer.OrderSearchLag = 100 * time.Millisecond
	a := e.agent(t, acp.V20250929)
	id, total := e.readySession(t, a, 1)
	e.failShopify("orderCreate", 1, http.StatusServiceUnavailable)
	r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if r.str("status") != "in_progress" { // 2025-09-29's name for complete_in_progress
		t.Fatalf("complete with Shopify down: %d %s", r.status, r.body)
	}
	time.Sleep(150 * time.Millisecond) // the order search lag
	if err := e.svc.Checkout().ResumeCompletion(t.Context(), e.sh.ID, id); err != nil {
		t.Fatalf("resume: %v", err)
	}
	g := a.do("GET", "/checkout_sessions/"+id, nil)
	if g.str("status") != "completed" {
		t.Fatalf("after the job: %s", g.body)
	}
	e.checkOnce(t, id, total)
}

// TestCompleteConcurrently: completes of one session racing on two
// replicas, each with its own idempotency key, charge once and order once,
// and all answer the same completed session.
func TestCompleteConcurrently(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabasePostgres)
	replica := newReplica(t, e.shopifyEnv)
	a := e.agent(t, acp.V20260417)
	id, total := e.readySession(t, a, 1)
	token := e.token(stripeemu.KindApprove)
	const n = 8
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b := &agent{t: t, base: a.base, key: a.key, version: a.version, seq: 100 * (i + 1)}
			if i%2 == 1 {
				b.base = web.ACPBaseURL(replica.svc.URL(), testShop)
			}
			results[i] = b.do("POST", "/checkout_sessions/"+id+"/complete", b.paymentBody(token))
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.status != 200 || r.str("status") != "completed" || r.str("order", "id") != results[0].str("order", "id") {
			t.Errorf("complete %d: %d %s", i, r.status, r.body)
		}
	}
	e.checkOnce(t, id, total)
	_ = strconv.Itoa
}

// TestComplete3DS: a card that needs 3-D Secure pauses the session in
// authentication_required with the metadata the agent needs; completing
// with the agent's result finishes it, once.
func TestComplete3DS(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.agent(t, acp.V20260417)
	id, total := e.readySession(t, a, 1)
	token := e.token(stripeemu.KindRequires3DS)
	r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(token))
	if r.status != 200 || r.str("status") != "authentication_required" || r.str("authentication_metadata", "directory_server") == "" {
		t.Fatalf("complete with a 3-D Secure card: %d %s", r.status, r.body)
	}
	if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(token)); r.status != 400 || r.str("code") != "requires_3ds" || r.str("param") != "$.authentication_result" {
		t.Errorf("complete without the result: %d %s", r.status, r.body)
	}
	body := a.paymentBody(token)
	body["authentication_result"] = map[string]any{"outcome": "authenticated", "outcome_details": map[string]any{
		"three_ds_cryptogram": "AJkBBkhgQQAAAE4gSEJydQAAAAA=", "electronic_commerce_indicator": "05",
		"transaction_id": "f38e6948-5388-41a6-bca4-b49723c19437", "version": "2.2.0"}}
	r = a.do("POST", "/checkout_sessions/"+id+"/complete", body)
	if r.status != 200 || r.str("status") != "completed" {
		t.Fatalf("complete with the result: %d %s", r.status, r.body)
	}
	e.checkOnce(t, id, total)
}

// TestCompleteAuthorisationReleasedBeforeCapture: when the authorisation
// is gone by the time the order exists (released elsewhere), the
// completion ends instead of retrying the capture forever.
func TestCompleteAuthorisationReleasedBeforeCapture(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	e.svc.Checkout().Completer.OrderSearchLag = 50 * time.Millisecond
	a := e.agent(t, acp.V20260417)
	id, _ := e.readySession(t, a, 1)
	e.failShopify("orderCreate", 1, http.StatusServiceUnavailable)
	r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if r.str("status") != "complete_in_progress" {
		t.Fatalf("with Shopify down: %s", r.body)
	}
	charges := e.charges(id)
	if len(charges) != 1 || charges[0].Status != "requires_capture" {
		t.Fatalf("charges = %+v", charges)
	}
	// The authorisation is released at Stripe (as a merchant's cancel would).
	if _, err := (&payment.Stripe{BaseURL: e.stripe.URL()}).Cancel(t.Context(), e.stripe.SecretKey(testStripeAccount), charges[0].ID, "abandoned", "test-release"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond) // the order search lag
	r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if r.status != 200 || r.str("status") != "completed" {
		t.Fatalf("after the release: %d %s", r.status, r.body)
	}
	in, _ := e.stripe.Intent(charges[0].ID)
	if in.Captured || in.Status != "canceled" || e.ordersOf(id) != 1 {
		t.Errorf("intent %s captured %v, %d orders", in.Status, in.Captured, e.ordersOf(id))
	}
}

// TestCompleteAfterThrottledOrder: an orderCreate Shopify refused as
// throttled every time (it ran none of them) does not make the next try
// wait for the order search, as an unanswered one must.
func TestCompleteAfterThrottledOrder(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	e.svc.Checkout().Completer.OrderSearchLag = time.Hour
	a := e.agent(t, acp.V20260417)
	id, total := e.readySession(t, a, 1)
	e.failShopify("orderCreate", 1, http.StatusTooManyRequests)
	r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if r.str("status") != "complete_in_progress" || e.shopifyFaultHits() != 1 {
		t.Fatalf("complete while throttled: %d %s (%d faults hit)", r.status, r.body, e.shopifyFaultHits())
	}
	r = a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if r.str("status") != "completed" {
		t.Fatalf("complete after throttling: %d %s", r.status, r.body)
	}
	e.checkOnce(t, id, total)
}
