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
// too, so the same delivery is never processed twice at once. A delivery
// of the catalog's product and stock topics (HandledFirstTopics) is
// handled first and then stored once, already processed, or, when the
// handling failed, stored claimed as above.

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

// HandledFirstTopics are the InlineTopics whose handling is harmless to
// repeat (a refresh enqueued again coalesces, a deleted product stays
// deleted: each brings the catalog's copy to what Shopify holds): a
// delivery of one is handled first and then stored once, already
// processed (one INSERT where storing it claimed, then finishing it, took
// an INSERT and an UPDATE). The answer still waits for the row, so
// Shopify sees 200 only once the delivery is recorded; a redelivery is
// still stored once, but may be handled again before the INSERT finds it
// (a duplicate costs what one delivery does, no more). When the handling
// fails, the delivery is stored unprocessed and claimed for InlineClaim,
// as one stored first is, and the sweep hands it to a job. Not among
// them: bulk_operations/finish, whose handling enqueues a poll of the
// bulk result each time, and the order topics, which move money.
var HandledFirstTopics = []string{"products/create", "products/update", "products/delete", "inventory_levels/update"}

// ReceiveWebhook stores a delivery as Shopify.ReceiveWebhook does, and
// processes a new delivery of InlineTopics at once, with the shop row it
// has just read; a failure leaves it unprocessed, for the sweep. The
// answer is the same either way: the delivery is stored.
func (w *ShopifyWebhooks) ReceiveWebhook(ctx context.Context, d WebhookDelivery) (duplicate bool, err error) {
	return w.Shopify.receiveWebhook(ctx, d, w)
}

// inlineContext is ctx for processing a delivery in its request: the shop
// row just read, and InlineBudget whether or not Shopify is still waiting.
func inlineContext(ctx context.Context, sh *app.Shop) (context.Context, context.CancelFunc) {
	return context.WithTimeout(app.WithShop(context.WithoutCancel(ctx), sh), InlineBudget)
}

// processInline processes a delivery just stored and claimed by this
// request.
func (w *ShopifyWebhooks) processInline(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) {
	ctx, cancel := inlineContext(ctx, sh)
	defer cancel()
	if err := w.Shopify.process(ctx, ev, w.Catalog, w.Orders); err != nil {
		w.Logger.WarnContext(ctx, "webhook not processed inline: a job will", "shop", ev.Shop, "topic", ev.Topic,
			"webhook_id", ev.WebhookID, "err", err, "after", InlineClaim)
	}
}

// receiveHandled handles a delivery of HandledFirstTopics, then stores
// it: processed, its payload dropped, when the handling succeeded;
// otherwise unprocessed and claimed for InlineClaim, for the sweep.
func (w *ShopifyWebhooks) receiveHandled(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) (duplicate bool, err error) {
	ev.ReceivedAt = w.Now()
	hctx, cancel := inlineContext(ctx, sh)
	outcome, herr := w.handleWebhook(hctx, ev, w.Catalog)
	cancel()
	if herr == nil {
		now := w.Now()
		ev.ProcessedAt, ev.Outcome, ev.Payload = &now, outcome, []byte("{}")
	} else {
		until := w.Now().Add(InlineClaim)
		ev.ClaimedUntil = &until
		w.Logger.WarnContext(ctx, "webhook not processed inline: a job will", "shop", ev.Shop, "topic", ev.Topic,
			"webhook_id", ev.WebhookID, "err", herr, "after", InlineClaim)
	}
	_, dup, err := w.Store.InsertWebhookEvent(ctx, *ev)
	return dup, wrapErr("receive webhook", err)
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
