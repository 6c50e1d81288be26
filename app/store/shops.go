package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
)

// shopRow is the shops table.
type shopRow struct {
	ID                    int64 `gorm:"primaryKey"`
	Domain                string
	Name                  string
	Status                string
	Scopes                string
	ShopifyGID            string `gorm:"column:shopify_gid"`
	CurrencyCode          string
	CountryCode           string
	ShippingPolicyURL     string `gorm:"column:shipping_policy_url"`
	ContactURL            string `gorm:"column:contact_url"`
	TokenRefreshedAt      *time.Time
	ReauthReason          string
	AccessTokenSealed     *string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenSealed    *string
	RefreshTokenExpiresAt *time.Time
	InstalledAt           time.Time
	UninstalledAt         *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (shopRow) TableName() string { return "shops" }

func toAppShop(r shopRow) *app.Shop {
	return &app.Shop{
		ID:                    r.ID,
		Domain:                r.Domain,
		Name:                  r.Name,
		Status:                app.ShopStatus(r.Status),
		Scopes:                r.Scopes,
		ShopifyGID:            r.ShopifyGID,
		CurrencyCode:          r.CurrencyCode,
		CountryCode:           r.CountryCode,
		ShippingPolicyURL:     r.ShippingPolicyURL,
		ContactURL:            r.ContactURL,
		TokenRefreshedAt:      utcPtr(r.TokenRefreshedAt),
		ReauthReason:          r.ReauthReason,
		AccessTokenSealed:     deref(r.AccessTokenSealed),
		AccessTokenExpiresAt:  utcPtr(r.AccessTokenExpiresAt),
		RefreshTokenSealed:    deref(r.RefreshTokenSealed),
		RefreshTokenExpiresAt: utcPtr(r.RefreshTokenExpiresAt),
		InstalledAt:           r.InstalledAt.UTC(),
		UninstalledAt:         utcPtr(r.UninstalledAt),
		CreatedAt:             r.CreatedAt.UTC(),
		UpdatedAt:             r.UpdatedAt.UTC(),
	}
}

// SaveShopInstall records an install: it creates the shop, or reactivates a
// shop that uninstalled earlier, with the new scopes and sealed tokens. It is
// one statement (an upsert on domain), so two installs racing for the same
// shop end with one row.
func (s *Store) SaveShopInstall(ctx context.Context, sh app.Shop) (*app.Shop, error) {
	now := s.Now()
	row := shopRow{
		Domain:                sh.Domain,
		Name:                  sh.Name,
		Status:                string(app.ShopActive),
		Scopes:                sh.Scopes,
		AccessTokenSealed:     nilIfEmpty(sh.AccessTokenSealed),
		AccessTokenExpiresAt:  sh.AccessTokenExpiresAt,
		RefreshTokenSealed:    nilIfEmpty(sh.RefreshTokenSealed),
		RefreshTokenExpiresAt: sh.RefreshTokenExpiresAt,
		InstalledAt:           now,
		CreatedAt:             now,
		UpdatedAt:             now,
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "domain"}},
		DoUpdates: clause.Assignments(map[string]any{
			"name":                     row.Name,
			"status":                   row.Status,
			"scopes":                   row.Scopes,
			"access_token_sealed":      row.AccessTokenSealed,
			"access_token_expires_at":  row.AccessTokenExpiresAt,
			"refresh_token_sealed":     row.RefreshTokenSealed,
			"refresh_token_expires_at": row.RefreshTokenExpiresAt,
			"installed_at":             now,
			"uninstalled_at":           nil,
			"reauth_reason":            "",
			"token_refreshed_at":       nil,
			"updated_at":               now,
		}),
	}).Create(&row).Error
	if err != nil {
		return nil, translate(err, "save shop install")
	}
	// The upsert does not report the id of an updated row on every
	// database, so read the row back.
	out, err := s.ShopByDomain(ctx, sh.Domain)
	if err != nil {
		return nil, err
	}
	s.forgetShopAuth(out.ID) // a reinstall: the keys' shop row changed
	return out, nil
}

// ShopByDomain returns the shop with this myshopify domain, in any status.
func (s *Store) ShopByDomain(ctx context.Context, domain string) (*app.Shop, error) {
	var r shopRow
	if err := s.conn(ctx).Where("domain = ?", domain).Take(&r).Error; err != nil {
		return nil, translate(err, "shop "+domain)
	}
	return toAppShop(r), nil
}

// UninstallShop marks the shop uninstalled and deletes its tokens and API
// keys in one transaction; it is idempotent.
func (s *Store) UninstallShop(ctx context.Context, domain string) error {
	var shopID int64
	// Forgotten again once committed: a request between the UPDATE and
	// the commit may have read the row as it was.
	defer func() {
		if shopID != 0 {
			s.forgetShopAuth(shopID)
		}
	}()
	return s.InTx(ctx, func(ctx context.Context) error {
		sh, err := s.ShopByDomain(ctx, domain)
		if err != nil {
			return err
		}
		shopID = sh.ID
		defer s.forgetShopAuth(sh.ID)
		now := s.Now()
		err = s.conn(ctx).Model(&shopRow{}).Where("id = ?", sh.ID).Updates(map[string]any{
			"status":                   string(app.ShopUninstalled),
			"access_token_sealed":      nil,
			"access_token_expires_at":  nil,
			"refresh_token_sealed":     nil,
			"refresh_token_expires_at": nil,
			"uninstalled_at":           gorm.Expr("COALESCE(uninstalled_at, ?)", now),
			"reauth_reason":            "",
			"updated_at":               now,
		}).Error
		if err != nil {
			return translate(err, "uninstall shop")
		}
		if err := s.conn(ctx).Where("shop_id = ?", sh.ID).Delete(&apiKeyRow{}).Error; err != nil {
			return translate(err, "delete api keys")
		}
		return s.destroyCredentials(ctx, sh.ID)
	})
}

// uninstalledTargetDetail is what a feed target says after an uninstall
// deleted its credentials.
const uninstalledTargetDetail = "paused when the app was uninstalled, and its credentials deleted: enter them again to resume pushes"

// destroyCredentials deletes, at an uninstall, every credential the shop
// gave the app besides its Shopify tokens and agent keys, and stops what
// would use them: the payment provider's keys (a reinstall connects again;
// delegated checkouts are refused until then), the agents' signing and
// order-event webhook secrets (no event is sent without one), and the feed
// targets' SFTP passwords or keys and Feed API tokens (the targets are
// disabled, so no push is tried). What is not a credential (the webhook
// URL, a target's host and path) stays for a reinstall to show.
//
// The payment keys are kept while a completion of the shop is in flight
// (a charge authorised, or an order written and its charge not yet
// captured): the resume must still capture or void it, never leave an
// order unpaid or a charge without an order. shop/redact deletes them 48
// hours later whatever the state.
func (s *Store) destroyCredentials(ctx context.Context, shopID int64) error {
	db := s.conn(ctx)
	var inFlight int64
	// The checkout.Payment states before an outcome (app/checkout/complete.go).
	if err := db.Table("checkout_payments").Where("shop_id = ? AND state IN ?", shopID,
		[]string{"authorizing", "requires_action", "authorized", "ordered"}).Count(&inFlight).Error; err != nil {
		return translate(err, "count payments in flight")
	}
	secrets := map[string]any{"signing_secret_sealed": nil, "webhook_secret_sealed": nil, "require_signature": false}
	if inFlight == 0 {
		if err := db.Where("shop_id = ?", shopID).Delete(&paymentCredentialsRow{}).Error; err != nil {
			return translate(err, "delete payment credentials")
		}
		secrets["payment_provider"] = ""
	}
	if err := db.Model(&acpSettingsRow{}).Where("shop_id = ?", shopID).Updates(secrets).Error; err != nil {
		return translate(err, "delete agent secrets")
	}
	err := db.Model(&feedTargetRow{}).Where("shop_id = ?", shopID).Updates(map[string]any{
		"secret_sealed": "", "enabled": false, "last_detail": uninstalledTargetDetail, "updated_at": s.Now(),
	}).Error
	return translate(err, "delete feed target credentials")
}

// apiKeyRow is the api_keys table.
type apiKeyRow struct {
	ID          int64 `gorm:"primaryKey"`
	ShopID      int64
	KeyHash     string
	Fingerprint string
	Label       string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func toAppAPIKey(r apiKeyRow) *app.APIKey {
	return &app.APIKey{
		ID:          r.ID,
		ShopID:      r.ShopID,
		Hash:        r.KeyHash,
		Fingerprint: r.Fingerprint,
		Label:       r.Label,
		CreatedAt:   r.CreatedAt.UTC(),
		LastUsedAt:  utcPtr(r.LastUsedAt),
		RevokedAt:   utcPtr(r.RevokedAt),
	}
}

// CreateAPIKey stores a new key's hash for the shop.
func (s *Store) CreateAPIKey(ctx context.Context, k app.APIKey) (*app.APIKey, error) {
	row := apiKeyRow{
		ShopID:      k.ShopID,
		KeyHash:     k.Hash,
		Fingerprint: k.Fingerprint,
		Label:       k.Label,
		CreatedAt:   s.Now(),
	}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return nil, translate(err, "create api key")
	}
	return toAppAPIKey(row), nil
}

// ShopByAPIKeyHash returns the active shop a live (not revoked) key belongs
// to. A key of an uninstalled shop finds nothing.
func (s *Store) ShopByAPIKeyHash(ctx context.Context, hash string) (*app.Shop, error) {
	var r shopRow
	err := s.conn(ctx).
		Joins("JOIN api_keys ON api_keys.shop_id = shops.id").
		Where("api_keys.key_hash = ? AND api_keys.revoked_at IS NULL AND shops.status = ?", hash, string(app.ShopActive)).
		Take(&r).Error
	if err != nil {
		return nil, translate(err, "api key")
	}
	return toAppShop(r), nil
}

// RevokeAPIKey revokes one of the shop's keys; a key of another shop is
// not found.
func (s *Store) RevokeAPIKey(ctx context.Context, shopID, keyID int64) error {
	res := s.conn(ctx).Model(&apiKeyRow{}).
		Where("id = ? AND shop_id = ? AND revoked_at IS NULL", keyID, shopID).
		Update("revoked_at", s.Now())
	s.forgetShopAuth(shopID)
	if res.Error != nil {
		return translate(res.Error, "revoke api key")
	}
	if res.RowsAffected == 0 {
		return translate(gorm.ErrRecordNotFound, "api key")
	}
	return nil
}

// APIKeys lists the shop's keys, newest first, revoked ones included.
func (s *Store) APIKeys(ctx context.Context, shopID int64) ([]*app.APIKey, error) {
	var rows []apiKeyRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "list api keys")
	}
	out := make([]*app.APIKey, len(rows))
	for i, r := range rows {
		out[i] = toAppAPIKey(r)
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// PruneRevokedAPIKeys deletes keys revoked before cutoff: a revoked key can
// never authenticate again, and keeping its hash longer serves nothing.
func (s *Store) PruneRevokedAPIKeys(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.conn(ctx).Where("revoked_at IS NOT NULL AND revoked_at < ?", cutoff).Delete(&apiKeyRow{})
	return res.RowsAffected, translate(res.Error, "prune api keys")
}

// ShopByID returns a shop by our id.
func (s *Store) ShopByID(ctx context.Context, id int64) (*app.Shop, error) {
	var r shopRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "shop")
	}
	return toAppShop(r), nil
}

// ActiveShops lists the shops with the app installed.
func (s *Store) ActiveShops(ctx context.Context) ([]*app.Shop, error) {
	var rows []shopRow
	if err := s.conn(ctx).Where("status = ?", string(app.ShopActive)).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "active shops")
	}
	out := make([]*app.Shop, len(rows))
	for i, r := range rows {
		out[i] = toAppShop(r)
	}
	return out, nil
}
