package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// The ACP pipeline's common path in fewer statements (issue 17): on
// PostgreSQL the idempotency claim also reads the session the call
// targets (checkout.Prefetch), and the session's write also stores the
// call's answer in its idempotency record (checkout.Answer), each one
// statement with data-modifying CTEs. SQLite, in-process, keeps separate
// statements: the claim reads nothing more, and the answer is stored in
// the session write's transaction.

// insertClaim inserts the in-flight record row unless a record holds its
// key, and reports whether it did (row.ID is then set). On PostgreSQL,
// with a checkout.Prefetch of the record's shop in ctx, the same statement
// reads that session and fills the Prefetch when the key was claimed.
func (s *Store) insertClaim(ctx context.Context, row *idempotencyRow) (bool, error) {
	pf := checkout.PrefetchFrom(ctx)
	if pf == nil || s.kind != app.DatabasePostgres || pf.ShopID != row.ShopID {
		return s.insertClaimRow(ctx, row)
	}
	var r claimRead
	err := s.conn(ctx).Raw(claimAndReadSQL,
		row.ShopID, row.APIKeyID, row.Operation, row.SessionID, row.Key, row.APIVersion, row.RequestHash, row.State,
		row.LeaseUntil, row.CreatedAt, row.ExpiresAt, pf.ID, pf.ShopID).Find(&r).Error
	if err != nil {
		return false, translate(err, "claim idempotency key")
	}
	if r.ClaimID == nil {
		return false, nil
	}
	row.ID = *r.ClaimID
	if cs, err := s.claimedSession(ctx, &r); err == nil {
		pf.Fill(cs)
	} // else the operation's load reads it, and says what is wrong
	return true, nil
}

// claimAndReadSQL claims the key (as the INSERT … ON CONFLICT DO NOTHING
// of insertClaim) and reads the session, in one statement: one row, with
// claim_id NULL when the key is held and the cs_ columns NULL when there
// is no such session of the shop.
const claimAndReadSQL = `WITH ins AS (
  INSERT INTO idempotency_keys (shop_id, api_key_id, operation, session_id, key, api_version, request_hash, state,
    lease_until, created_at, expires_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (shop_id, api_key_id, operation, session_id, key) DO NOTHING
  RETURNING id)
SELECT (SELECT id FROM ins) AS claim_id, cs.id AS cs_id, cs.shop_id AS cs_shop_id, cs.api_version AS cs_api_version,
  cs.status AS cs_status, cs.currency AS cs_currency, cs.state AS cs_state, cs.buyer_sealed AS cs_buyer_sealed,
  cs.row_version AS cs_row_version,
  cs.api_key_id AS cs_api_key_id, cs.expires_at AS cs_expires_at, cs.created_at AS cs_created_at, cs.updated_at AS cs_updated_at
FROM (SELECT 1) AS one LEFT JOIN checkout_sessions cs ON cs.id = ? AND +cs.shop_id = ?` // +: see byShopKey

// claimRead is a row of claimAndReadSQL.
type claimRead struct {
	ClaimID       *int64
	CsID          *string
	CsShopID      *int64
	CsAPIVersion  *string
	CsStatus      *string
	CsCurrency    *string
	CsState       *string
	CsBuyerSealed *string
	CsRowVersion  *int64
	CsAPIKeyID    *int64
	CsExpiresAt   *time.Time
	CsCreatedAt   *time.Time
	CsUpdatedAt   *time.Time
}

// session is the session read, nil when there is none.
// The session is remembered as read (idempotency_update.go).
func (s *Store) claimedSession(ctx context.Context, r *claimRead) (*checkout.Session, error) {
	if r.CsID == nil {
		return nil, nil
	}
	if r.CsShopID == nil || r.CsRowVersion == nil || r.CsExpiresAt == nil || r.CsCreatedAt == nil || r.CsUpdatedAt == nil {
		return nil, errors.New("incomplete session row")
	}
	row := checkoutSessionRow{
		ID: *r.CsID, ShopID: *r.CsShopID, APIVersion: deref(r.CsAPIVersion), Status: deref(r.CsStatus),
		Currency: deref(r.CsCurrency), State: deref(r.CsState), BuyerSealed: r.CsBuyerSealed,
		RowVersion: *r.CsRowVersion, APIKeyID: derefInt(r.CsAPIKeyID),
		ExpiresAt: *r.CsExpiresAt, CreatedAt: *r.CsCreatedAt, UpdatedAt: *r.CsUpdatedAt,
	}
	cs, err := s.toCheckoutSession(row)
	if err != nil {
		return nil, err
	}
	s.rememberRead(ctx, row, cs)
	return cs, nil
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// toCheckoutSession is the session of a row (CheckoutSession's reading),
// its sealed personal data opened back into its state.
func (s *Store) toCheckoutSession(r checkoutSessionRow) (*checkout.Session, error) {
	cs := &checkout.Session{
		ID: r.ID, ShopID: r.ShopID, Version: acp.Version(r.APIVersion), Status: acp.Status(r.Status), Currency: r.Currency,
		RowVersion: r.RowVersion, APIKeyID: r.APIKeyID, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.State), &cs.State); err != nil {
		return nil, fmt.Errorf("checkout session %s: decode state: %w", r.ID, err)
	}
	if r.BuyerSealed != nil {
		var p sessionPersonal
		if err := s.openPersonal("checkout_sessions", r.ID, r.BuyerSealed, &p); err != nil {
			return nil, err
		}
		cs.State.Buyer, cs.State.Fulfillment, cs.State.OrderNotes = p.Buyer, p.Fulfillment, p.OrderNotes
	}
	return cs, nil
}

// finishSQL completes the in-flight record once the session statement s
// wrote its row: the same UPDATE as FinishIdempotencyKey, as a CTE.
const finishSQL = `f AS (
  UPDATE idempotency_keys SET state = 'completed', outcome = ?, result_session = ?, refusal = NULL
  WHERE id = ? AND state = 'in_flight' AND EXISTS (SELECT 1 FROM s)
  RETURNING 1)`

// CreateCheckoutSessionAnswered implements checkout.AnsweringStore: the
// session's INSERT (CreateCheckoutSession) and the answer's finish
// (FinishIdempotencyKey) in one statement on PostgreSQL, one transaction
// on SQLite.
func (s *Store) CreateCheckoutSessionAnswered(ctx context.Context, cs *checkout.Session, a checkout.AnswerRecord) (bool, error) {
	if s.kind != app.DatabasePostgres {
		return s.answerInTx(ctx, a, func(ctx context.Context) error { return s.CreateCheckoutSession(ctx, cs) })
	}
	cs.RowVersion = 1
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return false, err
	}
	answer, err := s.sealAnswer(a.Record, answerBody(a))
	if err != nil {
		return false, err
	}
	var out struct{ Answered int64 }
	err = s.conn(ctx).Raw(`WITH s AS (
  INSERT INTO checkout_sessions (id, shop_id, api_version, status, currency, state, buyer_sealed, buyer_index, row_version,
    api_key_id, expires_at, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  RETURNING 1), `+finishSQL+`
SELECT count(*) AS answered FROM f`,
		r.ID, r.ShopID, r.APIVersion, r.Status, r.Currency, r.State, r.BuyerSealed, r.BuyerIndex, r.RowVersion, r.APIKeyID, r.ExpiresAt, r.CreatedAt, r.UpdatedAt,
		a.Outcome, answer, a.Record).Find(&out).Error
	if err != nil {
		return false, translate(err, "create checkout session")
	}
	s.rememberSession(ctx, r)
	return out.Answered == 1, nil
}

// saveAnsweredSQL is SaveCheckoutSessionAnswered's statement on
// PostgreSQL: the guarded UPDATE, then the answer's finish when it wrote.
const saveAnsweredSQL = `WITH s AS (
  UPDATE checkout_sessions SET ` + sessionSetSQL + `
  WHERE ` + byShopKey + ` AND row_version = ?
  RETURNING 1), ` + finishSQL + `
SELECT (SELECT count(*) FROM s) AS saved, (SELECT count(*) FROM f) AS answered`

// SaveCheckoutSessionAnswered implements checkout.AnsweringStore: the
// session's guarded UPDATE (SaveCheckoutSession: ErrConflict when its row
// version moved, and then the answer is not stored either) and the
// answer's finish, in one statement on PostgreSQL, one transaction on
// SQLite.
func (s *Store) SaveCheckoutSessionAnswered(ctx context.Context, cs *checkout.Session, a checkout.AnswerRecord) (bool, error) {
	if s.kind != app.DatabasePostgres {
		return s.answerInTx(ctx, a, func(ctx context.Context) error { return s.SaveCheckoutSession(ctx, cs) })
	}
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return false, err
	}
	answer, err := s.sealAnswer(a.Record, answerBody(a))
	if err != nil {
		return false, err
	}
	var out struct{ Saved, Answered int64 }
	err = s.conn(ctx).Raw(saveAnsweredSQL,
		r.Status, r.State, r.BuyerSealed, r.BuyerIndex, r.Currency, r.ExpiresAt, r.UpdatedAt, cs.ID, cs.ShopID, cs.RowVersion,
		a.Outcome, answer, a.Record).Find(&out).Error
	if err != nil {
		return false, translate(err, "save checkout session")
	}
	if out.Saved == 0 {
		s.forgetSession(cs.ShopID, cs.ID)
		return false, fmt.Errorf("save checkout session %s: %w", cs.ID, app.ErrConflict)
	}
	cs.RowVersion++
	r.RowVersion = cs.RowVersion
	s.rememberSession(ctx, r)
	return out.Answered == 1, nil
}

// answerInTx runs write and then the answer's finish in one transaction
// (the caller's, if ctx carries one). A record no longer in flight leaves
// the write as it is: answered is false.
func (s *Store) answerInTx(ctx context.Context, a checkout.AnswerRecord, write func(ctx context.Context) error) (bool, error) {
	answered := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := write(ctx); err != nil {
			return err
		}
		err := s.FinishIdempotencyKey(ctx, a.Record, idempotency.StoredResult{
			Outcome: idempotency.Outcome(a.Outcome), Session: answerBody(a)})
		if errors.Is(err, app.ErrNotFound) {
			return nil
		}
		answered = err == nil
		return err
	})
	return answered && err == nil, err
}

func answerBody(a checkout.AnswerRecord) []byte {
	if a.Body == nil {
		return []byte{}
	}
	return a.Body
}
