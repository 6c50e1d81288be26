package billing

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

func TestCents(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"19.0": "19.00", "0.25": "0.25", "100": "100.00", "1.5": "1.50", "": "", "1.234": "1.234", "x.1": "x.1"} {
		if got := cents(in); got != want {
			t.Errorf("cents(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMonthOf(t *testing.T) {
	t.Parallel()
	ny := time.FixedZone("EST", -5*3600)
	for _, tt := range []struct {
		at       time.Time
		from, to string
	}{
		{time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), "2026-12-01", "2027-01-01"},
		{time.Date(2026, 11, 30, 20, 0, 0, 0, ny), "2026-12-01", "2027-01-01"}, // 01:00 UTC on Dec 1
		{time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), "2026-02-01", "2026-03-01"},
	} {
		from, to := monthOf(tt.at)
		if from.Format(time.DateOnly) != tt.from || to.Format(time.DateOnly) != tt.to {
			t.Errorf("monthOf(%v) = %v, %v; want %s, %s", tt.at, from, to, tt.from, tt.to)
		}
	}
}

// fakeStore counts orders and keeps one plan.
type fakeStore struct {
	orders int
	plan   *PlanState
}

func (f *fakeStore) CountBillingOrders(_ context.Context, _ int64, _, _ time.Time, _ bool, atMost int) (int, error) {
	if atMost > 0 {
		return min(f.orders, atMost), nil
	}
	return f.orders, nil
}
func (f *fakeStore) PendingBillingOrders(context.Context, int) ([]Order, error) { return nil, nil }
func (f *fakeStore) SetBillingOrderCharge(context.Context, int64, string, Charge, string, time.Time) (bool, error) {
	return true, nil
}
func (f *fakeStore) ShopPlan(context.Context, int64) (*PlanState, error) { return f.plan, nil }
func (f *fakeStore) SaveShopPlan(_ context.Context, p *PlanState) error  { f.plan = p; return nil }

// fakeShopify answers currentAppInstallation with one subscription of
// status (none when ""), or fails.
type fakeShopify struct {
	status string
	fail   bool
	calls  int
}

func (f *fakeShopify) Query(_ context.Context, _, _ string, _ map[string]any, out any) error {
	f.calls++
	if f.fail {
		return errors.New("shopify is down")
	}
	active := []any{}
	if f.status != "" {
		active = append(active, map[string]any{"id": "gid://shopify/AppSubscription/1", "name": "Growth", "status": f.status,
			"lineItems": []any{map[string]any{"id": "gid://shopify/AppSubscriptionLineItem/2", "plan": map[string]any{
				"pricingDetails": map[string]any{"__typename": "AppUsagePricing", "terms": "t",
					"cappedAmount": map[string]any{"amount": "100.0", "currencyCode": "USD"}}}}}})
	}
	return remarshal(map[string]any{"currentAppInstallation": map[string]any{"activeSubscriptions": active}}, out)
}

// TestAdmitOrder: within the free tier no plan is read; past it, the
// stored plan is used while fresh and read from Shopify when stale; a
// Shopify failure trusts a stored active plan, and without one asks the
// agent to retry rather than refusing for good.
func TestAdmitOrder(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	active := &PlanState{SubscriptionID: "gid://shopify/AppSubscription/1", Status: "ACTIVE", UsageLineItemID: "x"}
	for _, tt := range []struct {
		name      string
		orders    int
		stored    *PlanState
		checked   time.Duration // before now
		installed time.Duration // before now; 0: long ago
		shopify   fakeShopify
		wantCode  app.Code
		wantCalls int
	}{
		{name: "within the free tier", orders: 49, wantCalls: 0},
		{name: "past it, never read, none in Shopify", orders: 50, shopify: fakeShopify{}, wantCode: app.CodeForbidden, wantCalls: 1},
		{name: "past it, never read, approved in Shopify", orders: 50, shopify: fakeShopify{status: "ACTIVE"}, wantCalls: 1},
		{name: "stored active, fresh", orders: 80, stored: active, checked: 10 * time.Minute, wantCalls: 0},
		{name: "stored active, stale, Shopify down", orders: 80, stored: active, checked: 2 * time.Hour, shopify: fakeShopify{fail: true}, wantCalls: 1},
		{name: "stored active, stale, cancelled since", orders: 80, stored: active, checked: 2 * time.Hour, shopify: fakeShopify{}, wantCode: app.CodeForbidden, wantCalls: 1},
		{name: "stored none, fresh", orders: 50, stored: &PlanState{}, checked: 30 * time.Second, shopify: fakeShopify{status: "ACTIVE"}, wantCode: app.CodeForbidden, wantCalls: 0},
		{name: "stored active, fresh, but read before a reinstall", orders: 80, stored: active, checked: 10 * time.Minute, installed: 5 * time.Minute,
			shopify: fakeShopify{}, wantCode: app.CodeForbidden, wantCalls: 1},
		{name: "stored none, stale, Shopify down", orders: 50, stored: &PlanState{}, checked: 2 * time.Minute, shopify: fakeShopify{fail: true}, wantCode: app.CodeUnavailable, wantCalls: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeStore{orders: tt.orders}
			if tt.stored != nil {
				p := *tt.stored
				p.CheckedAt = now.Add(-tt.checked)
				st.plan = &p
			}
			q := tt.shopify
			s := New(st, &q, Plan{FreeOrders: 50, Currency: "USD", PerOrder: "0.25"}, Options{Now: func() time.Time { return now }})
			sh := &app.Shop{ID: 1, Domain: "a.myshopify.com", InstalledAt: now.AddDate(-1, 0, 0)}
			if tt.installed > 0 {
				sh.InstalledAt = now.Add(-tt.installed)
			}
			err := s.AdmitOrder(context.Background(), sh)
			if got := app.ErrorCode(err); got != tt.wantCode {
				t.Errorf("AdmitOrder: %v, want code %q", err, tt.wantCode)
			}
			if tt.wantCode == app.CodeForbidden {
				var ae *app.Error
				if !errors.As(err, &ae) || ae.Reason != ReasonPlanLimit {
					t.Errorf("refusal %v, want reason %s", err, ReasonPlanLimit)
				}
			}
			if q.calls != tt.wantCalls {
				t.Errorf("Shopify read %d times, want %d", q.calls, tt.wantCalls)
			}
		})
	}
	// Billing off: nothing is counted or refused.
	off := New(&fakeStore{orders: 1 << 20}, &fakeShopify{}, Plan{FreeOrders: -1}, Options{})
	if err := off.AdmitOrder(context.Background(), &app.Shop{ID: 1}); err != nil {
		t.Errorf("billing off: %v", err)
	}
}

// remarshal decodes v's JSON into out, as the GraphQL client does.
func remarshal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
