package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestForgetEndedBuyers: past the retention cutoff, ended sessions (and
// expired carts) lose the buyer, the address and the notes but keep their
// lines, status and order; sessions still open or ended after the cutoff
// keep everything; a second pass finds nothing more.
func TestForgetEndedBuyers(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
		cutoff := now.Add(-30 * 24 * time.Hour)
		old, recent := cutoff.Add(-time.Hour), cutoff.Add(time.Hour)
		buyer := &acp.Buyer{Email: "ada@example.com", FirstName: "Ada"}
		address := &acp.FulfillmentDetails{Name: "Ada Lovelace", Address: &acp.Address{Name: "Ada Lovelace", LineOne: "1 Main St", City: "Portland", Country: "US", PostalCode: "97204"}}
		mk := func(id string, status acp.Status, updated, expires time.Time) {
			cs := &checkout.Session{ID: id, ShopID: sh.ID, Version: acp.V20260417, Status: status, Currency: "USD",
				ExpiresAt: expires, CreatedAt: updated.Add(-time.Hour), UpdatedAt: updated,
				State: checkout.State{Items: []checkout.CartItem{{ItemID: "42", Quantity: 2}}, Buyer: buyer, Fulfillment: address,
					OrderNotes: "ring twice", Order: &checkout.ShopOrder{ID: "gid://shopify/Order/9"}}}
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		mk("cs_completed_old", acp.StatusCompleted, old, old.Add(time.Hour))
		mk("cs_canceled_old", acp.StatusCanceled, old, now.Add(time.Hour))
		mk("cs_expired_old", acp.StatusReadyForPayment, old, old.Add(time.Minute))
		mk("cs_completed_recent", acp.StatusCompleted, recent, recent.Add(time.Hour))
		mk("cs_open_old", acp.StatusReadyForPayment, old, now.Add(time.Hour)) // still open: kept
		for id, expires := range map[string]time.Time{"cart_old": old, "cart_live": now.Add(time.Hour)} {
			c := &checkout.Cart{ID: id, ShopID: sh.ID, Currency: "USD", ExpiresAt: expires, CreatedAt: old.Add(-time.Hour), UpdatedAt: old,
				State: checkout.CartState{Items: []checkout.CartItem{{ItemID: "42", Quantity: 1}}, Buyer: buyer}}
			if err := st.CreateCart(ctx, c); err != nil {
				t.Fatal(err)
			}
		}

		// The complete request's billing address goes with the buyer.
		if ok, err := st.InsertPayment(ctx, &checkout.Payment{SessionID: "cs_completed_old", ShopID: sh.ID, State: "captured", Attempt: 1,
			Amount: 100, Currency: "USD", Details: checkout.PaymentDetails{BillingAddress: &acp.Address{LineOne: "2 Billing St"}, OrderNotes: "gift"},
			CreatedAt: old, UpdatedAt: old}); err != nil || !ok {
			t.Fatal(ok, err)
		}

		// Two rows a pass: the caller loops while a pass is full.
		total := 0
		for pass := 0; ; pass++ {
			s, c, err := st.ForgetEndedBuyers(ctx, cutoff, 2)
			if err != nil {
				t.Fatal(err)
			}
			total += s
			if pass == 0 && (s != 2 || c != 1) {
				t.Fatalf("first pass: %d sessions, %d carts; want 2 (the limit) and 1", s, c)
			}
			if s < 2 && c < 2 {
				break
			}
		}
		if total != 3 {
			t.Errorf("sessions forgotten: %d, want 3", total)
		}
		for id, forgotten := range map[string]bool{"cs_completed_old": true, "cs_canceled_old": true, "cs_expired_old": true,
			"cs_completed_recent": false, "cs_open_old": false} {
			cs, err := st.CheckoutSession(ctx, sh.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			gone := cs.State.Buyer == nil && cs.State.Fulfillment == nil && cs.State.OrderNotes == ""
			kept := cs.State.Buyer != nil && cs.State.Fulfillment != nil && cs.State.OrderNotes != ""
			if (forgotten && !gone) || (!forgotten && !kept) {
				t.Errorf("%s: buyer %+v, fulfillment %+v, notes %q; want forgotten=%v", id, cs.State.Buyer, cs.State.Fulfillment, cs.State.OrderNotes, forgotten)
			}
			if len(cs.State.Items) != 1 || cs.State.Order == nil || cs.Status == "" || !cs.UpdatedAt.Equal(map[bool]time.Time{true: old, false: cs.UpdatedAt}[forgotten]) {
				t.Errorf("%s lost what is not personal: %+v (updated %v)", id, cs.State, cs.UpdatedAt)
			}
		}
		// Nothing sealed is left behind either (migration 00022's columns).
		for _, q := range []string{`SELECT buyer_sealed, buyer_index FROM checkout_sessions WHERE id = 'cs_completed_old'`,
			`SELECT buyer_sealed, buyer_index FROM carts WHERE id = 'cart_old'`} {
			if row := rawText(t, st, q); row[0] != "<NULL>" || row[1] != "<NULL>" {
				t.Errorf("%s = %q, want NULLs", q, row)
			}
		}
		if p, err := st.CheckoutPayment(ctx, "cs_completed_old"); err != nil || p.Details.BillingAddress != nil || p.Details.OrderNotes != "" || p.Amount != 100 {
			t.Errorf("payment after retention = %+v, %v; want its billing address and notes gone, the rest kept", p, err)
		}
		for id, forgotten := range map[string]bool{"cart_old": true, "cart_live": false} {
			c, err := st.Cart(ctx, sh.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			if (c.State.Buyer == nil) != forgotten || len(c.State.Items) != 1 {
				t.Errorf("%s: buyer %+v, items %d; want forgotten=%v", id, c.State.Buyer, len(c.State.Items), forgotten)
			}
		}
		if s, c, err := st.ForgetEndedBuyers(ctx, cutoff, 0); err != nil || s != 0 || c != 0 {
			t.Errorf("a pass after everything was forgotten: %d, %d, %v; want nothing", s, c, err)
		}
	})
}
