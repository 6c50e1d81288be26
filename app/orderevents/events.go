package orderevents

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// Order events keep the shop's agent told of what becomes of its orders:
// order_create when a completion finishes, order_update when Shopify
// reports a shipment, a refund or a cancellation. Each event is stored
// with the exact body sent (the full order, in the session's ACP version)
// and a delivery job in one transaction; the job POSTs it signed to the
// shop's webhook URL and River retries with backoff until the agent
// answers 2xx. Every attempt is kept.
//
// Refunds and cancellations made in Shopify also move the money: the
// payment (e.g. Stripe's PaymentIntent) of the agent's order is refunded by
// what Shopify refunded (the provider's idempotency key comes from Shopify's refund id, so
// a webhook processed twice refunds once), and a cancellation gives back
// what is still captured, or releases an uncaptured authorisation.

// Agent event delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Event is one order event for the shop's agent.
type Event struct {
	ID         int64
	ShopID     int64
	SessionID  string
	Type       string // acp.EventOrderCreate or acp.EventOrderUpdate
	APIVersion acp.Version
	// Body is the exact JSON sent.
	Body        []byte
	Status      string
	Attempts    int
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt *time.Time
}

// Attempt is one delivery attempt.
type Attempt struct {
	ID          int64
	EventID     int64
	AttemptedAt time.Time
	// StatusCode is the receiver's HTTP status, 0 when none came.
	StatusCode int
	Error      string
	Duration   time.Duration
}

// Store is what order events need of the database.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	CheckoutSession(ctx context.Context, shopID int64, id string) (*checkout.Session, error)
	CheckoutPayment(ctx context.Context, sessionID string) (*checkout.Payment, error)
	// CheckoutPaymentByOrder finds the payment of the agent order with
	// this Shopify order GID, or ErrNotFound.
	CheckoutPaymentByOrder(ctx context.Context, shopID int64, orderID string) (*checkout.Payment, error)
	checkout.PaymentCredentialStore
	// InsertAgentEvent stores ev (setting its ID); false when it would be
	// a session's second order_create (nothing is stored).
	InsertAgentEvent(ctx context.Context, ev *Event) (bool, error)
	AgentEvent(ctx context.Context, id int64) (*Event, error)
	// RecordAgentEventAttempt keeps an attempt and sets the event's
	// status, attempts (+1), last status and error, and delivered_at when
	// delivered.
	RecordAgentEventAttempt(ctx context.Context, a Attempt, status string) error
	// FailAgentEvent marks an event failed without an attempt.
	FailAgentEvent(ctx context.Context, id int64, lastError string) error
	AgentEvents(ctx context.Context, shopID int64, sessionID string) ([]*Event, error)
	AgentEventAttempts(ctx context.Context, eventID int64) ([]Attempt, error)
}

// Service sends order events to the shop's agent and moves the money
// of Shopify refunds and cancellations back through the shop's payment
// provider.
//
// HTTP sends the events; it must dial through the outbound policy and not
// follow redirects (nil: the strictest policy's client).
type Service struct {
	Store  Store
	Keys   *secret.Keyring
	HTTP   *http.Client
	Queue  app.Enqueuer
	Logger *slog.Logger
	Now    func() time.Time
	// Shopify reads orders (shopify.GetOrder); Payments refunds through
	// the shop's payment provider.
	Shopify  shopify.Querier
	Payments checkout.PaymentProviders
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
}

// DeliverArgs delivers one order event (Service.Deliver).
type DeliverArgs struct {
	EventID int64 `json:"event_id"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "agent_event_deliver" }

// MaxAttempts is how many times an event is tried before it is
// marked failed (River's backoff spreads them over about three days).
const MaxAttempts = 20

// InsertOpts: retried with backoff, MaxAttempts times.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MaxAttempts}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ---------------------------------------------------------------------------
// Signatures

// SignatureWindow is how far a Merchant-Signature's timestamp may
// be from the receiver's clock.
const SignatureWindow = 300 * time.Second

// Sign is the Merchant-Signature header of an order event body:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>", the
// secret being the webhook secret as shown to the merchant, as bytes.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a Merchant-Signature header against the body, as
// an agent receiving order events does: the format, a timestamp within
// SignatureWindow of now, and the HMAC (compared in constant
// time).
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	tPart, vPart, ok := strings.Cut(header, ",")
	ts, tok := strings.CutPrefix(tPart, "t=")
	sig, vok := strings.CutPrefix(vPart, "v1=")
	if !ok || !tok || !vok || ts == "" || len(sig) != 64 || strings.Trim(ts, "0123456789") != "" {
		return errors.New("Merchant-Signature must be t=<unix seconds>,v1=<64 hex digits>")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("Merchant-Signature timestamp is not a number")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureWindow || d < -SignatureWindow {
		return errors.New("Merchant-Signature timestamp is outside the allowed window")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return errors.New("Merchant-Signature v1 is not hex")
	}
	want, _ := hex.DecodeString(mac(secret, ts, body))
	if !hmac.Equal(got, want) {
		return errors.New("Merchant-Signature does not verify")
	}
	return nil
}

// ---------------------------------------------------------------------------
// Emitting

// Emit records an order event of the session's order (eventType
// acp.EventOrderCreate or acp.EventOrderUpdate) with its delivery job, in
// one transaction. The order is read from the session, its payment and
// Shopify's order (fulfillments, refunds, cancellation). A second
// order_create of a session is not recorded.
func (s *Service) Emit(ctx context.Context, shopID int64, sessionID, eventType string) error {
	sh, err := s.Store.ShopByID(ctx, shopID)
	if err != nil {
		return err
	}
	cs, err := s.Store.CheckoutSession(ctx, shopID, sessionID)
	if err != nil {
		return err
	}
	p, err := s.Store.CheckoutPayment(ctx, sessionID)
	if err != nil {
		return err
	}
	if p.OrderID == "" {
		return fmt.Errorf("order event: session %s has no order", sessionID)
	}
	so, err := shopify.GetOrder(ctx, s.Shopify, sh.Domain, p.OrderID)
	if err != nil {
		return err
	}
	ev, err := s.prepare(cs, p, so, eventType)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error { return s.record(ctx, ev) })
}

// OrderCreated records the order_create event of a session whose
// completion just finished, in the transaction ctx carries (the one that
// moves the session to completed: so the event exists exactly when the
// completed session does). Shopify is not asked: the order is brand new.
func (s *Service) OrderCreated(ctx context.Context, cs *checkout.Session, p *checkout.Payment) error {
	ev, err := s.prepare(cs, p, nil, acp.EventOrderCreate)
	if err != nil {
		return err
	}
	return s.Store.InTx(ctx, func(ctx context.Context) error { return s.record(ctx, ev) })
}

// prepare encodes the event in the session's version.
func (s *Service) prepare(cs *checkout.Session, p *checkout.Payment, so *shopify.Order, eventType string) (*Event, error) {
	o, err := buildOrder(cs, p, so)
	if err != nil {
		return nil, fmt.Errorf("order event of %s: %w", cs.ID, err)
	}
	v := cs.Version
	if _, ok := acp.ParseVersion(string(v)); !ok {
		v = acp.V20260417
	}
	body, err := acp.EncodeOrderEvent(v, eventType, o)
	if err != nil {
		return nil, fmt.Errorf("order event of %s: %w", cs.ID, err)
	}
	return &Event{ShopID: cs.ShopID, SessionID: cs.ID, Type: eventType, APIVersion: v, Body: body,
		Status: Pending, CreatedAt: s.now()}, nil
}

// record stores the event and enqueues its delivery (inside ctx's
// transaction).
func (s *Service) record(ctx context.Context, ev *Event) error {
	ok, err := s.Store.InsertAgentEvent(ctx, ev)
	if err != nil || !ok {
		return err
	}
	return s.Queue.EnqueueTx(ctx, DeliverArgs{EventID: ev.ID}, nil)
}

// buildOrder is the protocol's order of a completed session: its lines and
// totals from the session, and, when Shopify's order is given, what was
// shipped, refunded or cancelled since.
func buildOrder(cs *checkout.Session, p *checkout.Payment, so *shopify.Order) (*acp.Order, error) {
	view := cs.View()
	totals, err := view.Totals()
	if err != nil {
		return nil, err
	}
	o := &acp.Order{ID: p.OrderID, CheckoutSessionID: cs.ID, PermalinkURL: orderPermalink(cs, p), OrderNumber: p.OrderName,
		Status: acp.OrderStatusConfirmed, Totals: totals}
	byVariant := addOrderLines(o, view)
	if so == nil {
		return o, nil
	}
	currency := strings.ToLower(cs.Currency)
	lineOf := matchShopifyLines(o, so, byVariant)
	shipped := addFulfillments(o, so, lineOf, fulfillmentKind(cs))
	allFulfilled, anyCurrent := setLineStatuses(o, shipped.fulfilled)
	refunded, err := addRefunds(o, cs, so, lineOf, currency)
	if err != nil {
		return nil, err
	}
	if so.CancelledAt != nil {
		refunded += addCancellation(o, p, so, refunded, currency)
	} else if shipped.live > 0 {
		o.Status = shippedStatus(allFulfilled && anyCurrent, shipped.delivered == shipped.live)
	}
	if refunded > 0 {
		addRefundedTotal(o, totals, refunded)
	}
	return o, nil
}

// orderPermalink is the order's status page: the one the payment recorded,
// else the one the session's state kept.
func orderPermalink(cs *checkout.Session, p *checkout.Payment) string {
	permalink := p.OrderStatusURL
	if permalink == "" && cs.State.Order != nil {
		permalink = cs.State.Order.StatusURL
	}
	return permalink
}

// addOrderLines appends the session's lines to o, all still processing, and
// returns each line's index by variant GID (to match Shopify's lines).
func addOrderLines(o *acp.Order, view *acp.Session) map[string]int {
	byVariant := map[string]int{} // variant GID → index in o.LineItems
	for i, l := range view.LineItems {
		li := acp.OrderLineItem{ID: l.ID, Title: l.Name, ProductID: l.ProductID, Ordered: l.Quantity, Current: l.Quantity,
			UnitPrice: l.UnitAmount, Subtotal: l.UnitAmount * int64(l.Quantity), Status: "processing"}
		if len(l.Images) > 0 {
			li.ImageURL = l.Images[0]
		}
		if li.Title == "" {
			li.Title = "Item " + l.ItemID
		}
		o.LineItems = append(o.LineItems, li)
		byVariant["gid://shopify/ProductVariant/"+l.VariantID] = i
	}
	return byVariant
}

// matchShopifyLines maps Shopify's line IDs onto o's lines, by variant (the
// order was written from the session's lines, in order, so the position is
// the fallback), and takes each line's current quantity from Shopify.
func matchShopifyLines(o *acp.Order, so *shopify.Order, byVariant map[string]int) map[string]int {
	lineOf := map[string]int{}
	for i, sl := range so.LineItems {
		j, ok := byVariant[sl.VariantID]
		if !ok && i < len(o.LineItems) {
			j, ok = i, true
		}
		if ok {
			lineOf[sl.ID] = j
			if c := sl.CurrentQuantity; c >= 0 && c <= o.LineItems[j].Ordered {
				o.LineItems[j].Current = c
			}
		}
	}
	return lineOf
}

// lineRefs lists the quantities per line ID in the order of o's lines,
// leaving out the lines with none.
func lineRefs(o *acp.Order, lines map[string]int) []acp.LineItemRef {
	var out []acp.LineItemRef
	for j := range o.LineItems {
		if n := lines[o.LineItems[j].ID]; n > 0 {
			out = append(out, acp.LineItemRef{ID: o.LineItems[j].ID, Quantity: n})
		}
	}
	return out
}

// fulfillmentKind is how the session's goods reach the buyer.
func fulfillmentKind(cs *checkout.Session) acp.FulfillmentType {
	if !cs.State.Quote.NeedsShipping {
		return acp.FulfillmentDigital
	}
	return acp.FulfillmentShipping
}

// shipment sums up an order's fulfillments: live counts those neither
// cancelled nor failed, delivered those of them delivered, and fulfilled is
// the quantity they carry per line ID.
type shipment struct {
	live, delivered int
	fulfilled       map[string]int
}

// addFulfillments appends Shopify's fulfillments to o and sums them up.
func addFulfillments(o *acp.Order, so *shopify.Order, lineOf map[string]int, kind acp.FulfillmentType) shipment {
	s := shipment{fulfilled: map[string]int{}}
	for _, f := range so.Fulfillments {
		of := acp.OrderFulfillment{ID: f.ID, Type: kind, Status: fulfillmentStatus(f, kind)}
		if len(f.Tracking) > 0 {
			t := f.Tracking[0]
			of.Carrier, of.TrackingNumber = t.Company, t.Number
			if u, err := url.Parse(t.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				of.TrackingURL = t.URL
			}
		}
		lines := map[string]int{}
		for _, fl := range f.Lines {
			if j, ok := lineOf[fl.LineItemID]; ok && fl.Quantity > 0 {
				lines[o.LineItems[j].ID] += fl.Quantity
			}
		}
		of.LineItems = lineRefs(o, lines)
		if of.Status != acp.FulfillmentStatusCanceled && of.Status != acp.FulfillmentStatusFailed {
			s.live++
			if of.Status == acp.FulfillmentStatusDelivered {
				s.delivered++
			}
			for id, n := range lines {
				s.fulfilled[id] += n
			}
		}
		of.Events = fulfillmentEvents(f)
		o.Fulfillments = append(o.Fulfillments, of)
	}
	return s
}

// fulfillmentEvents are the steps a fulfillment has passed, each with a
// stable ID (the fulfillment's, with the step) so agents can deduplicate.
func fulfillmentEvents(f shopify.Fulfillment) []acp.FulfillmentEvent {
	var events []acp.FulfillmentEvent
	if !f.CreatedAt.IsZero() {
		events = append(events, acp.FulfillmentEvent{ID: f.ID + "#shipped", Type: "shipped", OccurredAt: f.CreatedAt})
	}
	if f.InTransitAt != nil {
		events = append(events, acp.FulfillmentEvent{ID: f.ID + "#in_transit", Type: "in_transit", OccurredAt: *f.InTransitAt})
	}
	if f.DeliveredAt != nil {
		events = append(events, acp.FulfillmentEvent{ID: f.ID + "#delivered", Type: "delivered", OccurredAt: *f.DeliveredAt})
	}
	return events
}

// setLineStatuses sets each line's fulfilled quantity and status, and says
// whether every line still ordered is fully fulfilled and whether any is.
func setLineStatuses(o *acp.Order, fulfilled map[string]int) (allFulfilled, anyCurrent bool) {
	allFulfilled = true
	for j := range o.LineItems {
		l := &o.LineItems[j]
		l.Fulfilled = min(fulfilled[l.ID], l.Current)
		switch {
		case l.Current == 0:
			l.Status = "removed"
			continue
		case l.Fulfilled == l.Current:
			l.Status = "fulfilled"
		case l.Fulfilled > 0:
			l.Status, allFulfilled = "partial", false
		default:
			allFulfilled = false
		}
		anyCurrent = true
	}
	return allFulfilled, anyCurrent
}

// addRefunds appends Shopify's refunds to o as adjustments and returns the
// amount refunded (the failed ones left out).
func addRefunds(o *acp.Order, cs *checkout.Session, so *shopify.Order, lineOf map[string]int, currency string) (int64, error) {
	var refunded int64
	for _, r := range so.Refunds {
		amount, err := app.ParseMoney(r.Total, cs.Currency)
		if err != nil {
			return 0, fmt.Errorf("refund %s: %w", r.ID, err)
		}
		adj := acp.OrderAdjustment{ID: r.ID, Type: acp.AdjustmentRefund, OccurredAt: r.CreatedAt, Status: refundStatus(r),
			Amount: amount, Currency: currency, Description: app.Truncate(r.Note, 500)}
		if adj.OccurredAt.IsZero() {
			adj.OccurredAt = so.UpdatedAt
		}
		lines := map[string]int{}
		for _, rl := range r.Lines {
			if j, ok := lineOf[rl.LineItemID]; ok && rl.Quantity > 0 {
				lines[o.LineItems[j].ID] += rl.Quantity
			}
		}
		adj.LineItems = lineRefs(o, lines)
		if adj.Status != acp.AdjustmentFailed {
			refunded += amount
		}
		o.Adjustments = append(o.Adjustments, adj)
	}
	return refunded, nil
}

// addCancellation marks o cancelled and appends the cancellation's
// adjustment; it returns what the cancellation itself gave back: the
// captured amount not already refunded.
func addCancellation(o *acp.Order, p *checkout.Payment, so *shopify.Order, refunded int64, currency string) int64 {
	o.Status = acp.OrderStatusCanceled
	var back int64
	if p.State == checkout.PaymentCompleted {
		back = max(0, p.Amount-refunded)
	}
	o.Adjustments = append(o.Adjustments, acp.OrderAdjustment{ID: so.ID + "#cancellation", Type: acp.AdjustmentCancellation,
		OccurredAt: *so.CancelledAt, Status: acp.AdjustmentCompleted, Amount: back, Currency: currency,
		Reason: strings.ToLower(so.CancelReason)})
	return back
}

// shippedStatus is the status of an order with live fulfillments: completed
// when every line is fulfilled and every fulfillment delivered, shipped when
// every line is fulfilled, else processing.
func shippedStatus(allFulfilled, allDelivered bool) string {
	switch {
	case allFulfilled && allDelivered:
		return acp.OrderStatusCompleted
	case allFulfilled:
		return acp.OrderStatusShipped
	default:
		return acp.OrderStatusProcessing
	}
}

// addRefundedTotal appends the amount refunded to o's totals, at most the
// order's total.
func addRefundedTotal(o *acp.Order, totals []acp.Total, refunded int64) {
	var total int64
	for _, t := range totals {
		if t.Type == acp.TotalTotal {
			total = t.Amount
		}
	}
	o.Totals = append(o.Totals, acp.Total{Type: acp.TotalAmountRefunded, DisplayText: "Refunded", Amount: min(refunded, total)})
}

// fulfillmentStatus maps a Shopify fulfillment onto the protocol's.
func fulfillmentStatus(f shopify.Fulfillment, kind acp.FulfillmentType) string {
	switch f.Status {
	case "CANCELLED":
		return acp.FulfillmentStatusCanceled
	case "ERROR", "FAILURE":
		return acp.FulfillmentStatusFailed
	}
	if f.DeliveredAt != nil || kind == acp.FulfillmentDigital {
		return acp.FulfillmentStatusDelivered
	}
	switch f.DisplayStatus {
	case "DELIVERED", "PICKED_UP":
		return acp.FulfillmentStatusDelivered
	case "IN_TRANSIT", "ATTEMPTED_DELIVERY", "DELAYED":
		return acp.FulfillmentStatusInTransit
	case "OUT_FOR_DELIVERY":
		return acp.FulfillmentStatusOutForDelivery
	case "FAILURE", "NOT_DELIVERED", "CARRIER_PICKED_UP_FAILED":
		return acp.FulfillmentStatusFailed
	}
	return acp.FulfillmentStatusShipped
}

// refundStatus is a Shopify refund's state by its refund transactions.
func refundStatus(r shopify.Refund) string {
	pending, failed, ok := false, false, false
	for _, t := range r.Transactions {
		switch t.Status {
		case "SUCCESS":
			ok = true
		case "PENDING", "AWAITING_RESPONSE":
			pending = true
		case "FAILURE", "ERROR":
			failed = true
		}
	}
	switch {
	case ok || !pending && !failed:
		return acp.AdjustmentCompleted
	case pending:
		return acp.AdjustmentPending
	}
	return acp.AdjustmentFailed
}

// ---------------------------------------------------------------------------
// Delivering

// Deliver POSTs a stored event, signed, to the shop's webhook URL and
// records the attempt: a 2xx answer delivers it; anything else is an error
// (the job retries with backoff). A shop without a webhook URL or secret
// fails the event at once, without retries.
func (s *Service) Deliver(ctx context.Context, eventID int64) error {
	ev, err := s.Store.AgentEvent(ctx, eventID)
	if errors.Is(err, app.ErrNotFound) {
		return nil // the shop was deleted
	}
	if err != nil {
		return err
	}
	if ev.Status != Pending {
		return nil
	}
	set, err := s.Store.ACPSettings(ctx, ev.ShopID)
	if err != nil && !errors.Is(err, app.ErrNotFound) {
		return err
	}
	if set == nil || set.WebhookURL == "" || set.WebhookSecretSealed == "" {
		msg := "no order-event webhook URL and secret are configured for the shop's agent"
		s.log(ctx, slog.LevelWarn, "agent event not sent", ev, "reason", msg)
		return s.Store.FailAgentEvent(ctx, ev.ID, msg)
	}
	secretBytes, err := s.Keys.Open(set.WebhookSecretSealed, app.WebhookSecretAAD(ev.ShopID))
	if err != nil {
		return fmt.Errorf("agent event %d: open the webhook secret: %w", ev.ID, err)
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	now := s.now()
	status, derr := s.post(rctx, set.WebhookURL, secretBytes, ev, now)
	att := Attempt{EventID: ev.ID, AttemptedAt: now, StatusCode: status, Duration: time.Since(start)}
	state := Pending
	if derr == nil {
		state = Delivered
	} else {
		att.Error = app.Truncate(derr.Error(), 500)
	}
	if err := s.Store.RecordAgentEventAttempt(context.WithoutCancel(ctx), att, state); err != nil {
		return err
	}
	if derr != nil {
		s.log(ctx, slog.LevelWarn, "agent event delivery failed", ev, "attempt", ev.Attempts+1, "status", status, "err", att.Error,
			"cause", sendCause(derr))
		return fmt.Errorf("agent event %d: %w", ev.ID, derr)
	}
	s.log(ctx, slog.LevelInfo, "agent event delivered", ev, "attempt", ev.Attempts+1, "status", status,
		"duration_ms", att.Duration.Milliseconds())
	return nil
}

// post sends one attempt and returns the receiver's status.
func (s *Service) post(ctx context.Context, target string, secret []byte, ev *Event, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ev.Body))
	if err != nil {
		return 0, errors.New("the webhook URL is not a valid URL")
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("Merchant-Signature", Sign(secret, now, ev.Body))
	h.Set("Request-Id", "acpb_evt_"+strconv.FormatInt(ev.ID, 10)+"_"+strconv.Itoa(ev.Attempts+1))
	h.Set("Timestamp", now.Format(time.RFC3339))
	h.Set("API-Version", string(ev.APIVersion))
	h.Set("User-Agent", "acpbridge/"+app.Version)
	client := s.HTTP
	if client == nil {
		client = (*netguard.Policy)(nil).Client(0, nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		// Not the url.Error itself: it would repeat the URL, which may
		// carry a credential.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, &sendError{shown: "no answer: " + delivery.Describe(err), cause: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A 3xx is not followed: the signed event goes to the configured
		// URL only, never to wherever it points.
		return resp.StatusCode, &sendError{shown: "the agent answered " + delivery.DescribeStatus(resp.StatusCode)}
	}
	return resp.StatusCode, nil
}

// sendError is a failed event delivery: shown is the class of failure
// (stored, and shown to the merchant), cause the full error for the
// server log.
type sendError struct {
	shown string
	cause error
}

func (e *sendError) Error() string { return e.shown }
func (e *sendError) Unwrap() error { return e.cause }

// sendCause is what the server log gets about a failed delivery.
func sendCause(err error) string {
	var se *sendError
	if errors.As(err, &se) && se.cause != nil {
		return se.cause.Error()
	}
	return ""
}

// GiveUp marks an event failed after its last attempt (the worker calls
// it when River will not retry again).
func (s *Service) GiveUp(ctx context.Context, eventID int64, cause error) error {
	ev, err := s.Store.AgentEvent(ctx, eventID)
	if errors.Is(err, app.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ev.Status != Pending {
		return nil
	}
	msg := ev.LastError
	if msg == "" && cause != nil {
		msg = app.Truncate(cause.Error(), 500)
	}
	s.log(ctx, slog.LevelError, "agent event failed for good", ev, "attempts", ev.Attempts)
	return s.Store.FailAgentEvent(ctx, eventID, "gave up after "+strconv.Itoa(ev.Attempts)+" attempts: "+msg)
}

// Events lists a session's order events, oldest first.
func (s *Service) Events(ctx context.Context, shopID int64, sessionID string) ([]*Event, error) {
	return s.Store.AgentEvents(ctx, shopID, sessionID)
}

func (s *Service) log(ctx context.Context, level slog.Level, msg string, ev *Event, attrs ...any) {
	if s.Logger == nil {
		return
	}
	s.Logger.Log(ctx, level, msg, append([]any{"event", ev.ID, "shop_id", ev.ShopID, "session", ev.SessionID, "type", ev.Type}, attrs...)...)
}

// ---------------------------------------------------------------------------
// Shopify's news of agent orders

// OrderWebhook acts on an order webhook (ShopifyWebhooks calls it for the
// order topics): for an order this app wrote for an agent, it gives the
// money back through the payment provider for a refund or a cancellation, then returns
// the order_update to record. The external calls come first and are each
// safe to repeat; record stores the event in the caller's transaction,
// with the delivery's outcome. An error leaves the delivery to be retried.
func (s *Service) OrderWebhook(ctx context.Context, ev *app.WebhookEvent) (string, func(ctx context.Context) error, error) {
	var (
		orderNum int64
		refund   *shopify.RefundWebhook
	)
	switch ev.Topic {
	case shopify.TopicFulfillmentsCreate, shopify.TopicFulfillmentsUpdate:
		f, err := shopify.ParseFulfillmentWebhook(ev.Topic, ev.Payload)
		if err != nil {
			return "rejected: " + err.Error(), nil, nil
		}
		orderNum = f.OrderID
	case shopify.TopicRefundsCreate:
		r, err := shopify.ParseRefundWebhook(ev.Topic, ev.Payload)
		if err != nil {
			return "rejected: " + err.Error(), nil, nil
		}
		orderNum, refund = r.OrderID, r
	case shopify.TopicOrdersCancelled:
		o, err := shopify.ParseOrderWebhook(ev.Topic, ev.Payload)
		if err != nil {
			return "rejected: " + err.Error(), nil, nil
		}
		orderNum = o.ID
	default:
		return "ignored: order changes arrive through their own topics", nil, nil
	}
	sh, err := s.Store.ShopByDomain(ctx, ev.Shop)
	if errors.Is(err, app.ErrNotFound) {
		return "ignored: unknown shop", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	orderID := "gid://shopify/Order/" + strconv.FormatInt(orderNum, 10)
	p, err := s.Store.CheckoutPaymentByOrder(ctx, sh.ID, orderID)
	if errors.Is(err, app.ErrNotFound) {
		return "ignored: not an order created by the app", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	cs, err := s.Store.CheckoutSession(ctx, sh.ID, p.SessionID)
	if err != nil {
		return "", nil, err
	}
	so, err := shopify.GetOrder(ctx, s.Shopify, sh.Domain, orderID)
	if err != nil {
		return "", nil, err
	}
	if so == nil {
		return "ignored: the order no longer exists in Shopify", nil, nil
	}

	outcome := "agent told"
	switch ev.Topic {
	case shopify.TopicRefundsCreate:
		amount, err := app.ParseMoney(refund.Refunded(), cs.Currency)
		if err != nil {
			return "rejected: refund amount: " + err.Error(), nil, nil
		}
		if amount > 0 {
			what, err := s.refund(ctx, sh, p, amount, "shopify_refund/"+strconv.FormatInt(refund.ID, 10))
			if err != nil {
				return "", nil, err
			}
			outcome = what + "; " + outcome
		}
	case shopify.TopicOrdersCancelled:
		what, err := s.cancelPayment(ctx, sh, p, so)
		if err != nil {
			return "", nil, err
		}
		outcome = what + "; " + outcome
	}
	out, err := s.prepare(cs, p, so, acp.EventOrderUpdate)
	if err != nil {
		return "", nil, err
	}
	return outcome, func(ctx context.Context) error { return s.record(ctx, out) }, nil
}

// refund gives amount back on the order's PaymentIntent, once per key.
func (s *Service) refund(ctx context.Context, sh *app.Shop, p *checkout.Payment, amount int64, what string) (string, error) {
	if p.PaymentIntentID == "" || p.State != checkout.PaymentCompleted {
		return "no captured payment to refund", nil
	}
	pay, err := s.Payments.Open(ctx, s.Store, s.Keys, sh.ID)
	if err != nil {
		return "", err
	}
	r, err := pay.Refund(ctx, pay.Credentials, p.PaymentIntentID, amount, refundKey(sh.ID, p.OrderID, what))
	if errors.Is(err, checkout.ErrRefundRefused) {
		if s.Logger != nil {
			s.Logger.WarnContext(ctx, "the payment provider refused a refund of an agent order", "provider", pay.Name(),
				"shop_id", sh.ID, "session", p.SessionID, "amount", amount, "err", err)
		}
		return pay.Name() + " refused the refund of " + strconv.FormatInt(amount, 10) + ": " + app.Truncate(err.Error(), 200), nil
	}
	if err != nil {
		return "", fmt.Errorf("refund %d of %s: %w", amount, p.PaymentIntentID, err)
	}
	return "refunded " + strconv.FormatInt(r.Amount, 10) + " on " + pay.Name() + " (" + r.ID + ")", nil
}

// cancelPayment gives back what a cancelled order still holds: the
// captured amount not refunded yet (refunds Shopify made with the
// cancellation have their own refunds/create), or the authorisation.
func (s *Service) cancelPayment(ctx context.Context, sh *app.Shop, p *checkout.Payment, so *shopify.Order) (string, error) {
	switch p.State {
	case checkout.PaymentCompleted:
		var refunded int64
		for _, r := range so.Refunds {
			if refundStatus(r) == acp.AdjustmentFailed {
				continue
			}
			n, err := app.ParseMoney(r.Total, p.Currency)
			if err != nil {
				return "", fmt.Errorf("refund %s: %w", r.ID, err)
			}
			refunded += n
		}
		left := p.Amount - refunded
		if left <= 0 {
			return "nothing left to refund", nil
		}
		return s.refund(ctx, sh, p, left, "cancellation")
	case checkout.PaymentAuthorized, checkout.PaymentOrdered:
		if p.PaymentIntentID == "" {
			return "no payment to release", nil
		}
		pay, err := s.Payments.Open(ctx, s.Store, s.Keys, sh.ID)
		if err != nil {
			return "", err
		}
		if err := pay.Cancel(ctx, pay.Credentials, p.PaymentIntentID, refundKey(sh.ID, p.OrderID, "cancel_authorization")); err != nil {
			return "", fmt.Errorf("cancel the authorisation %s: %w", p.PaymentIntentID, err)
		}
		return "authorisation released on " + pay.Name(), nil
	}
	return "no payment to give back", nil
}

// refundKey is the payment provider's idempotency key of one refund of one order.
func refundKey(shopID int64, orderID, what string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(shopID, 10) + "/" + orderID + "/" + what))
	return "acpb_rf_" + hex.EncodeToString(sum[:16])
}
