package app

import (
	"strconv"
	"time"
)

// CompletionMethod is how a shop's agent checkouts are paid for and turned
// into Shopify orders.
type CompletionMethod string

// CompletionDelegatedPayment: the agent hands over a delegated payment
// token, which the app charges on the merchant's own payment provider
// account (ACPSettings.Payment) before writing the Shopify order. It is the
// only method today and the default. (Shopify's own checkout, through the
// session's continue_url, is to come as a second method: issue 15.)
const CompletionDelegatedPayment CompletionMethod = "delegated_payment"

// OrDefault is m, or CompletionDelegatedPayment when m is unset.
func (m CompletionMethod) OrDefault() CompletionMethod {
	if m == "" {
		return CompletionDelegatedPayment
	}
	return m
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
