package checkout

import (
	"context"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// changingItems is an ItemSource whose answer the test changes, as a
// merchant's change of feed settings or rules changes what the feeds
// capability maps (it reads them afresh on every call: no memory).
type changingItems struct {
	sellable bool
	calls    int
	shops    []*app.Shop
}

func (c *changingItems) CheckoutItems(_ context.Context, sh *app.Shop, ids []int64) (map[int64]app.CheckoutItem, error) {
	c.calls++
	c.shops = append(c.shops, sh)
	out := map[int64]app.CheckoutItem{}
	for _, id := range ids {
		out[id] = app.CheckoutItem{Sellable: c.sellable, Variant: app.CatalogVariant{VariantID: id}}
	}
	return out, nil
}

// TestCheckoutItemsBound: a cart's items are read once per itemsTTL (5 s)
// per shop and cart, with the request's shop, so that a merchant's change
// of feed settings or rules reaches quotes at most itemsTTL after it is
// committed (on every replica: nothing below pricing remembers them).
func TestCheckoutItemsBound(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	src := &changingItems{sellable: true}
	p := &Pricing{Feeds: src, Now: func() time.Time { return now }}
	sh := &app.Shop{ID: 1, Domain: "s.myshopify.com"}
	ctx := context.Background()
	read := func() bool {
		t.Helper()
		items, err := p.checkoutItems(ctx, sh, []int64{7, 5})
		if err != nil {
			t.Fatal(err)
		}
		return items[7].Sellable
	}
	if !read() || src.calls != 1 || src.shops[0] != sh {
		t.Fatalf("first read: calls %d, shops %v", src.calls, src.shops)
	}
	src.sellable = false // the merchant turns checkout off
	now = now.Add(itemsTTL - time.Millisecond)
	if !read() || src.calls != 1 {
		t.Fatalf("within itemsTTL: calls %d, want the remembered answer", src.calls)
	}
	// The same cart in another order is the same entry.
	if _, err := p.checkoutItems(ctx, sh, []int64{5, 7}); err != nil || src.calls != 1 {
		t.Fatalf("same cart reordered: calls %d, %v", src.calls, err)
	}
	now = now.Add(time.Millisecond)
	if read() || src.calls != 2 {
		t.Fatalf("at itemsTTL: calls %d, the change must be seen", src.calls)
	}
	// Another shop's cart of the same ids is its own.
	other := &app.Shop{ID: 2, Domain: "o.myshopify.com"}
	if _, err := p.checkoutItems(ctx, other, []int64{7, 5}); err != nil || src.calls != 3 || src.shops[2] != other {
		t.Fatalf("another shop: calls %d, %v", src.calls, err)
	}
}
