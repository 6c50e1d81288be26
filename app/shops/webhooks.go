package shops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// Webhook topics the app subscribes to in shopify.app.toml.
const (
	TopicAppUninstalled       = "app/uninstalled"
	TopicAppScopesUpdate      = "app/scopes_update"
	TopicCustomersDataRequest = "customers/data_request"
	TopicCustomersRedact      = "customers/redact"
	TopicShopRedact           = "shop/redact"
)

// ComplianceTopics are Shopify's mandatory privacy webhooks. They arrive
// for shops that uninstalled too (shop/redact comes 48 hours after).
var ComplianceTopics = []string{TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact}

func isComplianceTopic(t string) bool { return slices.Contains(ComplianceTopics, t) }

// WebhookTopics lists every topic the app accepts. Keep it equal to the
// subscriptions in shopify.app.toml (a test checks).
var WebhookTopics = []string{
	TopicAppUninstalled, TopicAppScopesUpdate,
	"products/create", "products/update", "products/delete", "inventory_levels/update", "bulk_operations/finish",
	"orders/updated", "orders/cancelled", "fulfillments/create", "fulfillments/update", "refunds/create",
	TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact,
	// An agent's checkout handed to Shopify's checkout comes back as an
	// order (app/orderevents' handoff.go).
	shopify.TopicOrdersCreate, shopify.TopicOrdersPaid, shopify.TopicDraftOrdersUpdate,
}

// WebhookFilters are the delivery filters of shopify.app.toml's
// subscriptions, by topic (a test keeps them equal; the emulator applies
// them as Shopify does). orders/create and orders/paid matter to the app
// only for an order of an agent's checkout at Shopify, which carries the
// handoff's note attribute (app/orderevents' handoff.go): Shopify sends
// no other, so neither the app's own orderCreate orders (two deliveries a
// purchase) nor the shop's other orders reach the app. One that does
// anyway (a subscription made without the filter) is still told apart and
// ignored without being stored (OrderNoise).
var WebhookFilters = map[string]string{
	shopify.TopicOrdersCreate: HandoffOrderFilter,
	shopify.TopicOrdersPaid:   HandoffOrderFilter,
}

// HandoffOrderFilter passes an order with the handoff's note attribute
// (checkout.HandoffAttribute; a test checks the name), in Shopify's
// search syntax over the webhook payload.
const HandoffOrderFilter = "note_attributes.name:acpbridge_session"

// MaxWebhookBody bounds a webhook body. Shopify documents no ceiling for
// HTTPS deliveries; it caps its EventBridge deliveries at 1,000,000 bytes
// (larger payloads arrive there as a bare {"id":…}), and its staff speak of
// bodies "upwards of a megabyte". The largest catalog payload, a product
// with Shopify's maximum of 2,048 variants, measures 1.5 MB in the
// emulator's REST shape (long titles and SKUs), so 4 MiB leaves room
// without letting a stranger make us hold 8.
const MaxWebhookBody = 4 << 20

// WebhookMaxAge is how old a delivery's X-Shopify-Triggered-At may be. A
// processed delivery's row, which is what recognises a redelivery, is kept
// for WebhookRetention; a delivery older than that could be replayed once
// its row is gone. Shopify retries for 4 hours, so a day less than the
// retention (clock skew between Shopify and us included) refuses nothing
// Shopify sends.
const WebhookMaxAge = app.WebhookRetention - 24*time.Hour

// ErrWebhookTooLarge refuses a body over MaxWebhookBody (HTTP 413).
var ErrWebhookTooLarge = &app.Error{Code: app.CodeInvalid, Field: "body", Message: "webhook body is larger than " + strconv.Itoa(MaxWebhookBody) + " bytes"}

// WebhookDelivery is one POST from Shopify, as received.
type WebhookDelivery struct {
	Topic       string // X-Shopify-Topic
	Shop        string // X-Shopify-Shop-Domain
	WebhookID   string // X-Shopify-Webhook-Id
	EventID     string // X-Shopify-Event-Id
	APIVersion  string // X-Shopify-API-Version
	TriggeredAt string // X-Shopify-Triggered-At
	HMAC        string // X-Shopify-Hmac-Sha256
	// Body is read by ReceiveWebhook, at most MaxWebhookBody bytes.
	Body io.Reader
	// ContentLength is the request's declared length, -1 when unknown.
	ContentLength int64
}

var errBadWebhookHMAC = &app.Error{Code: app.CodeUnauthorized, Field: "X-Shopify-Hmac-Sha256", Message: "webhook signature is missing or does not match"}

// ReceiveWebhook verifies a delivery and stores it with its processing job
// in one transaction, answering fast (Shopify waits 5 s at most). Work is
// bounded before it is spent: a missing or malformed signature header, or
// a declared length over MaxWebhookBody, is refused before the body is
// read; the HMAC is computed while the body is read, at most
// MaxWebhookBody bytes, and checked before anything is parsed. A
// redelivery (same webhook id, or the same event of the same shop and
// topic) is acknowledged and not stored again. ShopifyWebhooks'
// ReceiveWebhook processes the cheap topics in the request instead.
func (s *Shopify) ReceiveWebhook(ctx context.Context, d WebhookDelivery) (duplicate bool, err error) {
	_, ev, err := s.checkDelivery(ctx, d)
	if err != nil || ev == nil {
		return false, err
	}
	return s.storeWithJob(ctx, ev)
}

// storeWithJob stores a delivery and enqueues its shopify_webhook job, in
// one transaction; a duplicate is neither stored nor enqueued.
func (s *Shopify) storeWithJob(ctx context.Context, ev *app.WebhookEvent) (duplicate bool, err error) {
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		id, dup, err := s.Store.InsertWebhookEvent(ctx, *ev)
		if err != nil || dup {
			duplicate = dup
			return err
		}
		return s.Queue.EnqueueTx(ctx, app.ProcessWebhookArgs{EventID: id}, nil)
	})
	if err != nil {
		return false, fmt.Errorf("receive webhook: %w", err)
	}
	return duplicate, nil
}

// wrapErr prefixes a non-nil error with what failed.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkDelivery verifies a delivery and returns its shop and the event to
// store; a nil event (and error) is a delivery that is done (a privacy
// request for a shop we hold nothing of).
func (s *Shopify) checkDelivery(ctx context.Context, d WebhookDelivery) (*app.Shop, *app.WebhookEvent, error) {
	body, err := s.readWebhookBody(d)
	if err != nil {
		return nil, nil, err
	}
	if d.WebhookID == "" || len(d.WebhookID) > 200 {
		return nil, nil, &app.Error{Code: app.CodeInvalid, Field: "X-Shopify-Webhook-Id", Message: "webhook id is required"}
	}
	if d.EventID == "" || len(d.EventID) > 200 {
		return nil, nil, &app.Error{Code: app.CodeInvalid, Field: "X-Shopify-Event-Id", Message: "event id is required"}
	}
	if !isWebhookTopic(d.Topic) {
		return nil, nil, &app.Error{Code: app.CodeInvalid, Field: "X-Shopify-Topic", Message: fmt.Sprintf("topic %q is not one the app subscribes to", d.Topic)}
	}
	shop, err := shopify.NormalizeShop(d.Shop)
	if err != nil {
		return nil, nil, &app.Error{Code: app.CodeInvalid, Field: "X-Shopify-Shop-Domain", Message: "shop must be a NAME.myshopify.com domain"}
	}
	triggered, err := s.checkTriggeredAt(d.TriggeredAt)
	if err != nil {
		return nil, nil, err
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, nil, &app.Error{Code: app.CodeInvalid, Field: "body", Message: "webhook body must be a JSON object"}
	}
	var payloadShopID int64
	if IsBoundTopic(d.Topic) {
		if payloadShopID, err = checkBoundPayload(d.Topic, shop, trimmed); err != nil {
			s.Logger.WarnContext(ctx, "webhook refused: its body does not fit its topic and shop",
				"shop", shop, "topic", d.Topic, "webhook_id", d.WebhookID, "err", err)
			return nil, nil, err
		}
	}

	// Up to a few seconds old (store.AuthCacheTTL): a delivery for a shop
	// uninstalled meanwhile on another replica is taken as if it had come
	// before the uninstall; a shop not active is read as committed.
	sh, err := s.Store.CachedShopByDomain(ctx, shop)
	switch {
	case errors.Is(err, app.ErrNotFound):
		if isComplianceTopic(d.Topic) {
			// We never held anything for this shop: the request is done.
			s.Logger.InfoContext(ctx, "compliance webhook for a shop we hold nothing of", "shop", shop, "topic", d.Topic)
			return nil, nil, nil
		}
		return nil, nil, &app.Error{Code: app.CodeNotFound, Field: "X-Shopify-Shop-Domain", Message: "the app is not installed on this shop"}
	case err != nil:
		return nil, nil, fmt.Errorf("receive webhook: %w", err)
	case sh.Status == app.ShopUninstalled && !isComplianceTopic(d.Topic) && d.Topic != TopicAppUninstalled:
		return nil, nil, &app.Error{Code: app.CodeNotFound, Field: "X-Shopify-Shop-Domain", Message: "the app is no longer installed on this shop"}
	case IsBoundTopic(d.Topic) && !shopIDMatches(sh, payloadShopID):
		s.Logger.WarnContext(ctx, "webhook refused: its body names another shop id", "shop", shop, "topic", d.Topic, "webhook_id", d.WebhookID)
		return nil, nil, errShopMismatch(d.Topic)
	}

	return sh, &app.WebhookEvent{
		WebhookID: d.WebhookID, Shop: shop, Topic: d.Topic, EventID: d.EventID,
		APIVersion: d.APIVersion, TriggeredAt: &triggered, Payload: trimmed,
	}, nil
}

// readWebhookBody reads a delivery's body only when it may be Shopify's: a
// signature header that cannot be an HMAC-SHA256 (401) or a declared
// length over MaxWebhookBody (413) is refused unread. The HMAC is computed
// as the body is read (one pass, no second hashing), so a body that is
// not signed with our secret is known as soon as it ends.
func (s *Shopify) readWebhookBody(d WebhookDelivery) ([]byte, error) {
	got, ok := shopify.ParseWebhookHMAC(d.HMAC)
	if !ok {
		return nil, errBadWebhookHMAC
	}
	if d.ContentLength > MaxWebhookBody {
		return nil, ErrWebhookTooLarge
	}
	if d.Body == nil {
		d.Body = bytes.NewReader(nil)
	}
	mac := shopify.NewWebhookMAC(append([]string{s.ClientSecret}, s.PreviousSecrets...)...)
	body, err := readAtMost(io.TeeReader(d.Body, mac), d.ContentLength, MaxWebhookBody)
	switch {
	case errors.Is(err, ErrWebhookTooLarge):
		return nil, err
	case err != nil:
		return nil, &app.Error{Code: app.CodeInvalid, Field: "body", Message: "could not read the body"}
	case !mac.Verify(got):
		return nil, errBadWebhookHMAC
	}
	return body, nil
}

// readAtMost reads r to its end, failing with ErrWebhookTooLarge past limit
// bytes. The buffer grows with what arrives, not with what the sender
// announced (a declared 4 MiB that never comes costs little), and never
// beyond limit+1 bytes.
func readAtMost(r io.Reader, declared int64, limit int) ([]byte, error) {
	buf := make([]byte, 0, min(max(declared, 0), 64<<10)+1)
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return nil, ErrWebhookTooLarge
			}
			grown := make([]byte, len(buf), min(2*cap(buf)+512, limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return nil, ErrWebhookTooLarge
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// checkTriggeredAt reads X-Shopify-Triggered-At, which Shopify sends with
// every delivery, and refuses a delivery older than WebhookMaxAge: its
// webhook id may have been forgotten, so it could act twice. The header is
// not signed; this bounds replays of deliveries sent as they were, and the
// checks on the signed body do the rest.
func (s *Shopify) checkTriggeredAt(h string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(h))
	if err != nil {
		return time.Time{}, &app.Error{Code: app.CodeInvalid, Field: "X-Shopify-Triggered-At", Message: "X-Shopify-Triggered-At is required, as an RFC 3339 time"}
	}
	if age := s.Now().Sub(t); age > WebhookMaxAge {
		return time.Time{}, &app.Error{Code: app.CodeInvalid, Field: "X-Shopify-Triggered-At",
			Message: fmt.Sprintf("the delivery was triggered %s ago, more than the %s after which deliveries are no longer recognised as redeliveries", age.Round(time.Minute), WebhookMaxAge)}
	}
	return t.UTC(), nil
}

func isWebhookTopic(t string) bool { return slices.Contains(WebhookTopics, t) }

// ProcessWebhook acts on a stored delivery, once: a delivery already
// processed is skipped, so a retried job does no harm. Only the connection's
// own topics (uninstall, privacy requests) are acted on here; catalog and
// order topics are only recorded: ShopifyWebhooks acts on them.
func (s *Shopify) ProcessWebhook(ctx context.Context, eventID int64) error {
	return s.processWebhook(ctx, eventID, nil, nil)
}

// OrderWebhooks acts on Shopify's news of the orders the app wrote for
// agents (orderevents.Service.OrderWebhook): it makes its external calls (each
// safe to repeat) and returns what was done and what to record, which is
// committed with the delivery's outcome.
type OrderWebhooks interface {
	OrderWebhook(ctx context.Context, ev *app.WebhookEvent) (outcome string, record func(ctx context.Context) error, err error)
}

// OrderNoise is OrderWebhooks that can tell from a delivery's payload
// alone that it asks nothing of the app (news of an order the app has no
// part in, such as the orders/create Shopify sends for the app's own
// orderCreate): such a delivery is answered at once and not stored; the
// outcome given is logged at debug level (orderevents.Service).
type OrderNoise interface {
	IgnoredOrderWebhook(ev *app.WebhookEvent) (outcome string, ignored bool)
}

// ShopifyWebhooks is what the Shopify jobs run (process_webhook,
// shop_installed): the connection's own topics, and Shopify's news passed
// on to the capabilities that react to it, the catalog (installs, product,
// inventory and bulk-operation webhooks) and orders. It is built after
// them, so the connection itself (which they call) needs no pointer back.
type ShopifyWebhooks struct {
	*Shopify
	Catalog CatalogEvents
	Orders  OrderWebhooks
	// Counted, when set, hears what became of each delivery
	// ReceiveWebhook took: its topic and one of the Receipt values.
	Counted func(topic, receipt string)
}

// NewWebhooks builds what the Shopify jobs run over the connection and the
// capabilities that hear of Shopify's news.
func NewWebhooks(s *Shopify, catalog CatalogEvents, orders OrderWebhooks) *ShopifyWebhooks {
	return &ShopifyWebhooks{Shopify: s, Catalog: catalog, Orders: orders}
}

// ProcessWebhook acts on a stored delivery, once (see Shopify.ProcessWebhook).
func (w *ShopifyWebhooks) ProcessWebhook(ctx context.Context, eventID int64) error {
	return w.Shopify.processWebhook(ctx, eventID, w.Catalog, w.Orders)
}

// AfterInstall fetches what Shopify says of a newly installed shop (name,
// currency, country, storefront and policy URLs), saves it and hands it to
// the catalog, which sets the feed's defaults and starts the first sync.
func (w *ShopifyWebhooks) AfterInstall(ctx context.Context, shop string) error {
	p, err := w.saveShopDetails(ctx, shop)
	if err != nil || p == nil || w.Catalog == nil {
		return err
	}
	return w.Catalog.Installed(ctx, shop, *p)
}

// OrderTopics are the webhook topics about orders.
var OrderTopics = []string{"orders/updated", "orders/cancelled", "fulfillments/create", "fulfillments/update", "refunds/create",
	shopify.TopicOrdersCreate, shopify.TopicOrdersPaid, shopify.TopicDraftOrdersUpdate}

// processWebhook is a shopify_webhook job: it claims the delivery (so
// that no one else processes it meanwhile) and processes it. A delivery
// claimed elsewhere is looked at again when that claim ends (app.Claimed);
// a failure gives the claim back to the job, which River retries.
func (s *Shopify) processWebhook(ctx context.Context, eventID int64, catalog CatalogEvents, orders OrderWebhooks) error {
	now := s.Now()
	ev, claimed, err := s.Store.ClaimWebhookEvent(ctx, eventID, now, now.Add(JobClaim))
	if errors.Is(err, app.ErrNotFound) {
		return nil // deleted by a shop/redact meanwhile
	}
	if err != nil || ev.ProcessedAt != nil {
		return err
	}
	if !claimed {
		return &app.Claimed{Until: *ev.ClaimedUntil}
	}
	if err := s.process(ctx, ev, catalog, orders); err != nil {
		if rerr := s.Store.ReleaseWebhookEvent(context.WithoutCancel(ctx), ev.ID); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return nil
}

// process acts on a stored, unprocessed delivery held by the caller and
// records that it was (or, deferred, when it is looked at again).
func (s *Shopify) process(ctx context.Context, ev *app.WebhookEvent, catalog CatalogEvents, orders OrderWebhooks) error {
	if ev.Topic == TopicAppUninstalled {
		// Shopify is asked first, outside the transaction.
		return s.processUninstall(ctx, ev)
	}
	if ev.Topic == TopicAppScopesUpdate {
		// Shopify is asked first, outside the transaction (scopes.go).
		return s.processScopesUpdate(ctx, ev)
	}
	if orders != nil && slices.Contains(OrderTopics, ev.Topic) {
		// Stripe and Shopify are called outside the transaction; what
		// they lead to is recorded with the outcome. An order's news is
		// the money path (a purchase paid at Shopify's checkout completes
		// its session here; refunds move money): its Shopify calls go
		// ahead of quotes and background work when the budget is low.
		ctx := shopify.WithPriority(ctx, shopify.PriorityMoney)
		outcome, record, err := orders.OrderWebhook(ctx, ev)
		var later *app.WebhookDeferred
		if errors.As(err, &later) {
			return s.Store.InTx(ctx, func(ctx context.Context) error {
				if err := s.Queue.EnqueueTx(ctx, app.ProcessWebhookArgs{EventID: ev.ID}, &river.InsertOpts{ScheduledAt: later.Until}); err != nil {
					return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
				}
				return s.Store.NoteWebhookEvent(ctx, ev.ID, app.Truncate(outcome, 1000))
			})
		}
		if err != nil {
			return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
		}
		return s.Store.InTx(ctx, func(ctx context.Context) error {
			if record != nil {
				if err := record(ctx); err != nil {
					return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
				}
			}
			return s.Store.FinishWebhookEvent(ctx, ev.ID, app.Truncate(outcome, 1000))
		})
	}
	if slices.Contains(InlineTopics, ev.Topic) {
		// The catalog's handling is safe to repeat (a refresh enqueued
		// again coalesces, a deleted product stays deleted): it commits
		// on its own, then the record; a crash in between redoes it.
		outcome, err := s.handleWebhook(ctx, ev, catalog)
		if err != nil {
			return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
		}
		return s.Store.FinishWebhookEvent(ctx, ev.ID, outcome)
	}
	// The handling and the record that it was done commit together: a
	// crash in between makes the retried job redo it, not skip it.
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		outcome, err := s.handleWebhook(ctx, ev, catalog)
		var later *webhookDeferred
		if errors.As(err, &later) {
			// Not yet: the delivery stays unprocessed and is looked at
			// again then, in the same transaction as this note.
			if err := s.Queue.EnqueueTx(ctx, app.ProcessWebhookArgs{EventID: ev.ID}, &river.InsertOpts{ScheduledAt: later.until}); err != nil {
				return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
			}
			return s.Store.NoteWebhookEvent(ctx, ev.ID, app.Truncate(outcome, 1000))
		}
		if err != nil {
			return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
		}
		return s.Store.FinishWebhookEvent(ctx, ev.ID, outcome)
	})
}

// webhookDeferred is what handleWebhook returns for a delivery it acts on
// only later (a shop/redact before the shop has been uninstalled for
// ShopRedactDelay): the job is scheduled again for until.
type webhookDeferred struct{ until time.Time }

func (d *webhookDeferred) Error() string { return "deferred until " + d.until.Format(time.RFC3339) }

// webhookIDs is the part of catalog webhook payloads the app reads.
type webhookIDs struct {
	ID              json.Number `json:"id"`
	InventoryItemID json.Number `json:"inventory_item_id"`
	AdminGraphQLID  string      `json:"admin_graphql_api_id"`
}

// handleWebhook does what a delivery asks and says what was done.
func (s *Shopify) handleWebhook(ctx context.Context, ev *app.WebhookEvent, catalog CatalogEvents) (string, error) {
	var ids webhookIDs
	dec := json.NewDecoder(bytes.NewReader(ev.Payload))
	dec.UseNumber()
	_ = dec.Decode(&ids) // shapes are checked per topic below
	num := func(n json.Number) (int64, bool) {
		v, err := n.Int64()
		return v, err == nil && v > 0
	}
	switch ev.Topic {
	case TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact:
		return s.handleCompliance(ctx, ev)
	case "orders/updated", "orders/cancelled", "fulfillments/create", "fulfillments/update", "refunds/create":
		// Without ShopifyWebhooks' Orders, nothing acts on orders.
		return "ignored: no order handling", nil
	}
	if catalog == nil {
		return "ignored: no catalog", nil
	}
	switch ev.Topic {
	case "products/create", "products/update":
		id, ok := num(ids.ID)
		if !ok {
			return "rejected: payload has no product id", nil
		}
		return "product refresh enqueued", catalog.ProductChanged(ctx, ev.Shop, id)
	case "products/delete":
		id, ok := num(ids.ID)
		if !ok {
			return "rejected: payload has no product id", nil
		}
		return "product removed from the catalog", catalog.ProductDeleted(ctx, ev.Shop, id)
	case "inventory_levels/update":
		id, ok := num(ids.InventoryItemID)
		if !ok {
			return "rejected: payload has no inventory_item_id", nil
		}
		return "inventory change handled", catalog.InventoryChanged(ctx, ev.Shop, id)
	case "bulk_operations/finish":
		if ids.AdminGraphQLID == "" {
			return "rejected: payload has no admin_graphql_api_id", nil
		}
		return "bulk operation check enqueued", catalog.BulkFinished(ctx, ev.Shop, ids.AdminGraphQLID)
	}
	return "ignored", nil
}
