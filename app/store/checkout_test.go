package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
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
		cs := &checkout.Session{
			ID: "cs_abc", ShopID: a.ID, Version: acp.V20260417, Status: acp.StatusNotReadyForPayment, Currency: "USD",
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
			State: checkout.State{
				Items: []checkout.CartItem{{ItemID: "42", Quantity: 2}},
				Buyer: &acp.Buyer{Email: "ada@example.com"},
				Quote: checkout.Quote{Key: "k", Lines: []checkout.QuotedLine{{ItemID: "42", VariantID: 42, Quantity: 2, UnitAmount: 1999, Tax: 290}}, Complete: true},
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
		in := app.ACPSettings{ShopID: sh.ID, SigningSecretSealed: "v1:k:sig", RequireSignature: true, WebhookURL: "https://agent.example/hook",
			CompletionMethod: app.CompletionDelegatedPayment, UpdatedAt: now}
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
		gk, gs, gset, pol, err := st.APIKeyByHash(ctx, "h1")
		if err != nil || gk.ID != k.ID || gs.ID != sh.ID || gs.Domain != sh.Domain || gs.Status != app.ShopActive || gset == nil || *gset != in {
			t.Fatalf("APIKeyByHash = %v %v %+v %v", gk, gs, gset, err)
		}
		if pol == nil || *pol != (app.PolicyURLs{}) {
			t.Errorf("policies without feed settings = %+v, want not saved", pol)
		}
		// The feed settings' policy pages come with the key, for the
		// session's links.
		fs := app.FeedSettings{ShopID: sh.ID, TermsURL: "https://a.example/terms", PrivacyPolicyURL: "https://a.example/privacy",
			ReturnPolicyURL: "https://a.example/returns"}
		if err := st.SaveFeedSettings(ctx, fs); err != nil {
			t.Fatal(err)
		}
		want := app.PolicyURLs{Saved: true, Terms: fs.TermsURL, Privacy: fs.PrivacyPolicyURL, Returns: fs.ReturnPolicyURL}
		if _, _, _, pol, err := st.APIKeyByHash(ctx, "h1"); err != nil || pol == nil || *pol != want {
			t.Errorf("policies = %+v, %v; want %+v", pol, err, want)
		}
		if err := st.RevokeAPIKey(ctx, sh.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, _, _, err := st.APIKeyByHash(ctx, "h1"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("revoked key: %v", err)
		}
	})
}

// TestPaymentCredentials: credentials are kept per shop and provider;
// saving them makes their provider the shop's payment account, which the
// settings (and the agent's authentication) then carry; saving the other
// settings or re-sealing leaves the account alone.
func TestPaymentCredentials(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.PaymentCredentials(ctx, sh.ID, "stripe"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("no credentials yet: %v", err)
		}
		if err := st.UpdatePaymentCredentialsSealed(ctx, sh.ID, "stripe", "v1:k:x"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("re-seal of nothing: %v", err)
		}
		t1 := time.Now().UTC().Truncate(time.Second)
		in := app.PaymentCredentials{ShopID: sh.ID, Provider: "stripe", AccountID: "acct_1", Sealed: "v1:k:key1", VerifiedAt: &t1, UpdatedAt: t1}
		if err := st.SavePaymentCredentials(ctx, in); err != nil { // no settings row yet
			t.Fatal(err)
		}
		set, err := st.ACPSettings(ctx, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		if set.CompletionMethod != app.CompletionDelegatedPayment || set.Payment == nil ||
			*set.Payment != (app.PaymentAccount{Provider: "stripe", AccountID: "acct_1", VerifiedAt: set.Payment.VerifiedAt}) ||
			set.Payment.VerifiedAt == nil || !set.Payment.VerifiedAt.Equal(t1) {
			t.Fatalf("settings after connecting = %+v (payment %+v)", set, set.Payment)
		}

		// The other settings are saved around the account.
		set.WebhookURL = "https://agent.example/hook"
		if err := st.SaveACPSettings(ctx, *set); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: "h1", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}
		_, _, gset, _, err := st.APIKeyByHash(ctx, "h1")
		if err != nil || gset == nil || gset.Payment == nil || gset.Payment.Provider != "stripe" || gset.Payment.AccountID != "acct_1" ||
			gset.WebhookURL != set.WebhookURL || gset.CompletionMethod != app.CompletionDelegatedPayment {
			t.Fatalf("APIKeyByHash settings = %+v, %v", gset, err)
		}

		// A second provider's credentials live beside the first and become
		// the shop's account; replacing the first keeps one row for it.
		t2 := t1.Add(time.Minute)
		other := app.PaymentCredentials{ShopID: sh.ID, Provider: "other", AccountID: "o_1", Sealed: "v1:k:o", UpdatedAt: t2}
		if err := st.SavePaymentCredentials(ctx, other); err != nil {
			t.Fatal(err)
		}
		if set, err = st.ACPSettings(ctx, sh.ID); err != nil || set.Payment == nil || set.Payment.Provider != "other" ||
			set.Payment.VerifiedAt != nil || set.WebhookURL != "https://agent.example/hook" {
			t.Fatalf("settings after a second provider = %+v, %v", set, err)
		}
		in.AccountID, in.Sealed, in.VerifiedAt, in.UpdatedAt = "acct_2", "v1:k:key2", &t2, t2
		if err := st.SavePaymentCredentials(ctx, in); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdatePaymentCredentialsSealed(ctx, sh.ID, "other", "v2:k:o"); err != nil {
			t.Fatal(err)
		}
		all, err := st.ShopPaymentCredentials(ctx, sh.ID)
		if err != nil || len(all) != 2 {
			t.Fatalf("ShopPaymentCredentials = %v, %v", all, err)
		}
		if c := all[0]; c.Provider != "other" || c.Sealed != "v2:k:o" || c.AccountID != "o_1" || c.VerifiedAt != nil || !c.UpdatedAt.Equal(t2) {
			t.Errorf("re-sealed credentials = %+v", c)
		}
		got, err := st.PaymentCredentials(ctx, sh.ID, "stripe")
		if err != nil || got.AccountID != "acct_2" || got.Sealed != "v1:k:key2" || got.VerifiedAt == nil || !got.VerifiedAt.Equal(t2) {
			t.Errorf("replaced credentials = %+v, %v", got, err)
		}
		if set, err = st.ACPSettings(ctx, sh.ID); err != nil || set.Payment == nil || set.Payment.AccountID != "acct_2" {
			t.Errorf("settings after replacing = %+v, %v", set, err)
		}
	})
}

func TestStalledCompletions(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		old := time.Now().UTC().Add(-time.Hour)
		for i, state := range []string{checkout.PaymentAuthorizing, checkout.PaymentOrdered, checkout.PaymentCompleted, checkout.PaymentDeclined, checkout.PaymentAuthorized} {
			id := fmt.Sprintf("cs_%d", i)
			cs := &checkout.Session{ID: id, ShopID: sh.ID, Version: acp.V20260417, Status: acp.StatusCompleteInProgress, Currency: "USD",
				ExpiresAt: old.Add(2 * time.Hour), CreatedAt: old, UpdatedAt: old}
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
			updated := old
			if i == 4 {
				updated = time.Now().UTC() // recent: still being worked
			}
			if err := st.SavePayment(ctx, &checkout.Payment{SessionID: id, ShopID: sh.ID, State: state, Attempt: 1,
				Amount: 100, Currency: "USD", CreatedAt: old, UpdatedAt: updated}); err != nil {
				t.Fatal(err)
			}
		}
		// cs_1 is leased by a live driver.
		if ok, err := st.LeasePayment(ctx, "cs_1", time.Now(), time.Now().Add(time.Minute)); err != nil || !ok {
			t.Fatalf("lease: %v %v", ok, err)
		}
		got, err := st.StalledCompletions(ctx, time.Now().UTC().Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].SessionID != "cs_0" || got[0].ShopID != sh.ID {
			t.Fatalf("stalled = %+v, want only cs_0", got)
		}
	})
}

// TestSetCompletionMethod: the shop's completion method is saved alone,
// with or without a settings row, and read back by both settings readers;
// the other settings and the payment account stay as they were.
func TestSetCompletionMethod(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now().UTC().Truncate(time.Second)
		if err := st.SetCompletionMethod(ctx, sh.ID, app.CompletionShopifyCheckout, t1); err != nil { // no row yet
			t.Fatal(err)
		}
		set, err := st.ACPSettings(ctx, sh.ID)
		if err != nil || set.CompletionMethod != app.CompletionShopifyCheckout || !set.UpdatedAt.Equal(t1) {
			t.Fatalf("after setting on no row: %+v, %v", set, err)
		}
		set.WebhookURL, set.SigningSecretSealed, set.RequireSignature = "https://agent.example/hook", "v1:k:sig", true
		if err := st.SaveACPSettings(ctx, *set); err != nil {
			t.Fatal(err)
		}
		pay := app.PaymentCredentials{ShopID: sh.ID, Provider: "stripe", AccountID: "acct_1", Sealed: "v1:k:key", UpdatedAt: t1}
		if err := st.SavePaymentCredentials(ctx, pay); err != nil {
			t.Fatal(err)
		}
		if set, err = st.ACPSettings(ctx, sh.ID); err != nil || set.CompletionMethod != app.CompletionShopifyCheckout {
			t.Fatalf("connecting a provider changed the method: %+v, %v", set, err)
		}
		t2 := t1.Add(time.Minute)
		if err := st.SetCompletionMethod(ctx, sh.ID, app.CompletionDelegatedPayment, t2); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: "h1", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}
		_, _, got, _, err := st.APIKeyByHash(ctx, "h1")
		if err != nil || got == nil || got.CompletionMethod != app.CompletionDelegatedPayment || !got.UpdatedAt.Equal(t2) ||
			got.WebhookURL != "https://agent.example/hook" || got.SigningSecretSealed != "v1:k:sig" || !got.RequireSignature ||
			got.Payment == nil || got.Payment.AccountID != "acct_1" {
			t.Fatalf("after switching: %+v, %v", got, err)
		}
	})
}

// TestOverdueHandoffSessions: only sessions holding a draft order, past
// their expiry and not terminal, oldest first, at most the limit; another
// shop's are listed too (housekeeping sweeps every shop).
func TestOverdueHandoffSessions(t *testing.T) {
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
		now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		draft := &checkout.Handoff{DraftID: "gid://shopify/DraftOrder/1", InvoiceURL: "https://x.example/c/1", Key: "k"}
		for _, c := range []struct {
			id      string
			shop    int64
			status  acp.Status
			expires time.Duration
			handoff *checkout.Handoff
		}{
			{"cs_old", b.ID, acp.StatusRequiresEscalation, -2 * time.Hour, draft},
			{"cs_due", a.ID, acp.StatusRequiresEscalation, -time.Minute, draft},
			{"cs_live", a.ID, acp.StatusRequiresEscalation, time.Minute, draft},
			{"cs_nodraft", a.ID, acp.StatusReadyForPayment, -time.Hour, nil},
			{"cs_canceled", a.ID, acp.StatusCanceled, -time.Hour, draft},
			{"cs_done", a.ID, acp.StatusCompleted, -time.Hour, draft},
		} {
			cs := &checkout.Session{ID: c.id, ShopID: c.shop, Version: acp.V20260417, Status: c.status, Currency: "USD",
				ExpiresAt: now.Add(c.expires), CreatedAt: now.Add(-6 * time.Hour), UpdatedAt: now.Add(-6 * time.Hour),
				State: checkout.State{Handoff: c.handoff}}
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.OverdueHandoffSessions(ctx, now, 10)
		want := []checkout.SessionRef{{ShopID: b.ID, ID: "cs_old"}, {ShopID: a.ID, ID: "cs_due"}}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("overdue = %v, %v; want %v", got, err, want)
		}
		if got, err := st.OverdueHandoffSessions(ctx, now, 1); err != nil || len(got) != 1 || got[0].ID != "cs_old" {
			t.Errorf("limit 1: %v, %v", got, err)
		}
	})
}
