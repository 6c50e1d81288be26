package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// A completion's two writes (checkout.CompletionStore), each one
// statement on PostgreSQL (issue 17): the session's UPDATE, guarded by its
// row version, is the first CTE, and every other write of the statement
// takes place only when it returned its row, so that a lost guard writes
// nothing. SQLite, in-process, writes in a transaction (BeginCompletionWrite
// leaves that to the caller).

// beginCompletionSQL writes the session (as SaveCheckoutSession) and, when
// that wrote, the session's payment record: inserted, or, when the session
// has one (a declined or voided attempt), written over it as the next
// attempt, marked order_sent when an orderCreate may have been sent for
// the session before (checkout.Payment.follow). One row: saved (0: the
// guard was lost, nothing written), and the attempt and order_sent
// written.
const beginCompletionSQL = `WITH s AS (
  UPDATE checkout_sessions SET ` + sessionSetSQL + `
  WHERE ` + byShopKey + ` AND row_version = ?
  RETURNING 1),
` + beginPaymentCTE + `
SELECT (SELECT count(*) FROM s) AS saved, (SELECT attempt FROM p) AS attempt, (SELECT order_sent FROM p) AS order_sent`

// sessionSetSQL is the SET of a session's guarded UPDATE: its content,
// and the row version moved on.
const sessionSetSQL = `status = ?, state = ?, buyer_sealed = ?, buyer_index = ?, currency = ?, expires_at = ?, updated_at = ?, row_version = row_version + 1`

// beginPaymentCTE is the CTE p of beginCompletionSQL (and
// claimBeginSQL): the session's payment record, inserted or written over
// the previous attempt, when s wrote the session.
const beginPaymentCTE = `p AS (
  INSERT INTO checkout_payments (session_id, shop_id, state, attempt, token_sealed, amount, currency, payment_intent_id,
    order_id, order_name, order_status_url, details, last_error, lease_until, created_at, updated_at)
  SELECT ?::text, ?::bigint, ?::text, ?::integer, ?::text, ?::bigint, ?::text, ?::text,
    ?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamptz, ?::timestamptz, ?::timestamptz FROM s
  ON CONFLICT (session_id) DO UPDATE SET state = EXCLUDED.state, attempt = checkout_payments.attempt + 1,
    token_sealed = EXCLUDED.token_sealed, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
    payment_intent_id = EXCLUDED.payment_intent_id, order_id = EXCLUDED.order_id, order_name = EXCLUDED.order_name,
    order_status_url = EXCLUDED.order_status_url,
    details = CASE WHEN coalesce((checkout_payments.details::jsonb ->> 'order_sent')::boolean, false)
        OR (checkout_payments.details::jsonb ->> 'order_attempt_at') IS NOT NULL
      THEN (EXCLUDED.details::jsonb || '{"order_sent": true}'::jsonb)::text ELSE EXCLUDED.details END,
    last_error = EXCLUDED.last_error, lease_until = EXCLUDED.lease_until, updated_at = EXCLUDED.updated_at
  RETURNING attempt, coalesce((details::jsonb ->> 'order_sent')::boolean, false) AS order_sent)`

// paymentArgs are beginPaymentCTE's parameters.
func paymentArgs(pr checkoutPaymentRow) []any {
	return []any{pr.SessionID, pr.ShopID, pr.State, pr.Attempt, pr.TokenSealed, pr.Amount, pr.Currency, pr.PaymentIntentID,
		pr.OrderID, pr.OrderName, pr.OrderStatusURL, pr.Details, pr.LastError, pr.LeaseUntil, pr.CreatedAt, pr.UpdatedAt}
}

// sessionSetArgs are sessionSetSQL's parameters.
func sessionSetArgs(r checkoutSessionRow) []any {
	return []any{r.Status, r.State, r.BuyerSealed, r.BuyerIndex, r.Currency, r.ExpiresAt, r.UpdatedAt}
}

// BeginCompletionWrite implements checkout.CompletionStore: one statement
// on PostgreSQL; errors.ErrUnsupported on SQLite.
func (s *Store) BeginCompletionWrite(ctx context.Context, cs *checkout.Session, p *checkout.Payment) error {
	if s.kind != app.DatabasePostgres {
		return errors.ErrUnsupported
	}
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return err
	}
	pr, err := s.toPaymentRow(p)
	if err != nil {
		return err
	}
	var out struct {
		Saved     int64
		Attempt   *int
		OrderSent *bool
	}
	args := append(sessionSetArgs(r), cs.ID, cs.ShopID, cs.RowVersion)
	err = s.conn(ctx).Raw(beginCompletionSQL, append(args, paymentArgs(pr)...)...).Find(&out).Error
	if err != nil {
		return translate(err, "begin completion")
	}
	if out.Saved == 0 {
		s.forgetSession(cs.ShopID, cs.ID)
		return fmt.Errorf("save checkout session %s: %w", cs.ID, app.ErrConflict)
	}
	if out.Attempt == nil || out.OrderSent == nil {
		return fmt.Errorf("begin completion of %s: no payment record written", cs.ID) // not expected: s wrote
	}
	cs.RowVersion++
	r.RowVersion = cs.RowVersion
	s.rememberSession(ctx, r)
	p.Attempt, p.Details.OrderSent = *out.Attempt, *out.OrderSent
	return nil
}

// recordCompletionSQL is RecordCompletion's statement: the session's
// guarded UPDATE (which also requires the payment record to be of the
// attempt written: a newer attempt moves the session's row version too,
// so the two agree), then the payment's UPDATE and, as asked, the event's
// INSERT and the answer's finish, each only when the session was written.
// One row: saved, the event's id (NULL: none stored), answered, and the
// stored attempt (to tell a stale attempt from a moved session).
func recordCompletionSQL(event, answer bool) string {
	var b strings.Builder
	b.WriteString(`WITH s AS (
  UPDATE checkout_sessions SET ` + sessionSetSQL + `
  WHERE ` + byShopKey + ` AND row_version = ?
    AND EXISTS (SELECT 1 FROM checkout_payments WHERE session_id = ? AND attempt = ?)
  RETURNING 1),
p AS (
  UPDATE checkout_payments SET state = ?, token_sealed = ?, payment_intent_id = ?, order_id = ?, order_name = ?,
    order_status_url = ?, details = ?, last_error = ?, lease_until = ?, updated_at = ?
  WHERE session_id = ? AND attempt = ? AND EXISTS (SELECT 1 FROM s)
  RETURNING 1)`)
	events := "NULL::bigint"
	if event {
		b.WriteString(`,
e AS (
  INSERT INTO agent_events (shop_id, session_id, type, api_version, body, status, attempts, last_status, last_error,
    created_at, claimed_until)
  SELECT ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::text, 0, 0, '', ?::timestamptz, ?::timestamptz FROM s
  ON CONFLICT DO NOTHING
  RETURNING id)`)
		events = "(SELECT id FROM e)"
	}
	answered := "0"
	if answer {
		b.WriteString(", " + finishSQL)
		answered = "(SELECT count(*) FROM f)"
	}
	b.WriteString(`
SELECT (SELECT count(*) FROM s) AS saved, (SELECT count(*) FROM p) AS paid, ` + events + ` AS event_id, ` + answered +
		` AS answered, (SELECT attempt FROM checkout_payments WHERE session_id = ?) AS attempt`)
	return b.String()
}

// RecordCompletion implements checkout.CompletionStore: one statement on
// PostgreSQL, one transaction on SQLite.
func (s *Store) RecordCompletion(ctx context.Context, w checkout.CompletionWrite) (bool, error) {
	if s.kind != app.DatabasePostgres {
		return s.recordCompletionTx(ctx, w)
	}
	cs, p := w.Session, w.Payment
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return false, err
	}
	pr, err := s.toPaymentRow(p)
	if err != nil {
		return false, err
	}
	args := []any{r.Status, r.State, r.BuyerSealed, r.BuyerIndex, r.Currency, r.ExpiresAt, r.UpdatedAt, cs.ID, cs.ShopID, cs.RowVersion, p.SessionID, p.Attempt,
		pr.State, pr.TokenSealed, pr.PaymentIntentID, pr.OrderID, pr.OrderName, pr.OrderStatusURL, pr.Details, pr.LastError,
		pr.LeaseUntil, pr.UpdatedAt, p.SessionID, p.Attempt}
	if ev := w.Event; ev != nil {
		args = append(args, ev.ShopID, ev.SessionID, ev.Type, ev.APIVersion, string(ev.Body), eventStatus(ev), ev.CreatedAt, ev.ClaimedUntil)
	}
	if a := w.Answer; a != nil {
		answer, err := s.sealAnswer(a.Record, answerBody(*a))
		if err != nil {
			return false, err
		}
		args = append(args, a.Outcome, answer, a.Record)
	}
	args = append(args, p.SessionID)
	var out struct {
		Saved, Paid, Answered int64
		EventID               *int64
		Attempt               *int
	}
	err = s.conn(ctx).Raw(recordCompletionSQL(w.Event != nil, w.Answer != nil), args...).Find(&out).Error
	if err != nil {
		return false, translate(err, "record completion")
	}
	if out.Saved == 0 {
		s.forgetSession(cs.ShopID, cs.ID)
		if out.Attempt == nil || *out.Attempt != p.Attempt {
			return false, fmt.Errorf("record completion of %s attempt %d: %w", p.SessionID, p.Attempt, checkout.ErrStaleAttempt)
		}
		return false, fmt.Errorf("save checkout session %s: %w", cs.ID, app.ErrConflict)
	}
	cs.RowVersion++
	r.RowVersion = cs.RowVersion
	s.rememberSession(ctx, r) // a declined card's next complete claims with its beginning
	if out.Paid != 1 {
		// Not expected: the session's guard read the record of this attempt.
		return false, fmt.Errorf("record completion of %s: the payment record of attempt %d was not written", p.SessionID, p.Attempt)
	}
	if ev := w.Event; ev != nil && out.EventID != nil && ev.Stored != nil {
		id := *out.EventID
		s.AfterCommit(ctx, func(ctx context.Context) { ev.Stored(ctx, id) })
	}
	return out.Answered == 1, nil
}

// recordCompletionTx is RecordCompletion's transaction (SQLite).
func (s *Store) recordCompletionTx(ctx context.Context, w checkout.CompletionWrite) (bool, error) {
	answered := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		answered = false
		err := s.UpdatePayment(ctx, w.Payment)
		if errors.Is(err, app.ErrConflict) {
			return fmt.Errorf("record completion of %s attempt %d: %w", w.Payment.SessionID, w.Payment.Attempt, checkout.ErrStaleAttempt)
		}
		if err != nil {
			return err
		}
		if err := s.SaveCheckoutSession(ctx, w.Session); err != nil {
			return err
		}
		if ev := w.Event; ev != nil {
			oev := &orderevents.Event{ShopID: ev.ShopID, SessionID: ev.SessionID, Type: ev.Type, APIVersion: acp.Version(ev.APIVersion),
				Body: ev.Body, Status: eventStatus(ev), CreatedAt: ev.CreatedAt, ClaimedUntil: ev.ClaimedUntil}
			stored, err := s.InsertAgentEvent(ctx, oev)
			if err != nil {
				return err
			}
			if stored && ev.Stored != nil {
				s.AfterCommit(ctx, func(ctx context.Context) { ev.Stored(ctx, oev.ID) })
			}
		}
		if a := w.Answer; a != nil {
			err := s.FinishIdempotencyKey(ctx, a.Record, idempotency.StoredResult{
				Outcome: idempotency.Outcome(a.Outcome), Session: answerBody(*a)})
			if errors.Is(err, app.ErrNotFound) {
				return nil
			}
			answered = err == nil
			return err
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return answered, nil
}

func eventStatus(ev *checkout.OrderEvent) string {
	if ev.Status == "" {
		return orderevents.Pending
	}
	return ev.Status
}
