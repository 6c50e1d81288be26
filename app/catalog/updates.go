package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// InventoryChanged handles inventory_levels/update: the item's stock is to
// be refreshed (RefreshStock), not its whole product. Every order, ours
// included, sends one per line, and a product refresh costs more Shopify
// points than the order did; so the requests are gathered per shop
// (Store.RequestStock: one upsert) and answered by one job per shop and
// coalescing window, one Shopify query for all of them. Within a window,
// what this process has recorded or enqueued already is not recorded or
// enqueued again.
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
	now := c.Now()
	asked := stockAsk{shopID: sh.ID, itemID: inventoryItemID, window: window}
	if c.asked.has(asked, now) {
		// Recorded in this window: the window's job, which runs after it
		// ends, has not read it yet.
		return nil
	}
	if err := c.Store.RequestStock(ctx, sh.ID, inventoryItemID, productID); err != nil {
		return err
	}
	if err := c.enqueueStockRefresh(ctx, shopDomain, window, at, now); err != nil {
		return err
	}
	c.Store.AfterCommit(ctx, func(context.Context) { c.asked.add(asked, at) })
	return nil
}

// enqueueStockRefresh enqueues the shop's stock refresh of the window
// (due when it ends), unless this process has within it.
func (c *Syncer) enqueueStockRefresh(ctx context.Context, shopDomain string, window int64, at, now time.Time) error {
	args := app.RefreshStockArgs{Shop: shopDomain, Window: window}
	// Within a window the insert River would refuse as a duplicate is not
	// even tried.
	if c.refreshes.has(args, now) {
		return nil
	}
	if err := c.Queue.EnqueueTx(ctx, args, &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return err
	}
	c.Store.AfterCommit(ctx, func(context.Context) { c.refreshes.add(args, at) })
	return nil
}

// stockAsk is an inventory item's stock request recorded by this process
// in a coalescing window.
type stockAsk struct{ shopID, itemID, window int64 }

// recent remembers keys (job arguments this process has enqueued, stock
// requests it has recorded) each until its coalescing window ends: River's
// unique-by-args insert would refuse a job again until then (a unique job
// stays unique once completed), and the window's job has not yet read a
// request, so trying costs a statement for nothing. Keys without a window
// end (no coalescing) are not kept.
type recent[K comparable] struct {
	mu sync.Mutex
	m  map[K]time.Time
}

// maxRecent bounds the keys kept; past it the expired ones go.
const maxRecent = 4096

func (r *recent[K]) has(k K, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.m[k]
	return ok && now.Before(until)
}

func (r *recent[K]) add(k K, until time.Time) {
	if until.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[K]time.Time{}
	}
	if len(r.m) >= maxRecent {
		now := time.Now()
		for k, u := range r.m {
			if !now.Before(u) {
				delete(r.m, k)
			}
		}
		if len(r.m) >= maxRecent {
			clear(r.m) // forgetting only costs a statement that changes nothing
		}
	}
	r.m[k] = until
}

// stockQuery reads the stock of inventory items' variants: about 2 points
// per item (the item and its variant; scalars are free), where productQuery
// costs about 17 for a small product.
const stockQuery = `query CatalogStock($ids: [ID!]!) { nodes(ids: $ids) { ... on InventoryItem {
  id
  variants(first: 1) { nodes { id inventoryQuantity availableForSale } }
} } }`

// stockBatch is how many items one stockQuery reads (Shopify takes up to
// 250 ids; 100 items cost about 200 points, a tenth of a standard bucket).
const stockBatch = 100

// stockItem is an inventory item as stockQuery returns it (null for an id
// Shopify no longer has).
type stockItem struct {
	ID       string `json:"id"`
	Variants struct {
		Nodes []struct {
			ID                string `json:"id"`
			InventoryQuantity *int64 `json:"inventoryQuantity"`
			AvailableForSale  bool   `json:"availableForSale"`
		} `json:"nodes"`
	} `json:"variants"`
}

// RefreshStock answers the shop's stock requests (InventoryChanged): it
// reads every requested item's variant stock from Shopify (the payload
// gives one location's level, the variant's total is what the catalog
// keeps), writes it into our copy, deletes the requests as it read them
// and schedules a rebuild. A request asked for again meanwhile stays, and
// the next window's job is enqueued for it, as it is for requests past
// one batch. An item Shopify or our catalog no longer maps to a variant
// gets its whole product refreshed.
func (c *Syncer) RefreshStock(ctx context.Context, shopDomain string) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil || sh.Status != app.ShopActive {
		return err
	}
	reqs, err := c.Store.StockRequests(ctx, sh.ID, stockBatch)
	if err != nil || len(reqs) == 0 {
		return err
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = "gid://shopify/InventoryItem/" + strconv.FormatInt(r.InventoryItemID, 10)
	}
	var resp struct {
		Nodes []*stockItem `json:"nodes"`
	}
	if err := c.Shopify.Query(ctx, sh.Domain, stockQuery, map[string]any{"ids": ids}, &resp); err != nil {
		switch {
		case errors.Is(err, app.ErrShopInactive) || errors.Is(err, app.ErrReauthRequired):
			// Not answerable now, and the sync that follows a new grant
			// reads every stock: the requests go.
			_, ferr := c.Store.FinishStockRequests(ctx, sh.ID, reqs)
			return ferr
		case !shopify.IsRetryable(err):
			return river.JobCancel(fmt.Errorf("refresh stock of %d inventory items: %w", len(reqs), err))
		}
		return err
	}
	stock, variantOf := stockOf(resp.Nodes)
	refresh := map[int64]bool{} // products to re-read whole
	var left bool
	err = c.Store.InTx(ctx, func(ctx context.Context) error {
		found, err := c.Store.SetVariantsStock(ctx, sh.ID, stock)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			if v, ok := variantOf[r.InventoryItemID]; !ok || !slices.Contains(found, v) {
				refresh[r.ProductID] = true
			}
		}
		if left, err = c.Store.FinishStockRequests(ctx, sh.ID, reqs); err != nil {
			return err
		}
		if len(found) > 0 {
			return c.scheduleBuild(ctx, sh.ID, c.RebuildDelay)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for productID := range refresh {
		if err := c.ProductChanged(ctx, shopDomain, productID); err != nil {
			return err
		}
	}
	if left {
		window, at := c.window(min(c.RebuildDelay, 5*time.Second))
		return c.enqueueStockRefresh(ctx, shopDomain, window, at, c.Now())
	}
	return nil
}

// stockOverdue is how old a stock request is when SweepStock enqueues its
// shop's refresh: its window (5 s at most) and the job's run are long past.
const stockOverdue = 30 * time.Second

// SweepStock enqueues the stock refresh of every shop holding a request
// older than stockOverdue: one that arrived as its window's job was
// finishing, on a replica whose clock was behind, has no job coming. One
// statement per sweep (jobs.SweepEvery).
func (c *Syncer) SweepStock(ctx context.Context) error {
	now := c.Now()
	domains, err := c.Store.ShopsWithStockRequests(ctx, now.Add(-stockOverdue))
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range domains {
		window, at := c.window(min(c.RebuildDelay, 5*time.Second))
		errs = append(errs, c.enqueueStockRefresh(ctx, d, window, at, now))
	}
	return errors.Join(errs...)
}

// RefreshItemStock is the work of a stock refresh job of an earlier
// release, which named one inventory item: the item's request is recorded
// and the shop's requests answered.
func (c *Syncer) RefreshItemStock(ctx context.Context, shopDomain string, productID, inventoryItemID int64) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil || sh.Status != app.ShopActive {
		return err
	}
	if err := c.Store.RequestStock(ctx, sh.ID, inventoryItemID, productID); err != nil {
		return err
	}
	return c.RefreshStock(ctx, shopDomain)
}

// stockOf is the stock Shopify reported, by variant, and the variant of
// each inventory item it reported with a quantity.
func stockOf(nodes []*stockItem) ([]app.VariantStock, map[int64]int64) {
	var stock []app.VariantStock
	variantOf := map[int64]int64{}
	for _, n := range nodes {
		if n == nil || len(n.Variants.Nodes) == 0 || n.Variants.Nodes[0].InventoryQuantity == nil {
			continue
		}
		v := n.Variants.Nodes[0]
		_, itemID, err1 := app.ParseGID(n.ID)
		_, variantID, err2 := app.ParseGID(v.ID)
		if err1 != nil || err2 != nil {
			continue
		}
		variantOf[itemID] = variantID
		stock = append(stock, app.VariantStock{VariantID: variantID, Quantity: *v.InventoryQuantity, Available: v.AvailableForSale})
	}
	return stock, variantOf
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
