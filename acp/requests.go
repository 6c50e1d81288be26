package acp

import (
	"strings"
	"time"
)

// This file holds the version-neutral request inputs and the decoders'
// entry points. A decoder reads the body of one version strictly (the
// version's JSON Schema plus the format rules below) and returns the input,
// or an error that is always an *Error of type invalid_request, with a
// precise Code and, where a field is at fault, Param as its JSONPath.
//
// What the decoders check beyond the schemas: ids and tokens are non-empty;
// lists have sane maxima (MaxLineItems, MaxListLen); quantities are whole
// numbers in 1..MaxQuantity; countries are ISO 3166-1 alpha-2 (returned
// upper-case); currencies ISO 4217 (returned lower-case); emails plain
// addr-specs; phone numbers 7–15 digits with an optional "+" (returned
// without separators); date-times RFC 3339. Whether an item, a fulfillment
// option or a payment handler id exists is the app's business, not theirs.
//
// Update semantics: a nil field of UpdateSessionInput was absent (keep the
// current value); a non-nil one replaces it. DiscountCodes non-nil but empty
// means "clear the codes".

// ItemInput is a requested item.
type ItemInput struct {
	ID string
	// Quantity is 1..MaxQuantity. 2026-04-17 request items have no quantity
	// in the released schema (acp.md §10.1); it is accepted anyway and
	// defaults to 1.
	Quantity int
}

// AgentCapabilities is what the agent declared on create (2026-04-17).
// Unknown values are kept, as the capability RFC asks servers to ignore
// (not refuse) them.
type AgentCapabilities struct {
	// Interventions the agent can perform: 3ds, biometric, address_verification.
	InterventionsSupported []string
	DisplayContext         string
	RedirectContext        string
	MaxRedirects           *int
	MaxInteractionDepth    *int
	// Extensions are the extension names the agent understands.
	Extensions []string
}

// FulfillmentGroup is a group of items sharing a destination (2026-04-17).
type FulfillmentGroup struct {
	ID                 string
	ItemIDs            []string
	DestinationType    string // shipping|pickup|local_delivery|digital
	FulfillmentDetails *FulfillmentDetails
	LocationID         string
	Instructions       string
}

// AffiliateAttribution credits a referral (2026-04-17; write-only).
type AffiliateAttribution struct {
	Provider    string
	Token       string
	PublisherID string
	CampaignID  string
	CreativeID  string
	SubID       string
	SourceType  string // url|platform|unknown
	SourceURL   string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	Metadata    map[string]any
	Touchpoint  string // first|last
}

// CreateSessionInput is a create request.
type CreateSessionInput struct {
	Items []ItemInput
	// Currency is lower-case ISO 4217 (2026-04-17; empty for 2025-09-29,
	// where the merchant picks it).
	Currency           string
	Buyer              *Buyer
	FulfillmentDetails *FulfillmentDetails
	Capabilities       *AgentCapabilities

	// 2026-04-17 only.
	FulfillmentGroups    []FulfillmentGroup
	AffiliateAttribution *AffiliateAttribution
	// DiscountCodes joins discounts.codes and the deprecated coupons.
	DiscountCodes []string
	Locale        string
	Timezone      string
	QuoteID       string
	Metadata      map[string]any
	OrderNotes    string

	// Ignored are the fields the version does not define (all inputs
	// have it): the answer names them (Ignored.Message).
	Ignored Ignored
}

// SelectedFulfillmentInput is a requested fulfillment choice. 2025-09-29's
// fulfillment_option_id gives one with only OptionID.
type SelectedFulfillmentInput struct {
	Type     string // shipping|digital|pickup|local_delivery; "" from 2025-09-29
	OptionID string
	ItemIDs  []string
}

// UpdateSessionInput is an update request. nil means "absent: keep".
type UpdateSessionInput struct {
	Items               []ItemInput
	Buyer               *Buyer
	FulfillmentDetails  *FulfillmentDetails
	SelectedFulfillment []SelectedFulfillmentInput

	// 2026-04-17 only.
	FulfillmentGroups []FulfillmentGroup
	DiscountCodes     []string
	OrderNotes        *string

	Ignored Ignored
}

// PaymentInput is the payment of a complete request, reduced to what this
// app can charge: a Stripe shared payment token.
type PaymentInput struct {
	// Provider is "stripe" (2025-09-29 provider; 2026-04-17 always "stripe"
	// as the only credential accepted is an SPT).
	Provider string
	// Token is the shared payment token (or vault token) to charge.
	Token string
	// HandlerID is the payment handler used (2026-04-17; "" for 2025-09-29).
	HandlerID string
	// InstrumentType is the instrument's type, e.g. "card" (2026-04-17).
	InstrumentType string
	// CredentialType is "spt" (2026-04-17; "" for 2025-09-29).
	CredentialType string
	BillingAddress *Address
}

// AuthenticationResult is the 3-D Secure outcome the agent reports.
type AuthenticationResult struct {
	// Outcome: abandoned|attempt_acknowledged|authenticated|canceled|denied|
	// informational|internal_error|not_supported|processing_error|rejected.
	Outcome string
	// Details are required for authenticated, informational and
	// attempt_acknowledged; then every field is set.
	Details *AuthenticationDetails
}

// AuthenticationDetails are the 3DS values to pass to the PSP.
type AuthenticationDetails struct {
	ThreeDSCryptogram           string
	ElectronicCommerceIndicator string // 01|02|05|06|07
	TransactionID               string
	Version                     string
}

// RiskSignals are the agent's hints about the buyer's device.
type RiskSignals struct {
	IPAddress         string
	UserAgent         string
	AcceptLanguage    string
	SessionID         string
	DeviceFingerprint string
}

// MarketingConsent is the buyer's choice for one channel.
type MarketingConsent struct {
	Channel string
	OptedIn bool
}

// CompleteSessionInput is a complete request.
type CompleteSessionInput struct {
	Buyer   *Buyer
	Payment PaymentInput
	// FulfillmentDetails are the fulfillment details sent with complete:
	// not in either released version's schema, but merged into the spec
	// since (unreleased: "a change to the address there is a 409"), and
	// sent by agents. Read in both versions, in the 2026-04-17 shape: its
	// email is a contact email, and an address other than the session's
	// is refused, as the spec says, rather than ignored.
	FulfillmentDetails *FulfillmentDetails

	// 2026-04-17 only.
	AuthenticationResult *AuthenticationResult
	AffiliateAttribution *AffiliateAttribution
	RiskSignals          *RiskSignals
	MarketingConsents    []MarketingConsent
	OrderNotes           string

	Ignored Ignored
}

// Cancel reasons (2026-04-17 intent_trace.reason_code). Unknown values are
// read as CancelReasonOther, as the spec asks.
const (
	CancelReasonPriceSensitivity = "price_sensitivity"
	CancelReasonShippingCost     = "shipping_cost"
	CancelReasonShippingSpeed    = "shipping_speed"
	CancelReasonProductFit       = "product_fit"
	CancelReasonTrustSecurity    = "trust_security"
	CancelReasonReturnsPolicy    = "returns_policy"
	CancelReasonPaymentOptions   = "payment_options"
	CancelReasonComparison       = "comparison"
	CancelReasonTimingDeferred   = "timing_deferred"
	CancelReasonOther            = "other"
)

// CancelSessionInput is a cancel request. The body is optional (2026-04-17)
// or absent (2025-09-29); the zero value means "no reason given".
type CancelSessionInput struct {
	// ReasonCode is one of the CancelReason constants, or "" when the agent
	// sent no intent_trace.
	ReasonCode   string
	TraceSummary string
	// Metadata values are strings, json.Numbers or booleans.
	Metadata map[string]any

	Ignored Ignored
}

// DecodeCreateSession reads the body of a create request of version v.
func DecodeCreateSession(v Version, body []byte) (*CreateSessionInput, error) {
	root, r, err := begin(v, body, false)
	if err != nil {
		return nil, err
	}
	var in *CreateSessionInput
	if v == V20250929 {
		in = r.create20250929(root)
	} else {
		in = r.create20260417(root)
	}
	if r.err != nil {
		return nil, r.failed()
	}
	in.Ignored = r.ignored
	return in, nil
}

// DecodeUpdateSession reads the body of an update request of version v.
func DecodeUpdateSession(v Version, body []byte) (*UpdateSessionInput, error) {
	root, r, err := begin(v, body, false)
	if err != nil {
		return nil, err
	}
	var in *UpdateSessionInput
	if v == V20250929 {
		in = r.update20250929(root)
	} else {
		in = r.update20260417(root)
	}
	if r.err != nil {
		return nil, r.failed()
	}
	in.Ignored = r.ignored
	return in, nil
}

// DecodeCompleteSession reads the body of a complete request of version v.
func DecodeCompleteSession(v Version, body []byte) (*CompleteSessionInput, error) {
	root, r, err := begin(v, body, false)
	if err != nil {
		return nil, err
	}
	var in *CompleteSessionInput
	if v == V20250929 {
		in = r.complete20250929(root)
	} else {
		in = r.complete20260417(root)
	}
	if r.err != nil {
		return nil, r.failed()
	}
	in.Ignored = r.ignored
	return in, nil
}

// DecodeCancelSession reads the body of a cancel request of version v. An
// empty body is allowed; 2025-09-29 defines no body, so there only "{}" is
// accepted besides.
func DecodeCancelSession(v Version, body []byte) (*CancelSessionInput, error) {
	root, r, err := begin(v, body, true)
	if err != nil {
		return nil, err
	}
	in := &CancelSessionInput{}
	if root == nil {
		return in, nil
	}
	if v == V20250929 {
		r.object(root, "$", true)
	} else {
		in = r.cancel20260417(root)
	}
	if r.err != nil {
		return nil, r.failed()
	}
	in.Ignored = r.ignored
	return in, nil
}

// begin checks the version and parses the body. With optional, an empty
// body gives a nil root.
func begin(v Version, body []byte, optional bool) (*jsonValue, *reader, error) {
	if _, ok := ParseVersion(string(v)); !ok {
		return nil, nil, invalid(CodeUnsupportedAPIVersion, "", "API-Version %s is not supported; supported versions: %s", quoteBounded(string(v), 40), supportedList())
	}
	if optional && isBlank(body) {
		return nil, &reader{}, nil
	}
	root, e := parseBody(body)
	if e != nil {
		return nil, nil, e
	}
	return root, &reader{}, nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// --- pieces shared by both versions ---

// address reads an Address; company is accepted by 2026-04-17 only.
func (r *reader) address(v *jsonValue, path string, withCompany bool) *Address {
	known := []string{"name", "line_one", "line_two", "city", "state", "country", "postal_code"}
	if withCompany {
		known = append(known, "company")
	}
	o, ok := r.object(v, path, true, known...)
	if !ok {
		return nil
	}
	a := &Address{
		Name:       o.reqStr("name", maxTextLen, true),
		LineOne:    o.reqStr("line_one", maxTextLen, true),
		LineTwo:    o.str("line_two", maxTextLen),
		City:       o.reqStr("city", maxTextLen, true),
		State:      o.reqStr("state", maxTextLen, false),
		PostalCode: o.reqStr("postal_code", 32, false),
	}
	cv, cp := o.require("country")
	if c := r.stringValue(cv, cp, 0); cv != nil && cv.kind == kindString && r.ok() {
		norm, ok := NormalizeCountry(c)
		if !ok {
			r.fail(CodeInvalid, cp, "%s must be an ISO 3166-1 alpha-2 country code", cp)
		}
		a.Country = norm
	}
	if withCompany {
		a.Company = o.str("company", maxTextLen)
	}
	return a
}

// email reads an optional (or required) email field.
func (o object) email(key string, required bool) string {
	var s string
	if required {
		s = o.reqStr(key, 254*4, true)
	} else {
		s = o.str(key, 254*4)
	}
	_, p := o.get(key)
	if s != "" && !ValidEmail(s) {
		o.r.fail(CodeInvalid, p, "%s must be an email address", p)
		return ""
	}
	return s
}

// phone reads an optional phone number; "" counts as absent.
func (o object) phone(key string) string {
	s := o.str(key, 64)
	if s == "" {
		return ""
	}
	_, p := o.get(key)
	n, ok := NormalizePhone(s)
	if !ok {
		o.r.fail(CodeInvalid, p, "%s must be a phone number of 7 to 15 digits, E.164 recommended", p)
		return ""
	}
	return n
}

// items reads the requested items: required (create) or optional (update,
// where nil is "absent"); never empty when present.
func (r *reader) items(o object, key string, required bool, item func(v *jsonValue, path string) ItemInput) []ItemInput {
	var list []*jsonValue
	var p string
	var ok bool
	if required {
		v, path := o.require(key)
		p = path
		if v != nil {
			list, ok = r.arrayValue(v, p, MaxLineItems)
		}
	} else {
		list, p, ok = o.array(key, MaxLineItems)
	}
	if !ok {
		return nil
	}
	if len(list) == 0 {
		r.fail(CodeInvalid, p, "%s must contain at least one item", p)
		return nil
	}
	out := make([]ItemInput, 0, len(list))
	for i, it := range list {
		out = append(out, item(it, indexPath(p, i)))
	}
	return out
}

// quantity reads a request quantity: a positive whole number ≤ MaxQuantity.
func (r *reader) quantity(v *jsonValue, path string) int {
	if v.kind != kindNumber {
		r.wrongType(v, path, "a number")
		return 0
	}
	n, whole, inRange := parseWhole(v.text)
	switch {
	case strings.HasPrefix(v.text, "-") || inRange && whole && n < 1:
		r.fail(CodeInvalid, path, "%s must be at least 1", path)
	case !whole:
		r.fail(CodeInvalid, path, "%s must be a whole number; fractional quantities are not supported", path)
	case !inRange || n > MaxQuantity:
		r.fail(CodeInvalid, path, "%s must be at most %d", path, MaxQuantity)
	default:
		return int(n)
	}
	return 0
}
