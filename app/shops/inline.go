package shops

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// First attempt inline, River for what fails or is lost (issue 17): a
// delivery of a cheap topic is stored claimed by the request that received
// it (webhook_events.claimed_until) and processed there, without a job;
// only when that fails, or the process dies, does the sweep hand it to a
// shopify_webhook job once the claim has passed. A job claims the delivery
// too, so the same delivery is never processed twice at once. The catalog's
// cheapest topics (ProcessFirstTopics) are the exception: their handling is
// safe to repeat, even at the same time, so they are processed first and
// stored only when that failed; and order news that asks nothing of the app
// (OrderNoise) is not stored at all.

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

// ProcessFirstTopics are the InlineTopics processed before their delivery
// is stored, and then stored only if the processing failed
// (receiveProcessed): a delivery whose work is done leaves no row, which
// saves the one statement per delivery that recorded it (every order
// sends an inventory_levels/update). Their handling may run twice for one
// event, which is safe because it is idempotent and takes nothing but an
// id from the payload, whose order Shopify does not guarantee:
//
//   - products/create and products/update enqueue a refresh that reads the
//     product from Shopify when it runs, coalesced with the others of the
//     same few seconds: a stale redelivery (an older updated_at) cannot
//     bring an older product back, it only asks for the current one;
//   - inventory_levels/update enqueues the variant's stock refresh, which
//     reads the stock from Shopify (the payload's "available" is not used),
//     coalesced likewise and not even tried again by this process within
//     its window;
//   - products/delete deletes our copy: again, it stays deleted (Shopify
//     never reuses a product id).
//
// A replayed delivery (a captured one sent again: its signature is still
// good) therefore costs at most one coalesced refresh per window, the same
// as Shopify's own redeliveries.
//
// bulk_operations/finish stays dedupe-first (receiveInline): each delivery
// enqueues a poll of its sync, not coalesced, and it comes once per sync,
// so there is nothing to save. The order topics (OrderTopics) move money
// and stay dedupe-first whatever their cost, except the news that asks
// nothing of the app (OrderNoise), which is not stored at all.
var ProcessFirstTopics = []string{"products/create", "products/update", "products/delete", "inventory_levels/update"}

// ReceiveWebhook verifies a delivery as Shopify.ReceiveWebhook does and
// acts on it: order news the order side tells from its payload asks
// nothing of the app (OrderNoise) is answered without being stored; a
// delivery of ProcessFirstTopics is processed first and stored only if
// that failed (receiveProcessed); one of the other InlineTopics is stored
// claimed by this request and processed at once (receiveInline); the
// others are stored with their job. A processing that fails leaves the
// delivery stored unprocessed, for the sweep. The answer is the same
// either way: the delivery is taken care of (duplicate: it was stored
// already).
//
// What became of each delivery is counted by topic (Counted), since a
// delivery with nothing left to do leaves no row to count.
func (w *ShopifyWebhooks) ReceiveWebhook(ctx context.Context, d WebhookDelivery) (duplicate bool, err error) {
	sh, ev, err := w.checkDelivery(ctx, d)
	if err != nil || ev == nil {
		return false, err
	}
	if outcome, ignored := w.orderNoise(ev); ignored {
		// Nothing to do, so nothing to do twice and nothing to keep:
		// the order is the merchant's business, not ours, and its
		// payload (a buyer's personal data) is not ours to hold.
		w.Logger.DebugContext(ctx, "webhook ignored", "shop", ev.Shop, "topic", ev.Topic, "webhook_id", ev.WebhookID, "outcome", outcome)
		w.count(ev.Topic, ReceiptIgnored)
		return false, nil
	}
	switch {
	case slices.Contains(ProcessFirstTopics, ev.Topic):
		duplicate, err = w.receiveProcessed(ctx, sh, ev)
	case slices.Contains(InlineTopics, ev.Topic):
		duplicate, err = w.receiveInline(ctx, sh, ev)
	default:
		duplicate, err = w.storeWithJob(ctx, ev)
		w.countStored(ev.Topic, duplicate, err)
	}
	return duplicate, err
}

// What became of a delivery, as counted (ShopifyWebhooks.Counted).
const (
	// ReceiptIgnored: order news that asks nothing of the app; not stored.
	ReceiptIgnored = "ignored"
	// ReceiptProcessed: processed in its request and not stored, having
	// nothing left to do (ProcessFirstTopics).
	ReceiptProcessed = "processed"
	// ReceiptStored: stored, for its request or a job to process.
	ReceiptStored = "stored"
	// ReceiptDuplicate: a redelivery of a stored delivery.
	ReceiptDuplicate = "duplicate"
)

// count reports what became of a delivery of topic to Counted, if set.
func (w *ShopifyWebhooks) count(topic, receipt string) {
	if w.Counted != nil {
		w.Counted(topic, receipt)
	}
}

// countStored counts a delivery the store has taken (or found a duplicate of).
func (w *ShopifyWebhooks) countStored(topic string, duplicate bool, err error) {
	switch {
	case err != nil:
	case duplicate:
		w.count(topic, ReceiptDuplicate)
	default:
		w.count(topic, ReceiptStored)
	}
}

// orderNoise asks the order side whether a delivery of an order topic
// asks nothing of the app (OrderNoise), and with what outcome.
func (w *ShopifyWebhooks) orderNoise(ev *app.WebhookEvent) (string, bool) {
	noise, ok := w.Orders.(OrderNoise)
	if !ok || !slices.Contains(OrderTopics, ev.Topic) {
		return "", false
	}
	return noise.IgnoredOrderWebhook(ev)
}

// receiveProcessed processes a delivery of ProcessFirstTopics with the shop
// row just read. When that succeeds there is nothing left to do and
// nothing is stored (a redelivery is processed again: see
// ProcessFirstTopics for why that is safe, and cheap: within the
// coalescing window a refresh asked for again is refused by River's unique
// insert, and a stock refresh is not even tried again by this process; a
// products/delete again finds nothing to delete). When it fails, the
// delivery is stored unprocessed in one statement, its payload kept and
// claimed for InlineClaim, after which the sweep hands it to a job, as
// receiveInline leaves a delivery whose processing failed.
func (w *ShopifyWebhooks) receiveProcessed(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) (duplicate bool, err error) {
	_, perr := w.handleInline(ctx, sh, ev)
	if perr == nil {
		w.count(ev.Topic, ReceiptProcessed)
		return false, nil
	}
	// What failed is recorded even if Shopify has stopped waiting: it is
	// then left for the sweep rather than to Shopify's retry.
	ctx = context.WithoutCancel(ctx)
	w.Logger.WarnContext(ctx, "webhook not processed inline: a job will", "shop", ev.Shop, "topic", ev.Topic,
		"webhook_id", ev.WebhookID, "err", perr, "after", InlineClaim)
	until := w.Now().Add(InlineClaim)
	ev.ClaimedUntil = &until
	_, duplicate, err = w.Store.InsertWebhookEvent(ctx, *ev)
	w.countStored(ev.Topic, duplicate, err)
	return duplicate, wrapErr("receive webhook", err)
}

// handleInline does what a delivery of ProcessFirstTopics asks, within the
// request's processing budget (inlineContext).
func (w *ShopifyWebhooks) handleInline(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) (string, error) {
	ctx, cancel := inlineContext(ctx, sh)
	defer cancel()
	outcome, err := w.Shopify.handleWebhook(ctx, ev, w.Catalog)
	if err != nil {
		return "", fmt.Errorf("process webhook %s (%s): %w", ev.WebhookID, ev.Topic, err)
	}
	return outcome, nil
}

// receiveInline stores a delivery claimed by this request, then processes
// it (processInline), unless it is a duplicate.
func (w *ShopifyWebhooks) receiveInline(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) (duplicate bool, err error) {
	until := w.Now().Add(InlineClaim)
	ev.ClaimedUntil = &until
	id, dup, err := w.Store.InsertWebhookEvent(ctx, *ev)
	w.countStored(ev.Topic, dup, err)
	if err != nil || dup {
		return dup, wrapErr("receive webhook", err)
	}
	ev.ID = id
	w.processInline(ctx, sh, ev)
	return false, nil
}

// processInline processes a delivery just stored and claimed by this
// request, within InlineBudget, whether or not Shopify is still waiting.
func (w *ShopifyWebhooks) processInline(ctx context.Context, sh *app.Shop, ev *app.WebhookEvent) {
	ctx, cancel := inlineContext(ctx, sh)
	defer cancel()
	if err := w.Shopify.process(ctx, ev, w.Catalog, w.Orders); err != nil {
		w.Logger.WarnContext(ctx, "webhook not processed inline: a job will", "shop", ev.Shop, "topic", ev.Topic,
			"webhook_id", ev.WebhookID, "err", err, "after", InlineClaim)
	}
}

// inlineContext is the context of a delivery's processing in the request
// that received it: bounded by InlineBudget, not canceled with the request
// (Shopify may stop waiting), and carrying the shop row the request has
// just read (app.WithShop).
func inlineContext(ctx context.Context, sh *app.Shop) (context.Context, context.CancelFunc) {
	return context.WithTimeout(app.WithShop(context.WithoutCancel(ctx), sh), InlineBudget)
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
