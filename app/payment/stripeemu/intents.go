package stripeemu

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// PaymentIntent statuses.
const (
	statusRequiresPaymentMethod = "requires_payment_method"
	statusRequiresConfirmation  = "requires_confirmation"
	statusRequiresAction        = "requires_action"
	statusRequiresCapture       = "requires_capture"
	statusSucceeded             = "succeeded"
	statusCanceled              = "canceled"
)

// tokenParam is where the 2026-04-22.preview API takes an SPT, and
// legacyTokenParam where late-2025 versions took it (docs/stripe.md).
const (
	tokenParam       = "payment_method_data[shared_payment_granted_token]"
	legacyTokenParam = "shared_payment_granted_token"
	threeDSPrefix    = "payment_method_options[card][three_d_secure]["
)

// intent is a PaymentIntent.
type intent struct {
	seq                int
	id, account        string
	amount             int64
	capturable         int64
	received           int64
	refunded           int64
	currency           string
	captureMethod      string
	status             string
	description        string
	sdSuffix           string
	receiptEmail       string
	metadata           map[string]string
	created            time.Time
	canceledAt         time.Time
	cancellationReason string
	clientSecret       string
	returnURL          string

	pm        *paymentMethod // attached PaymentMethod, nil when none
	token     string         // the SPT the PaymentMethod came from
	charge    *charge        // latest charge
	lastError *apiError      // last_payment_error
	nextURL   string         // 3-D Secure URL while requires_action
	refundIDs []string

	authorizations int // successful authorizations: 0 or 1
	attempts       int // charge attempts, declines included
}

// paymentMethod is a PaymentMethod cloned onto an intent from a token or
// a test PaymentMethod.
type paymentMethod struct {
	id      string
	name    string // the test PaymentMethod, e.g. pm_card_visa
	card    testCard
	created time.Time
}

// charge is a Charge: one authorization attempt.
type charge struct {
	id             string
	amount         int64
	amountCaptured int64
	amountRefunded int64
	status         string // succeeded or failed
	captured       bool
	failure        *apiError
	created        time.Time
}

var (
	currencyRE  = regexp.MustCompile(`^[a-z]{3}$`)
	tdsVersion  = regexp.MustCompile(`^[12]\.\d+\.\d+$`)
	validECI    = map[string]bool{"01": true, "02": true, "05": true, "06": true, "07": true}
	validStatus = map[string]bool{"Y": true, "A": true, "N": true, "U": true, "R": true, "C": true, "I": true}
)

// supportsSPT reports whether an API version accepts
// payment_method_data[shared_payment_granted_token].
func supportsSPT(version string) bool { return version[:10] >= PreviewAPIVersion[:10] }

// createIntent is POST /v1/payment_intents.
func (e *Emulator) createIntent(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, "amount", "currency", "confirm", "capture_method", "description", "metadata[",
		tokenParam, "payment_method_data[type]", legacyTokenParam, "payment_method", "payment_method_types[",
		threeDSPrefix, "payment_method_options[card][request_three_d_secure]", "statement_descriptor",
		"statement_descriptor_suffix", "receipt_email", "return_url", "automatic_payment_methods[", "expand[",
		"error_on_requires_action"); err != nil {
		return nil, err
	}
	amount, present, err := intParam(p, "amount")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, invalid("amount", "parameter_missing", "Missing required param: amount.")
	}
	if amount < 1 {
		return nil, invalid("amount", "parameter_invalid_integer", "This value must be greater than or equal to 1.")
	}
	if amount > 99_999_999 {
		return nil, invalid("amount", "amount_too_large", "Amount must be no more than 99999999.")
	}
	cur := strings.ToLower(p.Get("currency"))
	if cur == "" {
		return nil, invalid("currency", "parameter_missing", "Missing required param: currency.")
	}
	if !currencyRE.MatchString(cur) {
		return nil, invalid("currency", "", "Invalid currency: %s. Stripe currently supports these currencies: usd, eur, gbp, …", cur)
	}
	captureMethod := p.Get("capture_method")
	switch captureMethod {
	case "":
		captureMethod = "automatic"
	case "automatic", "automatic_async", "manual":
	default:
		return nil, invalid("capture_method", "", "Invalid capture_method: must be one of automatic, automatic_async, or manual")
	}
	confirm, err := boolParam(p, "confirm")
	if err != nil {
		return nil, err
	}
	metadata, err := metadataParam(p, nil)
	if err != nil {
		return nil, err
	}
	tds, err := threeDSParam(p)
	if err != nil {
		return nil, err
	}
	if err := expandParam(p); err != nil {
		return nil, err
	}
	if err := descriptorParam(p, "statement_descriptor_suffix", 22); err != nil {
		return nil, err
	}
	source, pmName, err := paymentSource(p, rq.version)
	if err != nil {
		return nil, err
	}

	if !confirm && tds != nil {
		return nil, invalid("payment_method_options[card][three_d_secure]", "", "payment_method_options[card][three_d_secure] can only be used with confirm=true.")
	}
	if confirm && source == "" {
		return nil, invalid("payment_method", "parameter_missing",
			"You must provide a payment method (payment_method, payment_method_data or %s) to confirm this PaymentIntent.", tokenParam)
	}

	in := &intent{
		id: e.newID("pi_", 24), account: rq.acct.id, amount: amount, currency: cur,
		captureMethod: captureMethod, description: p.Get("description"),
		sdSuffix: p.Get("statement_descriptor_suffix"), receiptEmail: p.Get("receipt_email"),
		metadata: metadata, created: rq.now, returnURL: p.Get("return_url"),
		status: statusRequiresPaymentMethod,
	}
	in.clientSecret = in.id + "_secret_" + e.derive("secret", in.id, 25)
	// Attach the payment method before the intent exists: an unusable
	// token fails the whole request and leaves nothing behind, as on
	// Stripe.
	if aerr := e.attach(in, source, pmName, rq.now); aerr != nil {
		return nil, aerr
	}
	in.seq = len(e.order)
	e.intents[in.id] = in
	e.order = append(e.order, in.id)
	if in.pm != nil {
		in.status = statusRequiresConfirmation
	}
	if !confirm {
		return e.intentJSON(in, p), nil
	}
	if aerr := e.attempt(in, tds, p, rq); aerr != nil {
		return nil, aerr
	}
	return e.intentJSON(in, p), nil
}

// paymentSource reads where the payment method comes from: "token" (an
// SPT id in pmName), "pm" (a test PaymentMethod) or "" (none).
func paymentSource(p url.Values, version string) (kind, name string, err *apiError) {
	if p.Has(tokenParam) {
		if !supportsSPT(version) {
			return "", "", invalid(tokenParam, "parameter_unknown",
				"Received unknown parameter: %s. This parameter requires Stripe-Version %s or later.", tokenParam, PreviewAPIVersion)
		}
		if t := p.Get("payment_method_data[type]"); t != "" && t != "card" {
			return "", "", invalid("payment_method_data[type]", "", "Invalid payment_method_data[type] for a shared payment granted token: %s", t)
		}
		return "token", p.Get(tokenParam), nil
	}
	if p.Has("payment_method_data[type]") {
		return "", "", invalid("payment_method_data[type]", "", "The emulator only supports payment_method_data[shared_payment_granted_token].")
	}
	if p.Has(legacyTokenParam) {
		return "token", p.Get(legacyTokenParam), nil
	}
	if p.Has("payment_method") {
		name := p.Get("payment_method")
		if _, ok := testCards[name]; !ok {
			return "", "", invalid("payment_method", "resource_missing", "No such PaymentMethod: '%s'", name)
		}
		return "pm", name, nil
	}
	return "", "", nil
}

// attach clones the payment method onto the intent; a token is checked
// against its usage limits and consumed.
func (e *Emulator) attach(in *intent, kind, name string, now time.Time) *apiError {
	switch kind {
	case "token":
		param := tokenParam
		if name == "" {
			return invalid(param, "parameter_invalid_empty", "You passed an empty string for '%s'. We assume empty values are an attempt to unset a parameter; however '%s' cannot be unset.", param, param)
		}
		t, aerr := e.useToken(in.account, name, param, in.amount, in.currency, in.id, now)
		if aerr != nil {
			return aerr
		}
		in.token = t.id
		in.pm = &paymentMethod{id: e.newID("pm_", 24), name: t.paymentMethod, card: t.card, created: now}
	case "pm":
		in.pm = &paymentMethod{id: e.newID("pm_", 24), name: name, card: testCards[name], created: now}
	}
	return nil
}

// attempt charges the attached payment method, with a 3-D Secure result
// if one was given. A decline answers 402 card_error with the intent.
func (e *Emulator) attempt(in *intent, tds *threeDS, p url.Values, rq *request) *apiError {
	if r := p.Get("return_url"); r != "" {
		in.returnURL = r
	}
	card := in.pm.card
	switch {
	case card.outcome == "decline":
		return e.decline(in, card.code, card.declineCode, card.message, rq, p)
	case card.outcome == "3ds" && tds == nil:
		in.status = statusRequiresAction
		in.nextURL = "https://hooks.stripe.com/3d_secure_2/hosted?merchant=" + in.account + "&payment_intent=" + in.id
		in.lastError = nil
		return nil
	case tds != nil && !tds.authenticated():
		return e.decline(in, "payment_intent_authentication_failure", "",
			"The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.", rq, p)
	}
	// Authorized.
	in.attempts++
	in.authorizations++
	e.stats.Authorizations++
	in.nextURL, in.lastError = "", nil
	in.charge = &charge{id: e.newID("ch_", 24), amount: in.amount, status: "succeeded", created: rq.now}
	if in.captureMethod == "manual" {
		in.status, in.capturable = statusRequiresCapture, in.amount
	} else {
		in.status, in.received = statusSucceeded, in.amount
		in.charge.captured, in.charge.amountCaptured = true, in.amount
		e.stats.Captures++
	}
	return nil
}

// decline records a failed charge and answers 402 card_error.
func (e *Emulator) decline(in *intent, code, declineCode, msg string, rq *request, p url.Values) *apiError {
	in.attempts++
	e.stats.Declines++
	ch := &charge{id: e.newID("ch_", 24), amount: in.amount, status: "failed", created: rq.now}
	pmJSON := in.pm.json()
	aerr := &apiError{status: http.StatusPaymentRequired, Type: "card_error", Code: code, DeclineCode: declineCode,
		Message: msg, Charge: ch.id, DocURL: "https://stripe.com/docs/error-codes/" + strings.ReplaceAll(code, "_", "-"),
		PaymentMethod: pmJSON}
	ch.failure = aerr
	in.charge = ch
	// Stripe detaches the failed PaymentMethod: the intent waits for a new
	// one, with the failure in last_payment_error.
	in.status, in.pm, in.nextURL = statusRequiresPaymentMethod, nil, ""
	last := *aerr
	last.status = 0
	in.lastError = &last
	aerr.PaymentIntent = e.intentJSON(in, p)
	aerr.RequestLogURL = "https://dashboard.stripe.com/test/logs"
	return aerr
}

// getIntent is GET /v1/payment_intents/{id}.
func (e *Emulator) getIntent(rq *request) (any, *apiError) {
	if err := checkParams(rq.params, "expand[", "client_secret"); err != nil {
		return nil, err
	}
	if err := expandParam(rq.params); err != nil {
		return nil, err
	}
	in, aerr := e.lookupIntent(rq)
	if aerr != nil {
		return nil, aerr
	}
	return e.intentJSON(in, rq.params), nil
}

func (e *Emulator) lookupIntent(rq *request) (*intent, *apiError) {
	id := rq.r.PathValue("id")
	in, ok := e.intents[id]
	if !ok || in.account != rq.acct.id {
		return nil, notFound("intent", "payment_intent", id)
	}
	return in, nil
}

// unexpectedState is Stripe's answer to an operation the intent's status
// does not allow; it carries the intent.
func (e *Emulator) unexpectedState(in *intent, p url.Values, format string, args ...any) *apiError {
	aerr := stateError("payment_intent_unexpected_state", "", format, args...)
	aerr.DocURL = "https://stripe.com/docs/error-codes/payment-intent-unexpected-state"
	aerr.PaymentIntent = e.intentJSON(in, p)
	return aerr
}

// confirmIntent is POST /v1/payment_intents/{id}/confirm.
func (e *Emulator) confirmIntent(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, tokenParam, "payment_method_data[type]", legacyTokenParam, "payment_method",
		threeDSPrefix, "payment_method_options[card][request_three_d_secure]", "return_url", "capture_method",
		"receipt_email", "expand[", "error_on_requires_action"); err != nil {
		return nil, err
	}
	tds, err := threeDSParam(p)
	if err != nil {
		return nil, err
	}
	if err := expandParam(p); err != nil {
		return nil, err
	}
	source, pmName, err := paymentSource(p, rq.version)
	if err != nil {
		return nil, err
	}
	in, aerr := e.lookupIntent(rq)
	if aerr != nil {
		return nil, aerr
	}
	switch in.status {
	case statusRequiresPaymentMethod, statusRequiresConfirmation, statusRequiresAction:
	default:
		return nil, e.unexpectedState(in, p, "You cannot confirm this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_action, requires_payment_method.", in.status)
	}
	switch cm := p.Get("capture_method"); cm {
	case "":
	case "automatic", "automatic_async", "manual":
		in.captureMethod = cm
	default:
		return nil, invalid("capture_method", "", "Invalid capture_method: must be one of automatic, automatic_async, or manual")
	}
	if source != "" {
		if aerr := e.attach(in, source, pmName, rq.now); aerr != nil {
			return nil, aerr
		}
	}
	if in.pm == nil {
		return nil, e.unexpectedState(in, p, "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.")
	}
	if in.status == statusRequiresAction && source == "" && tds == nil {
		// Nothing new: the intent still waits for authentication.
		return e.intentJSON(in, p), nil
	}
	if aerr := e.attempt(in, tds, p, rq); aerr != nil {
		return nil, aerr
	}
	return e.intentJSON(in, p), nil
}

// captureIntent is POST /v1/payment_intents/{id}/capture.
func (e *Emulator) captureIntent(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, "amount_to_capture", "metadata[", "statement_descriptor_suffix", "statement_descriptor",
		"final_capture", "expand["); err != nil {
		return nil, err
	}
	if err := expandParam(p); err != nil {
		return nil, err
	}
	amt, present, err := intParam(p, "amount_to_capture")
	if err != nil {
		return nil, err
	}
	in, aerr := e.lookupIntent(rq)
	if aerr != nil {
		return nil, aerr
	}
	if in.status != statusRequiresCapture {
		return nil, e.unexpectedState(in, p, "This PaymentIntent could not be captured because it has a status of %s. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.", in.status)
	}
	if !present {
		amt = in.capturable
	}
	if amt < 1 {
		return nil, invalid("amount_to_capture", "parameter_invalid_integer", "This value must be greater than or equal to 1.")
	}
	if amt > in.capturable {
		return nil, stateError("amount_too_large", "amount_to_capture",
			"The amount_to_capture (%d) must be less than or equal to the amount_capturable (%d).", amt, in.capturable)
	}
	md, err := metadataParam(p, in.metadata)
	if err != nil {
		return nil, err
	}
	in.metadata = md
	if s := p.Get("statement_descriptor_suffix"); s != "" {
		in.sdSuffix = s
	}
	in.status, in.received, in.capturable = statusSucceeded, amt, 0
	in.charge.captured, in.charge.amountCaptured = true, amt
	e.stats.Captures++
	return e.intentJSON(in, p), nil
}

// cancelIntent is POST /v1/payment_intents/{id}/cancel.
func (e *Emulator) cancelIntent(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, "cancellation_reason", "expand["); err != nil {
		return nil, err
	}
	if err := expandParam(p); err != nil {
		return nil, err
	}
	reason := p.Get("cancellation_reason")
	switch reason {
	case "", "duplicate", "fraudulent", "requested_by_customer", "abandoned":
	default:
		return nil, invalid("cancellation_reason", "", "Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer, or abandoned")
	}
	in, aerr := e.lookupIntent(rq)
	if aerr != nil {
		return nil, aerr
	}
	switch in.status {
	case statusRequiresPaymentMethod, statusRequiresCapture, statusRequiresConfirmation, statusRequiresAction:
	default:
		return nil, e.unexpectedState(in, p, "You cannot cancel this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.", in.status)
	}
	in.status, in.capturable, in.nextURL = statusCanceled, 0, ""
	in.canceledAt, in.cancellationReason = rq.now, reason
	e.stats.Cancels++
	return e.intentJSON(in, p), nil
}
