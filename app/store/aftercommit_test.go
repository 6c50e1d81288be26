package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestAfterCommit: a callback registered in a transaction runs once it has
// committed (and sees the committed rows), never after a rollback, and at
// once when no transaction is in the context; nested transactions hand
// theirs to the outer one.
func TestAfterCommit(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var ran []string
		// seen records whether the shop written in the transaction is
		// visible outside it when the callback runs.
		seen := func(name, domain string) func(ctx context.Context) {
			return func(ctx context.Context) {
				if _, ok := store.SQLTx(ctx); ok {
					t.Errorf("%s: the callback's context still carries the transaction", name)
				}
				if _, err := st.ShopByDomain(ctx, domain); err != nil {
					t.Errorf("%s: the committed shop is not visible: %v", name, err)
				}
				ran = append(ran, name)
			}
		}

		// Committed: the callbacks run after COMMIT, in order, not before.
		err := st.InTx(ctx, func(ctx context.Context) error {
			if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "commit.myshopify.com"}); err != nil {
				return err
			}
			st.AfterCommit(ctx, seen("first", "commit.myshopify.com"))
			// A nested InTx joins the outer transaction, and so do its callbacks.
			if err := st.InTx(ctx, func(ctx context.Context) error {
				st.AfterCommit(ctx, seen("nested", "commit.myshopify.com"))
				return nil
			}); err != nil {
				return err
			}
			if len(ran) != 0 {
				t.Errorf("callbacks ran before the commit: %v", ran)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"first", "nested"}; !slices.Equal(ran, want) {
			t.Fatalf("after commit ran %v, want %v", ran, want)
		}

		// Rolled back (fn's error): nothing runs, and the error is fn's.
		ran = nil
		boom := errors.New("boom")
		err = st.InTx(ctx, func(ctx context.Context) error {
			if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "rollback.myshopify.com"}); err != nil {
				return err
			}
			st.AfterCommit(ctx, func(context.Context) { ran = append(ran, "rolled back") })
			return boom
		})
		if !errors.Is(err, boom) || len(ran) != 0 {
			t.Fatalf("after a rollback: err %v, ran %v", err, ran)
		}
		if _, err := st.ShopByDomain(ctx, "rollback.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("rolled back shop: %v", err)
		}

		// No transaction: the callback runs at once.
		st.AfterCommit(ctx, func(context.Context) { ran = append(ran, "at once") })
		if want := []string{"at once"}; !slices.Equal(ran, want) {
			t.Fatalf("outside a transaction ran %v, want %v", ran, want)
		}
	})
}
