package payment

import (
	"context"
	"errors"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
)

// ProviderName is the name Stripe credentials are stored under
// (app.PaymentCredentials.Provider) and the provider is registered by in
// checkout.PaymentProviders.
const ProviderName = "stripe"

// Provider is Stripe as a payment provider of the app: the delegated
// payment of agent checkouts (checkout.Payments: Shared Payment Tokens
// charged on the merchant's own account) and the check of a merchant's key
// when it is connected (agents.PaymentConnector). The credentials are the
// merchant's secret (sk_…) or restricted (rk_…) key.
type Provider struct {
	Stripe *Stripe
}

var _ checkout.Payments = (*Provider)(nil)

// Name implements checkout.Payments.
func (*Provider) Name() string { return "Stripe" }

// Handler implements checkout.Payments: the tokenized-card handler over
// Shared Payment Tokens granted to the account.
func (*Provider) Handler(accountID string) acp.PaymentHandler { return acp.StripeSPTHandler(accountID) }

// VerifyCredentials checks a merchant's Stripe key by a real API call and
// returns the account it belongs to. What it refuses is an *app.Error on
// field stripe_key, the settings form's, worded for the merchant.
func (p *Provider) VerifyCredentials(ctx context.Context, key string) (string, error) {
	if !(strings.HasPrefix(key, "sk_") || strings.HasPrefix(key, "rk_")) || len(key) > 255 || strings.ContainsAny(key, " \t\r\n") {
		return "", &app.Error{Code: app.CodeInvalid, Field: "stripe_key", Message: "a Stripe secret key starts with sk_ and a restricted key with rk_"}
	}
	account, _, err := p.Stripe.Account(ctx, key)
	if err != nil {
		return "", &app.Error{Code: app.CodeInvalid, Field: "stripe_key", Message: "Stripe did not accept this key: " + err.Error()}
	}
	return account, nil
}

func toPaymentIntent(in *Intent) *checkout.PaymentIntent {
	if in == nil {
		return nil
	}
	out := &checkout.PaymentIntent{ID: in.ID, Status: string(in.Status), Amount: in.Amount}
	if in.Card != nil {
		out.CardBrand = in.Card.Brand
	}
	return out
}

// checkoutError maps the client's typed failures onto checkout's.
func checkoutError(err error) error {
	switch {
	case err == nil:
		return nil
	case IsDecline(err):
		return errors.Join(checkout.ErrPaymentDeclined, err)
	case IsTokenError(err):
		return errors.Join(checkout.ErrPaymentToken, err)
	case IsUnexpectedState(err):
		return errors.Join(checkout.ErrIntentState, err)
	}
	return err
}

// Authorize implements checkout.Payments.
func (p *Provider) Authorize(ctx context.Context, key string, in checkout.AuthorizeRequest) (*checkout.PaymentIntent, error) {
	pi, err := p.Stripe.Authorize(ctx, key, AuthorizeInput{
		Token: in.Token, Amount: in.Amount, Currency: in.Currency, IdempotencyKey: in.IdempotencyKey,
		Description: in.Description, Metadata: in.Metadata,
	})
	return toPaymentIntent(pi), checkoutError(err)
}

// ConfirmAuthenticated implements checkout.Payments.
func (p *Provider) ConfirmAuthenticated(ctx context.Context, key, intentID string, r checkout.ThreeDSResult, idem string) (*checkout.PaymentIntent, error) {
	pi, err := p.Stripe.ConfirmAuthenticated(ctx, key, intentID, ThreeDS{
		Cryptogram: r.Cryptogram, ECI: r.ECI, TransactionID: r.TransactionID, Version: r.Version, TransStatus: r.TransStatus,
	}, idem)
	return toPaymentIntent(pi), checkoutError(err)
}

// Capture implements checkout.Payments.
func (p *Provider) Capture(ctx context.Context, key, intentID, idem string) (*checkout.PaymentIntent, error) {
	pi, err := p.Stripe.Capture(ctx, key, intentID, idem)
	return toPaymentIntent(pi), checkoutError(err)
}

// Cancel implements checkout.Payments.
func (p *Provider) Cancel(ctx context.Context, key, intentID, idem string) error {
	_, err := p.Stripe.Cancel(ctx, key, intentID, "abandoned", idem)
	return checkoutError(err)
}

// Refund implements checkout.Payments.
func (p *Provider) Refund(ctx context.Context, key, intentID string, amount int64, idem string) (*checkout.PaymentRefund, error) {
	r, err := p.Stripe.Refund(ctx, key, intentID, amount, "", idem)
	var pe *Error
	if errors.As(err, &pe) && (pe.Code == "charge_already_refunded" || pe.Code == "amount_too_large" ||
		pe.Code == "payment_intent_unexpected_state") {
		return nil, errors.Join(checkout.ErrRefundRefused, err)
	}
	if err != nil {
		return nil, checkoutError(err)
	}
	return &checkout.PaymentRefund{ID: r.ID, Amount: r.Amount, Status: r.Status}, nil
}
