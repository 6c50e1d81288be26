package app

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Job arguments. Each is enqueued by a use-case in this package in the same
// transaction as the rows it concerns; its worker in app/jobs calls back
// into the use-case named in the comment.

// ProcessWebhookArgs processes one stored Shopify webhook delivery
// (Shopify.ProcessWebhook).
type ProcessWebhookArgs struct {
	EventID int64 `json:"event_id"`
}

// Kind implements river.JobArgs.
func (ProcessWebhookArgs) Kind() string { return "shopify_webhook" }

// ShopInstalledArgs does the follow-up of an install: fetch the shop's
// details (Shopify.AfterInstall).
type ShopInstalledArgs struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (ShopInstalledArgs) Kind() string { return "shop_installed" }

// RunSyncArgs starts a full catalog sync's bulk operation (Catalog.RunSync).
type RunSyncArgs struct {
	SyncID int64 `json:"sync_id"`
}

// Kind implements river.JobArgs.
func (RunSyncArgs) Kind() string { return "catalog_sync_run" }

// PollSyncArgs checks a sync's bulk operation and ingests its result
// (Catalog.PollSync). One per sync at a time.
type PollSyncArgs struct {
	SyncID int64 `json:"sync_id"`
	// Fallback marks the scheduled poll that runs when the webhook is late.
	Fallback bool `json:"fallback,omitempty"`
}

// Kind implements river.JobArgs.
func (PollSyncArgs) Kind() string { return "catalog_sync_poll" }

// InsertOpts makes one poll per sync at a time.
func (PollSyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// RefreshProductArgs re-reads one product (Catalog.RefreshProduct).
type RefreshProductArgs struct {
	Shop      string `json:"shop"`
	ProductID int64  `json:"product_id"`
	// Window groups requests for the same product (see ProductChanged).
	Window int64 `json:"window"`
	// InventoryItemID is set by the jobs of earlier releases, which asked
	// for one inventory item's stock: such a job records the request and
	// answers the shop's (RefreshStockArgs).
	InventoryItemID int64 `json:"inventory_item_id,omitempty"`
}

// RefreshStockArgs answers a shop's stock requests (Catalog.RefreshStock):
// one job per shop and coalescing window.
type RefreshStockArgs struct {
	Shop   string `json:"shop"`
	Window int64  `json:"window"`
}

// Kind implements river.JobArgs.
func (RefreshStockArgs) Kind() string { return "catalog_stock_refresh" }

// Kind implements river.JobArgs.
func (RefreshProductArgs) Kind() string { return "catalog_product_refresh" }

// BuildFeedArgs builds a shop's feed files (Feeds.Build).
type BuildFeedArgs struct {
	ShopID int64 `json:"shop_id"`
	// Window groups build requests (see Catalog.scheduleBuild).
	Window int64 `json:"window"`
}

// Kind implements river.JobArgs.
func (BuildFeedArgs) Kind() string { return "feed_build" }

// ReconcileArgs starts the daily full sync of every shop (Catalog.Reconcile).
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "catalog_reconcile" }

// PushFeedArgs pushes a published build to one target (Deliveries.Push).
type PushFeedArgs struct {
	TargetID int64 `json:"target_id"`
	BuildID  int64 `json:"build_id"`
}

// Kind implements river.JobArgs.
func (PushFeedArgs) Kind() string { return "feed_push" }

// ResumeCompletionArgs carries on a completion a crash or a temporary
// failure interrupted (checkout.Sessions.ResumeCompletion). The periodic
// sweep enqueues it for every unfinished completion whose lease lapsed, so
// even a process killed mid-payment is picked up.
type ResumeCompletionArgs struct {
	ShopID    int64  `json:"shop_id"`
	SessionID string `json:"session_id"`
}

// Kind implements river.JobArgs.
func (ResumeCompletionArgs) Kind() string { return "checkout_resume_completion" }

// InsertOpts: one pending resume per session.
func (ResumeCompletionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// Enqueuer inserts jobs, inside the transaction ctx carries (jobs.Queue).
type Enqueuer interface {
	EnqueueTx(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}
