package orderevents

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// Order events keep the shop's agent told of what becomes of its orders:
// order_create when a completion finishes, order_update when Shopify
// reports a shipment, a refund or a cancellation. Each event is stored
// with the exact body sent (the full order, in the session's ACP version)
// and POSTed signed to the shop's webhook URL as soon as it is committed;
// an attempt that fails (or is lost) goes to a delivery job, which River
// retries with backoff until the agent answers 2xx. Every attempt is kept.
//
// Refunds and cancellations made in Shopify also move the money: the
// payment (e.g. Stripe's PaymentIntent) of the agent's order is refunded by
// what Shopify refunded (the provider's idempotency key comes from Shopify's refund id, so
// a webhook processed twice refunds once), and a cancellation gives back
// what is still captured, or releases an uncaptured authorisation.

// An Event's delivery states (its Status).
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
	// ClaimedUntil: while set, a delivery attempt (the first, by the
	// process that stored the event, or a job's) owns the event until
	// then; past it, the sweep hands the event to a job. Nil: a job owns
	// it (or it is no longer pending).
	ClaimedUntil *time.Time
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
	// SaveCheckoutSession and SavePayment complete a session paid at
	// Shopify's checkout (handoff.go).
	SaveCheckoutSession(ctx context.Context, cs *checkout.Session) error
	SavePayment(ctx context.Context, p *checkout.Payment) error
	CheckoutPayment(ctx context.Context, sessionID string) (*checkout.Payment, error)
	// CheckoutPaymentByOrder finds the payment of the agent order with
	// this Shopify order GID, or ErrNotFound.
	CheckoutPaymentByOrder(ctx context.Context, shopID int64, orderID string) (*checkout.Payment, error)
	checkout.PaymentCredentialStore
	// InsertAgentEvent stores ev (setting its ID); false when it would be
	// a session's second order_create (nothing is stored).
	InsertAgentEvent(ctx context.Context, ev *Event) (bool, error)
	AgentEvent(ctx context.Context, id int64) (*Event, error)
	// AfterCommit runs fn once the transaction in ctx commits (at once
	// without one), never after a rollback.
	AfterCommit(ctx context.Context, fn func(ctx context.Context))
	// ClaimAgentEvent takes a pending event, unclaimed or its claim past
	// at now, until until (claimed); else it returns the event as it is.
	ClaimAgentEvent(ctx context.Context, id int64, now, until time.Time) (ev *Event, claimed bool, err error)
	// HandOverAgentEvents clears the claim of up to limit pending events
	// whose claim is past at now, and returns them.
	HandOverAgentEvents(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// RecordAgentEventAttempt keeps an attempt and sets the event's
	// status, attempts (+1), last status and error, delivered_at when
	// delivered, and its claim.
	RecordAgentEventAttempt(ctx context.Context, a Attempt, status string, claimedUntil *time.Time) error
	// RecordDeliveredAgentEvents keeps attempts that delivered their
	// events, in one statement: each event delivered (at its attempt's
	// time), its attempts +1, its claim cleared. An event no longer
	// stored (its shop deleted) is skipped.
	RecordDeliveredAgentEvents(ctx context.Context, atts []Attempt) error
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

	// slots bound the first attempts under way (inline.go), inflight
	// counts them for Drain.
	slots    chan struct{}
	inflight sync.WaitGroup
	// outcomes are the delivered first attempts waiting for their batch
	// (outcomes.go).
	outcomes outcomes
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

// Emit records an order event of the session's order (eventType
// acp.EventOrderCreate or acp.EventOrderUpdate), whose first delivery
// attempt follows its commit. The order is read from the session, its payment and
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

// PrepareOrderCreated is the order_create event of a session whose
// completion is being recorded, for the completion's write to store
// (checkout.OrderEventPreparer), claimed for its first delivery attempt
// as record claims it: that attempt starts once the write is committed
// (Stored), with the shop's settings set when the completion read them
// (nil: the attempt reads them).
func (s *Service) PrepareOrderCreated(_ context.Context, cs *checkout.Session, p *checkout.Payment, set *app.ACPSettings) (*checkout.OrderEvent, error) {
	ev, err := s.prepare(cs, p, nil, acp.EventOrderCreate)
	if err != nil {
		return nil, err
	}
	until := s.now().Add(s.inlineClaim())
	ev.ClaimedUntil = &until
	return &checkout.OrderEvent{ShopID: ev.ShopID, SessionID: ev.SessionID, Type: ev.Type, APIVersion: string(ev.APIVersion),
		Body: ev.Body, Status: ev.Status, CreatedAt: ev.CreatedAt, ClaimedUntil: ev.ClaimedUntil,
		Stored: func(ctx context.Context, id int64) {
			ev.ID = id
			s.deliverSoon(ctx, ev, set)
		}}, nil
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

// record stores the event, claimed for its first delivery attempt, which
// starts once ctx's transaction commits (inline.go); no job is enqueued:
// the sweep hands the event to one if that attempt fails or is lost.
func (s *Service) record(ctx context.Context, ev *Event) error {
	until := s.now().Add(s.inlineClaim())
	ev.ClaimedUntil = &until
	ok, err := s.Store.InsertAgentEvent(ctx, ev)
	if err != nil || !ok {
		return err
	}
	s.Store.AfterCommit(ctx, func(ctx context.Context) { s.deliverSoon(ctx, ev, nil) })
	return nil
}
