package payment

import (
	"maps"
	"time"

	"github.com/stripe/stripe-go/v79"
)

// Status is a PaymentIntent's status.
type Status string

// The statuses an intent of this package goes through.
const (
	// StatusRequiresCapture: authorized, the funds are held until Capture
	// or Cancel (Stripe releases them after about 7 days).
	StatusRequiresCapture Status = "requires_capture"
	// StatusRequiresAction: the issuer wants 3-D Secure; resume with
	// ConfirmAuthenticated once the agent has authenticated the buyer.
	StatusRequiresAction Status = "requires_action"
	// StatusSucceeded: captured.
	StatusSucceeded Status = "succeeded"
	// StatusCanceled: voided; nothing is held or charged.
	StatusCanceled Status = "canceled"
	// StatusRequiresPaymentMethod: declined (or authentication failed);
	// the intent needs a new payment method.
	StatusRequiresPaymentMethod Status = "requires_payment_method"
	// StatusRequiresConfirmation: created but not confirmed.
	StatusRequiresConfirmation Status = "requires_confirmation"
	// StatusProcessing: the payment is in flight (not for cards in
	// practice).
	StatusProcessing Status = "processing"
)

// Intent is a PaymentIntent as the app needs it.
type Intent struct {
	ID     string
	Status Status
	// Amount is what was asked for; AmountCapturable what an authorization
	// holds; AmountReceived what was captured. All in minor units.
	Amount           int64
	AmountCapturable int64
	AmountReceived   int64
	Currency         string // lower-case ISO 4217
	CaptureMethod    string // manual or automatic
	// NextAction says what the buyer must do while Status is
	// requires_action; nil otherwise.
	NextAction *NextAction
	// LatestCharge is the id of the last charge attempt (ch_…), if any.
	LatestCharge string
	// Card is the buyer's card, when Stripe returned the PaymentMethod.
	Card *Card
	// LastError is the last failed attempt (last_payment_error), if any.
	LastError          *PaymentError
	CancellationReason string
	Metadata           map[string]string
	Livemode           bool
	Created            time.Time
}

// NextAction is the action Stripe asks for on a requires_action intent.
// For a card it is 3-D Secure: type use_stripe_sdk (Stripe.js would run
// it) or redirect_to_url (when a return_url was given). With SPT the agent
// runs 3-D Secure itself, and the result comes back through
// ConfirmAuthenticated.
type NextAction struct {
	Type        string
	RedirectURL string
	ReturnURL   string
}

// Card describes the buyer's card without revealing it.
type Card struct {
	Brand string // visa, mastercard, amex…
	Last4 string
}

// PaymentError is a PaymentIntent's last_payment_error.
type PaymentError struct {
	Type        string
	Code        string
	DeclineCode string
	Message     string
}

// Refund is a refund of a captured intent.
type Refund struct {
	ID       string
	IntentID string
	ChargeID string
	Amount   int64
	Currency string
	Status   string // succeeded, pending, failed, requires_action or canceled
	Reason   string
	Created  time.Time
}

// toIntent converts stripe-go's PaymentIntent.
func toIntent(pi *stripe.PaymentIntent) *Intent {
	if pi == nil {
		return nil
	}
	in := &Intent{
		ID:                 pi.ID,
		Status:             Status(pi.Status),
		Amount:             pi.Amount,
		AmountCapturable:   pi.AmountCapturable,
		AmountReceived:     pi.AmountReceived,
		Currency:           string(pi.Currency),
		CaptureMethod:      string(pi.CaptureMethod),
		CancellationReason: string(pi.CancellationReason),
		Metadata:           maps.Clone(pi.Metadata),
		Livemode:           pi.Livemode,
	}
	if pi.Created != 0 {
		in.Created = time.Unix(pi.Created, 0).UTC()
	}
	if pi.LatestCharge != nil {
		in.LatestCharge = pi.LatestCharge.ID
	}
	if na := pi.NextAction; na != nil {
		in.NextAction = &NextAction{Type: string(na.Type)}
		if na.RedirectToURL != nil {
			in.NextAction.RedirectURL, in.NextAction.ReturnURL = na.RedirectToURL.URL, na.RedirectToURL.ReturnURL
		}
	}
	if pm := pi.PaymentMethod; pm != nil && pm.Card != nil {
		in.Card = &Card{Brand: string(pm.Card.Brand), Last4: pm.Card.Last4}
	}
	if le := pi.LastPaymentError; le != nil {
		in.LastError = &PaymentError{Type: string(le.Type), Code: string(le.Code),
			DeclineCode: string(le.DeclineCode), Message: le.Msg}
	}
	return in
}

// toRefund converts stripe-go's Refund.
func toRefund(r *stripe.Refund) *Refund {
	out := &Refund{ID: r.ID, Amount: r.Amount, Currency: string(r.Currency), Status: string(r.Status),
		Reason: string(r.Reason)}
	if r.Created != 0 {
		out.Created = time.Unix(r.Created, 0).UTC()
	}
	if r.PaymentIntent != nil {
		out.IntentID = r.PaymentIntent.ID
	}
	if r.Charge != nil {
		out.ChargeID = r.Charge.ID
	}
	return out
}
