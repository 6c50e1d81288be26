package catalog

import (
	"context"
	"sync"
	"time"
)

// ItemMemory is how long this process answers which product holds an
// inventory item from memory (inventory_levels/update names only the
// item, and every order sends one per line). A variant's inventory item
// and its product never change; what can is that the variant leaves the
// catalog. This process forgets the product's items when it deletes or
// replaces the product, and the shop's when a sync prunes; a variant
// removed by another replica is still answered for up to ItemMemory,
// and a delivery for its item then enqueues a stock refresh, which
// re-reads the product from Shopify and leaves the catalog as it was.
// An item no variant holds is not remembered: it is looked up each time,
// so the next sync's rows are found at once.
const ItemMemory = 10 * time.Minute

// maxItems bounds the items remembered; past it the expired ones go, or
// all of them.
const maxItems = 50000

type itemKey struct{ shopID, itemID int64 }

type itemEntry struct {
	productID int64
	at        time.Time
}

// itemProducts is the Syncer's memory of ProductOfInventoryItem answers.
type itemProducts struct {
	mu sync.Mutex
	// gen counts the forgets: a look-up that began before one is not kept.
	gen uint64
	m   map[itemKey]itemEntry
}

// get returns the product of the item when remembered at now, and the
// generation a look-up that misses must hand to put.
func (p *itemProducts) get(shopID, itemID int64, now time.Time) (productID int64, gen uint64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, found := p.m[itemKey{shopID, itemID}]
	if !found || now.Sub(e.at) >= ItemMemory || now.Before(e.at) {
		return 0, p.gen, false
	}
	return e.productID, p.gen, true
}

// put remembers a look-up that began at generation gen, unless a forget
// came since (it may have read the rows the forget was for).
func (p *itemProducts) put(shopID, itemID, productID int64, gen uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return
	}
	if p.m == nil {
		p.m = map[itemKey]itemEntry{}
	}
	if len(p.m) >= maxItems {
		for k, e := range p.m {
			if now.Sub(e.at) >= ItemMemory {
				delete(p.m, k)
			}
		}
		if len(p.m) >= maxItems {
			clear(p.m)
		}
	}
	p.m[itemKey{shopID, itemID}] = itemEntry{productID: productID, at: now}
}

// forget drops the shop's items of the product (all its items when
// productID is 0).
func (p *itemProducts) forget(shopID, productID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	for k, e := range p.m {
		if k.shopID == shopID && (productID == 0 || e.productID == productID) {
			delete(p.m, k)
		}
	}
}

// productOfItem is Store.ProductOfInventoryItem, remembered (ItemMemory).
func (c *Syncer) productOfItem(ctx context.Context, shopID, itemID int64) (int64, error) {
	now := c.Now()
	id, gen, ok := c.items.get(shopID, itemID, now)
	if ok {
		return id, nil
	}
	id, err := c.Store.ProductOfInventoryItem(ctx, shopID, itemID)
	if err != nil {
		return 0, err
	}
	c.items.put(shopID, itemID, id, gen, now)
	return id, nil
}

// forgetItems drops the remembered items of the shop's product (all the
// shop's when productID is 0), at once and again once the transaction in
// ctx commits: a look-up between the two may have read the rows as they
// were.
func (c *Syncer) forgetItems(ctx context.Context, shopID, productID int64) {
	c.items.forget(shopID, productID)
	c.Store.AfterCommit(ctx, func(context.Context) { c.items.forget(shopID, productID) })
}
