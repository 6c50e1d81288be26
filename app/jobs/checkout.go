package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/shopify"
)

// CompletionResumer is the use-case the completion worker calls.
type CompletionResumer interface {
	ResumeCompletion(ctx context.Context, shopID int64, sessionID string) error
}

// ResumeCompletionWorker carries on checkout completions that a crash or a
// temporary failure interrupted.
type ResumeCompletionWorker struct {
	river.WorkerDefaults[app.ResumeCompletionArgs]
	App CompletionResumer
}

// Work implements river.Worker.
func (w *ResumeCompletionWorker) Work(ctx context.Context, job *river.Job[app.ResumeCompletionArgs]) error {
	// A completion is the money path: its Shopify calls (the order
	// write-back) may use the points the shop's budget keeps for it.
	ctx = shopify.WithPriority(ctx, shopify.PriorityMoney)
	return snoozeThrottled(w.App.ResumeCompletion(ctx, job.Args.ShopID, job.Args.SessionID))
}

// DraftReleaser is the use-case the draft release worker calls.
type DraftReleaser interface {
	ReleaseDraft(ctx context.Context, shopID int64, draftID string) error
}

// ReleaseDraftWorker deletes the Shopify draft order (and so the stock it
// reserves) of a checkout session that was canceled or expired.
type ReleaseDraftWorker struct {
	river.WorkerDefaults[checkout.ReleaseDraftArgs]
	App DraftReleaser
}

// Work implements river.Worker.
func (w *ReleaseDraftWorker) Work(ctx context.Context, job *river.Job[checkout.ReleaseDraftArgs]) error {
	return w.App.ReleaseDraft(ctx, job.Args.ShopID, job.Args.DraftID)
}
