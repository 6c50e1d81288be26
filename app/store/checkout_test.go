package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

func TestCheckoutSessions(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.SaveShopInstall(ctx, app.Shop{Domain: "b.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		cs := &app.CheckoutSession{
			ID: "cs_abc", ShopID: a.ID, Version: acp.V20260417, Status: acp.StatusNotReadyForPayment, Currency: "USD",
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
			State: app.CheckoutState{
				Items: []app.CartItem{{ItemID: "42", Quantity: 2}},
				Buyer: &acp.Buyer{Email: "ada@example.com"},
				Quote: app.Quote{Key: "k", Lines: []app.QuotedLine{{ItemID: "42", VariantID: 42, Quantity: 2, UnitAmount: 1999, Tax: 290}}, Complete: true},
			},
		}
		if err := st.CreateCheckoutSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
		got, err := st.CheckoutSession(ctx, a.ID, "cs_abc")
		if err != nil {
			t.Fatal(err)
		}
		if got.RowVersion != 1 || got.State.Buyer.Email != "ada@example.com" || got.State.Quote.Lines[0].Tax != 290 || !got.ExpiresAt.Equal(cs.ExpiresAt) {
			t.Errorf("read back %+v", got)
		}
		// Another shop cannot see it.
		if _, err := st.CheckoutSession(ctx, b.ID, "cs_abc"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("other shop: %v, want not found", err)
		}
		// Optimistic concurrency: two writers read version 1; one wins.
		first, second := *got, *got
		first.Status = acp.StatusReadyForPayment
		if err := st.SaveCheckoutSession(ctx, &first); err != nil {
			t.Fatal(err)
		}
		second.Status = acp.StatusCanceled
		if err := st.SaveCheckoutSession(ctx, &second); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("stale write: %v, want conflict", err)
		}
		final, err := st.CheckoutSession(ctx, a.ID, "cs_abc")
		if err != nil {
			t.Fatal(err)
		}
		if final.Status != acp.StatusReadyForPayment || final.RowVersion != 2 {
			t.Errorf("after the race: status %s, version %d", final.Status, final.RowVersion)
		}
		// Another shop's id cannot be written through.
		other := *final
		other.ShopID = b.ID
		if err := st.SaveCheckoutSession(ctx, &other); !errors.Is(err, app.ErrConflict) {
			t.Errorf("cross-shop write: %v", err)
		}
	})
}

func TestACPSettingsAndKeys(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ACPSettings(ctx, sh.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("no settings yet: %v", err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		in := app.ACPSettings{ShopID: sh.ID, SigningSecretSealed: "v1:k:sig", RequireSignature: true, WebhookURL: "https://agent.example/hook", StripeAccountID: "acct_1", UpdatedAt: now}
		if err := st.SaveACPSettings(ctx, in); err != nil {
			t.Fatal(err)
		}
		in.WebhookSecretSealed, in.RequireSignature = "v1:k:wh", false
		if err := st.SaveACPSettings(ctx, in); err != nil { // an upsert
			t.Fatal(err)
		}
		got, err := st.ACPSettings(ctx, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *got != in {
			t.Errorf("settings = %+v, want %+v", *got, in)
		}

		k, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: "h1", Fingerprint: "f"})
		if err != nil {
			t.Fatal(err)
		}
		gk, gs, gset, err := st.APIKeyByHash(ctx, "h1")
		if err != nil || gk.ID != k.ID || gs.ID != sh.ID || gs.Domain != sh.Domain || gs.Status != app.ShopActive || gset == nil || *gset != in {
			t.Fatalf("APIKeyByHash = %v %v %+v %v", gk, gs, gset, err)
		}
		if err := st.RevokeAPIKey(ctx, sh.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := st.APIKeyByHash(ctx, "h1"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("revoked key: %v", err)
		}
	})
}
