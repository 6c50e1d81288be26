package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// idempotencyRow is the idempotency_keys table (migration 00014 keys it by
// operation).
type idempotencyRow struct {
	ID     int64 `gorm:"primaryKey"`
	ShopID int64
	// APIKeyID is the agent's key; 0 for a record kept from before
	// migration 00014, which knew no key (see legacyKeyID).
	APIKeyID    int64
	Operation   string
	SessionID   string
	Key         string
	APIVersion  string
	RequestHash string
	State       string
	LeaseUntil  time.Time
	// The stored result, once completed: its outcome, the session's ACP
	// JSON, and the refusal (idempotency.Refusal as JSON).
	Outcome       *string
	ResultSession []byte
	Refusal       *string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// legacyKeyID is the api_key_id of the records migration 00014 converted:
// they were scoped by shop and path only, so they match a retry with any
// key of their shop (they expire within 24 h of the upgrade).
const legacyKeyID = 0

func (s *Store) toAppIdempotency(r idempotencyRow) (*idempotency.Record, error) {
	rec := &idempotency.Record{
		ID: r.ID,
		Scope: idempotency.Scope{ShopID: r.ShopID, APIKeyID: r.APIKeyID,
			Operation: idempotency.Operation(r.Operation), SessionID: r.SessionID},
		Key: r.Key, APIVersion: r.APIVersion,
		RequestHash: r.RequestHash, State: idempotency.State(r.State), LeaseUntil: r.LeaseUntil.UTC(),
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.Outcome != nil {
		session, err := s.openAnswer(r.ID, r.ResultSession)
		if err != nil {
			return nil, err
		}
		res := &idempotency.StoredResult{Outcome: idempotency.Outcome(*r.Outcome), Session: session}
		if r.Refusal != nil && *r.Refusal != "" {
			res.Refusal = &idempotency.Refusal{}
			if err := json.Unmarshal([]byte(*r.Refusal), res.Refusal); err != nil {
				return nil, fmt.Errorf("idempotency record %d: refusal: %w", r.ID, err)
			}
		}
		rec.Result = res
	}
	return rec, nil
}

// idemScope selects the records of a scope and key, the legacy record of
// the shop included when keyIDs says so.
func (s *Store) idemScope(ctx context.Context, sc idempotency.Scope, key string, keyIDs ...int64) *gorm.DB {
	return s.conn(ctx).Where("shop_id = ? AND api_key_id IN ? AND operation = ? AND session_id = ? AND key = ?",
		sc.ShopID, keyIDs, string(sc.Operation), sc.SessionID, key)
}

// ClaimIdempotencyKey implements idempotency.Store: the claim is an
// INSERT … ON CONFLICT DO NOTHING on (shop_id, api_key_id, operation,
// session_id, key), which the database makes atomic whichever replica (or
// connection) runs it. A record that is expired, or in flight under a
// lapsed lease (its replica died), is deleted when the INSERT loses to
// it, and the claim tried again; the DELETE's own condition keeps it from
// removing a record another replica has just claimed. A record converted by migration 00014 (legacyKeyID) holds the
// key for every API key of its shop.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, bool, error) {
	now = now.UTC()
	row := idempotencyRow{
		ShopID: rec.ShopID, APIKeyID: rec.APIKeyID, Operation: string(rec.Operation), SessionID: rec.SessionID,
		Key: rec.Key, APIVersion: rec.APIVersion,
		RequestHash: rec.RequestHash, State: string(idempotency.InFlight), LeaseUntil: rec.LeaseUntil.UTC(),
		CreatedAt: rec.CreatedAt.UTC(), ExpiresAt: rec.ExpiresAt.UTC(),
	}
	// Most claims are of a new key: the INSERT alone decides them. Only
	// when it loses is a stale holder (expired, or in flight under a
	// lapsed lease) dropped and the claim tried again; while records of
	// migration 00014 may exist, stale ones are dropped first, as the
	// legacy check must not find an expired one (issue 17: a DELETE on
	// every request was one statement in twenty).
	until, err := s.legacyIdempotencyUntil(ctx)
	if err != nil {
		return nil, false, err
	}
	dropStale := now.Before(until)
	// A record can vanish between the INSERT that lost and the SELECT (its
	// request failed and released it); then the key is free: claim again.
	for range 4 {
		if dropStale {
			if _, err := s.dropStaleIdempotency(ctx, rec, now, rec.APIKeyID, legacyKeyID); err != nil {
				return nil, false, err
			}
		}
		if held, err := s.legacyIdempotency(ctx, rec, now); held != nil || err != nil {
			return held, false, err
		}
		row.ID = 0
		inserted, err := s.insertClaim(ctx, &row)
		if err != nil {
			return nil, false, err
		}
		if inserted {
			held, err := s.toAppIdempotency(row)
			return held, true, err
		}
		if !dropStale {
			dropStale = true // the holder may be stale: drop it and try again
			continue
		}
		var cur idempotencyRow
		res := s.idemScope(ctx, rec.Scope, rec.Key, rec.APIKeyID).Limit(1).Find(&cur)
		if res.Error != nil {
			return nil, false, translate(res.Error, "claim idempotency key: read holder")
		}
		if res.RowsAffected == 1 {
			held, err := s.toAppIdempotency(cur)
			return held, false, err
		}
	}
	return nil, false, fmt.Errorf("claim idempotency key: the key keeps changing hands: %w", app.ErrConflict)
}

// legacyIdempotency returns the record converted by migration 00014 that
// holds rec's key, if any. Such records stop existing 24 h after the
// upgrade; until the last has expired (legacyIdemUntil, read once per
// Store), the claim looks for one; after that it costs nothing.
func (s *Store) legacyIdempotency(ctx context.Context, rec idempotency.Record, now time.Time) (*idempotency.Record, error) {
	if rec.APIKeyID == legacyKeyID {
		return nil, nil // the INSERT's conflict finds it
	}
	until, err := s.legacyIdempotencyUntil(ctx)
	if err != nil {
		return nil, err
	}
	if !now.Before(until) {
		return nil, nil
	}
	var cur idempotencyRow
	res := s.idemScope(ctx, rec.Scope, rec.Key, legacyKeyID).Limit(1).Find(&cur)
	if res.Error != nil {
		return nil, translate(res.Error, "claim idempotency key: read legacy holder")
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	return s.toAppIdempotency(cur)
}

// legacyIdempotencyUntil is when the last record converted by migration
// 00014 expires (the zero time when there is none), read on first use; a
// failed read is not remembered.
func (s *Store) legacyIdempotencyUntil(ctx context.Context) (time.Time, error) {
	s.legacyIdemMu.Lock()
	defer s.legacyIdemMu.Unlock()
	if s.legacyIdemKnown {
		return s.legacyIdemUntil, nil
	}
	var last idempotencyRow
	res := s.conn(ctx).Where("api_key_id = ?", legacyKeyID).Order("expires_at DESC").Limit(1).Find(&last)
	if res.Error != nil {
		return time.Time{}, translate(res.Error, "claim idempotency key: legacy records")
	}
	if res.RowsAffected == 1 {
		s.legacyIdemUntil = last.ExpiresAt.UTC()
	}
	s.legacyIdemKnown = true
	return s.legacyIdemUntil, nil
}

// RenewIdempotencyLease implements idempotency.Store.
func (s *Store) RenewIdempotencyLease(ctx context.Context, id int64, leaseUntil time.Time) error {
	res := s.conn(ctx).Model(&idempotencyRow{}).Where("id = ? AND state = ?", id, string(idempotency.InFlight)).
		Update("lease_until", leaseUntil.UTC())
	if res.Error != nil {
		return translate(res.Error, "renew idempotency lease")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("renew idempotency lease: in-flight record %d: %w", id, app.ErrNotFound)
	}
	return nil
}

// FinishIdempotencyKey implements idempotency.Store.
func (s *Store) FinishIdempotencyKey(ctx context.Context, id int64, result idempotency.StoredResult) error {
	var refusal *string
	if result.Refusal != nil {
		b, err := json.Marshal(result.Refusal)
		if err != nil {
			return fmt.Errorf("finish idempotency key: refusal: %w", err)
		}
		r := string(b)
		refusal = &r
	}
	session, err := s.sealAnswer(id, result.Session)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&idempotencyRow{}).Where("id = ? AND state = ?", id, string(idempotency.InFlight)).
		Updates(map[string]any{
			"state":          string(idempotency.Completed),
			"outcome":        string(result.Outcome),
			"result_session": session,
			"refusal":        refusal,
		})
	if res.Error != nil {
		return translate(res.Error, "finish idempotency key")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("finish idempotency key: in-flight record %d: %w", id, app.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotencyKey implements idempotency.Store.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, id int64) error {
	err := s.conn(ctx).Where("id = ? AND state = ?", id, string(idempotency.InFlight)).Delete(&idempotencyRow{}).Error
	return translate(err, "release idempotency key")
}

// IdempotencyRecord returns the record of a key, for tests and support.
func (s *Store) IdempotencyRecord(ctx context.Context, scope idempotency.Scope, key string) (*idempotency.Record, error) {
	var r idempotencyRow
	if err := s.idemScope(ctx, scope, key, scope.APIKeyID).Take(&r).Error; err != nil {
		return nil, translate(err, "idempotency record")
	}
	return s.toAppIdempotency(r)
}

// PruneIdempotencyKeys deletes the records expired at now; a key reused
// after that is a new request anyway.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.conn(ctx).Where("expires_at <= ?", now.UTC()).Delete(&idempotencyRow{})
	return res.RowsAffected, translate(res.Error, "prune idempotency keys")
}
