package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// agentEventRow is the agent_events table.
type agentEventRow struct {
	ID           int64 `gorm:"primaryKey"`
	ShopID       int64
	SessionID    string
	Type         string
	APIVersion   string
	Body         string
	Status       string
	Attempts     int
	LastStatus   int
	LastError    string
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
	DeliveredAt  *time.Time
	ClaimedUntil *time.Time
}

func (agentEventRow) TableName() string { return "agent_events" }

// agentEventAttemptRow is the agent_event_attempts table.
type agentEventAttemptRow struct {
	ID          int64 `gorm:"primaryKey"`
	EventID     int64
	AttemptedAt time.Time
	StatusCode  int
	Error       string
	DurationMS  int64 `gorm:"column:duration_ms"`
}

func (agentEventAttemptRow) TableName() string { return "agent_event_attempts" }

func toAppAgentEvent(r agentEventRow) *orderevents.Event {
	return &orderevents.Event{
		ID: r.ID, ShopID: r.ShopID, SessionID: r.SessionID, Type: r.Type, APIVersion: acp.Version(r.APIVersion),
		Body: []byte(r.Body), Status: r.Status, Attempts: r.Attempts, LastStatus: r.LastStatus, LastError: r.LastError,
		CreatedAt: r.CreatedAt.UTC(), DeliveredAt: utcPtr(r.DeliveredAt), ClaimedUntil: utcPtr(r.ClaimedUntil),
	}
}

// InsertAgentEvent stores an order event and sets its ID. A session's
// second order_create is not stored (false): a unique index allows one.
func (s *Store) InsertAgentEvent(ctx context.Context, ev *orderevents.Event) (bool, error) {
	r := agentEventRow{
		ShopID: ev.ShopID, SessionID: ev.SessionID, Type: ev.Type, APIVersion: string(ev.APIVersion), Body: string(ev.Body),
		Status: ev.Status, CreatedAt: ev.CreatedAt, ClaimedUntil: ev.ClaimedUntil,
	}
	if r.Status == "" {
		r.Status = orderevents.Pending
	}
	res := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
	if res.Error != nil {
		return false, translate(res.Error, "insert agent event")
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	ev.ID = r.ID
	return true, nil
}

// AgentEvent returns an event, or ErrNotFound.
func (s *Store) AgentEvent(ctx context.Context, id int64) (*orderevents.Event, error) {
	var r agentEventRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("agent event %d", id))
	}
	return toAppAgentEvent(r), nil
}

// AgentEvents lists a session's events of the shop, oldest first.
func (s *Store) AgentEvents(ctx context.Context, shopID int64, sessionID string) ([]*orderevents.Event, error) {
	var rows []agentEventRow
	if err := s.conn(ctx).Where("shop_id = ? AND session_id = ?", shopID, sessionID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "list agent events")
	}
	out := make([]*orderevents.Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, toAppAgentEvent(r))
	}
	return out, nil
}

// ClaimAgentEvent takes a pending event for a delivery attempt until
// until: claimed reports whether it was free (unclaimed, or its claim past
// at now). Otherwise the event is returned as it is (no longer pending, or
// claimed by another until its ClaimedUntil), or ErrNotFound.
func (s *Store) ClaimAgentEvent(ctx context.Context, id int64, now, until time.Time) (ev *orderevents.Event, claimed bool, err error) {
	var rows []agentEventRow
	err = s.conn(ctx).Raw(`UPDATE agent_events SET claimed_until = ?
		WHERE id = ? AND status = ? AND (claimed_until IS NULL OR claimed_until <= ?) RETURNING *`,
		until, id, orderevents.Pending, now).Find(&rows).Error
	if err != nil {
		return nil, false, translate(err, fmt.Sprintf("claim agent event %d", id))
	}
	if len(rows) == 1 {
		return toAppAgentEvent(rows[0]), true, nil
	}
	ev, err = s.AgentEvent(ctx, id)
	return ev, false, err
}

// HandOverAgentEvents takes up to limit pending events whose claim is past
// at now (their first attempt failed, or its process died) and clears
// their claim: the caller enqueues their delivery jobs in the same
// transaction.
func (s *Store) HandOverAgentEvents(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	ids, err := s.handOverClaimed(ctx, "agent_events", "status = ?", []any{orderevents.Pending}, now, limit)
	return ids, translate(err, "hand over agent events")
}

// RecordAgentEventAttempt keeps one delivery attempt and updates its
// event together: attempts + 1, the last status and error, the new status,
// delivered_at when delivered, and the claim (claimedUntil; nil: none). On
// PostgreSQL it is one statement, on SQLite one transaction.
func (s *Store) RecordAgentEventAttempt(ctx context.Context, a orderevents.Attempt, status string, claimedUntil *time.Time) error {
	var delivered *time.Time
	if status == orderevents.Delivered {
		delivered = &a.AttemptedAt
	}
	if s.kind == app.DatabasePostgres {
		var ids []int64
		err := s.conn(ctx).Raw(`WITH e AS (
			UPDATE agent_events SET attempts = attempts + 1, last_status = ?, last_error = ?, status = ?,
				delivered_at = COALESCE(CAST(? AS timestamptz), delivered_at), claimed_until = CAST(? AS timestamptz)
			WHERE id = ? RETURNING id)
		INSERT INTO agent_event_attempts (event_id, attempted_at, status_code, error, duration_ms)
		SELECT id, CAST(? AS timestamptz), CAST(? AS integer), CAST(? AS text), CAST(? AS bigint) FROM e RETURNING event_id`,
			a.StatusCode, a.Error, status, delivered, claimedUntil, a.EventID,
			a.AttemptedAt, a.StatusCode, a.Error, a.Duration.Milliseconds()).Find(&ids).Error
		if err != nil {
			return translate(err, "record agent event attempt")
		}
		if len(ids) == 0 {
			return fmt.Errorf("agent event %d: %w", a.EventID, app.ErrNotFound)
		}
		return nil
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		upd := map[string]any{
			"attempts": gorm.Expr("attempts + 1"), "last_status": a.StatusCode, "last_error": a.Error, "status": status,
			"claimed_until": claimedUntil,
		}
		if delivered != nil {
			upd["delivered_at"] = *delivered
		}
		res := s.conn(ctx).Model(&agentEventRow{}).Where("id = ?", a.EventID).Updates(upd)
		if res.Error != nil {
			return translate(res.Error, "update agent event")
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("agent event %d: %w", a.EventID, app.ErrNotFound)
		}
		r := agentEventAttemptRow{EventID: a.EventID, AttemptedAt: a.AttemptedAt, StatusCode: a.StatusCode, Error: a.Error,
			DurationMS: a.Duration.Milliseconds()}
		if err := s.conn(ctx).Create(&r).Error; err != nil {
			return translate(err, "record agent event attempt")
		}
		return nil
	})
}

// RecordDeliveredAgentEvents keeps a batch of attempts that delivered
// their events (orderevents' first attempts): on PostgreSQL one statement
// whatever the batch's size, on SQLite one transaction.
func (s *Store) RecordDeliveredAgentEvents(ctx context.Context, atts []orderevents.Attempt) error {
	if len(atts) == 0 {
		return nil
	}
	if s.kind != app.DatabasePostgres {
		return s.InTx(ctx, func(ctx context.Context) error {
			for _, a := range atts {
				err := s.RecordAgentEventAttempt(ctx, a, orderevents.Delivered, nil)
				if err != nil && !errors.Is(err, app.ErrNotFound) {
					return err
				}
			}
			return nil
		})
	}
	// The columns as array literals (gorm would spread a Go slice into a
	// list of parameters): one statement text whatever the batch's size.
	var ids, at, codes, ms strings.Builder
	for i, a := range atts {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		ids.WriteByte(sep)
		ids.WriteString(strconv.FormatInt(a.EventID, 10))
		at.WriteByte(sep)
		at.WriteString(strconv.Quote(a.AttemptedAt.UTC().Format(time.RFC3339Nano)))
		codes.WriteByte(sep)
		codes.WriteString(strconv.Itoa(a.StatusCode))
		ms.WriteByte(sep)
		ms.WriteString(strconv.FormatInt(a.Duration.Milliseconds(), 10))
	}
	for _, b := range []*strings.Builder{&ids, &at, &codes, &ms} {
		b.WriteByte('}')
	}
	// One event's attempts are never in one batch twice (a first attempt
	// is made once), so the UPDATE … FROM meets each event once.
	err := s.conn(ctx).Exec(`WITH a AS (
			SELECT * FROM unnest(CAST(? AS bigint[]), CAST(? AS timestamptz[]), CAST(? AS integer[]), CAST(? AS bigint[]))
				AS a(event_id, attempted_at, status_code, duration_ms)),
		e AS (
			UPDATE agent_events SET attempts = attempts + 1, last_status = a.status_code, last_error = '',
				status = ?, delivered_at = a.attempted_at, claimed_until = NULL
			FROM a WHERE agent_events.id = a.event_id RETURNING agent_events.id)
		INSERT INTO agent_event_attempts (event_id, attempted_at, status_code, error, duration_ms)
		SELECT a.event_id, a.attempted_at, a.status_code, '', a.duration_ms FROM a JOIN e ON e.id = a.event_id`,
		ids.String(), at.String(), codes.String(), ms.String(), orderevents.Delivered).Error
	return translate(err, "record delivered agent events")
}

// FailAgentEvent marks a pending event failed for good.
func (s *Store) FailAgentEvent(ctx context.Context, id int64, lastError string) error {
	err := s.conn(ctx).Model(&agentEventRow{}).Where("id = ? AND status = ?", id, orderevents.Pending).
		Updates(map[string]any{"status": orderevents.Failed, "last_error": lastError}).Error
	return translate(err, "fail agent event")
}

// AgentEventAttempts lists an event's attempts, oldest first.
func (s *Store) AgentEventAttempts(ctx context.Context, eventID int64) ([]orderevents.Attempt, error) {
	var rows []agentEventAttemptRow
	if err := s.conn(ctx).Where("event_id = ?", eventID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "list agent event attempts")
	}
	out := make([]orderevents.Attempt, 0, len(rows))
	for _, r := range rows {
		out = append(out, orderevents.Attempt{ID: r.ID, EventID: r.EventID, AttemptedAt: r.AttemptedAt.UTC(),
			StatusCode: r.StatusCode, Error: r.Error, Duration: time.Duration(r.DurationMS) * time.Millisecond})
	}
	return out, nil
}

// CheckoutPaymentByOrder returns the payment of the shop's agent order
// with this Shopify order GID, or ErrNotFound.
func (s *Store) CheckoutPaymentByOrder(ctx context.Context, shopID int64, orderID string) (*checkout.Payment, error) {
	if orderID == "" {
		return nil, fmt.Errorf("checkout payment by order: %w", app.ErrNotFound)
	}
	var sessionID string
	err := s.conn(ctx).Model(&checkoutPaymentRow{}).Select("session_id").
		Where("shop_id = ? AND order_id = ?", shopID, orderID).Order("created_at").Limit(1).Scan(&sessionID).Error
	if err != nil {
		return nil, translate(err, "checkout payment by order")
	}
	if sessionID == "" {
		return nil, fmt.Errorf("checkout payment of order %s: %w", orderID, app.ErrNotFound)
	}
	return s.CheckoutPayment(ctx, sessionID)
}
