package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/secret"
)

// Buyers' personal data is sealed here, where rows are made: a session's
// buyer, fulfillment details and order notes, and a cart's buyer, leave the
// state JSON for the row's buyer_sealed column (AES-256-GCM under the
// keyring, bound to the row by app.BuyerAAD), with the blind index of the
// buyer's email in buyer_index (migration 00022). One seal per write and
// one open per read, and only for a row that has a buyer: microseconds on
// the checkout path (BenchmarkSealedSessionRow). The stored answers of
// idempotency records hold the buyer too and are sealed the same way
// (idempotency.go). Rows written before 00022 keep their personal data in
// the state until their next save or SealPlainBuyers: both are read.

// Option configures Open.
type Option func(*Store)

// WithKeys gives the store the keyring that seals buyers' personal data.
// Without it, a row with personal data can be neither written nor read
// (errNoKeys): never written in plaintext.
func WithKeys(k *secret.Keyring) Option { return func(s *Store) { s.keys = k } }

// errNoKeys is a write or read of personal data by a store opened without
// WithKeys.
var errNoKeys = errors.New("store: buyers' personal data needs the keyring (store.WithKeys)")

// sessionPersonal is what checkout.State.ForgetBuyer clears, as sealed.
type sessionPersonal struct {
	Buyer       *acp.Buyer              `json:"buyer,omitempty"`
	Fulfillment *acp.FulfillmentDetails `json:"fulfillment,omitempty"`
	OrderNotes  string                  `json:"order_notes,omitempty"`
}

func (p sessionPersonal) empty() bool {
	return p.Buyer == nil && p.Fulfillment == nil && p.OrderNotes == ""
}

// email is the address a privacy request names the buyer by: the buyer's,
// or else the recipient's.
func (p sessionPersonal) email() string {
	if p.Buyer != nil && p.Buyer.Email != "" {
		return p.Buyer.Email
	}
	if p.Fulfillment != nil {
		return p.Fulfillment.Email
	}
	return ""
}

// cartPersonal is what checkout.CartState.ForgetBuyer clears, as sealed.
type cartPersonal struct {
	Buyer *acp.Buyer `json:"buyer,omitempty"`
}

// sealPersonal seals v (a *Personal) for the row table/id and indexes
// email; nil, nil when there is nothing to seal.
func (s *Store) sealPersonal(table, id string, v any, empty bool, email string) (sealed, index *string, err error) {
	if empty {
		return nil, nil, nil
	}
	if s.keys == nil {
		return nil, nil, errNoKeys
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encode personal data of %s %s: %w", table, id, err)
	}
	out, err := s.keys.Seal(b, app.BuyerAAD(table, id))
	if err != nil {
		return nil, nil, fmt.Errorf("seal personal data of %s %s: %w", table, id, err)
	}
	return &out, s.emailIndex(email), nil
}

// openPersonal opens a row's sealed personal data into v; nothing when
// the row has none.
func (s *Store) openPersonal(table, id string, sealed *string, v any) error {
	if sealed == nil || *sealed == "" {
		return nil
	}
	if s.keys == nil {
		return errNoKeys
	}
	b, err := s.keys.Open(*sealed, app.BuyerAAD(table, id))
	if err != nil {
		return fmt.Errorf("open personal data of %s %s: %w", table, id, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode personal data of %s %s: %w", table, id, err)
	}
	return nil
}

// emailIndex is the blind index a row stores for email (nil: none).
func (s *Store) emailIndex(email string) *string {
	email = app.NormalizeEmail(email)
	if email == "" || s.keys == nil {
		return nil
	}
	idx := s.keys.BlindIndex(app.EmailIndexPurpose, email)
	return &idx
}

// emailIndexes are the blind indexes email may be stored under: one per
// key of the keyring, as a row keeps its index until it is re-sealed.
func (s *Store) emailIndexes(email string) []string {
	email = app.NormalizeEmail(email)
	if email == "" || s.keys == nil {
		return nil
	}
	return s.keys.BlindIndexes(app.EmailIndexPurpose, email)
}

// splitSession returns the session's state without its personal data,
// and that data.
func splitSession(st checkout.State) (checkout.State, sessionPersonal) {
	p := sessionPersonal{Buyer: st.Buyer, Fulfillment: st.Fulfillment, OrderNotes: st.OrderNotes}
	st.ForgetBuyer()
	return st, p
}

// byBuyerEmail narrows q (sessions or carts of one shop) to the rows of
// the buyer email names: by blind index, and for rows written before
// migration 00022 and not sealed since, by the email in the state JSON.
func (s *Store) byBuyerEmail(q *gorm.DB, email string) *gorm.DB {
	if strings.TrimSpace(email) == "" {
		return q.Where("1 = 0")
	}
	quoted, _ := json.Marshal(email) // as it appears in the JSON state, quotes included
	plain := s.containsSQL("state")
	if idx := s.emailIndexes(email); len(idx) > 0 {
		return q.Where("(buyer_index IN ? OR (buyer_sealed IS NULL AND "+plain+"))", idx, string(quoted))
	}
	return q.Where("buyer_sealed IS NULL AND "+plain, string(quoted))
}

// SealPlainBuyers seals the personal data still held in plaintext by rows
// written before migration 00022 (at most limit rows of each table; ≤ 0:
// retentionBatch) and reports how many it sealed; the maintenance job
// calls it until none are left. Each row is rewritten only if unchanged
// since read (its row version).
func (s *Store) SealPlainBuyers(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = retentionBatch
	}
	n := 0
	var rows []checkoutSessionRow
	if err := s.withPersonalKeys(s.conn(ctx).Model(&checkoutSessionRow{}).Where("buyer_sealed IS NULL")).
		Limit(limit).Find(&rows).Error; err != nil {
		return n, translate(err, "plain buyers of sessions")
	}
	for _, r := range rows {
		cs, err := s.toCheckoutSession(r)
		if err != nil {
			return n, err
		}
		nr, err := s.toCheckoutRow(cs)
		if err != nil {
			return n, err
		}
		res := s.conn(ctx).Model(&checkoutSessionRow{}).Where("id = ? AND row_version = ?", r.ID, r.RowVersion).
			UpdateColumns(map[string]any{"state": nr.State, "buyer_sealed": nr.BuyerSealed, "buyer_index": nr.BuyerIndex})
		if res.Error != nil {
			return n, translate(res.Error, "seal buyer of session "+r.ID)
		}
		n += int(res.RowsAffected)
	}
	var carts []cartRow
	if err := s.withPersonalKeys(s.conn(ctx).Model(&cartRow{}).Where("buyer_sealed IS NULL")).
		Limit(limit).Find(&carts).Error; err != nil {
		return n, translate(err, "plain buyers of carts")
	}
	for _, r := range carts {
		c, err := s.toCart(r)
		if err != nil {
			return n, err
		}
		nr, err := s.toCartRow(c)
		if err != nil {
			return n, err
		}
		res := s.conn(ctx).Model(&cartRow{}).Where("id = ? AND row_version = ?", r.ID, r.RowVersion).
			UpdateColumns(map[string]any{"state": nr.State, "buyer_sealed": nr.BuyerSealed, "buyer_index": nr.BuyerIndex})
		if res.Error != nil {
			return n, translate(res.Error, "seal buyer of cart "+r.ID)
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// ResealPersonalData finishes a key rotation for buyers' personal data:
// the sealed buyers of sessions and carts, the data requests' exports and
// the idempotency records' stored answers sealed under a key other than
// the primary are sealed again under it (and the emails re-indexed under
// it), and the rows written before migration 00022 that still hold
// personal data in plaintext are sealed (SealPlainBuyers, resealAnswers). At most limit rows of each table per call (≤ 0:
// retentionBatch); it reports how many it rewrote, and the caller calls
// again while that is not 0. A row changed meanwhile is left to the next
// call (each rewrite is conditional on the sealed value read).
func (s *Store) ResealPersonalData(ctx context.Context, limit int) (int, error) {
	if s.keys == nil {
		return 0, errNoKeys
	}
	if limit <= 0 {
		limit = retentionBatch
	}
	stale := "v1:" + s.keys.PrimaryID() + ":%"
	n := 0
	for _, t := range []struct {
		table   string
		model   any
		reindex func(plain []byte) (string, error)
	}{
		{"checkout_sessions", &checkoutSessionRow{}, func(b []byte) (string, error) {
			var p sessionPersonal
			err := json.Unmarshal(b, &p)
			return p.email(), err
		}},
		{"carts", &cartRow{}, func(b []byte) (string, error) {
			var p cartPersonal
			if err := json.Unmarshal(b, &p); err != nil || p.Buyer == nil {
				return "", err
			}
			return p.Buyer.Email, nil
		}},
	} {
		var rows []struct {
			ID          string
			BuyerSealed string
		}
		if err := s.conn(ctx).Model(t.model).Select("id", "buyer_sealed").
			Where("buyer_sealed IS NOT NULL AND buyer_sealed NOT LIKE ?", stale).Limit(limit).Scan(&rows).Error; err != nil {
			return n, translate(err, "stale buyers of "+t.table)
		}
		for _, r := range rows {
			aad := app.BuyerAAD(t.table, r.ID)
			plain, err := s.keys.Open(r.BuyerSealed, aad)
			if err != nil {
				return n, fmt.Errorf("reseal buyer of %s %s: %w", t.table, r.ID, err)
			}
			email, err := t.reindex(plain)
			if err != nil {
				return n, fmt.Errorf("reseal buyer of %s %s: %w", t.table, r.ID, err)
			}
			sealed, err := s.keys.Seal(plain, aad)
			if err != nil {
				return n, err
			}
			res := s.conn(ctx).Model(t.model).Where("id = ? AND buyer_sealed = ?", r.ID, r.BuyerSealed).
				UpdateColumns(map[string]any{"buyer_sealed": sealed, "buyer_index": s.emailIndex(email)})
			if res.Error != nil {
				return n, translate(res.Error, "reseal buyer of "+t.table)
			}
			n += int(res.RowsAffected)
		}
	}
	var exports []complianceRow
	if err := s.conn(ctx).Select("id", "webhook_id", "export_sealed").
		Where("export_sealed IS NOT NULL AND export_sealed NOT LIKE ?", stale).Limit(limit).Find(&exports).Error; err != nil {
		return n, translate(err, "stale data request exports")
	}
	for _, r := range exports {
		aad := app.ComplianceExportAAD(r.WebhookID)
		plain, err := s.keys.Open(*r.ExportSealed, aad)
		if err != nil {
			return n, fmt.Errorf("reseal the export of data request %d: %w", r.ID, err)
		}
		sealed, err := s.keys.Seal(plain, aad)
		if err != nil {
			return n, err
		}
		res := s.conn(ctx).Model(&complianceRow{}).Where("id = ? AND export_sealed = ?", r.ID, *r.ExportSealed).
			UpdateColumn("export_sealed", sealed)
		if res.Error != nil {
			return n, translate(res.Error, "reseal data request export")
		}
		n += int(res.RowsAffected)
	}
	k, err := s.resealAnswers(ctx, limit)
	n += k
	if err != nil {
		return n, err
	}
	plain, err := s.SealPlainBuyers(ctx, limit)
	return n + plain, err
}

// resealAnswers re-seals under the primary key the idempotency records'
// stored answers sealed under another key, and seals those stored in
// plain JSON before migration 00022 (the answer is the session as the
// agent was shown it, buyer included). An answer sealed under the primary
// key in the text form of before answers were deflated (answer.go) is
// left as it is: it opens, and expires within 24 h like the rest. Expired
// records are left to the prune.
func (s *Store) resealAnswers(ctx context.Context, limit int) (int, error) {
	current := append(bytes.Clone(answerPrefix), "b1:"+s.keys.PrimaryID()+":"...)
	text := append(bytes.Clone(textPrefix), s.keys.PrimaryID()+":"...)
	var rows []struct {
		ID            int64
		ResultSession []byte
	}
	if err := s.conn(ctx).Model(&idempotencyRow{}).Select("id", "result_session").
		Where("outcome IS NOT NULL AND length(result_session) > 0 AND expires_at > ? AND substr(result_session, 1, ?) <> ? AND substr(result_session, 1, ?) <> ?",
			s.Now(), len(current), current, len(text), text).
		Limit(limit).Scan(&rows).Error; err != nil {
		return 0, translate(err, "stale idempotency answers")
	}
	n := 0
	for _, r := range rows {
		plain, err := s.openAnswer(r.ID, r.ResultSession)
		if err != nil {
			return n, err
		}
		sealed, err := s.sealAnswer(r.ID, plain)
		if err != nil {
			return n, err
		}
		res := s.conn(ctx).Model(&idempotencyRow{}).Where("id = ? AND result_session = ?", r.ID, r.ResultSession).
			UpdateColumn("result_session", sealed)
		if res.Error != nil {
			return n, translate(res.Error, "reseal idempotency answer")
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}
