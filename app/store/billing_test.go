package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/billing"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestBillingOrderCount: an agent order is counted once, when its
// order_create event is stored (the database's trigger), never for a
// second order_create of the session nor for an order_update; counts go
// by calendar month whatever zone the event's time was written in; an
// order is decided once; the shop's plan is stored and read back.
func TestBillingOrderCount(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "bill.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := st.SaveShopInstall(ctx, app.Shop{Domain: "other-bill.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		nov := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
		dec := time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC)
		// 2026-12-01 00:45 UTC, written in New York's zone (Nov 30 evening).
		ny := time.Date(2026, 11, 30, 19, 45, 0, 0, time.FixedZone("EST", -5*3600))
		event := func(shopID int64, session, typ string, at time.Time) bool {
			t.Helper()
			ok, err := st.InsertAgentEvent(ctx, &orderevents.Event{ShopID: shopID, SessionID: session, Type: typ,
				APIVersion: acp.V20260417, Body: []byte(`{}`), CreatedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		event(sh.ID, "cs_nov", acp.EventOrderCreate, nov)
		event(sh.ID, "cs_dec1", acp.EventOrderCreate, dec)
		event(sh.ID, "cs_dec2", acp.EventOrderCreate, ny)
		if event(sh.ID, "cs_dec1", acp.EventOrderCreate, dec.Add(time.Minute)) {
			t.Error("a second order_create of a session was stored")
		}
		event(sh.ID, "cs_dec1", acp.EventOrderUpdate, dec.Add(2*time.Minute))
		event(other.ID, "cs_other", acp.EventOrderCreate, dec)

		count := func(shopID int64, from time.Time, decided bool) int {
			t.Helper()
			n, err := st.CountBillingOrders(ctx, shopID, from, from.AddDate(0, 1, 0), decided, 0)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		decFrom, novFrom := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		if got := count(sh.ID, decFrom, false); got != 2 {
			t.Errorf("December orders: %d, want 2 (cs_dec1 once, cs_dec2 by its UTC time)", got)
		}
		if n, err := st.CountBillingOrders(ctx, sh.ID, decFrom, decFrom.AddDate(0, 1, 0), false, 1); err != nil || n != 1 {
			t.Errorf("December orders counted up to 1: %d %v", n, err)
		}
		if got := count(sh.ID, novFrom, false); got != 1 {
			t.Errorf("November orders: %d, want 1", got)
		}
		if got := count(sh.ID, decFrom, true); got != 0 {
			t.Errorf("decided before any decision: %d", got)
		}

		pending, err := st.PendingBillingOrders(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range pending {
			if o.ShopID == sh.ID {
				ids = append(ids, o.SessionID)
				if o.Shop != sh.Domain || !o.ShopActive || o.Charge != billing.ChargePending {
					t.Errorf("pending order %+v", o)
				}
			}
		}
		if len(ids) != 3 || ids[0] != "cs_nov" || ids[1] != "cs_dec1" || ids[2] != "cs_dec2" {
			t.Errorf("pending, oldest first: %v", ids)
		}
		if ok, err := st.SetBillingOrderCharge(ctx, sh.ID, "cs_dec1", billing.ChargeCharged, "gid://shopify/AppUsageRecord/1", dec); !ok || err != nil {
			t.Fatalf("decide: %v %v", ok, err)
		}
		if ok, err := st.SetBillingOrderCharge(ctx, sh.ID, "cs_dec1", billing.ChargeFree, "", dec); ok || err != nil {
			t.Errorf("decided twice: %v %v", ok, err)
		}
		if got := count(sh.ID, decFrom, true); got != 1 {
			t.Errorf("decided in December: %d, want 1", got)
		}

		if p, err := st.ShopPlan(ctx, sh.ID); p != nil || err != nil {
			t.Fatalf("plan before any read: %+v %v", p, err)
		}
		end := dec.AddDate(0, 0, 30)
		want := billing.PlanState{ShopID: sh.ID, SubscriptionID: "gid://shopify/AppSubscription/1", Name: "Agent orders", Status: "ACTIVE",
			Test: true, Currency: "USD", Recurring: "19.0", UsageCap: "100.0", UsageUsed: "0.25",
			UsageLineItemID: "gid://shopify/AppSubscriptionLineItem/3", PeriodEnd: &end, CheckedAt: dec}
		for range 2 { // an insert, then an update
			if err := st.SaveShopPlan(ctx, &want); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ShopPlan(ctx, sh.ID)
		if err != nil || got == nil || got.SubscriptionID != want.SubscriptionID || !got.Active() || got.UsageLineItemID != want.UsageLineItemID ||
			got.UsageUsed != "0.25" || got.PeriodEnd == nil || !got.PeriodEnd.Equal(end) || !got.CheckedAt.Equal(dec) || !got.Test {
			t.Errorf("plan read back %+v %v", got, err)
		}
	})
}
