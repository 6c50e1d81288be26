package billing

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// sweepStore holds orders in memory.
type sweepStore struct {
	fakeStore
	orders []*Order
}

func (f *sweepStore) CountBillingOrders(_ context.Context, shopID int64, from, to time.Time, decided bool, _ int) (int, error) {
	n := 0
	for _, o := range f.orders {
		if o.ShopID == shopID && !o.CreatedAt.Before(from) && o.CreatedAt.Before(to) && (!decided || o.Charge != ChargePending) {
			n++
		}
	}
	return n, nil
}

func (f *sweepStore) PendingBillingOrders(context.Context, int) ([]Order, error) {
	var out []Order
	for _, o := range f.orders {
		if o.Charge == ChargePending {
			out = append(out, *o)
		}
	}
	return out, nil
}

func (f *sweepStore) SetBillingOrderCharge(_ context.Context, shopID int64, sessionID string, c Charge, _ string, _ time.Time) (bool, error) {
	for _, o := range f.orders {
		if o.ShopID == shopID && o.SessionID == sessionID && o.Charge == ChargePending {
			o.Charge = c
			return true, nil
		}
	}
	return false, nil
}

// usageShopify has an active plan on every shop and charges usage,
// failing for the shops in down and refusing for those in capped.
type usageShopify struct {
	fakeShopify
	down, capped map[string]bool
	charged      []string // idempotency keys
}

func (f *usageShopify) Query(ctx context.Context, shop, query string, vars map[string]any, out any) error {
	if !strings.Contains(query, "appUsageRecordCreate") {
		return f.fakeShopify.Query(ctx, shop, query, vars, out)
	}
	if f.down[shop] {
		return errors.New("connection reset")
	}
	if f.capped[shop] {
		return remarshal(map[string]any{"appUsageRecordCreate": map[string]any{"appUsageRecord": nil,
			"userErrors": []any{map[string]any{"field": []any{"price"}, "message": "Total price exceeds balance remaining"}}}}, out)
	}
	f.charged = append(f.charged, vars["key"].(string))
	return remarshal(map[string]any{"appUsageRecordCreate": map[string]any{"appUsageRecord": map[string]any{"id": "gid://shopify/AppUsageRecord/1"},
		"userErrors": []any{}}}, out)
}

// TestSweep: each shop's first order of the month is free (a free tier of
// one), the next is charged once with its key; a capped shop's order is
// unbilled; a shop whose charge fails keeps that order and its later ones
// pending (their place in the month depends on it), and the next sweep
// finishes them; an uninstalled shop's orders are unbilled.
func TestSweep(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return now.Add(time.Duration(m) * time.Minute) }
	st := &sweepStore{orders: []*Order{
		{ShopID: 1, Shop: "a", ShopActive: true, SessionID: "a1", CreatedAt: at(1), Charge: ChargePending},
		{ShopID: 2, Shop: "b", ShopActive: true, SessionID: "b1", CreatedAt: at(2), Charge: ChargePending},
		{ShopID: 1, Shop: "a", ShopActive: true, SessionID: "a2", CreatedAt: at(3), Charge: ChargePending},
		{ShopID: 2, Shop: "b", ShopActive: true, SessionID: "b2", CreatedAt: at(4), Charge: ChargePending},
		{ShopID: 2, Shop: "b", ShopActive: true, SessionID: "b3", CreatedAt: at(5), Charge: ChargePending},
		{ShopID: 3, Shop: "c", ShopActive: true, SessionID: "c1", CreatedAt: at(6), Charge: ChargePending},
		{ShopID: 3, Shop: "c", ShopActive: true, SessionID: "c2", CreatedAt: at(7), Charge: ChargePending},
		{ShopID: 4, Shop: "d", ShopActive: false, SessionID: "d1", CreatedAt: at(8), Charge: ChargePending},
		{ShopID: 4, Shop: "d", ShopActive: false, SessionID: "d2", CreatedAt: at(9), Charge: ChargePending},
	}}
	q := &usageShopify{fakeShopify: fakeShopify{status: "ACTIVE"}, down: map[string]bool{"b": true}, capped: map[string]bool{"c": true}}
	s := New(st, q, Plan{FreeOrders: 1, Currency: "USD", PerOrder: "0.25"}, Options{Now: func() time.Time { return now }})
	if err := s.Sweep(context.Background()); err == nil {
		t.Error("a failed charge was not reported")
	}
	charges := func() string {
		var b strings.Builder
		for _, o := range st.orders {
			b.WriteString(o.SessionID + "=" + string(o.Charge) + " ")
		}
		return strings.TrimSpace(b.String())
	}
	if got, want := charges(), "a1=free b1=free a2=charged b2=pending b3=pending c1=free c2=unbilled d1=free d2=unbilled"; got != want {
		t.Errorf("after the first sweep:\n got %s\nwant %s", got, want)
	}
	q.down = nil
	if err := s.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := charges(), "a1=free b1=free a2=charged b2=charged b3=charged c1=free c2=unbilled d1=free d2=unbilled"; got != want {
		t.Errorf("after the second sweep:\n got %s\nwant %s", got, want)
	}
	if want := []string{UsageKey(1, "a2"), UsageKey(2, "b2"), UsageKey(2, "b3")}; strings.Join(q.charged, ",") != strings.Join(want, ",") {
		t.Errorf("usage records %v, want %v", q.charged, want)
	}
}
