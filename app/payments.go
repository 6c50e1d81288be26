package app

import (
	"strconv"
	"time"
)

// CompletionMethod is how a shop's agent checkouts are paid for and turned
// into Shopify orders.
type CompletionMethod string

// The completion methods.
const (
	// CompletionDelegatedPayment: the agent hands over a delegated payment
	// token, which the app charges on the merchant's own payment provider
	// account (ACPSettings.Payment) before writing the Shopify order. Only
	// for custom-distribution (or Shopify-authorised) installs: the App
	// Store forbids apps that take payment outside Shopify's checkout.
	CompletionDelegatedPayment CompletionMethod = "delegated_payment"
	// CompletionShopifyCheckout: the buyer is handed to Shopify's own
	// checkout (the session's continue_url, a draft order's invoice URL)
	// and pays there; the order comes back through Shopify's webhooks.
	CompletionShopifyCheckout CompletionMethod = "shopify_checkout"
)

// OrDefault is m, or CompletionDelegatedPayment when m is unset (the
// stored default of shops set up before there was a choice).
func (m CompletionMethod) OrDefault() CompletionMethod {
	if m == "" {
		return CompletionDelegatedPayment
	}
	return m
}

// Valid reports whether m is a completion method the app knows.
func (m CompletionMethod) Valid() bool {
	return m == CompletionDelegatedPayment || m == CompletionShopifyCheckout
}

// Distribution is how the app is distributed to merchants, which decides
// the completion methods a shop may use (APP_DISTRIBUTION).
type Distribution string

// The distributions.
const (
	// DistributionAppStore: a public app listed on the Shopify App Store
	// (the default). Payment must go through Shopify's checkout, so every
	// shop sells with CompletionShopifyCheckout.
	DistributionAppStore Distribution = "app_store"
	// DistributionCustom: a custom (single-merchant) or Shopify-authorised
	// app, which may also charge delegated payments on the merchant's own
	// provider account.
	DistributionCustom Distribution = "custom"
)

// Allows reports whether a shop of an app distributed as d may sell with m.
func (d Distribution) Allows(m CompletionMethod) bool {
	switch m.OrDefault() {
	case CompletionShopifyCheckout:
		return true
	case CompletionDelegatedPayment:
		return d == DistributionCustom
	}
	return false
}

// Effective is the method a shop that chose m actually sells with under
// distribution d: its choice when d allows it, Shopify's checkout
// otherwise (a stored delegated_payment under App Store distribution).
func (d Distribution) Effective(m CompletionMethod) CompletionMethod {
	if d.Allows(m) {
		return m.OrDefault()
	}
	return CompletionShopifyCheckout
}

// PaymentAccount is the merchant's account with a payment provider, as the
// admin and the checkout show it.
type PaymentAccount struct {
	// Provider names the adapter that charges it, e.g. "stripe".
	Provider  string
	AccountID string
	// VerifiedAt is when the provider last accepted the stored credentials
	// (nil when never checked since they were stored).
	VerifiedAt *time.Time
	// Sealed is the credentials as stored (PaymentCredentials.Sealed) when
	// they were read with the settings, as an agent's authentication reads
	// them; "" otherwise: read them with PaymentCredentials.
	Sealed string
}

// PaymentCredentials are a shop's credentials for one payment provider
// (for Stripe, a secret or restricted key), sealed under
// PaymentCredentialsAAD, with the account they belong to.
type PaymentCredentials struct {
	ShopID     int64
	Provider   string
	AccountID  string
	Sealed     string
	VerifiedAt *time.Time
	UpdatedAt  time.Time
}

// PaymentCredentialsAAD binds a shop's sealed credentials for a provider to
// the shop and the provider. It is "<provider>_key:<shop id>": for
// "stripe" exactly the AAD Stripe keys were sealed with before credentials
// were stored per provider, so those ciphertexts open unchanged.
func PaymentCredentialsAAD(shopID int64, provider string) []byte {
	return []byte(provider + "_key:" + strconv.FormatInt(shopID, 10))
}

// Resolve turns settings as stored (the shop's choice) into settings as
// used: their CompletionMethod becomes the method the shop actually sells
// with under d (Effective). Every reader that acts on the method (the
// checkout, the admin, the checklist) reads resolved settings, so a
// choice the distribution forbids is never acted on; only the code that
// saves the choice reads it as stored. nil stays nil.
func (d Distribution) Resolve(s *ACPSettings) *ACPSettings {
	if s != nil {
		s.CompletionMethod = d.Effective(s.CompletionMethod)
	}
	return s
}

// CompletionMethodReason is the one sentence the admin shows where a
// merchant cannot choose delegated payment: why an App Store app sells
// through Shopify's checkout.
const CompletionMethodReason = "Apps distributed through the Shopify App Store must take payment through Shopify's checkout, so agent orders are paid there."
