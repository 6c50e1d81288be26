package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// CatalogStore is what catalog sync and feed builds need of the database.
type CatalogStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// AfterCommit runs fn once the transaction in ctx commits (at once
	// without one), never after a rollback.
	AfterCommit(ctx context.Context, fn func(ctx context.Context))
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	// CachedShopByDomain is ShopByDomain answered from this process's
	// memory for a few seconds (store.AuthCacheTTL), forgotten at once by
	// this process's writes of the shop.
	CachedShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	ActiveShops(ctx context.Context) ([]*app.Shop, error)
	CreateSync(ctx context.Context, shopID int64, reason string) (*app.CatalogSync, error)
	Sync(ctx context.Context, id int64) (*app.CatalogSync, error)
	SyncByBulkOperation(ctx context.Context, shopID int64, bulkID string) (*app.CatalogSync, error)
	LatestSync(ctx context.Context, shopID int64) (*app.CatalogSync, error)
	UpdateSync(ctx context.Context, s *app.CatalogSync) error
	UpsertCatalog(ctx context.Context, shopID, generation int64, b *app.CatalogBatch) error
	// SaveSyncBatch writes a batch of the sync's rows (marked with its
	// generation) and the sync's progress in one transaction; replace says
	// rows with the batch's keys may exist already.
	SaveSyncBatch(ctx context.Context, sy *app.CatalogSync, b *app.CatalogBatch, replace bool) error
	HasCatalog(ctx context.Context, shopID int64) (bool, error)
	ReplaceProduct(ctx context.Context, shopID, generation int64, b *app.CatalogBatch) error
	DeleteProduct(ctx context.Context, shopID, productID int64) error
	PruneCatalog(ctx context.Context, shopID, generation int64) (int64, error)
	ProductOfInventoryItem(ctx context.Context, shopID, inventoryItemID int64) (int64, error)
	// RequestStock records an inventory item's stock refresh, or moves
	// the version of the one recorded; StockRequests reads the shop's;
	// FinishStockRequests deletes those answered (as read) and says
	// whether any is left.
	RequestStock(ctx context.Context, shopID, inventoryItemID, productID int64) error
	StockRequests(ctx context.Context, shopID int64, limit int) ([]app.StockRequest, error)
	FinishStockRequests(ctx context.Context, shopID int64, done []app.StockRequest) (left bool, err error)
	ShopsWithStockRequests(ctx context.Context, cutoff time.Time) ([]string, error)
	// SetVariantsStock sets variants' available quantity and availability
	// (a stock-only refresh) and returns those the shop's catalog has.
	SetVariantsStock(ctx context.Context, shopID int64, stock []app.VariantStock) ([]int64, error)
	CatalogCounts(ctx context.Context, shopID int64) (products, variants int64, err error)
	LatestBuild(ctx context.Context, shopID int64, status string) (*app.FeedBuild, error)
}

// FeedDefaults saves a newly installed shop's feed settings from what
// Shopify says of it (the feeds capability: feeds.Service.EnsureDefaults).
type FeedDefaults interface {
	EnsureDefaults(ctx context.Context, sh *app.Shop, p app.ShopProfile) error
}

// Syncer keeps each shop's catalog in our tables: full syncs through bulk
// operations, incremental updates from webhooks, and a daily
// reconciliation that heals missed webhooks. Feed builds read from here.
type Syncer struct {
	Store   CatalogStore
	Shopify shopify.Querier // the shop's GraphQL Admin API (shops.Shopify)
	Feeds   FeedDefaults
	Queue   app.Enqueuer
	// Download fetches bulk results (Shopify's signed storage URLs).
	Download *http.Client
	Logger   *slog.Logger
	Now      func() time.Time
	// RebuildDelay debounces feed rebuilds after catalog changes (zero or
	// less: none, each change builds at once).
	RebuildDelay time.Duration
	// PollInterval is how often a running bulk operation is checked when
	// its finish webhook has not arrived.
	PollInterval time.Duration

	// refreshes are the stock refreshes this process has enqueued, and
	// asked the stock requests it has recorded, each until their
	// coalescing window ends (updates.go).
	refreshes recent[app.RefreshStockArgs]
	asked     recent[stockAsk]
	// items are the products of inventory items looked up (items.go).
	items itemProducts
}

// Options are the catalog's settings; each has a default.
type Options struct {
	// Download fetches bulk results (default: a client with a 30-minute
	// timeout).
	Download *http.Client
	Logger   *slog.Logger     // default slog.Default()
	Now      func() time.Time // default time.Now
	// RebuildDelay debounces feed rebuilds after catalog changes (zero or
	// less: none).
	RebuildDelay time.Duration
	// PollInterval is how often a running bulk operation is checked when
	// its finish webhook is late (default 5 s).
	PollInterval time.Duration
}

// New builds the catalog over its store, the shops' Admin API
// (shops.Shopify), the feeds it sets defaults of and the job queue.
func New(store CatalogStore, api shopify.Querier, feeds FeedDefaults, queue app.Enqueuer, opts Options) *Syncer {
	c := &Syncer{
		Store: store, Shopify: api, Feeds: feeds, Queue: queue,
		Download: opts.Download, Logger: opts.Logger, Now: opts.Now,
		RebuildDelay: opts.RebuildDelay, PollInterval: opts.PollInterval,
	}
	if c.Download == nil {
		c.Download = &http.Client{Timeout: 30 * time.Minute}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	return c
}

// ErrNotYet tells a job to check again later (River snoozes it).
var ErrNotYet = errors.New("not finished yet")

// ingestBatch is how many JSONL rows are written per transaction.
const ingestBatch = 2000

// Installed sets a newly installed shop's feed defaults from what Shopify
// says of it and starts its first full sync.
func (c *Syncer) Installed(ctx context.Context, shopDomain string, p app.ShopProfile) error {
	sh, err := c.Store.ShopByDomain(ctx, shopDomain)
	if err != nil {
		return err
	}
	if err := c.Feeds.EnsureDefaults(ctx, sh, p); err != nil {
		return err
	}
	_, err = c.StartSync(ctx, shopDomain, "install")
	return err
}

// StartSync begins a full sync of the shop unless one is already under
// way, and returns the sync to follow.
func (c *Syncer) StartSync(ctx context.Context, shopDomain, reason string) (*app.CatalogSync, error) {
	sh, err := c.Store.ShopByDomain(ctx, shopDomain)
	if err != nil {
		return nil, err
	}
	if sh.Status != app.ShopActive {
		return nil, app.ErrShopInactive
	}
	if last, err := c.Store.LatestSync(ctx, sh.ID); err == nil && !last.Done() && c.Now().Sub(last.UpdatedAt) < time.Hour {
		return last, nil
	}
	var sy *app.CatalogSync
	err = c.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if sy, err = c.Store.CreateSync(ctx, sh.ID, reason); err != nil {
			return err
		}
		return c.Queue.EnqueueTx(ctx, app.RunSyncArgs{SyncID: sy.ID}, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("start sync: %w", err)
	}
	return sy, nil
}

// RunSync starts the sync's bulk operation at Shopify.
func (c *Syncer) RunSync(ctx context.Context, syncID int64) error {
	sy, err := c.Store.Sync(ctx, syncID)
	if err != nil || sy.Status != app.SyncPending {
		return err
	}
	sh, err := c.Store.ShopByID(ctx, sy.ShopID)
	if err != nil {
		return err
	}
	var resp struct {
		BulkOperationRunQuery struct {
			BulkOperation *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"bulkOperation"`
			UserErrors []shopify.UserError `json:"userErrors"`
		} `json:"bulkOperationRunQuery"`
	}
	const m = `mutation CatalogExport($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) { bulkOperation { id status } userErrors { field message code } }
}`
	err = c.Shopify.Query(ctx, sh.Domain, m, map[string]any{"query": CatalogBulkQuery}, &resp)
	if err == nil {
		err = shopify.UserErrorsErr("bulkOperationRunQuery", resp.BulkOperationRunQuery.UserErrors)
	}
	if err == nil && resp.BulkOperationRunQuery.BulkOperation == nil {
		err = errors.New("bulkOperationRunQuery returned no operation")
	}
	if err != nil {
		if shopify.IsRetryable(err) {
			return err // River retries with backoff
		}
		return c.failSync(ctx, sy, err)
	}
	sy.Status = app.SyncRunning
	sy.BulkOperationID = resp.BulkOperationRunQuery.BulkOperation.ID
	return c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Store.UpdateSync(ctx, sy); err != nil {
			return err
		}
		// The finish webhook normally wakes the poll; this is the fallback
		// (a job of its own, so the webhook's poll is not held back by it).
		return c.Queue.EnqueueTx(ctx, app.PollSyncArgs{SyncID: sy.ID, Fallback: true}, &river.InsertOpts{ScheduledAt: c.Now().Add(c.PollInterval)})
	})
}

// BulkFinished handles bulk_operations/finish: the sync it belongs to is
// checked now rather than at its next poll.
func (c *Syncer) BulkFinished(ctx context.Context, shopDomain, bulkID string) error {
	sh, err := c.shop(ctx, shopDomain)
	if err != nil {
		return err
	}
	sy, err := c.Store.SyncByBulkOperation(ctx, sh.ID, bulkID)
	if errors.Is(err, app.ErrNotFound) {
		return nil // not one of ours (another app's, or a pruned sync)
	}
	if err != nil || sy.Done() {
		return err
	}
	return c.Queue.EnqueueTx(ctx, app.PollSyncArgs{SyncID: sy.ID}, nil)
}

// bulkOperation is the BulkOperation fields the sync reads.
type bulkOperation struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	ErrorCode   *string `json:"errorCode"`
	ObjectCount string  `json:"objectCount"`
	URL         *string `json:"url"`
}

// PollSync checks the sync's bulk operation and, when it has completed,
// reads its result into the catalog. ErrNotYet means: ask again later.
func (c *Syncer) PollSync(ctx context.Context, syncID int64) error {
	sy, err := c.Store.Sync(ctx, syncID)
	if err != nil || sy.Done() || sy.BulkOperationID == "" {
		return err
	}
	sh, err := c.Store.ShopByID(ctx, sy.ShopID)
	if err != nil {
		return err
	}
	var resp struct {
		Node *bulkOperation `json:"node"`
	}
	const q = `query BulkStatus($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode objectCount url } } }`
	if err := c.Shopify.Query(ctx, sh.Domain, q, map[string]any{"id": sy.BulkOperationID}, &resp); err != nil {
		if shopify.IsRetryable(err) {
			return err
		}
		return c.failSync(ctx, sy, err)
	}
	op := resp.Node
	switch {
	case op == nil:
		return c.failSync(ctx, sy, errors.New("the bulk operation no longer exists"))
	case op.Status == "CREATED" || op.Status == "RUNNING":
		return ErrNotYet
	case op.Status != "COMPLETED":
		code := ""
		if op.ErrorCode != nil {
			code = " (" + *op.ErrorCode + ")"
		}
		return c.failSync(ctx, sy, fmt.Errorf("the bulk operation ended %s%s", op.Status, code))
	}
	sy.RowsExpected, _ = strconv.ParseInt(op.ObjectCount, 10, 64)
	if op.URL == nil || *op.URL == "" {
		// A completed export of an empty shop has no file.
		return c.finishSync(ctx, sy, sh)
	}
	return c.ingest(ctx, sy, sh, *op.URL)
}

// ingest streams the JSONL result into the catalog in batches, updating
// progress as it goes; only a complete, well-formed file prunes products
// the export did not contain, so a failed or truncated download keeps the
// catalog as it was.
func (c *Syncer) ingest(ctx context.Context, sy *app.CatalogSync, sh *app.Shop, url string) error {
	sy.Status, sy.RowsDone = app.SyncIngesting, 0
	if err := c.Store.UpdateSync(ctx, sy); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return c.failSync(ctx, sy, fmt.Errorf("bulk result URL: %w", err))
	}
	resp, err := c.Download.Do(req)
	if err != nil {
		return fmt.Errorf("download bulk result: %w", err) // retried by River
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 500 {
			return fmt.Errorf("download bulk result: HTTP %d", resp.StatusCode)
		}
		return c.failSync(ctx, sy, fmt.Errorf("download bulk result: HTTP %d (the link may have expired)", resp.StatusCode))
	}
	// A shop without a catalog yet (its first sync) has no rows for the
	// batches to replace: they are only inserted, which is cheaper.
	replace, err := c.Store.HasCatalog(ctx, sh.ID)
	if err != nil {
		return err
	}
	// Parsing runs one batch ahead of writing, on its own goroutine: the
	// two take similar time, so overlapping them uses both cores.
	batches := make(chan parsed, 2)
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	go readBatches(readCtx, NewBulkReader(resp.Body, sh.CurrencyCode), batches)
	for p := range batches {
		if p.err != nil {
			return c.failSync(ctx, sy, p.err)
		}
		sy.RowsDone = p.lines
		sy.Products += int64(len(p.batch.Products))
		sy.Variants += int64(len(p.batch.Variants))
		// The rows and the progress they make commit together.
		if err := c.Store.SaveSyncBatch(ctx, sy, p.batch, replace); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.finishSync(ctx, sy, sh)
}

// parsed is one batch read from a bulk export, or the error that ended it.
type parsed struct {
	batch *app.CatalogBatch
	lines int64
	err   error
}

// readBatches reads rd into out until the file ends (out is closed), an
// error (sent, then out is closed) or ctx is done.
func readBatches(ctx context.Context, rd *BulkReader, out chan<- parsed) {
	defer close(out)
	for {
		b := &app.CatalogBatch{}
		err := rd.Next(b, ingestBatch)
		if errors.Is(err, io.EOF) {
			return
		}
		p := parsed{batch: b, lines: rd.Lines(), err: err}
		select {
		case out <- p:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (c *Syncer) finishSync(ctx context.Context, sy *app.CatalogSync, sh *app.Shop) error {
	pruned, err := c.Store.PruneCatalog(ctx, sh.ID, sy.Generation)
	c.forgetItems(ctx, sh.ID, 0) // variants the sync no longer found are gone
	if err != nil {
		return err
	}
	now := c.Now()
	sy.Status, sy.FinishedAt = app.SyncCompleted, &now
	err = c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Store.UpdateSync(ctx, sy); err != nil {
			return err
		}
		return c.scheduleBuild(ctx, sh.ID, 0)
	})
	if err != nil {
		return err
	}
	c.Logger.InfoContext(ctx, "catalog synced", "shop", sh.Domain, "products", sy.Products, "variants", sy.Variants,
		"rows", sy.RowsDone, "pruned", pruned, "seconds", now.Sub(sy.CreatedAt).Seconds())
	return nil
}

// failSync records a sync that cannot succeed; the job ends (no retry).
func (c *Syncer) failSync(ctx context.Context, sy *app.CatalogSync, cause error) error {
	now := c.Now()
	sy.Status, sy.Error, sy.FinishedAt = app.SyncFailed, cause.Error(), &now
	if err := c.Store.UpdateSync(ctx, sy); err != nil {
		return err
	}
	c.Logger.WarnContext(ctx, "catalog sync failed", "sync", sy.ID, "err", cause)
	return nil
}

// scheduleBuild enqueues a feed build after delay. Builds requested within
// one delay-long window share a job (River's unique jobs by arguments,
// which carry the window), so a burst of webhooks causes one rebuild at the
// window's end; a change made while that build runs falls into the next
// window and gets a build of its own.
func (c *Syncer) scheduleBuild(ctx context.Context, shopID int64, delay time.Duration) error {
	window, at := c.window(delay)
	return c.Queue.EnqueueTx(ctx, app.BuildFeedArgs{ShopID: shopID, Window: window}, &river.InsertOpts{
		ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
}

// window returns the debounce window now falls in and when it ends; with
// no delay every request is its own window, due at once (a zero time: a
// job scheduled even a microsecond ahead waits for River's scheduler,
// which runs every few seconds).
func (c *Syncer) window(delay time.Duration) (int64, time.Time) {
	now := c.Now()
	if delay <= 0 {
		return now.UnixNano(), time.Time{}
	}
	w := now.UnixNano() / int64(delay)
	return w, time.Unix(0, (w+1)*int64(delay))
}

// Reconcile starts a full sync of every active shop: the daily snapshot that
// heals webhooks Shopify never delivered.
func (c *Syncer) Reconcile(ctx context.Context) error {
	shops, err := c.Store.ActiveShops(ctx)
	if err != nil {
		return err
	}
	for _, sh := range shops {
		if _, err := c.StartSync(ctx, sh.Domain, "reconcile"); err != nil {
			c.Logger.WarnContext(ctx, "reconcile: could not start sync", "shop", sh.Domain, "err", err)
		}
	}
	return nil
}
