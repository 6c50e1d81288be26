package shopify_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
)

// TestBillingLifecycle creates a subscription (recurring + usage line
// items), approves it on the emulator's confirmation page, reads it back
// from currentAppInstallation, and records usage: a retried record with
// the same idempotency key charges once, and a charge over the cap is
// refused. Every document is validated against the 2026-10 schema.
func TestBillingLifecycle(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	if subs, err := shopify.ActiveSubscriptions(ctx, env.q, pricingShop); err != nil || len(subs) != 0 {
		t.Fatalf("before any plan: %v %v", subs, err)
	}
	plan := shopify.SubscriptionPlan{Name: "Agent orders", ReturnURL: "http://127.0.0.1:1/admin/billing?shop=" + pricingShop,
		Recurring: shopify.Money{Amount: "9.00", Currency: "USD"}, UsageCap: &shopify.Money{Amount: "1.00", Currency: "USD"},
		UsageTerms: "$0.40 per agent order over 50 a month", Test: true}
	id, confirm, err := shopify.CreateSubscription(ctx, env.q, pricingShop, plan)
	if err != nil || !strings.HasPrefix(id, "gid://shopify/AppSubscription/") || !strings.HasPrefix(confirm, env.emu.URL()+"/billing/") {
		t.Fatalf("CreateSubscription: %q %q %v", id, confirm, err)
	}
	// Pending: not active yet.
	if subs, _ := shopify.ActiveSubscriptions(ctx, env.q, pricingShop); len(subs) != 0 {
		t.Fatalf("pending subscription listed as active: %+v", subs)
	}
	page := mustGet(t, confirm)
	if !strings.Contains(page, "USD 9.00 every 30 days") || !strings.Contains(page, `value="approve"`) {
		t.Fatalf("confirmation page:\n%s", page)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(confirm, url.Values{"decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "charge_id=1") {
		t.Fatalf("approve: %d to %q", resp.StatusCode, loc)
	}
	subs, err := shopify.ActiveSubscriptions(ctx, env.q, pricingShop)
	if err != nil || len(subs) != 1 {
		t.Fatalf("active: %+v %v", subs, err)
	}
	s := subs[0]
	if s.ID != id || s.Status != "ACTIVE" || !s.Test || s.Recurring == nil || s.Recurring.Amount != "9.0" || s.UsageCap == nil ||
		s.UsageCap.Amount != "1.0" || s.UsageLineItemID == "" || s.UsageTerms != plan.UsageTerms || s.CurrentPeriodEnd == nil {
		t.Fatalf("active subscription %+v", s)
	}
	price := shopify.Money{Amount: "0.40", Currency: "USD"}
	first, err := shopify.CreateUsageRecord(ctx, env.q, pricingShop, s.UsageLineItemID, price, "Agent order cs_1", "acpbridge:1:cs_1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := shopify.CreateUsageRecord(ctx, env.q, pricingShop, s.UsageLineItemID, price, "Agent order cs_1", "acpbridge:1:cs_1")
	if err != nil || again != first {
		t.Fatalf("retry with the same key: %q (first %q) %v", again, first, err)
	}
	if _, err := shopify.CreateUsageRecord(ctx, env.q, pricingShop, s.UsageLineItemID, price, "Agent order cs_2", "acpbridge:1:cs_2"); err != nil {
		t.Fatal(err)
	}
	_, err = shopify.CreateUsageRecord(ctx, env.q, pricingShop, s.UsageLineItemID, price, "Agent order cs_3", "acpbridge:1:cs_3")
	var ue *shopify.UserErrorsError
	if !errors.As(err, &ue) {
		t.Fatalf("a charge over the cap: %v", err)
	}
	subs, _ = shopify.ActiveSubscriptions(ctx, env.q, pricingShop)
	if subs[0].UsageUsed == nil || subs[0].UsageUsed.Amount != "0.8" {
		t.Errorf("balance used %+v, want 0.8 (two records, the retry not counted)", subs[0].UsageUsed)
	}
}

// mustGet is the body of the page at u, as a merchant's browser gets it.
func mustGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
