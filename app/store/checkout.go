package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
)

// APIKeyByHash returns a live (not revoked) key, its shop, the shop's
// ACP settings (nil when none are saved) with its payment account, and the
// policy pages of its feed settings, in one query: it runs on every agent
// request, so its answers are kept for AuthCacheTTL (authcache.go).
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (*app.APIKey, *app.Shop, *app.ACPSettings, *app.PolicyURLs, error) {
	cache := s.authCache()
	now := s.Now()
	k, sh, set, pol, gen, ok := cache.get(hash, now)
	if ok {
		return k, sh, set, pol, nil
	}
	k, sh, set, pol, err := s.apiKeyByHash(ctx, hash)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	cache.put(hash, gen, k, sh, set, pol, now)
	return k, sh, set, pol, nil
}

func (s *Store) apiKeyByHash(ctx context.Context, hash string) (*app.APIKey, *app.Shop, *app.ACPSettings, *app.PolicyURLs, error) {
	var r struct {
		Shop           shopRow `gorm:"embedded"`
		KeyID          int64
		KeyFingerprint string
		KeyLabel       string
		KeyCreatedAt   time.Time
		SetShopID      *int64
		SigningSealed  *string
		RequireSig     *bool
		WebhookURL     *string
		WebhookSealed  *string
		Completion     *string
		SetUpdatedAt   *time.Time
		Pay            paymentAccountCols `gorm:"embedded"`
		PaySealed      *string
		FeedShopID     *int64
		FeedTerms      *string
		FeedPrivacy    *string
		FeedReturns    *string
	}
	err := s.conn(ctx).Table("api_keys").
		Select(`shops.*, api_keys.id AS key_id, api_keys.fingerprint AS key_fingerprint, api_keys.label AS key_label,
  api_keys.created_at AS key_created_at, acp_settings.shop_id AS set_shop_id, acp_settings.signing_secret_sealed AS signing_sealed,
  acp_settings.require_signature AS require_sig, acp_settings.webhook_url AS webhook_url,
  acp_settings.webhook_secret_sealed AS webhook_sealed, acp_settings.completion_method AS completion,
  acp_settings.updated_at AS set_updated_at, feed_settings.shop_id AS feed_shop_id, feed_settings.terms_url AS feed_terms,
  feed_settings.privacy_policy_url AS feed_privacy, feed_settings.return_policy_url AS feed_returns, pay.credentials_sealed AS pay_sealed, `+paymentAccountSelect).
		Joins("JOIN shops ON shops.id = api_keys.shop_id").
		Joins("LEFT JOIN acp_settings ON acp_settings.shop_id = api_keys.shop_id").
		Joins(paymentAccountJoin).
		Joins("LEFT JOIN feed_settings ON feed_settings.shop_id = api_keys.shop_id").
		Where("api_keys.key_hash = ? AND api_keys.revoked_at IS NULL", hash).
		Take(&r).Error
	if err != nil {
		return nil, nil, nil, nil, translate(err, "api key")
	}
	sh := toAppShop(r.Shop)
	k := &app.APIKey{ID: r.KeyID, ShopID: sh.ID, Hash: hash, Fingerprint: r.KeyFingerprint, Label: r.KeyLabel, CreatedAt: r.KeyCreatedAt.UTC()}
	var set *app.ACPSettings
	if r.SetShopID != nil {
		set = &app.ACPSettings{
			ShopID: sh.ID, SigningSecretSealed: deref(r.SigningSealed), RequireSignature: r.RequireSig != nil && *r.RequireSig,
			WebhookURL: deref(r.WebhookURL), WebhookSecretSealed: deref(r.WebhookSealed),
			CompletionMethod: app.CompletionMethod(deref(r.Completion)).OrDefault(), Payment: r.Pay.account(),
		}
		if r.SetUpdatedAt != nil {
			set.UpdatedAt = r.SetUpdatedAt.UTC()
		}
		if set.Payment != nil {
			// For the payment of a complete request, without another read.
			set.Payment.Sealed = deref(r.PaySealed)
		}
	}
	pol := &app.PolicyURLs{Saved: r.FeedShopID != nil, Terms: deref(r.FeedTerms), Privacy: deref(r.FeedPrivacy), Returns: deref(r.FeedReturns)}
	return k, sh, set, pol, nil
}

// paymentAccountJoin, paymentAccountSelect and paymentAccountCols read the
// shop's payment account with its ACP settings: the credentials of the
// provider acp_settings.payment_provider names.
const (
	paymentAccountJoin   = "LEFT JOIN payment_credentials pay ON pay.shop_id = acp_settings.shop_id AND pay.provider = acp_settings.payment_provider"
	paymentAccountSelect = "pay.provider AS pay_provider, pay.account_id AS pay_account_id, pay.verified_at AS pay_verified_at"
)

type paymentAccountCols struct {
	PayProvider   *string
	PayAccountID  *string
	PayVerifiedAt *time.Time
}

func (c paymentAccountCols) account() *app.PaymentAccount {
	if c.PayProvider == nil {
		return nil
	}
	return &app.PaymentAccount{Provider: *c.PayProvider, AccountID: deref(c.PayAccountID), VerifiedAt: utcPtr(c.PayVerifiedAt)}
}

// acpSettingsRow is the acp_settings table. Its payment_provider column is
// written only by SavePaymentCredentials, so that saving the other settings
// never switches the shop's payment account.
type acpSettingsRow struct {
	ShopID              int64 `gorm:"primaryKey;autoIncrement:false"`
	SigningSecretSealed *string
	RequireSignature    bool
	WebhookURL          string
	WebhookSecretSealed *string
	CompletionMethod    string
	WebhookTestedAt     *time.Time
	WebhookTestStatus   int
	WebhookTestError    string
	UpdatedAt           time.Time `gorm:"autoUpdateTime:false"` // the app's clock, not gorm's
}

func (acpSettingsRow) TableName() string { return "acp_settings" }

// ACPSettings returns the shop's ACP settings with its payment account, or
// ErrNotFound.
func (s *Store) ACPSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error) {
	var q struct {
		Set acpSettingsRow     `gorm:"embedded"`
		Pay paymentAccountCols `gorm:"embedded"`
	}
	err := s.conn(ctx).Table("acp_settings").Select("acp_settings.*, "+paymentAccountSelect).Joins(paymentAccountJoin).
		Where("acp_settings.shop_id = ?", shopID).Take(&q).Error
	if err != nil {
		return nil, translate(err, "acp settings")
	}
	r := q.Set
	return &app.ACPSettings{
		ShopID: r.ShopID, SigningSecretSealed: deref(r.SigningSecretSealed), RequireSignature: r.RequireSignature,
		WebhookURL: r.WebhookURL, WebhookSecretSealed: deref(r.WebhookSecretSealed),
		CompletionMethod: app.CompletionMethod(r.CompletionMethod).OrDefault(), Payment: q.Pay.account(),
		WebhookTestedAt: utcPtr(r.WebhookTestedAt), WebhookTestStatus: r.WebhookTestStatus, WebhookTestError: r.WebhookTestError,
		UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// SaveACPSettings inserts or replaces the shop's ACP settings (a.Payment is
// not written: SavePaymentCredentials is).
func (s *Store) SaveACPSettings(ctx context.Context, a app.ACPSettings) error {
	r := acpSettingsRow{
		ShopID: a.ShopID, SigningSecretSealed: nilIfEmpty(a.SigningSecretSealed), RequireSignature: a.RequireSignature,
		WebhookURL: a.WebhookURL, WebhookSecretSealed: nilIfEmpty(a.WebhookSecretSealed),
		CompletionMethod: string(a.CompletionMethod.OrDefault()), WebhookTestedAt: a.WebhookTestedAt,
		WebhookTestStatus: a.WebhookTestStatus, WebhookTestError: a.WebhookTestError,
		UpdatedAt: a.UpdatedAt,
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "shop_id"}}, UpdateAll: true}).Create(&r).Error
	s.forgetShopAuth(a.ShopID)
	return translate(err, "save acp settings")
}

// SetCompletionMethod saves the shop's completion method, creating its
// settings row when there is none, and writes nothing else (its secrets,
// webhook and payment provider stay as they are).
func (s *Store) SetCompletionMethod(ctx context.Context, shopID int64, m app.CompletionMethod, at time.Time) error {
	r := acpSettingsRow{ShopID: shopID, CompletionMethod: string(m.OrDefault()), UpdatedAt: at}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "shop_id"}},
		DoUpdates: clause.Assignments(map[string]any{"completion_method": r.CompletionMethod, "updated_at": at}),
	}).Create(&r).Error
	s.forgetShopAuth(shopID)
	return translate(err, "set completion method")
}

// checkoutSessionRow is the checkout_sessions table.
type checkoutSessionRow struct {
	ID         string `gorm:"primaryKey"`
	ShopID     int64
	APIVersion string
	Status     string
	Currency   string
	State      string // without the buyer's personal data (personal.go)
	// BuyerSealed is the buyer's personal data, sealed (NULL: none), and
	// BuyerIndex the blind index of the buyer's email (personal.go).
	BuyerSealed *string
	BuyerIndex  *string
	RowVersion  int64
	APIKeyID    int64
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (checkoutSessionRow) TableName() string { return "checkout_sessions" }

// byShopKey finds a session or cart by its primary key and checks it is the
// shop's. The shop is compared as +shop_id, which no index can serve, so
// PostgreSQL can only reach the row by its key: on a table it has no
// statistics for yet (a new database), it rated the (shop_id, created_at)
// index as cheap as the key, and a connection that planned a statement
// then kept the plan, reading every session of the shop on each write (on
// acpbench at 20/s, about 600 rows a write by the end of a minute; issue
// 17). SQLite documents the same unary + for the same purpose.
const byShopKey = "id = ? AND +shop_id = ?"

// toCheckoutRow is the row of a session: its state as JSON, its buyer's
// personal data sealed apart (personal.go).
func (s *Store) toCheckoutRow(cs *checkout.Session) (checkoutSessionRow, error) {
	plain, personal := splitSession(cs.State)
	st, err := json.Marshal(plain)
	if err != nil {
		return checkoutSessionRow{}, fmt.Errorf("encode checkout state: %w", err)
	}
	sealed, index, err := s.sealPersonal("checkout_sessions", cs.ID, personal, personal.empty(), personal.email())
	if err != nil {
		return checkoutSessionRow{}, err
	}
	return checkoutSessionRow{
		ID: cs.ID, ShopID: cs.ShopID, APIVersion: string(cs.Version), Status: string(cs.Status), Currency: cs.Currency,
		State: string(st), BuyerSealed: sealed, BuyerIndex: index,
		RowVersion: cs.RowVersion, APIKeyID: cs.APIKeyID, ExpiresAt: cs.ExpiresAt, CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt,
	}, nil
}

// CreateCheckoutSession inserts a new session (row version 1).
func (s *Store) CreateCheckoutSession(ctx context.Context, cs *checkout.Session) error {
	cs.RowVersion = 1
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return err
	}
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return translate(err, "create checkout session")
	}
	s.rememberSession(ctx, r)
	return nil
}

// CheckoutSession returns the shop's session id; another shop's is not found.
func (s *Store) CheckoutSession(ctx context.Context, shopID int64, id string) (*checkout.Session, error) {
	var r checkoutSessionRow
	if err := s.conn(ctx).Where(byShopKey, id, shopID).Take(&r).Error; err != nil {
		return nil, translate(err, "checkout session")
	}
	cs, err := s.toCheckoutSession(r)
	if err != nil {
		return nil, err
	}
	s.rememberRead(ctx, r, cs)
	return cs, nil
}

// SaveCheckoutSession writes cs when its row version is unchanged since it
// was read, and bumps it; otherwise ErrConflict and nothing is written.
func (s *Store) SaveCheckoutSession(ctx context.Context, cs *checkout.Session) error {
	r, err := s.toCheckoutRow(cs)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&checkoutSessionRow{}).
		Where(byShopKey+" AND row_version = ?", cs.ID, cs.ShopID, cs.RowVersion).
		Updates(sessionWrite(r))
	if res.Error != nil {
		return translate(res.Error, "save checkout session")
	}
	if res.RowsAffected == 0 {
		s.forgetSession(cs.ShopID, cs.ID)
		return fmt.Errorf("save checkout session %s: %w", cs.ID, app.ErrConflict)
	}
	cs.RowVersion++
	r.RowVersion = cs.RowVersion
	s.rememberSession(ctx, r)
	return nil
}

// sessionWrite is what a guarded write of a session sets: its content
// from the row, and the next row version.
func sessionWrite(r checkoutSessionRow) map[string]any {
	return map[string]any{
		"status": r.Status, "state": r.State, "buyer_sealed": r.BuyerSealed, "buyer_index": r.BuyerIndex,
		"currency": r.Currency, "expires_at": r.ExpiresAt,
		"updated_at": r.UpdatedAt, "row_version": gorm.Expr("row_version + 1"),
	}
}

// OverdueHandoffSessions lists the sessions holding a draft order that are
// past their expiry but not terminal (checkout_sessions_expires_idx
// narrows them to the overdue ones first).
func (s *Store) OverdueHandoffSessions(ctx context.Context, now time.Time, limit int) ([]checkout.SessionRef, error) {
	var rows []struct {
		ShopID int64
		ID     string
	}
	err := s.conn(ctx).Model(&checkoutSessionRow{}).Select("shop_id, id").
		Where("expires_at < ? AND status NOT IN ? AND state LIKE ?", now,
			[]string{string(acp.StatusCompleted), string(acp.StatusCanceled), string(acp.StatusExpired)}, `%"handoff":{%`).
		Order("expires_at").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "overdue handoff sessions")
	}
	out := make([]checkout.SessionRef, len(rows))
	for i, r := range rows {
		out[i] = checkout.SessionRef{ShopID: r.ShopID, ID: r.ID}
	}
	return out, nil
}
