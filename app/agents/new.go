package agents

import (
	"time"

	"github.com/acpbridge/acpbridge/app"

	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/secret"
)

// Options are agent access's settings; each has a default.
type Options struct {
	Now func() time.Time // default time.Now
	// Outbound is the policy agents' webhook URLs must pass (nil: the
	// strictest, public addresses only).
	Outbound *netguard.Policy
	// Distribution is how the app is distributed (APP_DISTRIBUTION), which
	// decides the completion methods a shop may use. The zero value reads
	// as app.DistributionAppStore, the configuration's default.
	Distribution app.Distribution
}

// New builds agent access over its store, the keyring that seals the
// agents' secrets and the payment providers (by name) that check a
// merchant's credentials and name the account they belong to; a missing
// one is a compile error, not a nil at run time.
func New(store AgentStore, keys *secret.Keyring, payments map[string]PaymentConnector, opts Options) *Access {
	return &Access{Store: store, Keys: keys, Payments: payments, Now: opts.Now, Outbound: opts.Outbound, Distribution: opts.Distribution}
}
