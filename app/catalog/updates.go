package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// productQuery fetches one product with the same fields as the bulk
// export, its variants a page at a time: Shopify caps a query at 1,000 cost
// points, and a product may have 2,048 variants.
const productQuery = `query CatalogProduct($id: ID!, $after: String) { product(id: $id) {
  id handle title descriptionHtml vendor productType status onlineStoreUrl updatedAt tags
  category { fullName }
  media(first: 20) { nodes { ... on MediaImage { id image { url altText width height } } } }
  collections(first: 20) { nodes { id title } }
  variants(first: 100, after: $after) {
    nodes {
      id title sku barcode price compareAtPrice availableForSale inventoryQuantity inventoryPolicy taxable
      selectedOptions { name value }
      media(first: 1) { nodes { ... on MediaImage { image { url } } } }
      inventoryItem { id tracked requiresShipping measurement { weight { unit value } } }
    }
    pageInfo { hasNextPage endCursor }
  }
} }`

// RefreshProduct re-reads one product from Shopify (after a products/* or
// inventory webhook) rather than trusting the payload, whose order Shopify
// does not guarantee, and replaces our copy; then a rebuild is scheduled.
func (c *Syncer) RefreshProduct(ctx context.Context, shopDomain string, productID int64) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil || sh.Status != app.ShopActive {
		return err
	}
	gid := "gid://shopify/Product/" + strconv.FormatInt(productID, 10)
	var product *productNode
	vars := map[string]any{"id": gid, "after": nil}
	for {
		var resp struct {
			Product *productNode `json:"product"`
		}
		if err := c.Shopify.Query(ctx, sh.Domain, productQuery, vars, &resp); err != nil {
			switch {
			case errors.Is(err, app.ErrShopInactive) || errors.Is(err, app.ErrReauthRequired):
				return nil
			case !shopify.IsRetryable(err):
				// The query itself is wrong: retrying cannot help.
				return river.JobCancel(fmt.Errorf("refresh product %d: %w", productID, err))
			}
			return err
		}
		if resp.Product == nil {
			break
		}
		if product == nil {
			product = resp.Product
		} else {
			product.Variants.Nodes = append(product.Variants.Nodes, resp.Product.Variants.Nodes...)
		}
		pi := resp.Product.Variants.PageInfo
		if !pi.HasNextPage || pi.EndCursor == "" {
			break
		}
		vars["after"] = pi.EndCursor
	}
	gen := int64(0)
	if last, err := c.Store.LatestSync(ctx, sh.ID); err == nil {
		gen = last.Generation // newest, so an in-flight sync's prune keeps it
	}
	return c.Store.InTx(ctx, func(ctx context.Context) error {
		c.forgetItems(ctx, sh.ID, productID) // its variants may be gone
		if product == nil {
			if err := c.Store.DeleteProduct(ctx, sh.ID, productID); err != nil {
				return err
			}
		} else {
			batch, err := product.batch(sh.CurrencyCode)
			if err != nil {
				return err
			}
			if err := c.Store.ReplaceProduct(ctx, sh.ID, gen, batch); err != nil {
				return err
			}
		}
		return c.scheduleBuild(ctx, sh.ID, c.RebuildDelay)
	})
}

// shop is the shop row the caller put in ctx (the webhook request that
// has just read it: app.WithShop), or else the one read now, up to a few
// seconds old (CachedShopByDomain): a refresh that sees the shop as it
// was a moment ago is one that ran a moment earlier, and a token the shop
// no longer holds is refused by Shopify, after which Query reads the row
// again.
func (c *Syncer) shop(ctx context.Context, domain string) (*app.Shop, error) {
	if sh := app.ShopFromContext(ctx, domain); sh != nil {
		return sh, nil
	}
	return c.Store.CachedShopByDomain(ctx, domain)
}

// ProductDeleted handles products/delete.
func (c *Syncer) ProductDeleted(ctx context.Context, shopDomain string, productID int64) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(ctx context.Context) error {
		c.forgetItems(ctx, sh.ID, productID)
		if err := c.Store.DeleteProduct(ctx, sh.ID, productID); err != nil {
			return err
		}
		return c.scheduleBuild(ctx, sh.ID, c.RebuildDelay)
	})
}

// ProductChanged handles products/create and products/update: a refresh is
// enqueued, coalescing bursts of updates to one product.
func (c *Syncer) ProductChanged(ctx context.Context, shopDomain string, productID int64) error {
	// A refresh reads the product as it is when it runs, so requests
	// within a few seconds collapse into one (the window is in the args).
	window, at := c.window(min(c.RebuildDelay, 5*time.Second))
	return c.Queue.EnqueueTx(ctx, app.RefreshProductArgs{Shop: shopDomain, ProductID: productID, Window: window}, &river.InsertOpts{
		ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
}

// InventoryChanged handles inventory_levels/update: the stock of the
// variant holding the inventory item is refreshed (RefreshStock), not its
// whole product. Every order, ours included, sends one per line, and a
// product refresh costs more Shopify points than the order did.
func (c *Syncer) InventoryChanged(ctx context.Context, shopDomain string, inventoryItemID int64) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil {
		return err
	}
	productID, err := c.productOfItem(ctx, sh.ID, inventoryItemID)
	if errors.Is(err, app.ErrNotFound) {
		return nil // an item of no variant we hold (e.g. not synced yet: the next sync has it)
	}
	if err != nil {
		return err
	}
	window, at := c.window(min(c.RebuildDelay, 5*time.Second))
	args := app.RefreshProductArgs{Shop: shopDomain, ProductID: productID, InventoryItemID: inventoryItemID, Window: window}
	// Every order sends one of these per line: within a window, the
	// insert River would refuse as a duplicate is not even tried.
	if c.refreshes.has(args, c.Now()) {
		return nil
	}
	if err := c.Queue.EnqueueTx(ctx, args, &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	c.Store.AfterCommit(ctx, func(context.Context) { c.refreshes.add(args, at) })
	return nil
}

// recentJobs remembers job arguments this process has enqueued, each until
// its coalescing window ends: River's unique-by-args insert would refuse
// them again until then (a unique job stays unique once completed), so
// trying costs a statement for nothing. Arguments without a window end
// (no coalescing) are not kept.
type recentJobs struct {
	mu sync.Mutex
	m  map[app.RefreshProductArgs]time.Time
}

// maxRecentJobs bounds the arguments kept; past it the expired ones go.
const maxRecentJobs = 4096

func (r *recentJobs) has(args app.RefreshProductArgs, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.m[args]
	return ok && now.Before(until)
}

func (r *recentJobs) add(args app.RefreshProductArgs, until time.Time) {
	if until.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[app.RefreshProductArgs]time.Time{}
	}
	if len(r.m) >= maxRecentJobs {
		now := time.Now()
		for k, u := range r.m {
			if !now.Before(u) {
				delete(r.m, k)
			}
		}
		if len(r.m) >= maxRecentJobs {
			clear(r.m) // forgetting only costs an insert River refuses
		}
	}
	r.m[args] = until
}

// stockQuery reads an inventory item's variant stock: 2 points (the item
// and its variant; scalars are free), where productQuery costs about 17
// for a small product.
const stockQuery = `query CatalogStock($id: ID!) { inventoryItem(id: $id) {
  variants(first: 1) { nodes { id inventoryQuantity availableForSale } }
} }`

// stockVariant is the variant stockQuery reads.
type stockVariant struct {
	ID                string `json:"id"`
	InventoryQuantity *int64 `json:"inventoryQuantity"`
	AvailableForSale  bool   `json:"availableForSale"`
}

// RefreshStock re-reads the stock of the variant holding an inventory
// item (after inventory_levels/update: the payload gives one location's
// level, the variant's total is what the catalog keeps) and writes it
// into our copy; then a rebuild is scheduled. An item Shopify or our
// catalog no longer maps to a variant gets its whole product refreshed.
func (c *Syncer) RefreshStock(ctx context.Context, shopDomain string, productID, inventoryItemID int64) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil || sh.Status != app.ShopActive {
		return err
	}
	var resp struct {
		InventoryItem *struct {
			// variants, not the variant field deprecated in 2026-10: an
			// inventory item belongs to one variant.
			Variants struct {
				Nodes []stockVariant `json:"nodes"`
			} `json:"variants"`
		} `json:"inventoryItem"`
	}
	gid := "gid://shopify/InventoryItem/" + strconv.FormatInt(inventoryItemID, 10)
	if err := c.Shopify.Query(ctx, sh.Domain, stockQuery, map[string]any{"id": gid}, &resp); err != nil {
		switch {
		case errors.Is(err, app.ErrShopInactive) || errors.Is(err, app.ErrReauthRequired):
			return nil
		case !shopify.IsRetryable(err):
			return river.JobCancel(fmt.Errorf("refresh stock of inventory item %d: %w", inventoryItemID, err))
		}
		return err
	}
	var v *stockVariant
	if it := resp.InventoryItem; it != nil && len(it.Variants.Nodes) > 0 {
		v = &it.Variants.Nodes[0]
	}
	if v == nil || v.InventoryQuantity == nil {
		return c.RefreshProduct(ctx, shopDomain, productID)
	}
	_, variantID, err := app.ParseGID(v.ID)
	if err != nil {
		return c.RefreshProduct(ctx, shopDomain, productID)
	}
	var found bool
	err = c.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if found, err = c.Store.SetVariantStock(ctx, sh.ID, variantID, *v.InventoryQuantity, v.AvailableForSale); err != nil || !found {
			return err
		}
		return c.scheduleBuild(ctx, sh.ID, c.RebuildDelay)
	})
	if err == nil && !found {
		return c.RefreshProduct(ctx, shopDomain, productID)
	}
	return err
}

// productNode is a product as the productQuery returns it.
type productNode struct {
	bulkLine
	Media struct {
		Nodes []bulkLine `json:"nodes"`
	} `json:"media"`
	Collections struct {
		Nodes []bulkLine `json:"nodes"`
	} `json:"collections"`
	Variants struct {
		Nodes    []bulkLine `json:"nodes"`
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
	} `json:"variants"`
}

// batch converts the product to catalog rows through the same reader code
// as the bulk export, so both paths agree field for field.
func (p *productNode) batch(currency string) (*app.CatalogBatch, error) {
	rd := &BulkReader{currency: currency}
	b := &app.CatalogBatch{}
	if err := rd.addLine(b, p.bulkLine); err != nil {
		return nil, err
	}
	parent := p.ID
	for _, group := range [][]bulkLine{p.Media.Nodes, p.Collections.Nodes, p.Variants.Nodes} {
		for _, l := range group {
			rd.line++
			l.ParentID = parent
			if err := rd.addLine(b, l); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}
