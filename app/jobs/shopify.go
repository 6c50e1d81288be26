package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
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
	return snoozeThrottled(w.App.ProcessWebhook(ctx, job.Args.EventID))
}

// snoozeThrottled turns a failure for the shop's Shopify API budget (its
// rate limit: nothing was run) into a snooze until the points are back,
// which River neither counts as an attempt nor backs off from
// exponentially: a webhook that completes a purchase paid at Shopify's
// checkout runs again seconds later, not minutes. Other errors pass.
func snoozeThrottled(err error) error {
	if wait, ok := shopify.RetryAfter(err); ok {
		return river.JobSnooze(wait)
	}
	return snoozeClaimed(err)
}

// snoozeClaimed turns an app.Claimed (the row is being worked on
// elsewhere) into a snooze until the claim ends: not an attempt, no
// backoff, and the job is still there should that work fail.
func snoozeClaimed(err error) error {
	var c *app.Claimed
	if errors.As(err, &c) {
		return river.JobSnooze(max(time.Until(c.Until), time.Second))
	}
	return err
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
