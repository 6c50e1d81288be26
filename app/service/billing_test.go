package service_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/billing"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/web"
)

// testBillingPlans are the pricing of the tests that test billing, by top
// test name; every other test runs with billing off (its purchases would
// otherwise use up the free tier of the one test shop).
var testBillingPlans sync.Map

// testBillingPlan is the pricing of t's top test.
func testBillingPlan(t *testing.T) billing.Plan {
	top, _, _ := strings.Cut(t.Name(), "/")
	if p, ok := testBillingPlans.Load(top); ok {
		return p.(billing.Plan)
	}
	return billing.Plan{FreeOrders: -1}
}

// TestBillingEndToEnd walks the free tier to its end and past it: two
// free orders; then a new checkout is refused at create with the plan
// message, and a session made before the limit is refused at complete
// with nothing charged or ordered; the merchant approves the paid plan on
// Shopify's page; buying works again, each order past the free tier is
// charged once through a usage record, and replayed completes and repeated
// sweeps charge nothing more.
func TestBillingEndToEnd(t *testing.T) {
	t.Parallel()
	testBillingPlans.Store(t.Name(), billing.Plan{FreeOrders: 2, Name: "acpbridge Growth", Currency: "USD",
		Recurring: "19.00", PerOrder: "0.25", UsageCap: "100.00", Test: true})
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		bill := e.svc.Billing()
		a := e.agent(t, acp.V20260417)
		complete := func(id string) response {
			t.Helper()
			return a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
		}

		// Three sessions while the month is empty; two complete (free).
		s1, total1 := e.readySession(t, a, 1)
		s2, _ := e.readySession(t, a, 1)
		s3, total3 := e.readySession(t, a, 1)
		for _, id := range []string{s1, s2} {
			if r := complete(id); r.status != http.StatusOK || r.str("status") != "completed" {
				t.Fatalf("complete %s within the free tier: %d %s", id, r.status, r.body)
			}
		}
		e.checkOnce(t, s1, total1)

		// The free tier is used up: a new checkout is refused at create…
		r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
		if r.status != http.StatusForbidden || r.str("type") != "invalid_request" || r.str("code") != billing.ReasonPlanLimit ||
			!strings.Contains(r.str("message"), "2 agent orders") || !strings.Contains(r.str("message"), "Nothing was created or charged") {
			t.Fatalf("create past the free tier: %d %s", r.status, r.body)
		}
		// …and the session made before is refused at complete, before
		// any charge or order; it stays payable.
		if r := complete(s3); r.status != http.StatusForbidden || r.str("code") != billing.ReasonPlanLimit {
			t.Fatalf("complete past the free tier: %d %s", r.status, r.body)
		}
		if n := len(e.charges(s3)); n != 0 || e.ordersOf(s3) != 0 {
			t.Fatalf("refused complete left %d charges and %d orders", n, e.ordersOf(s3))
		}
		if g := a.do("GET", "/checkout_sessions/"+s3, nil); g.str("status") != "ready_for_payment" {
			t.Fatalf("refused session: %s", g.body)
		}
		if err := bill.Sweep(ctx); err != nil {
			t.Fatal(err)
		}

		// The merchant sees the limit on the overview and upgrades: the
		// button's call answers Shopify's approval page, where the plan is
		// approved; Shopify returns the merchant to the plan page inside
		// the admin, which reads the plan back and shows it.
		admin := newAdminClient(t, e)
		if status, _, body := admin.page("/admin", nil); status != http.StatusOK ||
			!strings.Contains(body, "2 of 2 free agent orders used") || !strings.Contains(body, `id="banner-upgrade"`) {
			t.Fatalf("overview past the free tier: %d\n%s", status, grep(body, "billing"))
		}
		status, up := admin.api("POST", "/api/billing/upgrade", "{}", testShop)
		confirm, _ := up["redirect"].(string)
		if status != http.StatusOK || !strings.HasPrefix(confirm, e.emu.URL()+"/billing/") {
			t.Fatalf("upgrade: %d %v", status, up)
		}
		back := approve(t, confirm)
		wantBack := web.AdminAppURL(testClientID)(testShop) + web.BillingPath
		if !strings.HasPrefix(back.String(), wantBack+"?charge_id=") {
			t.Fatalf("Shopify returns the merchant to %s, want %s", back, wantBack)
		}
		status, _, body := admin.page(web.BillingPath, url.Values{"charge_id": {back.Query().Get("charge_id")}})
		if status != http.StatusOK || !strings.Contains(body, "data-billing-approved") || !strings.Contains(body, `data-plan="active"`) ||
			!strings.Contains(body, "acpbridge Growth (test charge)") || !strings.Contains(body, "USD 19.00 every 30 days") {
			t.Fatalf("plan page after approval: %d\n%s", status, body)
		}
		p, err := e.svc.Store().ShopPlan(ctx, e.sh.ID)
		if err != nil || !p.Active() || p.UsageLineItemID == "" || p.UsageCap != "100.00" || !p.Test {
			t.Fatalf("plan stored after approval: %+v %v", p, err)
		}

		// Buying works again: the refused session, and a new one.
		if r := complete(s3); r.status != http.StatusOK || r.str("status") != "completed" {
			t.Fatalf("complete after the upgrade: %d %s", r.status, r.body)
		}
		e.checkOnce(t, s3, total3)
		s4, _ := e.readySession(t, a, 1)
		done := complete(s4)
		if done.status != http.StatusOK || done.str("status") != "completed" {
			t.Fatalf("new purchase after the upgrade: %d %s", done.status, done.body)
		}
		// A replayed complete (another key) and sweeps again and again
		// charge nothing more.
		if again := complete(s4); again.status != http.StatusOK || again.str("order", "id") != done.str("order", "id") {
			t.Fatalf("complete replayed: %d %s", again.status, again.body)
		}
		for range 3 {
			if err := bill.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		subs, err := e.emu.AppSubscriptions(testShop)
		if err != nil {
			t.Fatal(err)
		}
		var records []string
		for _, s := range subs {
			for _, rec := range s.Records {
				records = append(records, rec.IdempotencyKey)
				if rec.Cents != 25 {
					t.Errorf("usage record of %d cents, want 25", rec.Cents)
				}
			}
		}
		want := []string{billing.UsageKey(e.sh.ID, s3), billing.UsageKey(e.sh.ID, s4)}
		if len(records) != 2 || records[0] != want[0] || records[1] != want[1] {
			t.Errorf("usage records %v, want one per order past the free tier %v", records, want)
		}
		u, err := bill.Usage(ctx, e.sh)
		if err != nil || u.Orders != 4 || u.FreeOrders != 2 || !u.Current.Active() {
			t.Errorf("usage: %+v %v", u, err)
		}
	})
}

// approve approves a subscription on the emulator's confirmation page, as
// the merchant does, and returns where Shopify sends them back.
func approve(t *testing.T, confirm string) *url.URL {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(confirm, url.Values{"decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "charge_id=") {
		t.Fatalf("approve: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}
