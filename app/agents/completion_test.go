package agents_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestCompletionMethod: the merchant's choice is saved under custom
// distribution and refused when unknown, or when delegated payment under
// App Store distribution; every reader (Settings, Authenticate) sees the
// effective method, while saving other settings keeps the stored choice.
func TestCompletionMethod(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		kr := fuzzKeyring(t)
		custom := agents.New(st, kr, nil, agents.Options{Now: func() time.Time { return now }, Distribution: app.DistributionCustom})
		appStore := agents.New(st, kr, nil, agents.Options{Now: func() time.Time { return now }, Distribution: app.DistributionAppStore})
		unset := agents.New(st, kr, nil, agents.Options{Now: func() time.Time { return now }})

		// A shop without settings: delegated payment under custom
		// distribution (as before there was a choice), Shopify's checkout
		// under the App Store.
		if cm, err := custom.CompletionMethod(ctx, sh.ID); err != nil || cm.Method != app.CompletionDelegatedPayment || !cm.Switchable || cm.Reason != "" {
			t.Fatalf("custom, nothing saved: %+v, %v", cm, err)
		}
		for _, a := range []*agents.Access{appStore, unset} {
			cm, err := a.CompletionMethod(ctx, sh.ID)
			if err != nil || cm.Method != app.CompletionShopifyCheckout || cm.Switchable || cm.Reason != app.CompletionMethodReason {
				t.Fatalf("App Store, nothing saved: %+v, %v", cm, err)
			}
		}

		var ae *app.Error
		if _, err := custom.SetCompletionMethod(ctx, sh.ID, "paypal"); !errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Field != "completion_method" {
			t.Errorf("unknown method: %v, want invalid completion_method", err)
		}
		if _, err := custom.SetCompletionMethod(ctx, sh.ID, ""); !errors.As(err, &ae) || ae.Code != app.CodeInvalid {
			t.Errorf("empty method: %v, want invalid", err)
		}
		for _, a := range []*agents.Access{appStore, unset} {
			_, err := a.SetCompletionMethod(ctx, sh.ID, app.CompletionDelegatedPayment)
			if !errors.As(err, &ae) || ae.Code != app.CodeConflict || ae.Reason != "completion_method_not_allowed" ||
				ae.Field != "completion_method" || ae.Message != app.CompletionMethodReason {
				t.Errorf("delegated payment under App Store distribution: %v, want refused with the reason", err)
			}
		}
		if _, err := st.ACPSettings(ctx, sh.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("a refused choice saved settings: %v", err)
		}

		// Shopify's checkout may be chosen under either distribution.
		if cm, err := appStore.SetCompletionMethod(ctx, sh.ID, app.CompletionShopifyCheckout); err != nil || cm.Method != app.CompletionShopifyCheckout {
			t.Fatalf("App Store, shopify_checkout: %+v, %v", cm, err)
		}
		cm, err := custom.SetCompletionMethod(ctx, sh.ID, app.CompletionDelegatedPayment)
		if err != nil || cm.Method != app.CompletionDelegatedPayment || cm.Chosen != app.CompletionDelegatedPayment {
			t.Fatalf("custom, delegated_payment: %+v, %v", cm, err)
		}

		// The stored delegated_payment is effective only under custom
		// distribution, for every reader.
		key, _, err := custom.CreateAPIKey(ctx, sh.ID, "t")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			a    *agents.Access
			want app.CompletionMethod
		}{{custom, app.CompletionDelegatedPayment}, {appStore, app.CompletionShopifyCheckout}, {unset, app.CompletionShopifyCheckout}} {
			if set, err := c.a.Settings(ctx, sh.ID); err != nil || set.CompletionMethod != c.want {
				t.Errorf("%s: Settings method = %+v, %v; want %s", c.a.Distribution, set, err, c.want)
			}
			ag, err := c.a.Authenticate(ctx, sh.Domain, "Bearer "+key)
			if err != nil || ag.Settings.CompletionMethod != c.want {
				t.Errorf("%s: Authenticate settings = %+v, %v; want %s", c.a.Distribution, ag, err, c.want)
			}
			if cm, err := c.a.CompletionMethod(ctx, sh.ID); err != nil || cm.Method != c.want || cm.Chosen != app.CompletionDelegatedPayment {
				t.Errorf("%s: CompletionMethod = %+v, %v", c.a.Distribution, cm, err)
			}
		}

		// Saving other settings under the App Store keeps the stored
		// choice (it is not replaced by the effective method).
		if _, err := appStore.RotateSigningSecret(ctx, sh.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := appStore.RotateWebhookSecret(ctx, sh.ID, "https://agent.example/hook"); err != nil {
			t.Fatal(err)
		}
		if set, err := st.ACPSettings(ctx, sh.ID); err != nil || set.CompletionMethod != app.CompletionDelegatedPayment ||
			set.SigningSecretSealed == "" || set.WebhookURL != "https://agent.example/hook" {
			t.Fatalf("stored after rotating secrets = %+v, %v", set, err)
		}
	})
}

// TestDistributionResolve: settings are resolved in place to the
// effective method; nil stays nil.
func TestDistributionResolve(t *testing.T) {
	if app.DistributionAppStore.Resolve(nil) != nil {
		t.Error("Resolve(nil) != nil")
	}
	for _, c := range []struct {
		d        app.Distribution
		in, want app.CompletionMethod
	}{
		{app.DistributionAppStore, "", app.CompletionShopifyCheckout},
		{app.DistributionAppStore, app.CompletionDelegatedPayment, app.CompletionShopifyCheckout},
		{app.DistributionAppStore, app.CompletionShopifyCheckout, app.CompletionShopifyCheckout},
		{app.DistributionCustom, "", app.CompletionDelegatedPayment},
		{app.DistributionCustom, app.CompletionDelegatedPayment, app.CompletionDelegatedPayment},
		{app.DistributionCustom, app.CompletionShopifyCheckout, app.CompletionShopifyCheckout},
	} {
		s := &app.ACPSettings{CompletionMethod: c.in, WebhookURL: "u"}
		if got := c.d.Resolve(s); got != s || got.CompletionMethod != c.want || got.WebhookURL != "u" {
			t.Errorf("%s.Resolve(%q) = %+v, want %s", c.d, c.in, got, c.want)
		}
	}
}
