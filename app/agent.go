package app

import "time"

// ACPSettings is how agents reach one shop: request signing, where order
// events go, how their checkouts complete and the payment account that
// charges them. Secrets are sealed (app/secret) and opened only when used.
type ACPSettings struct {
	ShopID              int64
	SigningSecretSealed string
	RequireSignature    bool
	WebhookURL          string
	WebhookSecretSealed string
	// CompletionMethod is how the shop's agent checkouts complete ("" reads
	// as CompletionDelegatedPayment).
	CompletionMethod CompletionMethod
	// Payment is the account delegated payment charges (nil: none
	// connected). It is read with the settings from the shop's payment
	// credentials; SavePaymentCredentials writes it, SaveACPSettings does
	// not.
	Payment *PaymentAccount
	// The last test event sent to WebhookURL: when, the receiver's HTTP
	// status (0: no answer) and what went wrong.
	WebhookTestedAt   *time.Time
	WebhookTestStatus int
	WebhookTestError  string
	UpdatedAt         time.Time
}

// Agent is an authenticated agent request's identity: the shop, the key
// and the shop's ACP settings (zero values when none are saved). It is the
// caller every checkout operation takes as a parameter (never a context
// value, so that it cannot be forgotten); the merchant's own test checkout
// calls with an Agent without Key.
type Agent struct {
	Shop     *Shop
	Key      *APIKey
	Settings *ACPSettings
	// Policies are the policy pages of the shop's feed settings when
	// authentication read them with the key (nil: not read, the checkout
	// reads them itself), so that a request does not read them again.
	Policies *PolicyURLs
}

// PolicyURLs are the policy pages a shop's feed settings name, which every
// checkout session links to.
type PolicyURLs struct {
	// Saved: the shop has saved feed settings (without them a session
	// links to no policy page at all).
	Saved                   bool
	Terms, Privacy, Returns string
}
