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

// TestCachedShopByDomain: CachedShopByDomain answers an active shop from
// memory for AuthCacheTTL. A change made through another Store on the
// same database (another replica) is seen once the entry is AuthCacheTTL
// old, not before; the same change made through this Store is seen at
// once, its tokens as sealed in the row.
func TestCachedShopByDomain(t *testing.T) {
	ctx := context.Background()
	changes := []struct {
		name   string
		change func(t *testing.T, st *store.Store, sh *app.Shop)
		// changed reports whether an answer shows it.
		changed func(sh *app.Shop, err error) bool
	}{
		{"uninstall", func(t *testing.T, st *store.Store, sh *app.Shop) {
			if err := st.UninstallShop(ctx, sh.Domain); err != nil {
				t.Fatal(err)
			}
		}, func(sh *app.Shop, err error) bool {
			return err == nil && sh.Status == app.ShopUninstalled && sh.AccessTokenSealed == ""
		}},
		{"token refresh", func(t *testing.T, st *store.Store, sh *app.Shop) {
			if err := st.UpdateShopTokens(ctx, sh.ID, app.SealedTokens{Access: "sealed-2", Refresh: "sealed-r2"}); err != nil {
				t.Fatal(err)
			}
		}, func(sh *app.Shop, err error) bool { return err == nil && sh.AccessTokenSealed == "sealed-2" }},
		{"re-authorisation", func(t *testing.T, st *store.Store, sh *app.Shop) {
			if err := st.MarkShopReauth(ctx, sh.ID, "refused"); err != nil {
				t.Fatal(err)
			}
		}, func(sh *app.Shop, err error) bool { return err == nil && sh.Status == app.ShopReauthRequired }},
		{"details", func(t *testing.T, st *store.Store, sh *app.Shop) {
			if err := st.UpdateShopDetails(ctx, sh.ID, app.ShopDetails{Name: "Renamed", CurrencyCode: "EUR"}); err != nil {
				t.Fatal(err)
			}
		}, func(sh *app.Shop, err error) bool { return err == nil && sh.CurrencyCode == "EUR" }},
	}
	for _, kind := range storetest.Kinds {
		for _, tc := range changes {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				cfg := storetest.Config(t, kind, true)
				here, there := openStore(t, cfg), openStore(t, cfg)
				now := time.Now().UTC()
				here.Now = func() time.Time { return now }
				for _, local := range []bool{false, true} {
					domain := map[bool]string{false: "a", true: "b"}[local] + ".myshopify.com"
					sh, err := here.SaveShopInstall(ctx, app.Shop{Domain: domain, AccessTokenSealed: "sealed-1", RefreshTokenSealed: "sealed-r1"})
					if err != nil {
						t.Fatal(err)
					}
					read := func() (*app.Shop, error) {
						got, err := here.CachedShopByDomain(ctx, domain)
						if err == nil && (got.ID != sh.ID || got.Domain != domain) {
							t.Fatalf("shop %d (%s) answered with shop %d (%s)", sh.ID, domain, got.ID, got.Domain)
						}
						return got, err
					}
					if got, err := read(); err != nil || tc.changed(got, err) || got.AccessTokenSealed != "sealed-1" {
						t.Fatalf("before the change: %+v %v", got, err)
					}
					cachedAt := now
					if local {
						tc.change(t, here, sh)
						if got, err := read(); !tc.changed(got, err) {
							t.Errorf("a change made by this store is not seen at once: %+v %v", got, err)
						}
						continue
					}
					tc.change(t, there, sh)
					now = cachedAt.Add(store.AuthCacheTTL - time.Millisecond)
					if got, err := read(); tc.changed(got, err) {
						t.Errorf("another replica's change seen before the TTL: the row was not cached")
					}
					now = cachedAt.Add(store.AuthCacheTTL)
					if got, err := read(); !tc.changed(got, err) {
						t.Errorf("another replica's change not seen after the TTL: %+v %v", got, err)
					}
				}
			})
		}
	}
}

// TestCachedShopByDomainKeepsOnlyActive: a shop that is not active, or
// unknown, is read each time, so another replica's install or reinstall
// is seen at once; what is answered is the caller's to change; a read in
// a transaction sees the transaction's writes and is not kept (a rolled
// back change is never answered); the store that deletes a shop's row
// (shop/redact) forgets it at once.
func TestCachedShopByDomainKeepsOnlyActive(t *testing.T) {
	ctx := context.Background()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			cfg := storetest.Config(t, kind, true)
			here, there := openStore(t, cfg), openStore(t, cfg)
			now := time.Now().UTC()
			here.Now = func() time.Time { return now }
			const domain = "c.myshopify.com"
			read := func() (*app.Shop, error) { return here.CachedShopByDomain(ctx, domain) }

			if _, err := read(); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("unknown shop: %v", err)
			}
			if _, err := there.SaveShopInstall(ctx, app.Shop{Domain: domain, AccessTokenSealed: "sealed-1"}); err != nil {
				t.Fatal(err)
			}
			if got, err := read(); err != nil || got.Status != app.ShopActive {
				t.Fatalf("installed by another replica after a not-found: %+v %v, want it at once", got, err)
			}

			// Uninstalled here, reinstalled there: seen at once.
			if err := here.UninstallShop(ctx, domain); err != nil {
				t.Fatal(err)
			}
			if got, err := read(); err != nil || got.Status != app.ShopUninstalled {
				t.Fatalf("after the uninstall: %+v %v", got, err)
			}
			if _, err := there.SaveShopInstall(ctx, app.Shop{Domain: domain, AccessTokenSealed: "sealed-2"}); err != nil {
				t.Fatal(err)
			}
			got, err := read()
			if err != nil || got.Status != app.ShopActive || got.AccessTokenSealed != "sealed-2" {
				t.Fatalf("reinstalled by another replica: %+v %v, want it at once", got, err)
			}
			got.Status, got.AccessTokenSealed = app.ShopUninstalled, "changed by the caller"
			if again, err := read(); err != nil || again.Status != app.ShopActive || again.AccessTokenSealed != "sealed-2" {
				t.Fatalf("the answer changed by the caller of the one before: %+v %v", again, err)
			}

			// A transaction's own write, rolled back, is never answered.
			now = now.Add(store.AuthCacheTTL)
			rollback := errors.New("rollback")
			err = here.InTx(ctx, func(ctx context.Context) error {
				if err := here.UpdateShopDetails(ctx, got.ID, app.ShopDetails{CurrencyCode: "EUR"}); err != nil {
					return err
				}
				if got, err := here.CachedShopByDomain(ctx, domain); err != nil || got.CurrencyCode != "EUR" {
					t.Errorf("in the transaction: %+v %v, want its own write", got, err)
				}
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatal(err)
			}
			if got, err := read(); err != nil || got.CurrencyCode == "EUR" {
				t.Fatalf("after the rollback: %+v %v, want the committed row", got, err)
			}

			// Uninstalled there (not seen here yet), its data deleted here:
			// forgotten at once.
			if err := there.UninstallShop(ctx, domain); err != nil {
				t.Fatal(err)
			}
			if got, err := read(); err != nil || got.Status != app.ShopActive {
				t.Fatalf("within the TTL of another replica's uninstall: %+v %v, want the remembered row", got, err)
			}
			if n, err := here.DeleteShopData(ctx, domain, time.Now().Add(time.Hour), ""); err != nil || n["shops"] != 1 {
				t.Fatalf("DeleteShopData = %v %v", n, err)
			}
			if got, err := read(); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("after this store deleted the shop's data: %+v %v, want not found", got, err)
			}
		})
	}
}
