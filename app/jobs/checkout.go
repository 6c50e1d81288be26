package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
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
	return w.App.ResumeCompletion(ctx, job.Args.ShopID, job.Args.SessionID)
}
