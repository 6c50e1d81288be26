package payment

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/stripe/stripe-go/v79"
)

// intentWire is a PaymentIntent answer as Intent needs it: only the fields
// toIntent reads, so decoding skips the rest of the object (and the
// expanded PaymentMethod) instead of filling stripe-go's PaymentIntent,
// whose decoding was most of the cost of a call. It goes through
// stripe-go's backend like stripe-go's own type (see callIntent), so the
// request, its retries and its errors are unchanged.
type intentWire struct {
	ID                 string            `json:"id"`
	Status             string            `json:"status"`
	Amount             int64             `json:"amount"`
	AmountCapturable   int64             `json:"amount_capturable"`
	AmountReceived     int64             `json:"amount_received"`
	Currency           string            `json:"currency"`
	CaptureMethod      string            `json:"capture_method"`
	CancellationReason string            `json:"cancellation_reason"`
	Metadata           map[string]string `json:"metadata"`
	Livemode           bool              `json:"livemode"`
	Created            int64             `json:"created"`
	LatestCharge       expandableID      `json:"latest_charge"`
	NextAction         *struct {
		Type          string `json:"type"`
		RedirectToURL *struct {
			URL       string `json:"url"`
			ReturnURL string `json:"return_url"`
		} `json:"redirect_to_url"`
	} `json:"next_action"`
	PaymentMethod *paymentMethodWire `json:"payment_method"`
	LastError     *struct {
		Type        string `json:"type"`
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
		Message     string `json:"message"`
	} `json:"last_payment_error"`
}

// SetLastResponse implements stripe.LastResponseSetter; the response
// itself is not kept.
func (*intentWire) SetLastResponse(*stripe.APIResponse) {}

// paymentMethodWire is payment_method: an id when not expanded, the
// object when expanded; only the card's brand and last four digits count.
type paymentMethodWire struct {
	Card *struct {
		Brand string `json:"brand"`
		Last4 string `json:"last4"`
	} `json:"card"`
}

// UnmarshalJSON accepts the unexpanded id (no card) as well as the object.
func (pm *paymentMethodWire) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*pm = paymentMethodWire{}
		return nil
	}
	type plain paymentMethodWire
	return json.Unmarshal(b, (*plain)(pm))
}

// expandableID is an expandable field's id: the string itself, or the id
// of the expanded object.
type expandableID string

// UnmarshalJSON implements json.Unmarshaler.
func (e *expandableID) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, (*string)(e))
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*e = expandableID(obj.ID)
	return nil
}

// intent converts the answer as toIntent converts stripe-go's
// PaymentIntent.
func (w *intentWire) intent() *Intent {
	in := &Intent{
		ID:                 w.ID,
		Status:             Status(w.Status),
		Amount:             w.Amount,
		AmountCapturable:   w.AmountCapturable,
		AmountReceived:     w.AmountReceived,
		Currency:           w.Currency,
		CaptureMethod:      w.CaptureMethod,
		CancellationReason: w.CancellationReason,
		Metadata:           w.Metadata,
		Livemode:           w.Livemode,
		LatestCharge:       string(w.LatestCharge),
	}
	if w.Created != 0 {
		in.Created = time.Unix(w.Created, 0).UTC()
	}
	if na := w.NextAction; na != nil {
		in.NextAction = &NextAction{Type: na.Type}
		if na.RedirectToURL != nil {
			in.NextAction.RedirectURL, in.NextAction.ReturnURL = na.RedirectToURL.URL, na.RedirectToURL.ReturnURL
		}
	}
	if pm := w.PaymentMethod; pm != nil && pm.Card != nil {
		in.Card = &Card{Brand: pm.Card.Brand, Last4: pm.Card.Last4}
	}
	if le := w.LastError; le != nil {
		in.LastError = &PaymentError{Type: le.Type, Code: le.Code, DeclineCode: le.DeclineCode, Message: le.Message}
	}
	return in
}

// callIntent sends one PaymentIntent request through stripe-go's backend
// (headers, idempotency key, retries and error answers as stripe-go's
// paymentintent client would) and decodes the answer into an Intent.
func (s *Stripe) callIntent(method, path, key string, p stripe.ParamsContainer) (*Intent, error) {
	var w intentWire
	if err := s.backends.API.Call(method, path, key, p, &w); err != nil {
		return nil, err
	}
	return w.intent(), nil
}
