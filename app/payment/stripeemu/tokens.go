package stripeemu

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Token kinds for GrantToken, each a Stripe test PaymentMethod.
const (
	KindApprove           = "approve"            // pm_card_visa: authorizes
	KindDecline           = "decline"            // pm_card_chargeDeclined: 402 card_declined, generic_decline
	KindInsufficientFunds = "insufficient_funds" // pm_card_chargeDeclinedInsufficientFunds
	KindRequires3DS       = "requires_3ds"       // pm_card_authenticationRequired: requires_action until 3-D Secure
)

// kindPaymentMethods maps GrantToken's kinds to test PaymentMethods.
var kindPaymentMethods = map[string]string{
	KindApprove:           "pm_card_visa",
	KindDecline:           "pm_card_chargeDeclined",
	KindInsufficientFunds: "pm_card_chargeDeclinedInsufficientFunds",
	KindRequires3DS:       "pm_card_authenticationRequired",
}

// testCard is how a Stripe test PaymentMethod behaves when charged.
type testCard struct {
	brand, last4 string
	// outcome is "approve", "decline" or "3ds".
	outcome string
	// code, declineCode and message make the card_error of a decline.
	code, declineCode, message string
}

// testCards are the test PaymentMethods the emulator knows, named as on
// Stripe (docs.stripe.com/testing).
var testCards = map[string]testCard{
	"pm_card_visa":       {brand: "visa", last4: "4242", outcome: "approve"},
	"pm_card_visa_debit": {brand: "visa", last4: "5556", outcome: "approve"},
	"pm_card_mastercard": {brand: "mastercard", last4: "4444", outcome: "approve"},
	"pm_card_amex":       {brand: "amex", last4: "8431", outcome: "approve"},
	"pm_card_chargeDeclined": {brand: "visa", last4: "0002", outcome: "decline",
		code: "card_declined", declineCode: "generic_decline", message: "Your card was declined."},
	"pm_card_chargeDeclinedInsufficientFunds": {brand: "visa", last4: "9995", outcome: "decline",
		code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds."},
	"pm_card_chargeDeclinedLostCard": {brand: "visa", last4: "9987", outcome: "decline",
		code: "card_declined", declineCode: "lost_card", message: "Your card was declined."},
	"pm_card_chargeDeclinedStolenCard": {brand: "visa", last4: "9979", outcome: "decline",
		code: "card_declined", declineCode: "stolen_card", message: "Your card was declined."},
	"pm_card_chargeDeclinedFraudulent": {brand: "visa", last4: "0019", outcome: "decline",
		code: "card_declined", declineCode: "fraudulent", message: "Your card was declined."},
	"pm_card_chargeDeclinedExpiredCard": {brand: "visa", last4: "0069", outcome: "decline",
		code: "expired_card", declineCode: "expired_card", message: "Your card has expired."},
	"pm_card_chargeDeclinedIncorrectCvc": {brand: "visa", last4: "0127", outcome: "decline",
		code: "incorrect_cvc", declineCode: "incorrect_cvc", message: "Your card's security code is incorrect."},
	"pm_card_chargeDeclinedProcessingError": {brand: "visa", last4: "0119", outcome: "decline",
		code: "processing_error", declineCode: "processing_error", message: "An error occurred while processing your card. Try again in a little bit."},
	"pm_card_authenticationRequired": {brand: "visa", last4: "3184", outcome: "3ds"},
	"pm_card_threeDSecure2Required":  {brand: "visa", last4: "3220", outcome: "3ds"},
}

// grantedToken is a SharedPaymentGrantedToken: an agent's grant of a
// buyer's PaymentMethod to one seller account, with usage limits.
type grantedToken struct {
	id            string
	account       string
	paymentMethod string
	card          testCard
	currency      string
	maxAmount     int64
	expiresAt     time.Time // zero: never
	created       time.Time
	usedBy        string // the PaymentIntent that consumed it
	deactivatedAt time.Time
	reason        string // deactivated_reason: consumed, expired, revoked
	sellerDetails map[string]string
}

// state is the token's state at now: active, used, revoked or expired.
func (t *grantedToken) state(now time.Time) string {
	switch {
	case t.reason == "revoked":
		return "revoked"
	case t.usedBy != "":
		return "used"
	case !t.expiresAt.IsZero() && !now.Before(t.expiresAt):
		return "expired"
	}
	return "active"
}

// Grant describes a token for Emulator.Grant.
type Grant struct {
	// PaymentMethod is a Stripe test PaymentMethod, e.g. pm_card_visa,
	// pm_card_chargeDeclined, pm_card_authenticationRequired.
	PaymentMethod string
	// Currency and MaxAmount are the usage limits (lower-case ISO code,
	// minor units).
	Currency  string
	MaxAmount int64
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time
}

// Grant grants the account a Shared Payment Token, as the test helper
// endpoint does, and returns its id (spt_…).
func (e *Emulator) Grant(accountID string, g Grant) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.accounts[accountID]; !ok {
		return "", fmt.Errorf("stripeemu: no account %q", accountID)
	}
	card, ok := testCards[g.PaymentMethod]
	if !ok {
		return "", fmt.Errorf("stripeemu: unknown test payment method %q", g.PaymentMethod)
	}
	cur := strings.ToLower(g.Currency)
	if !currencyRE.MatchString(cur) {
		return "", fmt.Errorf("stripeemu: invalid currency %q", g.Currency)
	}
	if g.MaxAmount <= 0 {
		return "", fmt.Errorf("stripeemu: max amount %d must be positive", g.MaxAmount)
	}
	t := e.newToken(accountID, g.PaymentMethod, card, cur, g.MaxAmount, g.ExpiresAt)
	return t.id, nil
}

// GrantToken grants the account a token of a kind (KindApprove, KindDecline,
// KindInsufficientFunds, KindRequires3DS, or a test PaymentMethod name such
// as pm_card_mastercard) for up to maxAmount minor units of currency; a
// zero expires never expires. It panics on an unknown account or kind, as
// a helper for tests and the demo.
func (e *Emulator) GrantToken(accountID, kind, currency string, maxAmount int64, expires time.Time) string {
	pm := kind
	if m, ok := kindPaymentMethods[kind]; ok {
		pm = m
	}
	id, err := e.Grant(accountID, Grant{PaymentMethod: pm, Currency: currency, MaxAmount: maxAmount, ExpiresAt: expires})
	if err != nil {
		panic(err)
	}
	return id
}

// RevokeToken deactivates a token as its issuer would.
func (e *Emulator) RevokeToken(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tokens[id]
	if !ok {
		return fmt.Errorf("stripeemu: no token %q", id)
	}
	e.revoke(t, e.now())
	return nil
}

// TokenState is the token's state: "active", "used", "revoked", "expired",
// or "" for an unknown token.
func (e *Emulator) TokenState(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.tokens[id]; ok {
		return t.state(e.now())
	}
	return ""
}

func (e *Emulator) revoke(t *grantedToken, now time.Time) {
	if t.reason == "" {
		t.reason, t.deactivatedAt = "revoked", now
	}
}

func (e *Emulator) newToken(acct, pm string, card testCard, cur string, maxAmount int64, expires time.Time) *grantedToken {
	t := &grantedToken{
		id: e.newID("spt_", 24), account: acct, paymentMethod: pm, card: card,
		currency: cur, maxAmount: maxAmount, expiresAt: expires, created: e.now(),
	}
	e.tokens[t.id] = t
	return t
}

// tokenError is the answer when a token cannot pay: Stripe-shaped 400s on
// the token's parameter. The codes for used, expired, revoked and the
// usage limits are the emulator's choice (Stripe documents none for the
// preview); unknown and foreign tokens answer resource_missing, as Stripe
// does for any object of another account.
func tokenError(param, code, format string, args ...any) *apiError {
	return stateError(code, param, format, args...)
}

// useToken checks that the account may charge amount in cur with the token
// and, if so, consumes it for the PaymentIntent.
func (e *Emulator) useToken(acct, id, param string, amount int64, cur string, intentID string, now time.Time) (*grantedToken, *apiError) {
	t, ok := e.tokens[id]
	if !ok || t.account != acct {
		return nil, tokenError(param, "resource_missing", "No such shared_payment_granted_token: '%s'", id)
	}
	switch t.state(now) {
	case "revoked":
		return nil, tokenError(param, "shared_payment_granted_token_revoked",
			"The shared payment granted token '%s' has been revoked.", id)
	case "used":
		return nil, tokenError(param, "token_already_used",
			"The shared payment granted token '%s' has already been used.", id)
	case "expired":
		return nil, tokenError(param, "shared_payment_granted_token_expired",
			"The shared payment granted token '%s' expired at %d.", id, t.expiresAt.Unix())
	}
	if cur != t.currency {
		return nil, tokenError(param, "currency_mismatch",
			"The currency '%s' does not match the shared payment granted token's usage limit currency '%s'.", cur, t.currency)
	}
	if amount > t.maxAmount {
		return nil, tokenError(param, "amount_too_large",
			"The amount %d exceeds the shared payment granted token's usage limit of %d %s.", amount, t.maxAmount, t.currency)
	}
	t.usedBy, t.deactivatedAt, t.reason = intentID, now, "consumed"
	return t, nil
}

// tokenJSON is the shared_payment.granted_token object.
func (t *grantedToken) json(now time.Time) map[string]any {
	var deactivatedAt, reason any
	if t.reason != "" {
		deactivatedAt, reason = t.deactivatedAt.Unix(), t.reason
	} else if t.state(now) == "expired" {
		deactivatedAt, reason = t.expiresAt.Unix(), "expired"
	}
	var expires any
	if !t.expiresAt.IsZero() {
		expires = t.expiresAt.Unix()
	}
	m := map[string]any{
		"id":                 t.id,
		"object":             "shared_payment.granted_token",
		"created":            t.created.Unix(),
		"deactivated_at":     deactivatedAt,
		"deactivated_reason": reason,
		"livemode":           false,
		"payment_method_details": map[string]any{
			"type": "card",
			"card": map[string]any{"brand": t.card.brand, "last4": t.card.last4, "exp_month": 12,
				"exp_year": 2034, "funding": "credit", "country": "US"},
		},
		"usage_limits": map[string]any{"currency": t.currency, "max_amount": t.maxAmount, "expires_at": expires},
	}
	if t.sellerDetails != nil {
		m["seller_details"] = t.sellerDetails
	}
	return m
}

// grantTokenHelper is POST /v1/test_helpers/shared_payment/granted_tokens.
func (e *Emulator) grantTokenHelper(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, "payment_method", "usage_limits[currency]", "usage_limits[max_amount]",
		"usage_limits[expires_at]", "seller_details[network_id]", "seller_details[external_id]", "expand["); err != nil {
		return nil, err
	}
	pm := p.Get("payment_method")
	if pm == "" {
		return nil, invalid("payment_method", "parameter_missing", "Missing required param: payment_method.")
	}
	card, ok := testCards[pm]
	if !ok {
		return nil, invalid("payment_method", "resource_missing", "No such PaymentMethod: '%s'", pm)
	}
	cur := strings.ToLower(p.Get("usage_limits[currency]"))
	if cur == "" {
		return nil, invalid("usage_limits[currency]", "parameter_missing", "Missing required param: usage_limits[currency].")
	}
	if !currencyRE.MatchString(cur) {
		return nil, invalid("usage_limits[currency]", "", "Invalid currency: %s", cur)
	}
	maxAmount, present, err := intParam(p, "usage_limits[max_amount]")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, invalid("usage_limits[max_amount]", "parameter_missing", "Missing required param: usage_limits[max_amount].")
	}
	if maxAmount <= 0 {
		return nil, invalid("usage_limits[max_amount]", "parameter_invalid_integer", "This value must be greater than or equal to 1.")
	}
	var expires time.Time
	if sec, present, err := intParam(p, "usage_limits[expires_at]"); err != nil {
		return nil, err
	} else if present {
		expires = time.Unix(sec, 0)
		if !expires.After(rq.now) {
			return nil, invalid("usage_limits[expires_at]", "", "usage_limits[expires_at] must be in the future.")
		}
	}
	t := e.newToken(rq.acct.id, pm, card, cur, maxAmount, expires)
	if p.Has("seller_details[network_id]") || p.Has("seller_details[external_id]") {
		t.sellerDetails = map[string]string{"network_id": p.Get("seller_details[network_id]"),
			"external_id": p.Get("seller_details[external_id]")}
	}
	return t.json(rq.now), nil
}

// revokeTokenHelper is POST /v1/test_helpers/shared_payment/granted_tokens/{id}/revoke.
func (e *Emulator) revokeTokenHelper(rq *request) (any, *apiError) {
	if err := checkParams(rq.params, "expand["); err != nil {
		return nil, err
	}
	id := rq.r.PathValue("id")
	t, ok := e.tokens[id]
	if !ok || t.account != rq.acct.id {
		return nil, notFound("id", "shared_payment_granted_token", id)
	}
	e.revoke(t, rq.now)
	return t.json(rq.now), nil
}

// getToken is GET /v1/shared_payment/granted_tokens/{id}.
func (e *Emulator) getToken(rq *request) (any, *apiError) {
	if err := checkParams(rq.params, "expand["); err != nil {
		return nil, err
	}
	id := rq.r.PathValue("id")
	t, ok := e.tokens[id]
	if !ok || t.account != rq.acct.id {
		return nil, notFound("id", "shared_payment_granted_token", id)
	}
	return t.json(rq.now), nil
}

// checkParams refuses parameters outside allowed, as Stripe does
// ("Received unknown parameter"). An allowed entry ending in "[" admits
// every key under it (metadata[…], expand[…]).
func checkParams(p url.Values, allowed ...string) *apiError {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
next:
	for _, k := range keys {
		for _, a := range allowed {
			if k == a || (strings.HasSuffix(a, "[") && strings.HasPrefix(k, a)) {
				continue next
			}
		}
		return invalid(k, "parameter_unknown", "Received unknown parameter: %s", k)
	}
	return nil
}

// intParam parses an integer parameter.
func intParam(p url.Values, name string) (int64, bool, *apiError) {
	if !p.Has(name) {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(p.Get(name), 10, 64)
	if err != nil {
		return 0, true, invalid(name, "parameter_invalid_integer", "Invalid integer: %s", p.Get(name))
	}
	return v, true, nil
}
