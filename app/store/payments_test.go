package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestPaymentWrites: a payment record is inserted with its lease (a new
// attempt leased to the request that begins it) only when the session has
// none, and updated only as the
// same attempt, lease included (nil releases it); a stale attempt's update
// is a conflict and changes nothing.
func TestPaymentWrites(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		cs := &checkout.Session{ID: "cs_1", ShopID: sh.ID, Version: acp.V20260417, Status: acp.StatusCompleteInProgress, Currency: "USD",
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateCheckoutSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
		lease := now.Add(time.Minute)
		p := &checkout.Payment{SessionID: cs.ID, ShopID: sh.ID, State: checkout.PaymentAuthorizing, Attempt: 2, TokenSealed: "sealed",
			Amount: 100, Currency: "USD", LeaseUntil: &lease, CreatedAt: now, UpdatedAt: now}
		if first, err := st.InsertPayment(ctx, p); err != nil || !first {
			t.Fatalf("insert of the first attempt: %v, %v", first, err)
		}
		again := *p
		again.Attempt = 3
		if first, err := st.InsertPayment(ctx, &again); err != nil || first {
			t.Fatalf("insert over an attempt: %v, %v; want nothing written", first, err)
		}
		if ok, err := st.LeasePayment(ctx, cs.ID, now, now.Add(time.Hour)); err != nil || ok {
			t.Errorf("lease of a record saved leased: %v, %v; want held", ok, err)
		}
		stale := *p
		stale.Attempt, stale.State = 1, checkout.PaymentDeclined
		if err := st.UpdatePayment(ctx, &stale); !errors.Is(err, app.ErrConflict) {
			t.Errorf("update of another attempt: %v, want a conflict", err)
		}
		p.State, p.TokenSealed, p.PaymentIntentID, p.LeaseUntil = checkout.PaymentCompleted, "", "pi_1", nil
		p.Details.OrderSent = true
		if err := st.UpdatePayment(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := st.CheckoutPayment(ctx, cs.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != checkout.PaymentCompleted || got.Attempt != 2 || got.PaymentIntentID != "pi_1" || got.TokenSealed != "" ||
			!got.Details.OrderSent || got.LeaseUntil != nil {
			t.Errorf("after the update: %+v", got)
		}
	})
}
