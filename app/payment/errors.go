package payment

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stripe/stripe-go/v79"
)

// DeclineError is a declined charge: Stripe answered 402 card_error. The
// buyer may try another card (a new token); retrying this one is pointless.
// A failed 3-D Secure authentication is a decline with Code
// payment_intent_authentication_failure.
type DeclineError struct {
	Op          string
	Code        string // card_declined, expired_card, incorrect_cvc, processing_error, payment_intent_authentication_failure…
	DeclineCode string // generic_decline, insufficient_funds, lost_card, fraudulent…
	Message     string // Stripe's message, fit to show the buyer
	IntentID    string // the intent the decline happened on, now requires_payment_method
	Intent      *Intent
	RequestID   string
}

func (e *DeclineError) Error() string {
	code := e.Code
	if e.DeclineCode != "" && e.DeclineCode != e.Code {
		code += "/" + e.DeclineCode
	}
	return fmt.Sprintf("payment: %s: declined (%s): %s", e.Op, code, e.Message)
}

// TokenReason says why a Shared Payment Token cannot pay.
type TokenReason string

// Token reasons.
const (
	// TokenInvalid: Stripe does not know the token for this account: a
	// typo, or a token granted to another seller ("foreign").
	TokenInvalid TokenReason = "invalid"
	// TokenUsed: the token already paid for another PaymentIntent.
	TokenUsed TokenReason = "used"
	// TokenExpired: past its usage_limits[expires_at].
	TokenExpired TokenReason = "expired"
	// TokenRevoked: the agent (issuer) revoked it.
	TokenRevoked TokenReason = "revoked"
	// TokenLimitExceeded: the amount is above usage_limits[max_amount], or
	// the currency is not usage_limits[currency].
	TokenLimitExceeded TokenReason = "limit_exceeded"
)

// TokenError is a Shared Payment Token that cannot pay. No intent was
// created and nothing was charged; the agent must get the buyer a new
// token (or, for TokenLimitExceeded, one for the right amount).
type TokenError struct {
	Op        string
	Reason    TokenReason
	Code      string // Stripe's error code
	Message   string
	RequestID string
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("payment: %s: shared payment token %s: %s", e.Op, e.Reason, e.Message)
}

// UnknownOutcomeError means the request may or may not have happened on
// Stripe: the network failed, the call timed out or was canceled, Stripe
// answered 5xx, or another request with the same idempotency key is still
// running. Never charge again with a new idempotency key: repeat the same
// call with the same key (Stripe replays the first answer for 24 hours),
// or look the intent up (Get, or FindBySession, whose search index lags by
// up to a minute).
type UnknownOutcomeError struct {
	Op             string
	IdempotencyKey string // the key to retry with ("" for reads)
	Status         int    // the HTTP status, 0 when there was none
	RequestID      string
	Err            error
}

func (e *UnknownOutcomeError) Error() string {
	return fmt.Sprintf("payment: %s: outcome unknown: %v", e.Op, e.Err)
}

func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// Error is any other error answer from Stripe: an invalid request, a bad
// key (401/403), an object not found, an intent in the wrong state, an
// idempotency key reused with other parameters, rate limiting.
type Error struct {
	Op        string
	Status    int
	Type      string // invalid_request_error, idempotency_error, api_error…
	Code      string // resource_missing, payment_intent_unexpected_state, amount_too_large…
	Param     string
	Message   string
	RequestID string
	// Intent is the PaymentIntent when Stripe included it (state errors).
	Intent *Intent
}

func (e *Error) Error() string {
	s := fmt.Sprintf("payment: %s: stripe %d %s", e.Op, e.Status, e.Type)
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s + ": " + e.Message
}

// IsUnknownOutcome reports whether err leaves the operation's outcome
// unknown: see UnknownOutcomeError.
func IsUnknownOutcome(err error) bool {
	var u *UnknownOutcomeError
	return errors.As(err, &u)
}

// IsDecline reports whether err is a declined charge.
func IsDecline(err error) bool {
	var d *DeclineError
	return errors.As(err, &d)
}

// IsTokenError reports whether err is an unusable token.
func IsTokenError(err error) bool {
	var t *TokenError
	return errors.As(err, &t)
}

// IsNotFound reports whether Stripe does not know the object (for this
// account).
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == string(stripe.ErrorCodeResourceMissing) || e.Status == http.StatusNotFound)
}

// IsAuthError reports whether Stripe refused the key: unknown, revoked,
// or without the permission (restricted keys).
func IsAuthError(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// IsRateLimited reports whether Stripe refused the request for its rate
// limit: nothing happened, and the same call may be tried again later.
func IsRateLimited(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusTooManyRequests
}

// IsUnexpectedState reports whether the intent's status does not allow the
// operation (e.g. capturing a canceled intent).
func IsUnexpectedState(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == string(stripe.ErrorCodePaymentIntentUnexpectedState)
}

// classify turns stripe-go's error into this package's.
func classify(op, idemKey string, err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		// A transport error, a timeout, a cancellation, or an answer that
		// did not decode: the request may have been processed.
		return &UnknownOutcomeError{Op: op, IdempotencyKey: idemKey, Err: err}
	}
	switch {
	case se.HTTPStatusCode >= 500:
		return &UnknownOutcomeError{Op: op, IdempotencyKey: idemKey, Status: se.HTTPStatusCode,
			RequestID: se.RequestID, Err: fmt.Errorf("stripe %d %s: %s", se.HTTPStatusCode, se.Type, Redact(se.Msg))}
	case se.HTTPStatusCode == http.StatusConflict:
		// idempotency_key_in_use (the first request is still running) or
		// lock_timeout: either way, wait and retry with the same key.
		return &UnknownOutcomeError{Op: op, IdempotencyKey: idemKey, Status: se.HTTPStatusCode,
			RequestID: se.RequestID, Err: fmt.Errorf("stripe 409 %s (%s): %s", se.Type, se.Code, Redact(se.Msg))}
	case se.Type == stripe.ErrorTypeCard:
		d := &DeclineError{Op: op, Code: string(se.Code), DeclineCode: string(se.DeclineCode), Message: Redact(se.Msg),
			RequestID: se.RequestID, Intent: toIntent(se.PaymentIntent)}
		if d.Intent != nil {
			d.IntentID = d.Intent.ID
		}
		return d
	}
	if reason, ok := tokenReason(se); ok {
		return &TokenError{Op: op, Reason: reason, Code: string(se.Code), Message: Redact(se.Msg), RequestID: se.RequestID}
	}
	return &Error{Op: op, Status: se.HTTPStatusCode, Type: string(se.Type), Code: string(se.Code),
		Param: se.Param, Message: Redact(se.Msg), RequestID: se.RequestID, Intent: toIntent(se.PaymentIntent)}
}

// tokenReason recognises an error about the token: one whose param is the
// token parameter (in either spelling) or whose code names it. Stripe
// documents no codes for the preview, so the reason comes from the code
// with a fallback: resource_missing and anything unknown are "invalid".
func tokenReason(se *stripe.Error) (TokenReason, bool) {
	code := string(se.Code)
	if !strings.Contains(se.Param, "shared_payment_granted_token") && !strings.Contains(code, "shared_payment") {
		return "", false
	}
	switch {
	case code == string(stripe.ErrorCodeTokenAlreadyUsed) || strings.Contains(code, "used") || strings.Contains(code, "consumed"):
		return TokenUsed, true
	case strings.Contains(code, "expired"):
		return TokenExpired, true
	case strings.Contains(code, "revoked") || strings.Contains(code, "deactivated"):
		return TokenRevoked, true
	case code == string(stripe.ErrorCodeAmountTooLarge) || strings.Contains(code, "limit") ||
		strings.Contains(code, "currency") || strings.Contains(code, "amount"):
		return TokenLimitExceeded, true
	}
	return TokenInvalid, true
}
