package store

import (
	"context"
	"fmt"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// A complete claims its idempotency key with the statement that begins
// its payment (checkout.CompleteClaimingStore; issue 17), on a session
// this replica remembers, as an update claims its key with the session's
// UPDATE (idempotency_update.go). The record is inserted in flight: the
// answer comes once the payment and the order are through, with the
// statement that records them (RecordCompletion).

// claimBeginSQL inserts the record in flight (ON CONFLICT DO NOTHING, as
// insertClaim) and, only when it did, writes the session where it is
// still as remembered (row version, sealed personal data) and then the
// payment record, as beginCompletionSQL does. A held key writes nothing.
// A claim without its session write (the session moved) must not stay:
// the last expression then fails the statement, undoing the INSERT, as
// in claimAndSaveSQL. One row otherwise: the claimed record (NULL: none),
// saved, and the attempt and order_sent written.
const claimBeginSQL = `WITH k AS (
  INSERT INTO idempotency_keys (shop_id, api_key_id, operation, session_id, key, api_version, request_hash, state,
    lease_until, created_at, expires_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (shop_id, api_key_id, operation, session_id, key) DO NOTHING
  RETURNING id),
s AS (
  UPDATE checkout_sessions SET ` + sessionSetSQL + `
  WHERE ` + byShopKey + ` AND row_version = ? AND buyer_sealed IS NOT DISTINCT FROM ? AND EXISTS (SELECT 1 FROM k)
  RETURNING 1),
` + beginPaymentCTE + `,
n AS (SELECT (SELECT id FROM k) AS record, (SELECT count(*) FROM s) AS saved)
SELECT record, CAST(CASE WHEN (record IS NULL) = (saved = 0) THEN saved::text ELSE '` + sessionMovedMark + `' END AS bigint) AS saved,
  (SELECT attempt FROM p) AS attempt, (SELECT order_sent FROM p) AS order_sent FROM n`

// MayClaimComplete implements checkout.CompleteClaimingStore: on
// PostgreSQL, as MayClaimUpdate. SQLite, in-process, has no round trip to
// save, and begins a completion in the caller's transaction.
func (s *Store) MayClaimComplete(shopID int64, id string) bool {
	return s.kind == app.DatabasePostgres && s.MayClaimUpdate(shopID, id)
}

// BeginCompletionClaiming implements checkout.CompleteClaimingStore on
// PostgreSQL (claimBeginSQL): the in-flight record of claim (an
// *idempotency.Pending of this store), the session cs (remembered, at its
// remembered row version) and its payment record p, or nothing (record
// 0): a record holds the key, the session is no longer as remembered (its
// memory is then dropped), or the claim is not one this store can make
// here (another store's, a transaction in ctx, SQLite, records of
// migration 00014 may exist). Stale holders of the key are not dropped
// here: the caller's ordinary path (Begin) does that.
func (s *Store) BeginCompletionClaiming(ctx context.Context, cs *checkout.Session, p *checkout.Payment, claim any) (int64, error) {
	if pend, ok := claim.(*idempotency.Pending); !ok || pend.Record.State != idempotency.InFlight || s.kind != app.DatabasePostgres {
		return 0, nil // a claim to insert completed is a create's or an update's
	}
	rec, was, ok, err := s.rememberedClaim(ctx, cs, claim)
	if err != nil || !ok {
		return 0, err
	}
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return 0, err
	}
	pr, err := s.toPaymentRow(p)
	if err != nil {
		return 0, err
	}
	args := []any{rec.ShopID, rec.APIKeyID, string(rec.Operation), rec.SessionID, rec.Key, rec.APIVersion, rec.RequestHash,
		string(rec.State), rec.LeaseUntil.UTC(), rec.CreatedAt.UTC(), rec.ExpiresAt.UTC()}
	args = append(append(args, sessionSetArgs(r)...), cs.ID, cs.ShopID, was.RowVersion, was.BuyerSealed)
	var out struct {
		Record    *int64
		Saved     int64
		Attempt   *int
		OrderSent *bool
	}
	err = s.conn(ctx).Raw(claimBeginSQL, append(args, paymentArgs(pr)...)...).Find(&out).Error
	if sessionMovedError(err) {
		s.forgetSession(cs.ShopID, cs.ID)
		s.claimGate.record(false)
		return 0, nil
	}
	if err != nil {
		return 0, translate(err, "begin completion")
	}
	if out.Record == nil {
		return 0, nil // the key is held
	}
	if out.Saved != 1 || out.Attempt == nil || out.OrderSent == nil {
		// Not expected: the statement fails when the claim lands alone.
		return 0, fmt.Errorf("begin completion of %s: claimed %d, saved %d, payment written %t", cs.ID, *out.Record, out.Saved, out.Attempt != nil)
	}
	s.claimGate.record(true)
	cs.RowVersion++
	r.RowVersion = cs.RowVersion
	s.rememberSession(ctx, r)
	p.Attempt, p.Details.OrderSent = *out.Attempt, *out.OrderSent
	return *out.Record, nil
}
