package payment

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/form"
)

// AuthorizeInput is one authorization of a Shared Payment Token.
type AuthorizeInput struct {
	// Token is the SPT (spt_…) from the agent's payment_data.
	Token string
	// Amount in minor units, within the token's usage_limits[max_amount].
	Amount int64
	// Currency, lower-case ISO 4217 (upper case is lowered), equal to the
	// token's usage_limits[currency].
	Currency string
	// IdempotencyKey makes the call safe to repeat: derive it from the
	// checkout session (and attempt), never make it up per call.
	IdempotencyKey string
	Description    string
	// Metadata goes on the PaymentIntent; put the checkout session id under
	// MetadataCheckoutSession for FindBySession.
	Metadata map[string]string
	// StatementDescriptorSuffix is appended to the account's descriptor on
	// the buyer's statement (at most 22 characters).
	StatementDescriptorSuffix string
	// ThreeDS, when the agent authenticated the buyer before completing
	// (ACP authentication_result), is sent with the first confirmation, so
	// an issuer that wants 3-D Secure gets it without a requires_action
	// round trip.
	ThreeDS *ThreeDS
}

// ThreeDS is the result of a 3-D Secure authentication run by the agent
// (ACP authentication_result.outcome_details), imported into Stripe as
// payment_method_options[card][three_d_secure][…] on confirmation.
type ThreeDS struct {
	// Cryptogram is the authentication value (CAVV/AAV): 20 bytes,
	// base64-encoded into 28 characters → [cryptogram].
	Cryptogram string
	// ECI is the electronic commerce indicator, "05"/"02" authenticated,
	// "06"/"01" attempted, "07" none → [electronic_commerce_indicator].
	ECI string
	// TransactionID is the directory server transaction id (dsTransID) →
	// [transaction_id].
	TransactionID string
	// Version is the 3-D Secure version, e.g. "2.2.0" → [version].
	Version string
	// TransStatus is the ARes transStatus, "Y" authenticated or "A"
	// attempted; "" leaves it out → [ares_trans_status].
	TransStatus string
}

var currencyRE = regexp.MustCompile(`^[a-z]{3}$`)

// Authorize creates and confirms a PaymentIntent with capture_method=manual
// for the token: POST /v1/payment_intents with amount, currency,
// confirm=true, capture_method=manual,
// payment_method_data[shared_payment_granted_token], description,
// metadata[…], statement_descriptor_suffix and expand[]=payment_method.
//
// It returns the intent with status requires_capture (authorized),
// requires_action (3-D Secure: resume with ConfirmAuthenticated) or, rarely,
// another status. A decline is a *DeclineError, an unusable token a
// *TokenError; for an error with IsUnknownOutcome, repeat Authorize with
// the same input and idempotency key.
func (s *Stripe) Authorize(ctx context.Context, key string, in AuthorizeInput) (*Intent, error) {
	const op = "authorize"
	in.Currency = strings.ToLower(in.Currency)
	switch {
	case strings.TrimSpace(in.Token) == "":
		return nil, invalidInput("a shared payment token is required")
	case in.Amount <= 0:
		return nil, invalidInput("amount %d must be positive", in.Amount)
	case !currencyRE.MatchString(in.Currency):
		return nil, invalidInput("invalid currency %q", in.Currency)
	case len(in.StatementDescriptorSuffix) > 22:
		return nil, invalidInput("statement descriptor suffix is longer than 22 characters")
	}
	if err := checkIdem(in.IdempotencyKey); err != nil {
		return nil, err
	}
	if err := s.ready(key); err != nil {
		return nil, err
	}
	p := &stripe.PaymentIntentParams{
		Params:        params(ctx, in.IdempotencyKey),
		Amount:        stripe.Int64(in.Amount),
		Currency:      stripe.String(in.Currency),
		CaptureMethod: stripe.String(string(stripe.PaymentIntentCaptureMethodManual)),
		Confirm:       stripe.Bool(true),
	}
	if in.Description != "" {
		p.Description = stripe.String(in.Description)
	}
	if in.StatementDescriptorSuffix != "" {
		p.StatementDescriptorSuffix = stripe.String(in.StatementDescriptorSuffix)
	}
	for k, v := range in.Metadata {
		p.AddMetadata(k, v)
	}
	if in.ThreeDS != nil {
		opts, err := threeDSParams(*in.ThreeDS)
		if err != nil {
			return nil, err
		}
		p.PaymentMethodOptions = opts
	}
	p.AddExtra(TokenParam, in.Token)
	p.AddExpand("payment_method")
	out, err := s.callIntent(http.MethodPost, "/v1/payment_intents", key, p)
	if err != nil {
		return nil, classify(op, in.IdempotencyKey, err)
	}
	s.log.DebugContext(ctx, "stripe payment intent authorized", "intent", out.ID, "status", out.Status,
		"amount", out.Amount, "currency", out.Currency)
	return out, nil
}

// threeDSParams builds payment_method_options[card][three_d_secure].
func threeDSParams(t ThreeDS) (*stripe.PaymentIntentPaymentMethodOptionsParams, error) {
	if t.Cryptogram == "" || t.TransactionID == "" || t.Version == "" {
		return nil, invalidInput("3-D Secure needs a cryptogram, a transaction id and a version")
	}
	tds := &stripe.PaymentIntentPaymentMethodOptionsCardThreeDSecureParams{
		Cryptogram:    stripe.String(t.Cryptogram),
		TransactionID: stripe.String(t.TransactionID),
		Version:       stripe.String(t.Version),
	}
	if t.ECI != "" {
		tds.ElectronicCommerceIndicator = stripe.String(t.ECI)
	}
	if t.TransStatus != "" {
		tds.AresTransStatus = stripe.String(t.TransStatus)
	}
	return &stripe.PaymentIntentPaymentMethodOptionsParams{
		Card: &stripe.PaymentIntentPaymentMethodOptionsCardParams{ThreeDSecure: tds},
	}, nil
}

// ConfirmAuthenticated resumes a requires_action intent with the agent's
// 3-D Secure result: POST /v1/payment_intents/{id}/confirm with
// payment_method_options[card][three_d_secure][cryptogram,
// electronic_commerce_indicator, transaction_id, version,
// ares_trans_status]. Success is requires_capture; a failed
// authentication is a *DeclineError with Code
// payment_intent_authentication_failure.
//
// On a real account, importing 3-D Secure results this way is a feature
// Stripe enables on request.
func (s *Stripe) ConfirmAuthenticated(ctx context.Context, key, intentID string, auth ThreeDS, idemKey string) (*Intent, error) {
	const op = "confirm 3-D Secure"
	if intentID == "" {
		return nil, invalidInput("an intent id is required")
	}
	if err := checkIdem(idemKey); err != nil {
		return nil, err
	}
	opts, err := threeDSParams(auth)
	if err != nil {
		return nil, err
	}
	if err := s.ready(key); err != nil {
		return nil, err
	}
	p := &stripe.PaymentIntentConfirmParams{Params: params(ctx, idemKey), PaymentMethodOptions: opts}
	p.AddExpand("payment_method")
	out, err := s.callIntent(http.MethodPost, stripe.FormatURLPath("/v1/payment_intents/%s/confirm", intentID), key, p)
	if err != nil {
		return nil, classify(op, idemKey, err)
	}
	s.log.DebugContext(ctx, "stripe payment intent confirmed", "intent", out.ID, "status", out.Status)
	return out, nil
}

// Capture captures the whole authorized amount: POST
// /v1/payment_intents/{id}/capture. Capturing an intent that is already
// captured returns it without error, so a repeat after an unknown outcome
// is safe even once Stripe no longer replays the idempotency key.
func (s *Stripe) Capture(ctx context.Context, key, intentID, idemKey string) (*Intent, error) {
	const op = "capture"
	if intentID == "" {
		return nil, invalidInput("an intent id is required")
	}
	if err := checkIdem(idemKey); err != nil {
		return nil, err
	}
	if err := s.ready(key); err != nil {
		return nil, err
	}
	out, err := s.callIntent(http.MethodPost, stripe.FormatURLPath("/v1/payment_intents/%s/capture", intentID), key,
		&stripe.PaymentIntentCaptureParams{Params: params(ctx, idemKey)})
	if err != nil {
		err = classify(op, idemKey, err)
		if in, ok := stateIs(err, StatusSucceeded); ok {
			return in, nil
		}
		return nil, err
	}
	s.log.DebugContext(ctx, "stripe payment intent captured", "intent", out.ID, "amount", out.AmountReceived)
	return out, nil
}

// Cancel voids an intent that is not captured: POST
// /v1/payment_intents/{id}/cancel with cancellation_reason (duplicate,
// fraudulent, requested_by_customer, abandoned, or "" for none). The hold
// on the buyer's card is released. Canceling a canceled intent returns it
// without error.
func (s *Stripe) Cancel(ctx context.Context, key, intentID, reason, idemKey string) (*Intent, error) {
	const op = "cancel"
	if intentID == "" {
		return nil, invalidInput("an intent id is required")
	}
	switch reason {
	case "", "duplicate", "fraudulent", "requested_by_customer", "abandoned":
	default:
		return nil, invalidInput("invalid cancellation reason %q", reason)
	}
	if err := checkIdem(idemKey); err != nil {
		return nil, err
	}
	if err := s.ready(key); err != nil {
		return nil, err
	}
	p := &stripe.PaymentIntentCancelParams{Params: params(ctx, idemKey)}
	if reason != "" {
		p.CancellationReason = stripe.String(reason)
	}
	out, err := s.callIntent(http.MethodPost, stripe.FormatURLPath("/v1/payment_intents/%s/cancel", intentID), key, p)
	if err != nil {
		err = classify(op, idemKey, err)
		if in, ok := stateIs(err, StatusCanceled); ok {
			return in, nil
		}
		return nil, err
	}
	s.log.DebugContext(ctx, "stripe payment intent canceled", "intent", out.ID)
	return out, nil
}

// stateIs reports whether err is Stripe refusing an operation because the
// intent already has status want: the operation already happened.
func stateIs(err error, want Status) (*Intent, bool) {
	var e *Error
	if errors.As(err, &e) && e.Code == string(stripe.ErrorCodePaymentIntentUnexpectedState) &&
		e.Intent != nil && e.Intent.Status == want {
		return e.Intent, true
	}
	return nil, false
}

// Get retrieves an intent: GET /v1/payment_intents/{id}?expand[]=payment_method.
func (s *Stripe) Get(ctx context.Context, key, intentID string) (*Intent, error) {
	const op = "get"
	if intentID == "" {
		return nil, invalidInput("an intent id is required")
	}
	if err := s.ready(key); err != nil {
		return nil, err
	}
	p := &stripe.PaymentIntentParams{Params: params(ctx, "")}
	p.AddExpand("payment_method")
	out, err := s.callIntent(http.MethodGet, stripe.FormatURLPath("/v1/payment_intents/%s", intentID), key, p)
	if err != nil {
		return nil, classify(op, "", err)
	}
	return out, nil
}

// maxSearch bounds FindBySession: one session has a handful of intents.
const maxSearch = 100

// FindBySession lists the intents whose metadata names the checkout
// session, newest first: GET /v1/payment_intents/search with
// query=metadata['checkout_session_id']:'cs_…'.
//
// Stripe's search is eventually consistent: an intent may take up to a
// minute (more during incidents) to appear. After an unknown outcome,
// repeating the call with the same idempotency key is the authoritative
// check; an empty search result does not prove that nothing was charged.
func (s *Stripe) FindBySession(ctx context.Context, key, checkoutSessionID string) ([]*Intent, error) {
	const op = "search"
	if checkoutSessionID == "" {
		return nil, invalidInput("a checkout session id is required")
	}
	api, err := s.api(key)
	if err != nil {
		return nil, err
	}
	query := "metadata['" + MetadataCheckoutSession + "']:'" + searchEscape(checkoutSessionID) + "'"
	var out []*Intent
	page := ""
	for len(out) < maxSearch {
		body := &form.Values{}
		body.Add("query", query)
		body.Add("limit", "100")
		if page != "" {
			body.Add("page", page)
		}
		p := params(ctx, "")
		var res stripe.PaymentIntentSearchResult
		// The backend directly: stripe-go's search iterator cannot carry
		// the Stripe-Version header.
		if err := api.PaymentIntents.B.CallRaw(http.MethodGet, "/v1/payment_intents/search", key, body, &p, &res); err != nil {
			return nil, classify(op, "", err)
		}
		for _, pi := range res.Data {
			out = append(out, toIntent(pi))
		}
		if !res.HasMore || res.NextPage == nil || *res.NextPage == "" {
			break
		}
		page = *res.NextPage
	}
	return out, nil
}

// searchEscape escapes a value for a single-quoted search string.
func searchEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)
}

// Refund refunds a captured intent: POST /v1/refunds with payment_intent,
// amount (0 refunds what is left) and reason (duplicate, fraudulent,
// requested_by_customer, or ""). Refunds of an intent never exceed what was
// captured; Stripe answers amount_too_large or charge_already_refunded
// otherwise (an *Error).
func (s *Stripe) Refund(ctx context.Context, key, intentID string, amount int64, reason, idemKey string) (*Refund, error) {
	const op = "refund"
	if intentID == "" {
		return nil, invalidInput("an intent id is required")
	}
	if amount < 0 {
		return nil, invalidInput("refund amount %d is negative", amount)
	}
	switch reason {
	case "", "duplicate", "fraudulent", "requested_by_customer":
	default:
		return nil, invalidInput("invalid refund reason %q", reason)
	}
	if err := checkIdem(idemKey); err != nil {
		return nil, err
	}
	api, err := s.api(key)
	if err != nil {
		return nil, err
	}
	p := &stripe.RefundParams{Params: params(ctx, idemKey), PaymentIntent: stripe.String(intentID)}
	if amount > 0 {
		p.Amount = stripe.Int64(amount)
	}
	if reason != "" {
		p.Reason = stripe.String(reason)
	}
	r, err := api.Refunds.New(p)
	if err != nil {
		return nil, classify(op, idemKey, err)
	}
	out := toRefund(r)
	s.log.DebugContext(ctx, "stripe refund created", "refund", out.ID, "intent", out.IntentID, "amount", out.Amount)
	return out, nil
}

// GetRefund retrieves a refund: GET /v1/refunds/{id}.
func (s *Stripe) GetRefund(ctx context.Context, key, refundID string) (*Refund, error) {
	const op = "get refund"
	if refundID == "" {
		return nil, invalidInput("a refund id is required")
	}
	api, err := s.api(key)
	if err != nil {
		return nil, err
	}
	r, err := api.Refunds.Get(refundID, &stripe.RefundParams{Params: params(ctx, "")})
	if err != nil {
		return nil, classify(op, "", err)
	}
	return toRefund(r), nil
}

// Account verifies a key, for the merchant's onboarding check: GET
// /v1/account. It returns the account id and whether the key is a live
// one. A refused key is an *Error for which IsAuthError is true.
func (s *Stripe) Account(ctx context.Context, key string) (accountID string, live bool, err error) {
	const op = "account"
	api, err := s.api(key)
	if err != nil {
		return "", false, err
	}
	p := params(ctx, "")
	var acct stripe.Account
	if err := api.Accounts.B.CallRaw(http.MethodGet, "/v1/account", key, nil, &p, &acct); err != nil {
		return "", false, classify(op, "", err)
	}
	return acct.ID, livemode(key), nil
}
