package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/checkout"
	"gorm.io/gorm"
)

// retentionBatch bounds the rows one pass of ForgetEndedBuyers rewrites.
const retentionBatch = 500

// personalKeys are the state keys that hold a buyer's personal data
// (checkout.State.ForgetBuyer and CartState.ForgetBuyer clear them; their
// fields are omitempty, so a cleared state no longer has the key and is
// not selected again).
var personalKeys = []string{`"buyer":`, `"fulfillment":`, `"order_notes":`}

// ForgetEndedBuyers removes buyers' personal data (checkout.State's
// ForgetBuyer) from the checkout sessions that ended, by completion,
// cancellation or expiry, and were last changed before cutoff, and from
// the carts that expired before it. Completed orders live on in Shopify;
// the session keeps its lines, totals, status and order reference, which
// the order's later events (fulfillment, refunds) still need. It rewrites
// at most limit rows of each table (≤ 0: retentionBatch) and returns how
// many; the caller calls again while that is the limit.
func (s *Store) ForgetEndedBuyers(ctx context.Context, cutoff time.Time, limit int) (sessions, carts int, err error) {
	if limit <= 0 {
		limit = retentionBatch
	}
	var rows []checkoutSessionRow
	q := s.conn(ctx).Model(&checkoutSessionRow{}).Select("id", "state").
		Where("updated_at < ? AND (status IN ? OR expires_at < ?)", cutoff, []string{string(acp.StatusCompleted), string(acp.StatusCanceled), string(acp.StatusExpired)}, cutoff)
	if err := s.withPersonal(q).Limit(limit).Find(&rows).Error; err != nil {
		return 0, 0, translate(err, "sessions past retention")
	}
	for _, r := range rows {
		var st checkout.State
		if err := json.Unmarshal([]byte(r.State), &st); err != nil {
			return sessions, 0, fmt.Errorf("forget buyer of session %s: %w", r.ID, err)
		}
		st.ForgetBuyer()
		b, err := json.Marshal(st)
		if err != nil {
			return sessions, 0, err
		}
		// updated_at stays: it is when the session ended, not when its
		// buyer was forgotten.
		if err := s.conn(ctx).Model(&checkoutSessionRow{}).Where("id = ?", r.ID).
			UpdateColumns(map[string]any{"state": string(b), "buyer_sealed": nil, "buyer_index": nil}).Error; err != nil {
			return sessions, 0, translate(err, "forget buyer of session "+r.ID)
		}
		sessions++
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if err := s.forgetPaymentPersonal(ctx, ids); err != nil {
		return sessions, 0, err
	}
	var cartRows []cartRow
	cq := s.conn(ctx).Model(&cartRow{}).Select("id", "state").Where("expires_at < ?", cutoff)
	if err := s.withPersonal(cq).Limit(limit).Find(&cartRows).Error; err != nil {
		return sessions, 0, translate(err, "carts past retention")
	}
	for _, r := range cartRows {
		var st checkout.CartState
		if err := json.Unmarshal([]byte(r.State), &st); err != nil {
			return sessions, carts, fmt.Errorf("forget buyer of cart %s: %w", r.ID, err)
		}
		st.ForgetBuyer()
		b, err := json.Marshal(st)
		if err != nil {
			return sessions, carts, err
		}
		if err := s.conn(ctx).Model(&cartRow{}).Where("id = ?", r.ID).
			UpdateColumns(map[string]any{"state": string(b), "buyer_sealed": nil, "buyer_index": nil}).Error; err != nil {
			return sessions, carts, translate(err, "forget buyer of cart "+r.ID)
		}
		carts++
	}
	return sessions, carts, nil
}

// withPersonal narrows q to rows that hold personal data: sealed
// (buyer_sealed, migration 00022), or in a state written before it.
func (s *Store) withPersonal(q *gorm.DB) *gorm.DB {
	return q.Where(s.conn(q.Statement.Context).Where("buyer_sealed IS NOT NULL").Or(s.withPersonalKeys(s.conn(q.Statement.Context))))
}

// withPersonalKeys narrows q to rows whose state still holds one of the
// personalKeys.
func (s *Store) withPersonalKeys(q *gorm.DB) *gorm.DB {
	cond := s.conn(q.Statement.Context).Where(s.containsSQL("state"), personalKeys[0])
	for _, k := range personalKeys[1:] {
		cond = cond.Or(s.containsSQL("state"), k)
	}
	return q.Where(cond)
}
