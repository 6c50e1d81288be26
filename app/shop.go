package app

import (
	"strconv"
	"time"
)

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

	// What Shopify says of the shop, fetched after install.
	ShopifyGID   string // gid://shopify/Shop/N
	CurrencyCode string // ISO 4217, e.g. "USD"
	CountryCode  string // ISO 3166-1 alpha-2
	// The shop's shipping policy and contact pages, "" when it has none.
	ShippingPolicyURL string
	ContactURL        string

	// Sealed tokens: ciphertexts from app/secret, never plaintext.
	AccessTokenSealed     string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenSealed    string
	RefreshTokenExpiresAt *time.Time

	TokenRefreshedAt *time.Time
	// ReauthReason says why the shop needs re-authorisation.
	ReauthReason string

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

// AccessTokenAAD and RefreshTokenAAD bind a sealed token to its shop, so a
// ciphertext copied into another shop's row does not open.
func AccessTokenAAD(domain string) []byte  { return []byte("shop:" + domain + ":access_token") }
func RefreshTokenAAD(domain string) []byte { return []byte("shop:" + domain + ":refresh_token") }

// SigningSecretAAD and WebhookSecretAAD bind a shop's sealed agent signing
// secret and agent webhook secret to the shop (sealed by their capability,
// re-sealed by maintenance); PaymentCredentialsAAD does the same for
// payment credentials.
func SigningSecretAAD(shopID int64) []byte {
	return []byte("acp_signing_secret:" + strconv.FormatInt(shopID, 10))
}
func WebhookSecretAAD(shopID int64) []byte {
	return []byte("acp_webhook_secret:" + strconv.FormatInt(shopID, 10))
}

// WebhookRetention is how long processed webhook deliveries are kept
// (their payloads are already gone); Shopify redelivers for 4 hours at most.
const WebhookRetention = 7 * 24 * time.Hour

// WebhookEvent is a Shopify webhook delivery the app accepted.
type WebhookEvent struct {
	ID          int64
	WebhookID   string // X-Shopify-Webhook-Id: the same on redeliveries
	Shop        string
	Topic       string
	EventID     string
	APIVersion  string
	TriggeredAt *time.Time
	Payload     []byte
	ReceivedAt  time.Time
	ProcessedAt *time.Time
	Outcome     string
	// ClaimedUntil: while set, the delivery is being processed by the
	// process that stored it or by a job, until then; past it, the sweep
	// hands it to a job. Nil: a job owns it (or it is processed).
	ClaimedUntil *time.Time
}

// ComplianceRequest is a privacy request Shopify relayed and what we did.
type ComplianceRequest struct {
	ID          int64
	Shop        string
	Topic       string
	WebhookID   string
	CustomerID  string
	Report      []byte // JSON: what we held or deleted, by table; never the data itself
	ReceivedAt  time.Time
	CompletedAt *time.Time
	// Export is a data request's export (CustomerExport as JSON), given
	// to SaveComplianceRequest, which stores it sealed; listings leave it
	// out and say HasExport (ComplianceExport opens it).
	Export    []byte
	HasExport bool
}

// SealedTokens is a token pair as stored: sealed, with expiry times.
type SealedTokens struct {
	Access           string
	AccessExpiresAt  *time.Time
	Refresh          string
	RefreshExpiresAt *time.Time
}

// ShopDetails is what Shopify says of a shop.
type ShopDetails struct {
	Name              string
	ShopifyGID        string
	CurrencyCode      string
	CountryCode       string
	ShippingPolicyURL string
	ContactURL        string
}

// CustomerRef names a shop's customer in a privacy request.
type CustomerRef struct {
	ID    string // Shopify's numeric customer id, as text
	Email string
}

// ShopProfile is what Shopify says of a shop that the feed uses as its
// defaults: the merchant can change each on the settings page.
type ShopProfile struct {
	ShopDetails
	StorefrontURL    string
	RefundPolicyURL  string
	PrivacyPolicyURL string
	TermsURL         string
}
