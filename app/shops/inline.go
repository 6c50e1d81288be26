package shops

import (
	"context"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// First attempt inline, River for what fails or is lost (issue 17): a
// delivery of a cheap topic is stored claimed by the request that received
// it (webhook_events.claimed_until) and processed there, without a job;
// only when that fails, or the process dies, does the sweep hand it to a
// shopify_webhook job once the claim has passed. A job claims the delivery
// too, so the same delivery is never processed twice at once.

// Timings of webhook processing.
const (
	// InlineBudget bounds the processing of a delivery in the request
	// that stores it: Shopify waits 5 s for the answer, which is 200 once
	// the delivery is stored, whatever the processing did.
	InlineBudget = 3 * time.Second
	// InlineClaim is how long a delivery stored for inline processing is
	// left to its request; after it the sweep hands it to a job. It is
	// the grace before a failed or lost inline attempt is retried.
	InlineClaim = 20 * time.Second
	// JobClaim is how long a job holds a delivery: more than River's job
	// timeout, so a claim outlives the job that took it only when its
	// process died.
	JobClaim = 6 * time.Minute
	// sweepBatch is how many deliveries one sweep hands over at most.
	sweepBatch = 500
)

// InlineTopics are processed in the request that stores them: each takes
// a few statements, an enqueued job (the catalog's refreshes and bulk
// ingests stay jobs) or, for orders, the few calls the order's news
// needs. The others (uninstalls, privacy requests) go to a job at once.
var InlineTopics = append([]string{"products/create", "products/update", "products/delete", "inventory_levels/update",
	"bulk_operations/finish"}, OrderTopics...)

// ReceiveWebhook stores a delivery as Shopify.ReceiveWebhook does, and
// processes a new delivery of InlineTopics at once, with the shop row it
// has just read; a failure leaves it unprocessed, for the sweep. The
// answer is the same either way: the delivery is stored.
func (w *ShopifyWebhooks) ReceiveWebhook(ctx context.Context, d WebhookDelivery) (duplicate bool, err error) {
	return w.Shopify.receiveWebhook(ctx, d, w.processInline)
}

// processInline processes a delivery just stored and claimed by this
// request, within InlineBudget, whether or not Shopify is still waiting.
func (w *ShopifyWebhooks) processInline(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) {
	ctx, cancel := context.WithTimeout(app.WithShop(context.WithoutCancel(ctx), sh), InlineBudget)
	defer cancel()
	if err := w.Shopify.process(ctx, ev, w.Catalog, w.Orders); err != nil {
		w.Logger.WarnContext(ctx, "webhook not processed inline: a job will", "shop", ev.Shop, "topic", ev.Topic,
			"webhook_id", ev.WebhookID, "err", err, "after", InlineClaim)
	}
}

// SweepWebhooks hands the deliveries whose inline processing failed or was
// lost (unprocessed, their claim past) to shopify_webhook jobs, in one
// transaction with clearing their claim. It is a periodic job's work.
func (s *Shopify) SweepWebhooks(ctx context.Context) error {
	var n int
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		ids, err := s.Store.HandOverWebhookEvents(ctx, s.Now(), sweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.Queue.EnqueueTx(ctx, app.ProcessWebhookArgs{EventID: id}, nil); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep webhooks: %w", err)
	}
	if n > 0 {
		s.Logger.InfoContext(ctx, "webhooks handed to jobs after their inline processing failed", "count", n)
	}
	return nil
}
