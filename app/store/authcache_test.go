package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestAuthCacheStaleness: APIKeyByHash answers from memory for
// AuthCacheTTL. A change made through another Store on the same database
// (another replica) is seen once the entry is AuthCacheTTL old, not
// before; the same change made through this Store is seen at once.
func TestAuthCacheStaleness(t *testing.T) {
	ctx := context.Background()
	savePay := func(t *testing.T, st *store.Store, shopID int64, sealed string) {
		t.Helper()
		err := st.SavePaymentCredentials(ctx, app.PaymentCredentials{ShopID: shopID, Provider: "stripe",
			AccountID: "acct_1", Sealed: sealed, UpdatedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
	}
	sealedIs := func(want string) func(error, *app.ACPSettings) bool {
		return func(err error, set *app.ACPSettings) bool {
			return err == nil && set != nil && set.Payment != nil && set.Payment.Sealed == want
		}
	}
	changes := []struct {
		name string
		// setup, when set, runs through this store before the first read.
		setup func(t *testing.T, st *store.Store, sh *app.Shop)
		// change makes it through st.
		change func(t *testing.T, st *store.Store, sh *app.Shop, k *app.APIKey)
		// changed reports whether an answer shows it.
		changed func(err error, set *app.ACPSettings) bool
	}{
		{"revoke", nil, func(t *testing.T, st *store.Store, sh *app.Shop, k *app.APIKey) {
			if err := st.RevokeAPIKey(ctx, sh.ID, k.ID); err != nil {
				t.Fatal(err)
			}
		}, func(err error, _ *app.ACPSettings) bool { return errors.Is(err, app.ErrNotFound) }},
		{"uninstall", nil, func(t *testing.T, st *store.Store, sh *app.Shop, _ *app.APIKey) {
			if err := st.UninstallShop(ctx, sh.Domain); err != nil {
				t.Fatal(err)
			}
		}, func(err error, _ *app.ACPSettings) bool { return errors.Is(err, app.ErrNotFound) }},
		{"settings", nil, func(t *testing.T, st *store.Store, sh *app.Shop, _ *app.APIKey) {
			if err := st.SaveACPSettings(ctx, app.ACPSettings{ShopID: sh.ID, RequireSignature: true}); err != nil {
				t.Fatal(err)
			}
		}, func(err error, set *app.ACPSettings) bool { return err == nil && set != nil && set.RequireSignature }},
		// The sealed credentials come with the settings (for a complete
		// request's payment), and go with the same writes.
		{"payment credentials", nil, func(t *testing.T, st *store.Store, sh *app.Shop, _ *app.APIKey) {
			savePay(t, st, sh.ID, "sealed-2")
		}, sealedIs("sealed-2")},
		{"reseal", func(t *testing.T, st *store.Store, sh *app.Shop) { savePay(t, st, sh.ID, "sealed-1") },
			func(t *testing.T, st *store.Store, sh *app.Shop, _ *app.APIKey) {
				if err := st.UpdatePaymentCredentialsSealed(ctx, sh.ID, "stripe", "sealed-2"); err != nil {
					t.Fatal(err)
				}
			}, sealedIs("sealed-2")},
	}
	for _, kind := range storetest.Kinds {
		for _, tc := range changes {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				cfg := storetest.Config(t, kind, true)
				here, there := openStore(t, cfg), openStore(t, cfg)
				t0 := time.Now().UTC()
				now := t0
				here.Now = func() time.Time { return now }

				for _, local := range []bool{false, true} {
					sh, err := here.SaveShopInstall(ctx, app.Shop{Domain: map[bool]string{false: "a", true: "b"}[local] + ".myshopify.com"})
					if err != nil {
						t.Fatal(err)
					}
					hash := sh.Domain + "-key"
					k, err := here.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: hash, Fingerprint: "f", CreatedAt: now})
					if err != nil {
						t.Fatal(err)
					}
					if tc.setup != nil {
						tc.setup(t, here, sh)
					}
					read := func() (*app.ACPSettings, error) {
						_, gs, set, _, err := here.APIKeyByHash(ctx, hash)
						if err == nil && gs.ID != sh.ID {
							t.Fatalf("key of shop %d answered with shop %d", sh.ID, gs.ID)
						}
						return set, err
					}
					if set, err := read(); err != nil || tc.changed(err, set) {
						t.Fatalf("before the change: %v %+v", err, set)
					}
					cachedAt := now
					if local {
						tc.change(t, here, sh, k)
						if set, err := read(); !tc.changed(err, set) {
							t.Errorf("a change made by this store is not seen at once: %v %+v", err, set)
						}
						continue
					}
					tc.change(t, there, sh, k)
					now = cachedAt.Add(store.AuthCacheTTL - time.Millisecond)
					if set, err := read(); tc.changed(err, set) {
						t.Errorf("another replica's change seen before the TTL: the answer was not cached")
					}
					now = cachedAt.Add(store.AuthCacheTTL)
					if set, err := read(); !tc.changed(err, set) {
						t.Errorf("another replica's change not seen after the TTL: %v %+v", err, set)
					}
				}
			})
		}
	}
}

// TestAuthCacheCopies: what APIKeyByHash answers from memory is the
// caller's to change; the next answer is the row as read.
func TestAuthCacheCopies(t *testing.T) {
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		if err := st.SaveACPSettings(ctx, app.ACPSettings{ShopID: sh.ID, CompletionMethod: app.CompletionDelegatedPayment}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: "h1", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			_, gs, set, pol, err := st.APIKeyByHash(ctx, "h1")
			if err != nil {
				t.Fatal(err)
			}
			if gs.Domain != sh.Domain || set.CompletionMethod != app.CompletionDelegatedPayment || pol.Saved {
				t.Fatalf("answer %d changed by the caller of the one before: %+v %+v %+v", i, gs, set, pol)
			}
			gs.Domain, set.CompletionMethod, pol.Saved = "x", app.CompletionShopifyCheckout, true
		}
	})
}

func openStore(t *testing.T, cfg app.DatabaseConfig) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
