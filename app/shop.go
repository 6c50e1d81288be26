package app

import "time"

// ShopStatus is where a shop stands with the app.
type ShopStatus string

// Shop statuses.
const (
	// ShopActive: installed, with a working offline token.
	ShopActive ShopStatus = "active"
	// ShopUninstalled: app/uninstalled arrived; tokens and keys are gone.
	ShopUninstalled ShopStatus = "uninstalled"
	// ShopReauthRequired: Shopify refused our token and refreshing failed.
	ShopReauthRequired ShopStatus = "reauth_required"
)

// Shop is a Shopify store that installed the app.
type Shop struct {
	ID     int64
	Domain string // e.g. "demo-shop.myshopify.com"
	Name   string
	Status ShopStatus
	Scopes string

	// Sealed tokens: ciphertexts from app/secret, never plaintext.
	AccessTokenSealed     string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenSealed    string
	RefreshTokenExpiresAt *time.Time

	InstalledAt   time.Time
	UninstalledAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// APIKey is a bearer key an agent uses to call a shop's checkout API. Only its
// hash is kept; the key itself is shown once when it is made.
type APIKey struct {
	ID          int64
	ShopID      int64
	Hash        string
	Fingerprint string
	Label       string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}
