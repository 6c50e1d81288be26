package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// inventoryFake is the store and queue InventoryChanged uses: every
// inventory item is product 7's; AfterCommit runs fn at once unless the
// test rolls the transaction back (rollback set).
type inventoryFake struct {
	catalog.CatalogStore // only the methods below are called
	reads                int
	rollback             bool
	enqueued             []app.RefreshProductArgs
}

func (f *inventoryFake) ShopByDomain(_ context.Context, domain string) (*app.Shop, error) {
	f.reads++
	return &app.Shop{ID: 1, Domain: domain, Status: app.ShopActive}, nil
}

func (f *inventoryFake) CachedShopByDomain(ctx context.Context, domain string) (*app.Shop, error) {
	return f.ShopByDomain(ctx, domain)
}

func (f *inventoryFake) ProductOfInventoryItem(context.Context, int64, int64) (int64, error) {
	return 7, nil
}

func (f *inventoryFake) AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if !f.rollback {
		fn(ctx)
	}
}

func (f *inventoryFake) EnqueueTx(_ context.Context, args river.JobArgs, _ *river.InsertOpts) error {
	f.enqueued = append(f.enqueued, args.(app.RefreshProductArgs))
	return nil
}

// TestInventoryChangedCoalesces: within a coalescing window, a stock
// refresh already enqueued by this process is not enqueued again (River
// would refuse it); a new window, another item, or an enqueue whose
// transaction rolled back enqueue again. The shop the webhook request put
// in the context is not read again.
func TestInventoryChangedCoalesces(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 1, 0, time.UTC)
	f := &inventoryFake{}
	c := catalog.New(f, nil, nil, f, catalog.Options{RebuildDelay: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	steps := []struct {
		name     string
		item     int64
		advance  time.Duration
		rollback bool
		enqueues bool
	}{
		{"first", 500, 0, false, true},
		{"same item, same window", 500, time.Second, false, false},
		{"another item", 501, 0, false, true},
		{"next window", 500, 5 * time.Second, false, true},
		{"rolled back", 502, 0, true, true},
		{"after the rollback", 502, 0, false, true},
		{"then remembered", 502, 0, false, false},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		f.rollback = s.rollback
		before := len(f.enqueued)
		if err := c.InventoryChanged(ctx, "a.myshopify.com", s.item); err != nil {
			t.Fatal(err)
		}
		if got := len(f.enqueued) > before; got != s.enqueues {
			t.Errorf("%s: enqueued %v, want %v", s.name, got, s.enqueues)
		}
	}
	reads := f.reads
	sh := &app.Shop{ID: 1, Domain: "a.myshopify.com", Status: app.ShopActive}
	if err := c.InventoryChanged(app.WithShop(ctx, sh), "a.myshopify.com", 503); err != nil || f.reads != reads {
		t.Errorf("with the shop in the context: %v, %d reads of it", err, f.reads-reads)
	}
}
