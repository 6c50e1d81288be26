package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// A create claims its idempotency key with the session's INSERT (issue 17:
// one statement on PostgreSQL instead of a claim and then the session with
// the answer): the record is inserted completed, its answer sealed and
// bound to its id as any other's (sealAnswer), so its id is taken from the
// table's sequence beforehand, a block at a time (reserveIdempotencyID).
// SQLite, in-process, claims, inserts and finishes in one transaction.

// idempotencyIDBlock is how many record ids one reservation takes: one
// statement per that many creates.
const idempotencyIDBlock = 64

// idBlock is this process's reserved ids, used in any order.
type idBlock struct {
	mu  sync.Mutex
	ids []int64
}

// reserveIdempotencyID is an id of idempotency_keys' sequence that no other
// record has or will get. Ids reserved and never used (a claim that lost,
// a restart) are gaps, as a rolled-back INSERT leaves: nothing reads the
// ids' order.
func (s *Store) reserveIdempotencyID(ctx context.Context) (int64, error) {
	b := &s.idemIDs
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ids) == 0 {
		var ids []int64
		err := s.db.WithContext(ctx).Raw(`SELECT nextval(pg_get_serial_sequence('idempotency_keys', 'id')) FROM generate_series(1, ?)`,
			idempotencyIDBlock).Scan(&ids).Error
		if err != nil {
			return 0, translate(err, "reserve idempotency record ids")
		}
		if len(ids) == 0 {
			return 0, fmt.Errorf("reserve idempotency record ids: none returned")
		}
		b.ids = ids
	}
	id := b.ids[len(b.ids)-1]
	b.ids = b.ids[:len(b.ids)-1]
	return id, nil
}

// CreateCheckoutSessionClaiming implements checkout.ClaimingStore: the
// record of a.Claim (an *idempotency.Pending of this store), completed
// with the answer, and the session cs are inserted together, or nothing
// is when a record holds the key (claimed false; the caller's Begin then
// reads it). A holder that is stale (expired, or in flight under a lapsed
// lease) is dropped and the claim tried once more, as ClaimIdempotencyKey
// does; so are records of migration 00014, which hold a key for every API
// key of their shop.
func (s *Store) CreateCheckoutSessionClaiming(ctx context.Context, cs *checkout.Session, a checkout.AnswerRecord) (bool, error) {
	p, ok := a.Claim.(*idempotency.Pending)
	if !ok || p.Store != idempotency.Store(s) {
		return false, nil // another store's claim: Begin's store must hold the record
	}
	rec := p.Record
	now := rec.CreatedAt.UTC()
	until, err := s.legacyIdempotencyUntil(ctx)
	if err != nil {
		return false, err
	}
	if now.Before(until) {
		if _, err := s.dropStaleIdempotency(ctx, rec, now, rec.APIKeyID, legacyKeyID); err != nil {
			return false, err
		}
		if held, err := s.legacyIdempotency(ctx, rec, now); held != nil || err != nil {
			return false, err
		}
	}
	for try := 0; ; try++ {
		claimed, err := s.claimAndCreate(ctx, cs, rec, a)
		if err != nil || claimed || try > 0 {
			return claimed, err
		}
		dropped, err := s.dropStaleIdempotency(ctx, rec, now, rec.APIKeyID)
		if err != nil || dropped == 0 {
			return false, err // held by a live record
		}
	}
}

// dropStaleIdempotency deletes the records of rec's scope and key (of the
// API keys keyIDs) that are expired or in flight under a lapsed lease at
// now; the condition keeps it from removing a record just claimed.
func (s *Store) dropStaleIdempotency(ctx context.Context, rec idempotency.Record, now time.Time, keyIDs ...int64) (int64, error) {
	res := s.idemScope(ctx, rec.Scope, rec.Key, keyIDs...).
		Where("expires_at <= ? OR (state = ? AND lease_until <= ?)", now, string(idempotency.InFlight), now).
		Delete(&idempotencyRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "claim idempotency key: drop stale")
	}
	return res.RowsAffected, nil
}

// claimAndCreate inserts the completed record rec with a's answer and the
// session cs, both or neither (claimed false: a record holds the key).
func (s *Store) claimAndCreate(ctx context.Context, cs *checkout.Session, rec idempotency.Record, a checkout.AnswerRecord) (bool, error) {
	if s.kind != app.DatabasePostgres {
		return s.claimAndCreateInTx(ctx, cs, rec, a)
	}
	id, err := s.reserveIdempotencyID(ctx)
	if err != nil {
		return false, err
	}
	answer, err := s.sealAnswer(id, answerBody(a))
	if err != nil {
		return false, err
	}
	cs.RowVersion = 1
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return false, err
	}
	var out struct{ Claimed, Created int64 }
	err = s.conn(ctx).Raw(claimAndCreateSQL,
		id, rec.ShopID, rec.APIKeyID, string(rec.Operation), rec.SessionID, rec.Key, rec.APIVersion, rec.RequestHash,
		rec.LeaseUntil.UTC(), a.Outcome, answer, rec.CreatedAt.UTC(), rec.ExpiresAt.UTC(),
		r.ID, r.ShopID, r.APIVersion, r.Status, r.Currency, r.State, r.BuyerSealed, r.BuyerIndex, r.RowVersion, r.APIKeyID,
		r.ExpiresAt, r.CreatedAt, r.UpdatedAt).Find(&out).Error
	if err != nil {
		return false, translate(err, "create checkout session")
	}
	if out.Claimed != out.Created {
		// Not expected: the session's INSERT reads the claim's RETURNING,
		// and either failing fails the statement.
		return false, fmt.Errorf("create checkout session %s: claimed %d, created %d", cs.ID, out.Claimed, out.Created)
	}
	if out.Claimed == 1 {
		s.rememberSession(ctx, r)
	}
	return out.Claimed == 1, nil
}

// claimCompletedSQL is the CTE k that inserts an idempotency record
// already completed, with its answer, unless a record holds its key (ON
// CONFLICT DO NOTHING, as insertClaim): k's RETURNING is empty then, and
// the statement's writes that read it do nothing. Shared by
// claimAndCreateSQL and claimAndSaveSQL, which take the same parameters
// for it.
const claimCompletedSQL = `WITH k AS (
  INSERT INTO idempotency_keys (id, shop_id, api_key_id, operation, session_id, key, api_version, request_hash, state,
    lease_until, outcome, result_session, refusal, created_at, expires_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'completed', ?, ?, ?, NULL, ?, ?)
  ON CONFLICT (shop_id, api_key_id, operation, session_id, key) DO NOTHING
  RETURNING id)`

// claimAndCreateSQL inserts the record completed (ON CONFLICT DO NOTHING,
// as insertClaim) and, from its RETURNING, the session: a held key
// inserts neither. One row: how many of each were inserted.
const claimAndCreateSQL = claimCompletedSQL + `,
s AS (
  INSERT INTO checkout_sessions (id, shop_id, api_version, status, currency, state, buyer_sealed, buyer_index, row_version,
    api_key_id, expires_at, created_at, updated_at)
  SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM k
  RETURNING 1)
SELECT (SELECT count(*) FROM k) AS claimed, (SELECT count(*) FROM s) AS created`

// claimWriteFinishInTx is a claim with a session's write on SQLite, in one
// transaction: the record inserted in flight (unless a record holds its
// key: then nothing is written and claimed is false), the session's write,
// and the record finished with the answer. A write that fails rolls the
// claim back with it.
func (s *Store) claimWriteFinishInTx(ctx context.Context, rec idempotency.Record, a checkout.AnswerRecord, write func(ctx context.Context) error) (claimed bool, err error) {
	err = s.InTx(ctx, func(ctx context.Context) error {
		row := idempotencyRow{
			ShopID: rec.ShopID, APIKeyID: rec.APIKeyID, Operation: string(rec.Operation), SessionID: rec.SessionID,
			Key: rec.Key, APIVersion: rec.APIVersion, RequestHash: rec.RequestHash, State: string(idempotency.InFlight),
			LeaseUntil: rec.LeaseUntil.UTC(), CreatedAt: rec.CreatedAt.UTC(), ExpiresAt: rec.ExpiresAt.UTC(),
		}
		inserted, err := s.insertClaimRow(ctx, &row)
		if err != nil || !inserted {
			return err
		}
		if err := write(ctx); err != nil {
			return err
		}
		if err := s.FinishIdempotencyKey(ctx, row.ID, idempotency.StoredResult{
			Outcome: idempotency.Outcome(a.Outcome), Session: answerBody(a)}); err != nil {
			return err
		}
		claimed = true
		return nil
	})
	return claimed && err == nil, err
}

// claimAndCreateInTx is claimAndCreate in one transaction (SQLite): the
// claim's INSERT, the session's, and the answer's finish, the record in
// flight only inside the transaction.
func (s *Store) claimAndCreateInTx(ctx context.Context, cs *checkout.Session, rec idempotency.Record, a checkout.AnswerRecord) (bool, error) {
	return s.claimWriteFinishInTx(ctx, rec, a, func(ctx context.Context) error { return s.CreateCheckoutSession(ctx, cs) })
}

// insertClaimRow inserts row unless a record holds its key, and reports
// whether it did (row.ID is then set).
func (s *Store) insertClaimRow(ctx context.Context, row *idempotencyRow) (bool, error) {
	res := s.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop_id"}, {Name: "api_key_id"}, {Name: "operation"},
			{Name: "session_id"}, {Name: "key"}},
		DoNothing: true,
	}).Create(row)
	if res.Error != nil {
		return false, translate(res.Error, "claim idempotency key")
	}
	return res.RowsAffected == 1, nil
}
