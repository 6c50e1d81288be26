package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// CatalogSyncer is the catalog use-case the sync workers call.
type CatalogSyncer interface {
	RunSync(ctx context.Context, syncID int64) error
	PollSync(ctx context.Context, syncID int64) error
	RefreshProduct(ctx context.Context, shop string, productID int64) error
	RefreshStock(ctx context.Context, shop string) error
	RefreshItemStock(ctx context.Context, shop string, productID, inventoryItemID int64) error
	Reconcile(ctx context.Context) error
}

// RunSyncWorker starts a sync's bulk operation.
type RunSyncWorker struct {
	river.WorkerDefaults[app.RunSyncArgs]
	App CatalogSyncer
}

// Work implements river.Worker.
func (w *RunSyncWorker) Work(ctx context.Context, job *river.Job[app.RunSyncArgs]) error {
	return w.App.RunSync(ctx, job.Args.SyncID)
}

// PollSyncWorker checks a sync's bulk operation, snoozing while it runs.
type PollSyncWorker struct {
	river.WorkerDefaults[app.PollSyncArgs]
	App CatalogSyncer
	// Every is how long to snooze while the operation runs.
	Every time.Duration
}

// Work implements river.Worker.
func (w *PollSyncWorker) Work(ctx context.Context, job *river.Job[app.PollSyncArgs]) error {
	err := w.App.PollSync(ctx, job.Args.SyncID)
	if errors.Is(err, catalog.ErrNotYet) {
		return river.JobSnooze(w.Every)
	}
	return err
}

// Timeout lets a large export stream in for longer than the default.
func (w *PollSyncWorker) Timeout(*river.Job[app.PollSyncArgs]) time.Duration { return time.Hour }

// RefreshProductWorker re-reads one product (or, for a job of an earlier
// release, one inventory item's stock).
type RefreshProductWorker struct {
	river.WorkerDefaults[app.RefreshProductArgs]
	App CatalogSyncer
}

// Work implements river.Worker.
func (w *RefreshProductWorker) Work(ctx context.Context, job *river.Job[app.RefreshProductArgs]) error {
	if job.Args.InventoryItemID != 0 {
		return snoozeThrottled(w.App.RefreshItemStock(ctx, job.Args.Shop, job.Args.ProductID, job.Args.InventoryItemID))
	}
	return snoozeThrottled(w.App.RefreshProduct(ctx, job.Args.Shop, job.Args.ProductID))
}

// RefreshStockWorker answers a shop's stock requests.
type RefreshStockWorker struct {
	river.WorkerDefaults[app.RefreshStockArgs]
	App CatalogSyncer
}

// Work implements river.Worker.
func (w *RefreshStockWorker) Work(ctx context.Context, job *river.Job[app.RefreshStockArgs]) error {
	return snoozeThrottled(w.App.RefreshStock(ctx, job.Args.Shop))
}

// ReconcileWorker starts the daily full sync of every shop.
type ReconcileWorker struct {
	river.WorkerDefaults[app.ReconcileArgs]
	App CatalogSyncer
}

// Work implements river.Worker.
func (w *ReconcileWorker) Work(ctx context.Context, _ *river.Job[app.ReconcileArgs]) error {
	return w.App.Reconcile(ctx)
}

// ReconcileSchedule runs the reconciliation daily.
func ReconcileSchedule() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) {
			return app.ReconcileArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 12 * time.Hour}}
		}, nil)
}

// FeedBuilder is the feed use-case the build worker calls.
type FeedBuilder interface {
	Build(ctx context.Context, shopID int64) (*app.FeedBuild, error)
}

// BuildFeedWorker builds a shop's feed files.
type BuildFeedWorker struct {
	river.WorkerDefaults[app.BuildFeedArgs]
	App FeedBuilder
}

// Work implements river.Worker.
func (w *BuildFeedWorker) Work(ctx context.Context, job *river.Job[app.BuildFeedArgs]) error {
	_, err := w.App.Build(ctx, job.Args.ShopID)
	return err
}

// Timeout allows a million-variant build.
func (w *BuildFeedWorker) Timeout(*river.Job[app.BuildFeedArgs]) time.Duration {
	return 30 * time.Minute
}

// FeedPusher is the delivery use-case the push worker calls.
type FeedPusher interface {
	Push(ctx context.Context, targetID, buildID int64) error
}

// PushFeedWorker pushes a build to a target.
type PushFeedWorker struct {
	river.WorkerDefaults[app.PushFeedArgs]
	App FeedPusher
}

// Work implements river.Worker.
func (w *PushFeedWorker) Work(ctx context.Context, job *river.Job[app.PushFeedArgs]) error {
	return w.App.Push(ctx, job.Args.TargetID, job.Args.BuildID)
}

// Timeout allows a large upload.
func (w *PushFeedWorker) Timeout(*river.Job[app.PushFeedArgs]) time.Duration { return 30 * time.Minute }
