package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// handoffEnv is a synced shop that sells through Shopify's checkout, with
// the agent's order-event endpoint.
type handoffEnv struct {
	*checkoutEnv
	rcv *orderReceiver
}

func newHandoffEnv(t *testing.T, kind app.DatabaseKind) *handoffEnv {
	t.Helper()
	e := newCheckoutEnv(t, kind)
	// Shopify sends orders/create and orders/paid only through
	// shopify.app.toml's filter: the handoff's orders pass it.
	if err := e.emu.SetWebhookFilters(shops.WebhookFilters); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The merchant switches to Shopify's checkout (a custom-distribution
	// install could keep its Stripe account; it chooses not to).
	if _, err := e.svc.Agents().SetCompletionMethod(ctx, e.sh.ID, app.CompletionShopifyCheckout); err != nil {
		t.Fatal(err)
	}
	rcv := newOrderReceiver(t)
	secret, err := e.svc.Agents().RotateWebhookSecret(ctx, e.sh.ID, rcv.srv.URL+"/agentic_checkout/webhooks/order_events")
	if err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	rcv.secret = secret
	rcv.mu.Unlock()
	return &handoffEnv{checkoutEnv: e, rcv: rcv}
}

// handedOff opens a session for a shippable item, with address and buyer,
// and checks that it is handed to Shopify's checkout: it returns the
// session id, its total and the continue_url the buyer follows.
func (e *handoffEnv) handedOff(t *testing.T, a *agent, qty int) (string, int64, string) {
	t.Helper()
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, qty)}, true, californiaAddress()))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.str("id"), totals(t, r)["total"], checkHandoff(t, a, r)
}

// checkHandoff asserts a session handed to Shopify's checkout in the
// agent's version and returns the URL the buyer is sent to.
func checkHandoff(t *testing.T, a *agent, r response) string {
	t.Helper()
	if r.m["capabilities"] != nil && r.str("capabilities", "payment") != "" || r.m["payment_provider"] != nil {
		t.Errorf("a Shopify-checkout session offers a payment handler: %s", r.body)
	}
	var found string
	ms, _ := r.m["messages"].([]any)
	for _, x := range ms {
		m := x.(map[string]any)
		if c, _ := m["content"].(string); strings.Contains(c, checkout.ContinuePath) {
			for _, f := range strings.Fields(c) {
				if strings.HasPrefix(f, "http") {
					found = strings.TrimRight(f, ",.")
				}
			}
		}
	}
	if a.version == acp.V20250929 {
		if r.str("status") != "not_ready_for_payment" || !hasMessage(r, "error/invalid") || found == "" {
			t.Fatalf("2025-09-29 handoff: %s", r.body)
		}
		return found
	}
	u := r.str("continue_url")
	if r.str("status") != "requires_escalation" || u == "" || found != u || !hasMessage(r, "error/intervention_required") {
		t.Fatalf("2026-04-17 handoff: %s", r.body)
	}
	return u
}

// draftOf is the emulated shop's draft order of a session.
func (e *handoffEnv) draftOf(t *testing.T, sessionID string) *emulator.DraftOrder {
	t.Helper()
	var out *emulator.DraftOrder
	for _, d := range e.emu.Drafts(testShop) {
		for _, at := range d.CustomAttributes {
			if at.Key == checkout.HandoffAttribute && at.Value == sessionID {
				if out != nil {
					t.Fatalf("session %s has two drafts", sessionID)
				}
				out = &d
			}
		}
	}
	return out
}

// handoffOrders are the emulated shop's orders of a session.
func (e *handoffEnv) handoffOrders(sessionID string) []emulator.Order {
	var out []emulator.Order
	for _, o := range e.emu.Orders(testShop) {
		for _, at := range o.CustomAttributes {
			if at.Key == checkout.HandoffAttribute && at.Value == sessionID {
				out = append(out, o)
			}
		}
	}
	return out
}

// follow is the buyer following a session's continue_url: the app
// writes the draft order and redirects (303) to its invoice, Shopify's
// checkout page, whose URL it returns.
func follow(t *testing.T, continueURL string) string {
	t.Helper()
	if !strings.Contains(continueURL, checkout.ContinuePath) {
		t.Fatalf("continue_url %q is not the app's link", continueURL)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(continueURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/checkouts/") {
		t.Fatalf("following continue_url: %d, Location %q\n%s", resp.StatusCode, loc, body)
	}
	return loc
}

// draftWrites counts the emulated shop's draft order writes and live
// checks.
func draftWrites(e *checkoutEnv) int {
	n := 0
	for op, st := range e.emu.Stats(testShop).Operations {
		if strings.Contains(op, "DraftOrder") || op == "CheckVariants" {
			n += st.Calls
		}
	}
	return n
}

// pay is the buyer at Shopify's checkout (a continue_url is followed
// there first): the page shows the total, and posting it pays.
func pay(t *testing.T, invoiceURL string, total int64) {
	t.Helper()
	if strings.Contains(invoiceURL, checkout.ContinuePath) {
		invoiceURL = follow(t, invoiceURL)
	}
	resp, err := http.Get(invoiceURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := strconv.FormatInt(total/100, 10) + "." + strconv.FormatInt(total%100/10, 10) + strconv.FormatInt(total%10, 10)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), want) {
		t.Fatalf("checkout page: %d, total %s not shown:\n%s", resp.StatusCode, want, page)
	}
	resp, err = http.PostForm(invoiceURL, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("paying: %d", resp.StatusCode)
	}
}

// TestHandoffPurchase is the Shopify-checkout conversation end to end, in
// each version and on each database: create → address → shipping choice →
// the buyer sent to continue_url pays at Shopify's checkout page → the
// session reads completed with the Shopify order; exactly one order, of the
// session's total; one verified order_create at the agent; no Stripe call
// at all. The order's webhooks delivered again (the same deliveries, and
// new ones) complete nothing twice, and a shipment and a refund reach the
// agent as order_updates (the refund asks no payment provider).
func TestHandoffPurchase(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newHandoffEnv(t, kind)
		ctx := context.Background()
		stripeBefore := e.stripe.Stats().Requests
		shopifyBefore := e.emu.Stats(testShop).GraphQLCalls
		rec := newShopifyRecorder(t, e.checkoutEnv)
		eachVersion(t, func(t *testing.T, v acp.Version) {
			a := e.agent(t, v)
			calls, points := e.emu.Stats(testShop).GraphQLCalls, e.shopifyPoints()

			// create, without an address: not payable, no draft.
			r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 2)}, true, nil))
			id := r.str("id")
			if r.status != http.StatusCreated || r.str("status") != "not_ready_for_payment" || r.str("continue_url") != "" {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			if d := e.draftOf(t, id); d != nil {
				t.Fatalf("a draft before the session is payable: %+v", d)
			}
			// the address: payable, handed off, still no draft.
			r = a.do("POST", "/checkout_sessions/"+id, a.addressUpdate(californiaAddress()))
			if r.status != http.StatusOK {
				t.Fatalf("address: %d %s", r.status, r.body)
			}
			link := checkHandoff(t, a, r)
			if d := e.draftOf(t, id); d != nil {
				t.Fatalf("a draft before the buyer follows continue_url: %+v", d)
			}
			// the costliest shipping option: the same link, still no draft.
			opts, _ := r.m["fulfillment_options"].([]any)
			last := opts[len(opts)-1].(map[string]any)["id"].(string)
			lastTitle := opts[len(opts)-1].(map[string]any)["title"].(string)
			r = a.do("POST", "/checkout_sessions/"+id, a.selectOption(last))
			if r.status != http.StatusOK {
				t.Fatalf("option: %d %s", r.status, r.body)
			}
			if checkHandoff(t, a, r) != link {
				t.Errorf("the continue_url changed with the option")
			}
			total := totals(t, r)["total"]
			if d := e.draftOf(t, id); d != nil {
				t.Fatalf("a draft before the buyer follows continue_url: %+v", d)
			}

			// complete: refused, precisely, and nothing charged.
			c := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token("approve")))
			if c.status != http.StatusBadRequest || c.str("code") != "requires_escalation" || c.str("type") != "invalid_request" ||
				c.str("param") != "$.payment_data" || !strings.Contains(c.str("message"), link) {
				t.Errorf("complete: %d %s", c.status, c.body)
			}

			// The buyer follows the link: the draft is written now, with
			// exactly the session's lines, shipping and total, and stock
			// held from now until the session's expiry; a second click
			// lands on the same draft.
			invoice := follow(t, link)
			d := e.draftOf(t, id)
			if d == nil || d.InvoiceURL != invoice || d.TotalCents != total || d.Email != "ada@example.com" ||
				len(d.Lines) != 1 || d.Lines[0].Quantity != 2 || d.Shipping == nil || d.Shipping.Title != lastTitle || d.SourceName != "acpbridge" {
				t.Fatalf("draft = %+v, session total %d", d, total)
			}
			if res := e.emu.Reserved(testShop, d.GID()); res["gid://shopify/ProductVariant/"+strconv.FormatInt(e.items.inStock.ID, 10)] != 2 {
				t.Errorf("reserved = %v", res)
			}
			// Shopify keeps whole seconds: the stock is held until the
			// session's expiry, rounded up.
			if v == acp.V20260417 {
				if exp := mustTime(t, r.str("expires_at")); d.ReserveInventoryUntil.Before(exp) || d.ReserveInventoryUntil.Sub(exp) >= time.Second {
					t.Errorf("reserved until %v, session expires %s", d.ReserveInventoryUntil, r.str("expires_at"))
				}
			}
			writes := draftWrites(e.checkoutEnv)
			if again := follow(t, link); again != invoice || draftWrites(e.checkoutEnv) != writes {
				t.Errorf("second click: %s (first %s), %d more draft writes", again, invoice, draftWrites(e.checkoutEnv)-writes)
			}

			// The buyer pays at Shopify's checkout.
			pay(t, invoice, total)
			var g response
			waitFor(t, "the session completed", func() bool {
				g = a.do("GET", "/checkout_sessions/"+id, nil)
				return g.str("status") == "completed"
			})
			orders := e.handoffOrders(id)
			if len(orders) != 1 || orders[0].TotalCents != total || orders[0].FinancialStatus != "PAID" {
				t.Fatalf("Shopify orders of the session: %+v (total %d)", orders, total)
			}
			orderID := "gid://shopify/Order/" + strconv.FormatInt(orders[0].ID, 10)
			if g.str("order", "id") != orderID || g.str("order", "checkout_session_id") != id || g.str("order", "permalink_url") == "" {
				t.Errorf("order = %s", g.str("order"))
			}
			if g.str("continue_url") != "" {
				t.Errorf("a completed session still sends the buyer away: %s", g.body)
			}
			if e.draftOf(t, id).Status != "COMPLETED" {
				t.Errorf("draft not completed")
			}
			// complete now answers the completed session.
			if c := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token("approve"))); c.status != http.StatusOK ||
				c.str("status") != "completed" || c.str("order", "id") != orderID {
				t.Errorf("complete after payment: %d %s", c.status, c.body)
			}
			waitFor(t, "the order_create", func() bool { return len(e.rcv.of(id)) >= 1 })
			waitWebhooksDone(t, e.checkoutEnv)
			t.Logf("%s: %d Shopify GraphQL calls, %d points, from create to the order_create (create, address, option, complete refused, pay, webhooks)",
				v, e.emu.Stats(testShop).GraphQLCalls-calls, e.shopifyPoints()-points)
			first := e.rcv.of(id)[0]
			checkEventBody(t, v, first.body)
			if first.m["type"] != "order_create" {
				t.Errorf("first event: %s", first.body)
			}

			// Shopify tells it again: the same deliveries, and new ones.
			for _, topic := range []string{"draft_orders/update", "orders/create", "orders/paid"} {
				dl := rec.last(topic)
				if dl == nil {
					t.Fatalf("no %s delivery", topic)
				}
				if err := e.emu.Redeliver(ctx, dl); err != nil || dl.Status != http.StatusOK {
					t.Fatalf("redeliver %s: %v (%d)", topic, err, dl.Status)
				}
				if _, err := e.emu.SendWebhook(ctx, testShop, topic, jsonObject(t, dl.Body)); err != nil {
					t.Fatal(err)
				}
			}
			waitWebhooksDone(t, e.checkoutEnv)
			evs, err := e.svc.OrderEvents().Events(ctx, e.sh.ID, id)
			if err != nil || len(evs) != 1 || evs[0].Type != "order_create" {
				t.Fatalf("events after redeliveries: %+v, %v", evs, err)
			}
			if n := len(e.handoffOrders(id)); n != 1 {
				t.Errorf("%d orders", n)
			}

			// A shipment reaches the agent as an order_update.
			if err := e.emu.FulfillOrder(testShop, orderID, emulator.Tracking{Company: "UPS", Number: "1Z999AA10123456784"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the order_update", func() bool { return len(e.rcv.of(id)) >= 2 })
			upd := e.rcv.of(id)[1]
			checkEventBody(t, v, upd.body)
			if upd.m["type"] != "order_update" {
				t.Errorf("second event: %s", upd.body)
			}
			// A refund in Shopify: the agent hears of it; the money was
			// Shopify's, so no payment provider is asked (checked below).
			if err := e.emu.RefundOrder(testShop, orderID, 300, "damaged"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the refund's order_update", func() bool { return len(e.rcv.of(id)) >= 3 })
			ref := e.rcv.of(id)[2]
			checkEventBody(t, v, ref.body)
			if r, _ := refunded(v, ref); ref.m["type"] != "order_update" || r != 300 {
				t.Errorf("refund event: %s", ref.body)
			}
			t.Logf("%s: %d Shopify GraphQL calls, %d points, with the redeliveries, the shipment and the refund",
				v, e.emu.Stats(testShop).GraphQLCalls-calls, e.shopifyPoints()-points)
		})
		if n := e.stripe.Stats().Requests - stripeBefore; n != 0 {
			t.Errorf("%d Stripe requests for Shopify-checkout sales, want none", n)
		}
		t.Logf("%d Shopify GraphQL calls in all", e.emu.Stats(testShop).GraphQLCalls-shopifyBefore)
	})
}

// TestHandoffCancelAndExpiry, under App Store distribution (where even a
// shop whose stored choice is delegated payment sells through Shopify's
// checkout): cancel deletes the session's draft (the reserved stock is
// back); an expired session's draft goes too, whether the agent reads the
// session again or housekeeping finds it; none can be paid afterwards.
func TestHandoffCancelAndExpiry(t *testing.T) {
	t.Parallel()
	ce := newCheckoutEnv(t, app.DatabaseSQLite)
	like := *ce.shopifyEnv
	like.cfg.Distribution = app.DistributionAppStore
	e := &handoffEnv{checkoutEnv: &checkoutEnv{shopifyEnv: newShopifyEnvOn(t, ce.cfg.Database, &like), sh: ce.sh, key: ce.key, items: ce.items}}
	if cm, err := e.svc.Agents().CompletionMethod(context.Background(), e.sh.ID); err != nil || cm.Method != app.CompletionShopifyCheckout {
		t.Fatalf("method in use: %+v, %v", cm, err)
	}
	a := e.agent(t, acp.V20260417)
	variant := "gid://shopify/ProductVariant/" + strconv.FormatInt(e.items.inStock.ID, 10)

	id, _, link := e.handedOff(t, a, 3)
	invoice := follow(t, link)
	d := e.draftOf(t, id)
	if d == nil || e.emu.Reserved(testShop, d.GID())[variant] != 3 {
		t.Fatalf("draft %+v", d)
	}
	if c := a.do("POST", "/checkout_sessions/"+id+"/cancel", nil); c.status != http.StatusOK || c.str("status") != "canceled" {
		t.Fatalf("cancel: %d %s", c.status, c.body)
	}
	// The link now says the checkout has ended.
	if resp, err := http.Get(link); err != nil || resp.StatusCode != http.StatusGone || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the canceled session's link: %v, %v", resp, err)
	} else {
		resp.Body.Close()
	}
	waitFor(t, "the draft deleted", func() bool { return e.draftOf(t, id) == nil })
	if res := e.emu.Reserved(testShop, d.GID()); len(res) != 0 {
		t.Errorf("still reserved: %v", res)
	}
	if _, err := e.emu.PayDraft(invoice, ""); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("paying a canceled session's draft: %v", err)
	}

	// Two sessions outlive their expiry: one the agent reads again, one
	// it never does (housekeeping expires that one).
	id2, _, link2 := e.handedOff(t, a, 1)
	id3, _, link3 := e.handedOff(t, a, 1)
	invoice2, invoice3 := follow(t, link2), follow(t, link3)
	// The housekeeping the service runs at start must be over before the
	// clock moves: a run still going would expire the unread session
	// itself (on a loaded machine it can start late).
	waitForStartupHousekeeping(t, e.db)
	r := a.do("GET", "/checkout_sessions/"+id3, nil)
	exp := mustTime(t, r.str("expires_at"))
	e.svc.Checkout().Now = func() time.Time { return exp.Add(time.Second) }
	t.Cleanup(func() { e.svc.Checkout().Now = nil })
	if g := a.do("GET", "/checkout_sessions/"+id2, nil); g.str("status") != "expired" {
		t.Fatalf("after expiry: %s", g.body)
	}
	waitFor(t, "the expired session's draft deleted", func() bool { return e.draftOf(t, id2) == nil })
	if _, err := e.emu.PayDraft(invoice2, ""); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("paying an expired session's draft: %v", err)
	}
	if e.draftOf(t, id3) == nil {
		t.Fatal("the unread session's draft went before housekeeping ran")
	}
	// What the hourly housekeeping runs (its job is unique per half hour,
	// and the services ran it on start).
	if n, err := e.svc.Checkout().ExpireOverdue(context.Background()); err != nil || n != 1 {
		t.Fatalf("ExpireOverdue = %d, %v; want 1", n, err)
	}
	if n, err := e.svc.Checkout().ExpireOverdue(context.Background()); err != nil || n != 0 {
		t.Errorf("ExpireOverdue again = %d, %v; want 0", n, err)
	}
	waitFor(t, "housekeeping to delete the unread session's draft", func() bool { return e.draftOf(t, id3) == nil })
	var status string
	if err := e.db.QueryRow("SELECT status FROM checkout_sessions WHERE id = ?", id3).Scan(&status); err != nil || status != "expired" {
		t.Errorf("unread session: %q, %v", status, err)
	}
	if _, err := e.emu.PayDraft(invoice3, ""); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("paying the unread expired session's draft: %v", err)
	}
}

// TestHandoffTwoReplicas: every webhook of the payment reaches two
// replicas at once; the session completes once, with one order_create.
func TestHandoffTwoReplicas(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t, app.DatabasePostgres)
	replica := newReplica(t, e.shopifyEnv)
	fanOut(t, e.checkoutEnv, e.svc.URL(), replica.svc.URL())
	a := e.agent(t, acp.V20260417)
	id, total, invoice := e.handedOff(t, a, 1)
	pay(t, invoice, total)
	waitFor(t, "the session completed", func() bool {
		return a.do("GET", "/checkout_sessions/"+id, nil).str("status") == "completed"
	})
	waitFor(t, "the order_create", func() bool { return len(e.rcv.of(id)) >= 1 })
	waitWebhooksDone(t, e.checkoutEnv)
	evs, err := e.svc.OrderEvents().Events(context.Background(), e.sh.ID, id)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events: %+v, %v", evs, err)
	}
	if n := len(e.handoffOrders(id)); n != 1 {
		t.Errorf("%d orders", n)
	}
}

// fanOut sends every emulator webhook to each app URL at once.
func fanOut(t *testing.T, e *checkoutEnv, targets ...string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var wg sync.WaitGroup
		codes := make([]int, len(targets))
		for i, target := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, _ := http.NewRequestWithContext(req.Context(), req.Method, target+req.URL.RequestURI(), strings.NewReader(string(body)))
				out.Header = req.Header.Clone()
				resp, err := http.DefaultClient.Do(out)
				if err != nil {
					codes[i] = http.StatusBadGateway
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		w.WriteHeader(codes[0])
	}))
	t.Cleanup(srv.Close)
	e.emu.SetAppURL(srv.URL)
	t.Cleanup(func() { e.emu.SetAppURL(e.svc.URL()) })
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return ts
}

// waitWebhooksDone waits until every stored Shopify delivery has been
// processed (redeliveries and new ones included).
func waitWebhooksDone(t *testing.T, e *checkoutEnv) {
	t.Helper()
	waitFor(t, "webhooks processed", func() bool {
		var n int
		err := e.db.QueryRow(`SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NULL`).Scan(&n)
		return err == nil && n == 0
	})
}

func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %s", b)
	}
	return m
}

// TestHandoffConcurrentClicks: eight clicks on a continue_url at once,
// half of them on another replica (a reload, two tabs, a balancer), write
// one draft order, and every one of them lands on it.
func TestHandoffConcurrentClicks(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t, app.DatabasePostgres)
	replica := newReplica(t, e.shopifyEnv)
	a := e.agent(t, acp.V20260417)
	id, _, link := e.handedOff(t, a, 1)
	other := replica.svc.URL() + strings.TrimPrefix(link, e.svc.URL())
	creates := func() int { return e.emu.Stats(testShop).Operations["CreateDraftOrder"].Calls }
	before := creates()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	locs := make([]string, 8)
	var wg sync.WaitGroup
	for i := range locs {
		u := link
		if i%2 == 1 {
			u = other
		}
		wg.Go(func() {
			resp, err := noFollow.Get(u)
			if err != nil {
				locs[i] = err.Error()
				return
			}
			resp.Body.Close()
			locs[i] = strconv.Itoa(resp.StatusCode) + " " + resp.Header.Get("Location")
		})
	}
	wg.Wait()
	d := e.draftOf(t, id)
	if d == nil || creates()-before != 1 {
		t.Fatalf("%d drafts created, draft %+v", creates()-before, d)
	}
	for i, l := range locs {
		if l != "303 "+d.InvoiceURL {
			t.Errorf("click %d: %s, want 303 to %s", i, l, d.InvoiceURL)
		}
	}
}
