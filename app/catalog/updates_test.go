package catalog_test

import (
	"context"
	"errors"
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
	enqueued             []app.RefreshStockArgs
	requested            []int64 // the items whose stock requests were recorded
}

func (f *inventoryFake) RequestStock(_ context.Context, _, itemID, productID int64) error {
	if productID != 7 {
		return errors.New("wrong product")
	}
	f.requested = append(f.requested, itemID)
	return nil
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
	f.enqueued = append(f.enqueued, args.(app.RefreshStockArgs))
	return nil
}

// TestInventoryChangedCoalesces: within a coalescing window, a stock
// request this process has recorded is not recorded again, and the shop's
// stock refresh it has enqueued is not enqueued again (River would refuse
// it): another item of the same window is recorded and joins the shop's
// job; a new window records and enqueues again, as does an item whose
// recording rolled back. The shop the webhook request put in the context
// is not read again.
func TestInventoryChangedCoalesces(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 10, 0, 1, 0, time.UTC)
	f := &inventoryFake{}
	c := catalog.New(f, nil, nil, f, catalog.Options{RebuildDelay: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	steps := []struct {
		name              string
		item              int64
		advance           time.Duration
		rollback          bool
		records, enqueues bool
	}{
		{"first", 500, 0, false, true, true},
		{"same item, same window", 500, time.Second, false, false, false},
		{"another item, same window", 501, 0, false, true, false},
		{"next window", 500, 5 * time.Second, false, true, true},
		{"rolled back", 502, 0, true, true, false},
		{"after the rollback", 502, 0, false, true, false},
		{"then remembered", 502, 0, false, false, false},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		f.rollback = s.rollback
		enqueued, requested := len(f.enqueued), len(f.requested)
		if err := c.InventoryChanged(ctx, "a.myshopify.com", s.item); err != nil {
			t.Fatal(err)
		}
		if got := len(f.requested) > requested; got != s.records {
			t.Errorf("%s: recorded %v, want %v", s.name, got, s.records)
		}
		if got := len(f.enqueued) > enqueued; got != s.enqueues {
			t.Errorf("%s: enqueued %v, want %v", s.name, got, s.enqueues)
		}
		for _, a := range f.enqueued[enqueued:] {
			if a.Shop != "a.myshopify.com" || a.Window == 0 {
				t.Errorf("%s: enqueued %+v", s.name, a)
			}
		}
	}
	reads := f.reads
	sh := &app.Shop{ID: 1, Domain: "a.myshopify.com", Status: app.ShopActive}
	if err := c.InventoryChanged(app.WithShop(ctx, sh), "a.myshopify.com", 503); err != nil || f.reads != reads {
		t.Errorf("with the shop in the context: %v, %d reads of it", err, f.reads-reads)
	}
}
