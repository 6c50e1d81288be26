package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// itemFake is the store and queue of inventory webhooks: items maps each
// inventory item the catalog holds to its product.
type itemFake struct {
	catalog.CatalogStore // only the methods below are called
	items                map[int64]int64
	lookups              int
	refreshed            []int64 // the product of every stock request recorded
}

func (f *itemFake) RequestStock(_ context.Context, _, _, productID int64) error {
	f.refreshed = append(f.refreshed, productID)
	return nil
}

func (f *itemFake) CachedShopByDomain(_ context.Context, domain string) (*app.Shop, error) {
	return &app.Shop{ID: 1, Domain: domain, Status: app.ShopActive}, nil
}

func (f *itemFake) ProductOfInventoryItem(_ context.Context, _, item int64) (int64, error) {
	f.lookups++
	if p, ok := f.items[item]; ok {
		return p, nil
	}
	return 0, app.ErrNotFound
}

func (f *itemFake) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

func (f *itemFake) AfterCommit(ctx context.Context, fn func(ctx context.Context)) { fn(ctx) }

func (f *itemFake) DeleteProduct(_ context.Context, _, product int64) error {
	for item, p := range f.items {
		if p == product {
			delete(f.items, item)
		}
	}
	return nil
}

func (f *itemFake) EnqueueTx(context.Context, river.JobArgs, *river.InsertOpts) error { return nil }

// TestInventoryItemMemory: which product holds an inventory item is
// looked up once and remembered for ItemMemory; an item the catalog does
// not hold is looked up every time (and refreshes nothing), so it is found
// as soon as a sync writes it; a product this process deletes has its
// items looked up again, and an item of it now found nowhere refreshes
// nothing, as before it was remembered.
func TestInventoryItemMemory(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	f := &itemFake{items: map[int64]int64{500: 7, 501: 9}}
	c := catalog.New(f, nil, nil, f, catalog.Options{RebuildDelay: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	const shop = "a.myshopify.com"
	steps := []struct {
		name    string
		before  func()
		item    int64
		advance time.Duration
		lookup  bool
		refresh int64 // the product refreshed, 0 for none
	}{
		{"first", nil, 500, 0, true, 7},
		{"again", nil, 500, 0, false, 7},
		{"unknown", nil, 900, 0, true, 0},
		{"unknown again", nil, 900, 0, true, 0},
		{"written by a sync", func() { f.items[900] = 8 }, 900, 0, true, 8},
		{"then remembered", nil, 900, 0, false, 8},
		{"product deleted", func() {
			if err := c.ProductDeleted(ctx, shop, 7); err != nil {
				t.Fatal(err)
			}
		}, 500, 0, true, 0},
		{"another product", nil, 501, 0, true, 9},
		{"remembered until ItemMemory", nil, 501, catalog.ItemMemory - 7*time.Second, false, 9},
		{"after ItemMemory", nil, 501, 0, true, 9},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		// Each step in a new coalescing window: every request is recorded.
		now = now.Add(6*time.Second + s.advance)
		lookups, refreshed := f.lookups, len(f.refreshed)
		if err := c.InventoryChanged(ctx, shop, s.item); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if looked := f.lookups > lookups; looked != s.lookup {
			t.Errorf("%s: looked up %v, want %v", s.name, looked, s.lookup)
		}
		var got int64
		if len(f.refreshed) > refreshed {
			got = f.refreshed[len(f.refreshed)-1]
		}
		if got != s.refresh {
			t.Errorf("%s: refreshed product %d, want %d", s.name, got, s.refresh)
		}
	}
}
