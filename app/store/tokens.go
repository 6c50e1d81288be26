package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// UpdateShopTokens stores a refreshed token pair (sealed) for an active shop.
func (s *Store) UpdateShopTokens(ctx context.Context, shopID int64, t app.SealedTokens) error {
	now := s.Now()
	res := s.conn(ctx).Model(&shopRow{}).Where("id = ? AND status = ?", shopID, string(app.ShopActive)).Updates(map[string]any{
		"access_token_sealed":      nilIfEmpty(t.Access),
		"access_token_expires_at":  t.AccessExpiresAt,
		"refresh_token_sealed":     nilIfEmpty(t.Refresh),
		"refresh_token_expires_at": t.RefreshExpiresAt,
		"token_refreshed_at":       now,
		"updated_at":               now,
	})
	s.forgetShopAuth(shopID)
	if res.Error != nil {
		return translate(res.Error, "update shop tokens")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update shop tokens: active shop %d: %w", shopID, app.ErrNotFound)
	}
	return nil
}

// MarkShopReauth records that Shopify no longer accepts the shop's tokens:
// they are deleted and the shop waits for the merchant to open the app.
func (s *Store) MarkShopReauth(ctx context.Context, shopID int64, reason string) error {
	now := s.Now()
	err := s.conn(ctx).Model(&shopRow{}).Where("id = ? AND status = ?", shopID, string(app.ShopActive)).Updates(map[string]any{
		"status":                   string(app.ShopReauthRequired),
		"reauth_reason":            reason,
		"access_token_sealed":      nil,
		"access_token_expires_at":  nil,
		"refresh_token_sealed":     nil,
		"refresh_token_expires_at": nil,
		"updated_at":               now,
	}).Error
	s.forgetShopAuth(shopID)
	return translate(err, "mark shop reauth")
}

// UpdateShopDetails stores what Shopify says of the shop.
func (s *Store) UpdateShopDetails(ctx context.Context, shopID int64, d app.ShopDetails) error {
	err := s.conn(ctx).Model(&shopRow{}).Where("id = ?", shopID).Updates(map[string]any{
		"name":                d.Name,
		"shopify_gid":         d.ShopifyGID,
		"currency_code":       d.CurrencyCode,
		"country_code":        d.CountryCode,
		"shipping_policy_url": d.ShippingPolicyURL,
		"contact_url":         d.ContactURL,
		"updated_at":          s.Now(),
	}).Error
	s.forgetShopAuth(shopID)
	return translate(err, "update shop details")
}

// WithShopLock runs fn while holding a lock on the shop that every replica
// respects: a PostgreSQL transaction-scoped advisory lock (fn runs inside
// that transaction, and its store calls join it), or on SQLite, whose file
// one process owns, a process-wide mutex. Refreshing a token under it means
// two workers never spend the same single-use refresh token.
func (s *Store) WithShopLock(ctx context.Context, shopID int64, fn func(ctx context.Context) error) error {
	if s.kind == app.DatabasePostgres {
		return s.InTx(ctx, func(ctx context.Context) error {
			// Two-key form: a namespace of ours, then the shop id.
			if err := s.conn(ctx).Exec("SELECT pg_advisory_xact_lock(?, ?)", shopLockNamespace, int32(shopID)).Error; err != nil {
				return translate(err, "shop lock")
			}
			return fn(ctx)
		})
	}
	mu, _ := s.shopLocks.LoadOrStore(shopID, &sync.Mutex{})
	m := mu.(*sync.Mutex)
	locked := make(chan struct{})
	go func() { m.Lock(); close(locked) }()
	select {
	case <-locked:
	case <-ctx.Done():
		// Release the lock once the goroutine gets it, so it is not leaked.
		go func() { <-locked; m.Unlock() }()
		return ctx.Err()
	}
	defer m.Unlock()
	return fn(ctx)
}

// shopLockNamespace is the first key of per-shop advisory locks.
var shopLockNamespace = int32(fnvHash("acpbridge.shop"))

func fnvHash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// oauthStateRow is the oauth_states table.
type oauthStateRow struct {
	StateHash string `gorm:"primaryKey"`
	Shop      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (oauthStateRow) TableName() string { return "oauth_states" }

// CreateOAuthState records a state nonce (its hash) for an OAuth flow and
// keeps at most keep pending states for the shop: the oldest beyond it,
// and the shop's expired ones, are deleted in the same transaction. On
// PostgreSQL an advisory lock on the shop makes the count exact across
// replicas; SQLite's single writer serialises the transactions.
func (s *Store) CreateOAuthState(ctx context.Context, stateHash, shop string, expiresAt time.Time, keep int) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if s.kind == app.DatabasePostgres {
			if err := db.Exec("SELECT pg_advisory_xact_lock(?, ?)", oauthStateLockNamespace, int32(fnvHash(shop))).Error; err != nil {
				return translate(err, "oauth state lock")
			}
		}
		now := s.Now()
		row := oauthStateRow{StateHash: stateHash, Shop: shop, CreatedAt: now, ExpiresAt: expiresAt.UTC()}
		if err := db.Create(&row).Error; err != nil {
			return translate(err, "create oauth state")
		}
		// The new state always stays; of the others, the keep-1 newest
		// unexpired ones do.
		others := db.Where("shop = ? AND state_hash <> ?", shop, stateHash)
		if keep > 1 {
			newest := db.Model(&oauthStateRow{}).Select("state_hash").
				Where("shop = ? AND state_hash <> ? AND expires_at > ?", shop, stateHash, now).
				Order("created_at DESC, state_hash").Limit(keep - 1)
			others = others.Where("expires_at <= ? OR state_hash NOT IN (?)", now, newest)
		}
		err := others.Delete(&oauthStateRow{}).Error
		return translate(err, "cap oauth states")
	})
}

// oauthStateLockNamespace is the first key of the per-shop advisory lock
// taken while creating an OAuth state.
var oauthStateLockNamespace = int32(fnvHash("acpbridge.oauth_state"))

// ConsumeOAuthState deletes the state if it exists for this shop and has
// not expired; the delete is what makes a state single-use, even when two
// callbacks race on two replicas. A missing, used or expired state is
// ErrNotFound.
func (s *Store) ConsumeOAuthState(ctx context.Context, stateHash, shop string) error {
	res := s.conn(ctx).Where("state_hash = ? AND shop = ? AND expires_at > ?", stateHash, shop, s.Now()).Delete(&oauthStateRow{})
	if res.Error != nil {
		return translate(res.Error, "consume oauth state")
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("oauth state: %w", app.ErrNotFound)
	}
	return nil
}

// PruneOAuthStates deletes expired states.
func (s *Store) PruneOAuthStates(ctx context.Context) (int64, error) {
	res := s.conn(ctx).Where("expires_at <= ?", s.Now()).Delete(&oauthStateRow{})
	return res.RowsAffected, translate(res.Error, "prune oauth states")
}
