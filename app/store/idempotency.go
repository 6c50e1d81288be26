package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// idempotencyRow is the idempotency_keys table.
type idempotencyRow struct {
	ID              int64 `gorm:"primaryKey"`
	ShopID          int64
	Scope           string
	Key             string
	APIVersion      string
	RequestHash     string
	State           string
	LeaseUntil      time.Time
	ResponseStatus  *int
	ResponseHeaders *string
	ResponseBody    []byte
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

func toAppIdempotency(r idempotencyRow) (*idempotency.IdempotencyRecord, error) {
	rec := &idempotency.IdempotencyRecord{
		ID: r.ID, ShopID: r.ShopID, Scope: r.Scope, Key: r.Key, APIVersion: r.APIVersion,
		RequestHash: r.RequestHash, State: idempotency.IdempotencyState(r.State), LeaseUntil: r.LeaseUntil.UTC(),
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.ResponseStatus != nil {
		resp := &idempotency.StoredResponse{Status: *r.ResponseStatus, Body: r.ResponseBody, Header: http.Header{}}
		if resp.Body == nil {
			resp.Body = []byte{}
		}
		if r.ResponseHeaders != nil && *r.ResponseHeaders != "" {
			if err := json.Unmarshal([]byte(*r.ResponseHeaders), &resp.Header); err != nil {
				return nil, fmt.Errorf("idempotency record %d: headers: %w", r.ID, err)
			}
		}
		rec.Response = resp
	}
	return rec, nil
}

// ClaimIdempotencyKey implements app.IdempotencyStore: the claim is an
// INSERT … ON CONFLICT DO NOTHING on (shop_id, scope, key), which the
// database makes atomic whichever replica (or connection) runs it. A record
// that is expired, or in flight under a lapsed lease (its replica died), is
// deleted first; the DELETE's own condition keeps it from removing a record
// another replica has just claimed.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec idempotency.IdempotencyRecord, now time.Time) (*idempotency.IdempotencyRecord, bool, error) {
	now = now.UTC()
	row := idempotencyRow{
		ShopID: rec.ShopID, Scope: rec.Scope, Key: rec.Key, APIVersion: rec.APIVersion,
		RequestHash: rec.RequestHash, State: string(idempotency.IdempotencyInFlight), LeaseUntil: rec.LeaseUntil.UTC(),
		CreatedAt: rec.CreatedAt.UTC(), ExpiresAt: rec.ExpiresAt.UTC(),
	}
	// A record can vanish between the INSERT that lost and the SELECT (its
	// request failed and released it); then the key is free: claim again.
	for range 3 {
		err := s.conn(ctx).
			Where("shop_id = ? AND scope = ? AND key = ?", rec.ShopID, rec.Scope, rec.Key).
			Where("expires_at <= ? OR (state = ? AND lease_until <= ?)", now, string(idempotency.IdempotencyInFlight), now).
			Delete(&idempotencyRow{}).Error
		if err != nil {
			return nil, false, translate(err, "claim idempotency key: drop stale")
		}
		row.ID = 0
		res := s.conn(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "shop_id"}, {Name: "scope"}, {Name: "key"}},
			DoNothing: true,
		}).Create(&row)
		if res.Error != nil {
			return nil, false, translate(res.Error, "claim idempotency key")
		}
		if res.RowsAffected == 1 {
			held, err := toAppIdempotency(row)
			return held, true, err
		}
		var cur idempotencyRow
		res = s.conn(ctx).Where("shop_id = ? AND scope = ? AND key = ?", rec.ShopID, rec.Scope, rec.Key).Limit(1).Find(&cur)
		if res.Error != nil {
			return nil, false, translate(res.Error, "claim idempotency key: read holder")
		}
		if res.RowsAffected == 1 {
			held, err := toAppIdempotency(cur)
			return held, false, err
		}
	}
	return nil, false, fmt.Errorf("claim idempotency key: the key keeps changing hands: %w", app.ErrConflict)
}

// RenewIdempotencyLease implements app.IdempotencyStore.
func (s *Store) RenewIdempotencyLease(ctx context.Context, id int64, leaseUntil time.Time) error {
	res := s.conn(ctx).Model(&idempotencyRow{}).Where("id = ? AND state = ?", id, string(idempotency.IdempotencyInFlight)).
		Update("lease_until", leaseUntil.UTC())
	if res.Error != nil {
		return translate(res.Error, "renew idempotency lease")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("renew idempotency lease: in-flight record %d: %w", id, app.ErrNotFound)
	}
	return nil
}

// FinishIdempotencyKey implements app.IdempotencyStore.
func (s *Store) FinishIdempotencyKey(ctx context.Context, id int64, resp idempotency.StoredResponse) error {
	hdr := resp.Header
	if hdr == nil {
		hdr = http.Header{}
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("finish idempotency key: headers: %w", err)
	}
	headers := string(hb)
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	res := s.conn(ctx).Model(&idempotencyRow{}).Where("id = ? AND state = ?", id, string(idempotency.IdempotencyInFlight)).
		Updates(map[string]any{
			"state":            string(idempotency.IdempotencyCompleted),
			"response_status":  resp.Status,
			"response_headers": headers,
			"response_body":    body,
		})
	if res.Error != nil {
		return translate(res.Error, "finish idempotency key")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("finish idempotency key: in-flight record %d: %w", id, app.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotencyKey implements app.IdempotencyStore.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, id int64) error {
	err := s.conn(ctx).Where("id = ? AND state = ?", id, string(idempotency.IdempotencyInFlight)).Delete(&idempotencyRow{}).Error
	return translate(err, "release idempotency key")
}

// IdempotencyRecord returns the record of a key, for tests and support.
func (s *Store) IdempotencyRecord(ctx context.Context, shopID int64, scope, key string) (*idempotency.IdempotencyRecord, error) {
	var r idempotencyRow
	if err := s.conn(ctx).Where("shop_id = ? AND scope = ? AND key = ?", shopID, scope, key).Take(&r).Error; err != nil {
		return nil, translate(err, "idempotency record")
	}
	return toAppIdempotency(r)
}

// PruneIdempotencyKeys deletes the records expired at now; a key reused
// after that is a new request anyway.
func (s *Store) PruneIdempotencyKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.conn(ctx).Where("expires_at <= ?", now.UTC()).Delete(&idempotencyRow{})
	return res.RowsAffected, translate(res.Error, "prune idempotency keys")
}
