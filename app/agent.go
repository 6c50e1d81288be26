package app

import (
	"context"
	"time"
)

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
// and the shop's ACP settings (zero values when none are saved).
type Agent struct {
	Shop     *Shop
	Key      *APIKey
	Settings *ACPSettings
}

type agentKey struct{}

// WithAgent returns ctx carrying the authenticated agent, so that later
// steps of the same request reuse its shop settings instead of reading
// them again.
func WithAgent(ctx context.Context, ag *Agent) context.Context {
	return context.WithValue(ctx, agentKey{}, ag)
}

// AgentFrom returns the agent WithAgent stored, or nil.
func AgentFrom(ctx context.Context) *Agent {
	ag, _ := ctx.Value(agentKey{}).(*Agent)
	return ag
}
