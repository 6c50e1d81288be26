package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// The completion's two writes in fewer statements (issue 17): on
// PostgreSQL each is one statement (data-modifying CTEs, store.Store's
// CompletionStore), whose guarded session UPDATE drives the rest, so that
// a lost guard writes nothing. SQLite keeps a transaction.

// CompletionStore writes a completion's beginning and its record each in
// one go (store.Store).
type CompletionStore interface {
	// BeginCompletionWrite writes cs (guarded by its row version, as
	// SaveCheckoutSession) and the session's payment record p: inserted
	// when the session has none, else written over the previous attempt
	// as the next one (p.Attempt and p.Details.OrderSent are then set from
	// it, as Payment.follow does). ErrConflict, and nothing written, when
	// the session's row version moved; errors.ErrUnsupported when the
	// store cannot (the caller writes in a transaction instead).
	BeginCompletionWrite(ctx context.Context, cs *Session, p *Payment) error
	// RecordCompletion writes w: the session's guarded UPDATE, the
	// payment record over the stored one of the same attempt, the
	// order_create event (stored unless the session has one; its Stored
	// runs once the write is committed) and the answer. Nothing is written
	// when the session's row version moved (ErrConflict) or a newer
	// payment attempt began (ErrStaleAttempt). answered is false when the
	// answer's record was no longer in flight.
	RecordCompletion(ctx context.Context, w CompletionWrite) (answered bool, err error)
}

// CompletionWrite is where a drive stopped, as RecordCompletion writes it.
type CompletionWrite struct {
	Session *Session
	Payment *Payment
	Event   *OrderEvent   // nil: none
	Answer  *AnswerRecord // nil: none
}

// ErrStaleAttempt: the payment record is of a newer attempt than the one
// written (its driver is stale). It is an ErrConflict.
var ErrStaleAttempt = fmt.Errorf("%w: a newer payment attempt began", app.ErrConflict)

// OrderEvent is a session's order_create event as the write that completes
// the session stores it (orderevents.Service.PrepareOrderCreated).
type OrderEvent struct {
	ShopID       int64
	SessionID    string
	Type         string
	APIVersion   string
	Body         []byte
	Status       string
	CreatedAt    time.Time
	ClaimedUntil *time.Time
	// Stored runs, with the event's id, once the write that stored it is
	// committed (not when the session had its order_create already).
	Stored func(ctx context.Context, id int64)
}

// OrderEventPreparer is OrderEvents that hand the completion the
// order_create event to store with its write (orderevents.Service). set
// is the shop's ACP settings the completion read (nil: none), for the
// event's first delivery attempt.
type OrderEventPreparer interface {
	PrepareOrderCreated(ctx context.Context, cs *Session, p *Payment, set *app.ACPSettings) (*OrderEvent, error)
}

type settingsKey struct{}

// withSettings carries the shop's ACP settings the request read, for the
// order_create event's first delivery.
func withSettings(ctx context.Context, set *app.ACPSettings) context.Context {
	if set == nil {
		return ctx
	}
	return context.WithValue(ctx, settingsKey{}, set)
}

func settingsFrom(ctx context.Context) *app.ACPSettings {
	set, _ := ctx.Value(settingsKey{}).(*app.ACPSettings)
	return set
}

// writeBegin writes a completion's beginning: cs, now complete_in_progress,
// and p, the session's first payment attempt or its next one.
func (c *Sessions) writeBegin(ctx context.Context, cs *Session, p *Payment) error {
	st := c.Completer.Store
	if cst, ok := st.(CompletionStore); ok {
		err := cst.BeginCompletionWrite(ctx, cs, p)
		if !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	return c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil {
			return err
		}
		// The session's first attempt, most often; else the next one.
		if first, err := st.InsertPayment(ctx, p); err != nil || first {
			return err
		}
		prev, err := st.CheckoutPayment(ctx, cs.ID)
		if err != nil {
			return err
		}
		p.follow(prev)
		return st.SavePayment(ctx, p)
	})
}

// writeRecord writes cur (with p applied) and p in one go when the store
// can (CompletionStore, with Events that prepare the event): the answer of
// ctx with them, as this write is the request's last word. ok false: the
// caller writes in a transaction.
func (c *Sessions) writeRecord(ctx context.Context, cur *Session, p *Payment, created bool) (ok bool, err error) {
	cst, isCS := c.Completer.Store.(CompletionStore)
	prep, isPrep := c.Events.(OrderEventPreparer)
	if !isCS || c.Events != nil && !isPrep {
		return false, nil
	}
	w := CompletionWrite{Session: cur, Payment: p}
	if created && c.Events != nil {
		if w.Event, err = prep.PrepareOrderCreated(ctx, cur, p, settingsFrom(ctx)); err != nil {
			return true, err
		}
	}
	a := answerFrom(ctx)
	if a != nil && a.Encode != nil && a.Claim == nil { // a claiming answer is a create's only
		body, err := a.Encode(cur)
		if err != nil {
			return true, err
		}
		w.Answer = &AnswerRecord{Record: a.Record, Outcome: a.Outcome, Body: body}
	}
	answered, err := cst.RecordCompletion(ctx, w)
	if err == nil && answered {
		a.mark(w.Answer.Body)
	}
	return true, err
}

// recordInTx is record's write in one transaction, for stores and Events
// that cannot make it in one go.
func (c *Sessions) recordInTx(ctx context.Context, sh *app.Shop, cs *Session, p *Payment) (*Session, error) {
	var out *Session
	err := c.Completer.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Completer.Store.UpdatePayment(ctx, p); err != nil {
			return err
		}
		cur := *cs // cs stays as it was if the transaction fails
		for attempt := 1; ; attempt++ {
			created := cur.Status != acp.StatusCompleted && p.State == PaymentCompleted
			applyPayment(&cur, p)
			cur.UpdatedAt = c.now()
			err := c.Store.SaveCheckoutSession(ctx, &cur)
			if err == nil {
				out = &cur
				if created && c.Events != nil {
					return c.Events.OrderCreated(ctx, out, p)
				}
				return nil
			}
			if errors.Is(err, app.ErrConflict) && attempt == maxWriteAttempts {
				return &app.Error{Code: app.CodeConflict, Reason: "concurrent_update", RetryAfter: time.Second,
					Message: "the session is being changed by another request; retry"}
			}
			if !errors.Is(err, app.ErrConflict) {
				return fmt.Errorf("save checkout session: %w", err)
			}
			// A conditional write that loses leaves the transaction
			// usable: read again and apply the outcome to that.
			fresh, err := c.load(ctx, sh, cs.ID)
			if err != nil {
				return err
			}
			cur = *fresh
		}
	})
	if errors.Is(err, app.ErrConflict) {
		// A newer payment attempt began (this driver is stale): its
		// outcome is not this one's to write.
		return c.load(ctx, sh, cs.ID)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
