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

func TestCarts(t *testing.T) {
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
		c := &checkout.Cart{ID: "cart_abc", ShopID: a.ID, APIKeyID: 7, Currency: "USD",
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
			State: checkout.CartState{
				Items:   []checkout.CartItem{{ItemID: "42", Quantity: 2}},
				Buyer:   &acp.Buyer{Email: "ada@example.com"},
				Quote:   checkout.Quote{Lines: []checkout.QuotedLine{{ItemID: "42", VariantID: 42, Quantity: 2, UnitAmount: 1999}}},
				Handoff: &checkout.Handoff{DraftID: "gid://shopify/DraftOrder/1", InvoiceURL: "https://a.example/invoice", Key: "k"},
			}}
		if err := st.CreateCart(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := st.Cart(ctx, a.ID, "cart_abc")
		if err != nil {
			t.Fatal(err)
		}
		if got.RowVersion != 1 || got.APIKeyID != 7 || got.State.Buyer.Email != "ada@example.com" || got.State.Handoff.DraftID != c.State.Handoff.DraftID ||
			got.State.Quote.Lines[0].UnitAmount != 1999 || !got.ExpiresAt.Equal(c.ExpiresAt) {
			t.Errorf("read back %+v", got)
		}
		if _, err := st.Cart(ctx, b.ID, "cart_abc"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("other shop: %v, want not found", err)
		}

		// Overdue once its expiry has come, not before.
		if refs, err := st.OverdueCarts(ctx, c.ExpiresAt.Add(-time.Second), 10); err != nil || len(refs) != 0 {
			t.Errorf("OverdueCarts before expiry = %v, %v", refs, err)
		}
		if refs, err := st.OverdueCarts(ctx, c.ExpiresAt, 10); err != nil || len(refs) != 1 || refs[0] != (checkout.SessionRef{ShopID: a.ID, ID: "cart_abc"}) {
			t.Errorf("OverdueCarts at expiry = %v, %v", refs, err)
		}

		// Held by the customer's data and redacted with it.
		held, err := st.CustomerData(ctx, "a.myshopify.com", app.CustomerRef{Email: "ada@example.com"})
		if err != nil || held["carts"] != 1 {
			t.Fatalf("CustomerData = %v, %v; want 1 cart", held, err)
		}

		// Optimistic concurrency, for saves and deletes.
		first, second := *got, *got
		first.State.Items = []checkout.CartItem{{ItemID: "43", Quantity: 1}}
		if err := st.SaveCart(ctx, &first); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCart(ctx, &second); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("stale save: %v, want conflict", err)
		}
		if err := st.DeleteCart(ctx, &second); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("stale delete: %v, want conflict", err)
		}
		other := first
		other.ShopID = b.ID
		if err := st.DeleteCart(ctx, &other); !errors.Is(err, app.ErrConflict) {
			t.Errorf("cross-shop delete: %v", err)
		}
		if red, err := st.RedactCustomer(ctx, "a.myshopify.com", app.CustomerRef{Email: "ada@example.com"}); err != nil || red["carts"] != 1 {
			t.Fatalf("RedactCustomer = %v, %v", red, err)
		}
		fresh, err := st.Cart(ctx, a.ID, "cart_abc")
		if err != nil {
			t.Fatal(err)
		}
		if fresh.State.Buyer != nil || fresh.State.Items[0].ItemID != "43" || fresh.RowVersion != 2 {
			t.Errorf("after redaction: %+v", fresh)
		}
		if err := st.DeleteCart(ctx, fresh); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Cart(ctx, a.ID, "cart_abc"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("deleted cart: %v", err)
		}
		if err := st.SaveCart(ctx, fresh); !errors.Is(err, app.ErrConflict) {
			t.Errorf("save of a deleted cart: %v, want conflict", err)
		}
	})
}
