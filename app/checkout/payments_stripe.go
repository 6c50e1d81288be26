package checkout

import (
	"context"
	"errors"

	"github.com/acpbridge/acpbridge/app/payment"
)

// StripePayments is Payments (and StripeAccounts) through app/payment.
type StripePayments struct {
	Stripe *payment.Stripe
}

func toPaymentIntent(in *payment.Intent) *PaymentIntent {
	if in == nil {
		return nil
	}
	out := &PaymentIntent{ID: in.ID, Status: string(in.Status), Amount: in.Amount}
	if in.Card != nil {
		out.CardBrand = in.Card.Brand
	}
	return out
}

// paymentError maps the client's typed failures onto the app's.
func paymentError(err error) error {
	switch {
	case err == nil:
		return nil
	case payment.IsDecline(err):
		return errors.Join(ErrPaymentDeclined, err)
	case payment.IsTokenError(err):
		return errors.Join(ErrPaymentToken, err)
	case payment.IsUnexpectedState(err):
		return errors.Join(ErrIntentState, err)
	}
	return err
}

// Authorize implements Payments.
func (s *StripePayments) Authorize(ctx context.Context, key string, in AuthorizeRequest) (*PaymentIntent, error) {
	pi, err := s.Stripe.Authorize(ctx, key, payment.AuthorizeInput{
		Token: in.Token, Amount: in.Amount, Currency: in.Currency, IdempotencyKey: in.IdempotencyKey,
		Description: in.Description, Metadata: in.Metadata,
	})
	return toPaymentIntent(pi), paymentError(err)
}

// ConfirmAuthenticated implements Payments.
func (s *StripePayments) ConfirmAuthenticated(ctx context.Context, key, intentID string, r ThreeDSResult, idem string) (*PaymentIntent, error) {
	pi, err := s.Stripe.ConfirmAuthenticated(ctx, key, intentID, payment.ThreeDS{
		Cryptogram: r.Cryptogram, ECI: r.ECI, TransactionID: r.TransactionID, Version: r.Version, TransStatus: r.TransStatus,
	}, idem)
	return toPaymentIntent(pi), paymentError(err)
}

// Capture implements Payments.
func (s *StripePayments) Capture(ctx context.Context, key, intentID, idem string) (*PaymentIntent, error) {
	pi, err := s.Stripe.Capture(ctx, key, intentID, idem)
	return toPaymentIntent(pi), paymentError(err)
}

// Cancel implements Payments.
func (s *StripePayments) Cancel(ctx context.Context, key, intentID, idem string) error {
	_, err := s.Stripe.Cancel(ctx, key, intentID, "abandoned", idem)
	return paymentError(err)
}

// Refund implements Payments.
func (s *StripePayments) Refund(ctx context.Context, key, intentID string, amount int64, idem string) (*PaymentRefund, error) {
	r, err := s.Stripe.Refund(ctx, key, intentID, amount, "", idem)
	var pe *payment.Error
	if errors.As(err, &pe) && (pe.Code == "charge_already_refunded" || pe.Code == "amount_too_large" ||
		pe.Code == "payment_intent_unexpected_state") {
		return nil, errors.Join(ErrRefundRefused, err)
	}
	if err != nil {
		return nil, paymentError(err)
	}
	return &PaymentRefund{ID: r.ID, Amount: r.Amount, Status: r.Status}, nil
}

// Account implements StripeAccounts.
func (s *StripePayments) Account(ctx context.Context, key string) (string, error) {
	id, _, err := s.Stripe.Account(ctx, key)
	return id, err
}
