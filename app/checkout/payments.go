package checkout

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
)

// Payments is one payment provider's adapter for delegated payment: it
// names the ACP payment handler agents pay through and charges the tokens
// they delegate, with the shop's opened credentials (app/payment is
// Stripe's). An error that is neither ErrPaymentDeclined nor
// ErrPaymentToken leaves the outcome unknown: the caller retries with the
// same idempotency key.
type Payments interface {
	// Name is the provider's name as the merchant knows it ("Stripe"), for
	// the notes written about refunds.
	Name() string
	// Handler is the payment handler of the provider's account, which
	// sessions advertise and complete requests must name.
	Handler(accountID string) acp.PaymentHandler
	Authorize(ctx context.Context, credentials string, in AuthorizeRequest) (*PaymentIntent, error)
	ConfirmAuthenticated(ctx context.Context, credentials, intentID string, r ThreeDSResult, idempotencyKey string) (*PaymentIntent, error)
	Capture(ctx context.Context, credentials, intentID, idempotencyKey string) (*PaymentIntent, error)
	Cancel(ctx context.Context, credentials, intentID, idempotencyKey string) error
	// Refund gives back amount (minor units; 0: all that is left) of a
	// captured intent. ErrRefundRefused: the provider will not (already
	// fully refunded, more than is left, not captured); retrying cannot
	// help.
	Refund(ctx context.Context, credentials, intentID string, amount int64, idempotencyKey string) (*PaymentRefund, error)
}

// PaymentProviders are the payment providers this server charges through,
// by the provider name their credentials are stored under
// (app.PaymentCredentials.Provider), e.g. "stripe".
type PaymentProviders map[string]Payments

// PaymentCredentialStore is how a shop's payment provider and credentials
// are found: the provider from its settings, then that provider's
// credentials.
type PaymentCredentialStore interface {
	ACPSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error)
	// PaymentCredentials returns the shop's sealed credentials for the
	// provider, or ErrNotFound.
	PaymentCredentials(ctx context.Context, shopID int64, provider string) (*app.PaymentCredentials, error)
}

// handlers are the payment handlers a shop with these settings offers:
// its account's, when its completion method is delegated payment and the
// account's provider runs here; none otherwise.
func (pp PaymentProviders) handlers(set *app.ACPSettings) []acp.PaymentHandler {
	if set == nil || set.Payment == nil || set.CompletionMethod.OrDefault() != app.CompletionDelegatedPayment {
		return nil
	}
	p, ok := pp[set.Payment.Provider]
	if !ok {
		return nil
	}
	return []acp.PaymentHandler{p.Handler(set.Payment.AccountID)}
}

// accepted are the handlers a complete request may name: the shop's, or,
// while it has none, those every provider here offers (the shop is then
// told it takes no payments yet, once the request is known to be well
// formed).
func (pp PaymentProviders) accepted(set *app.ACPSettings) []acp.PaymentHandler {
	if hs := pp.handlers(set); len(hs) > 0 {
		return hs
	}
	var out []acp.PaymentHandler
	for _, name := range slices.Sorted(maps.Keys(pp)) { // the same answer every time
		out = append(out, pp[name].Handler(""))
	}
	return out
}

// ShopPayment is a shop's payment provider with its opened credentials,
// to be passed to the provider's calls. It is exported for the order
// events (app/orderevents), which refund and release through it.
type ShopPayment struct {
	Payments
	Credentials string
	AccountID   string
}

// Open finds the shop's payment provider and opens its credentials;
// ErrNotFound when the shop has connected none.
func (pp PaymentProviders) Open(ctx context.Context, st PaymentCredentialStore, keys *secret.Keyring, shopID int64) (*ShopPayment, error) {
	set, err := st.ACPSettings(ctx, shopID)
	if err != nil {
		return nil, fmt.Errorf("payment settings: %w", err)
	}
	if set.Payment == nil {
		return nil, fmt.Errorf("payment credentials: %w", app.ErrNotFound)
	}
	provider := set.Payment.Provider
	if _, ok := pp[provider]; !ok {
		return nil, fmt.Errorf("the shop's payment provider %q is not configured on this server", provider)
	}
	c, err := st.PaymentCredentials(ctx, shopID, provider)
	if err != nil {
		return nil, fmt.Errorf("%s credentials: %w", provider, err)
	}
	return pp.open(keys, c)
}

// open opens the shop's credentials c for their provider.
func (pp PaymentProviders) open(keys *secret.Keyring, c *app.PaymentCredentials) (*ShopPayment, error) {
	p, ok := pp[c.Provider]
	if !ok {
		return nil, fmt.Errorf("the shop's payment provider %q is not configured on this server", c.Provider)
	}
	b, err := keys.Open(c.Sealed, app.PaymentCredentialsAAD(c.ShopID, c.Provider))
	if err != nil {
		return nil, fmt.Errorf("open %s credentials: %w", c.Provider, err)
	}
	return &ShopPayment{Payments: p, Credentials: string(b), AccountID: c.AccountID}, nil
}

// authentication is what the agent needs to run 3-D Secure for the shop.
// The provider does not expose its acquirer's BIN and merchant id (Stripe
// does not on the PaymentIntent, in the API version stripe-go v79 speaks):
// the acquirer merchant id is the shop's payment account and the BIN is
// AcquirerBIN.
func (c *Completer) authentication(sh *app.Shop, pi *PaymentIntent, merchant string) *acp.AuthenticationMetadata {
	ds := "visa"
	switch pi.CardBrand {
	case "mastercard":
		ds = "mastercard"
	case "amex", "american_express":
		ds = "american_express"
	}
	bin := c.AcquirerBIN
	if bin == "" {
		bin = "000000"
	}
	name := sh.Name
	if name == "" {
		name = sh.Domain
	}
	if r := []rune(name); len(r) > 40 {
		name = string(r[:40])
	}
	country := sh.CountryCode
	if country == "" {
		country = "US"
	}
	if len(merchant) > 35 {
		merchant = merchant[:35]
	}
	return &acp.AuthenticationMetadata{AcquirerBIN: bin, AcquirerCountry: country, AcquirerMerchantID: merchant,
		MerchantName: name, DirectoryServer: ds, FlowPreference: &acp.FlowPreference{Type: "challenge", Challenge: "preferred"}}
}
