package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
)

// WebhookProcessor is the use-case the webhook worker calls.
type WebhookProcessor interface {
	ProcessWebhook(ctx context.Context, eventID int64) error
}

// WebhookWorker processes stored Shopify webhook deliveries.
type WebhookWorker struct {
	river.WorkerDefaults[app.ProcessWebhookArgs]
	App WebhookProcessor
}

// Work implements river.Worker.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[app.ProcessWebhookArgs]) error {
	return w.App.ProcessWebhook(ctx, job.Args.EventID)
}

// InstallFollower is the use-case the install worker calls.
type InstallFollower interface {
	AfterInstall(ctx context.Context, shop string) error
}

// ShopInstalledWorker does the follow-up of an install.
type ShopInstalledWorker struct {
	river.WorkerDefaults[app.ShopInstalledArgs]
	App InstallFollower
}

// Work implements river.Worker.
func (w *ShopInstalledWorker) Work(ctx context.Context, job *river.Job[app.ShopInstalledArgs]) error {
	return w.App.AfterInstall(ctx, job.Args.Shop)
}
