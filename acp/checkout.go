package acp

import (
	"errors"
	"fmt"
	"time"
)

// This file is the checkout session as the app's use-cases see it: one
// model for every protocol version. EncodeSession turns it into the wire
// shape of a version (wire20250929.go, wire20260417.go).
//
// Money is always an int64 count of the currency's minor units. Derived
// amounts (a line's base amount, subtotal and total; an option's total; the
// session totals) are not stored but computed, so they cannot disagree with
// their parts. Validate checks everything else that the schemas and the RFC
// require of a session before it goes on the wire.

// MaxAmount bounds every amount in minor units (10^13: 100 billion in a
// two-decimal currency), so that sums can never overflow int64.
const MaxAmount int64 = 1e13

// Status is the state of a checkout session: the union of the versions'
// enums. 2025-09-29 knows only not_ready_for_payment, ready_for_payment,
// completed, canceled and in_progress; see EncodeSession for how the others
// are sent to it.
type Status string

// Session statuses.
const (
	StatusIncomplete             Status = "incomplete"
	StatusNotReadyForPayment     Status = "not_ready_for_payment"
	StatusRequiresEscalation     Status = "requires_escalation"
	StatusAuthenticationRequired Status = "authentication_required"
	StatusReadyForPayment        Status = "ready_for_payment"
	StatusPendingApproval        Status = "pending_approval"
	StatusCompleteInProgress     Status = "complete_in_progress"
	StatusCompleted              Status = "completed"
	StatusCanceled               Status = "canceled"
	StatusInProgress             Status = "in_progress"
	StatusExpired                Status = "expired"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusIncomplete, StatusNotReadyForPayment, StatusRequiresEscalation,
		StatusAuthenticationRequired, StatusReadyForPayment, StatusPendingApproval,
		StatusCompleteInProgress, StatusCompleted, StatusCanceled, StatusInProgress, StatusExpired:
		return true
	}
	return false
}

// Terminal reports whether no further change is possible (cancel answers 405).
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusCanceled || s == StatusExpired
}

// Session is a checkout session.
type Session struct {
	ID     string
	Status Status
	// Currency is an ISO 4217 code; it is sent lower-case whatever its case here.
	Currency string

	Buyer     *Buyer
	LineItems []LineItem

	// FulfillmentDetails is where and to whom the order goes. 2025-09-29
	// carries only its Address (as fulfillment_address).
	FulfillmentDetails  *FulfillmentDetails
	FulfillmentOptions  []FulfillmentOption
	SelectedFulfillment []SelectedFulfillment

	// Discount is an order-level discount not allocated to line items
	// (the "discount" total); line discounts are on the lines.
	Discount int64
	// Fees are extra charges, one "fee" total each.
	Fees []Fee
	// TotalLabels overrides the display_text of session totals by type.
	TotalLabels map[TotalType]string

	Messages []Message
	Links    []Link

	// PaymentHandlers are the ways to pay. 2026-04-17 lists them under
	// capabilities.payment.handlers; 2025-09-29 has only payment_provider,
	// sent as {provider: "stripe", supported_payment_methods: ["card"]} when
	// one handler's PSP is Stripe.
	PaymentHandlers []PaymentHandler
	// Interventions is the negotiated intervention capability (2026-04-17).
	Interventions *Interventions
	// AuthenticationMetadata is required when Status is authentication_required.
	AuthenticationMetadata *AuthenticationMetadata
	// Order is set once the session is completed, and only then.
	Order *Order

	// ContinueURL is where a buyer can finish on the merchant's site
	// (2026-04-17; useful with requires_escalation).
	ContinueURL string

	// Times, sent by 2026-04-17 only; zero values are left out.
	CreatedAt, UpdatedAt, ExpiresAt time.Time
}

// Buyer is the person buying. 2025-09-29 requires first name, last name and
// email, 2026-04-17 the email only; a buyer without them is left out of that
// version's response.
type Buyer struct {
	FirstName   string
	LastName    string
	FullName    string // 2026-04-17 only
	Email       string
	PhoneNumber string
}

// Address is a postal address. Country is ISO 3166-1 alpha-2.
type Address struct {
	Name       string
	LineOne    string
	LineTwo    string
	City       string
	State      string
	Country    string
	PostalCode string
	Company    string // 2026-04-17 only
}

// FulfillmentDetails is the recipient and destination of the order.
type FulfillmentDetails struct {
	Name        string
	PhoneNumber string
	Email       string
	Address     *Address
}

// LineItem is one purchased item. BaseAmount, Subtotal and Total are
// computed from the stored parts.
type LineItem struct {
	ID       string // the line's own id
	ItemID   string // the product (variant) id the agent sent
	Quantity int

	// UnitAmount is the price of one unit.
	UnitAmount int64
	// Discount is the discount on this line, at most BaseAmount.
	Discount int64
	// Tax is the tax on this line.
	Tax int64

	// Display fields, sent by 2026-04-17 only.
	Name        string
	Description string
	Images      []string
	ProductID   string
	VariantID   string
	SKU         string
}

// BaseAmount is UnitAmount × Quantity.
func (l LineItem) BaseAmount() int64 { return l.UnitAmount * int64(l.Quantity) }

// Subtotal is BaseAmount − Discount.
func (l LineItem) Subtotal() int64 { return l.BaseAmount() - l.Discount }

// Total is Subtotal + Tax.
func (l LineItem) Total() int64 { return l.Subtotal() + l.Tax }

// Validate checks ranges; the derived amounts are consistent by construction.
func (l LineItem) Validate() error {
	switch {
	case l.ID == "":
		return errors.New("id is empty")
	case l.ItemID == "":
		return errors.New("item id is empty")
	case l.Quantity < 1 || l.Quantity > MaxQuantity:
		return fmt.Errorf("quantity %d is outside 1..%d", l.Quantity, MaxQuantity)
	case l.UnitAmount < 0 || l.UnitAmount > MaxAmount:
		return fmt.Errorf("unit amount %d is outside 0..%d", l.UnitAmount, MaxAmount)
	case l.BaseAmount() > MaxAmount:
		return fmt.Errorf("base amount %d exceeds %d", l.BaseAmount(), MaxAmount)
	case l.Discount < 0 || l.Discount > l.BaseAmount():
		return fmt.Errorf("discount %d is outside 0..base amount %d", l.Discount, l.BaseAmount())
	case l.Tax < 0 || l.Tax > MaxAmount:
		return fmt.Errorf("tax %d is outside 0..%d", l.Tax, MaxAmount)
	}
	for i, u := range l.Images {
		if !validURL(u) {
			return fmt.Errorf("images[%d] %q is not an absolute http(s) URL", i, u)
		}
	}
	return nil
}

// FulfillmentType is the kind of a fulfillment option.
type FulfillmentType string

// Fulfillment types this app offers (both versions know them).
const (
	FulfillmentShipping FulfillmentType = "shipping"
	FulfillmentDigital  FulfillmentType = "digital"
)

// FulfillmentOption is a way to deliver the order. Total is computed.
type FulfillmentOption struct {
	Type  FulfillmentType
	ID    string
	Title string
	// Subtitle is sent as "subtitle" (2025-09-29) or "description" (2026-04-17).
	Subtitle string

	// Shipping only.
	Carrier          string
	EarliestDelivery time.Time
	LatestDelivery   time.Time

	Subtotal int64
	Tax      int64
}

// Total is Subtotal + Tax.
func (f FulfillmentOption) Total() int64 { return f.Subtotal + f.Tax }

// Validate checks the option on its own.
func (f FulfillmentOption) Validate() error {
	switch {
	case f.Type != FulfillmentShipping && f.Type != FulfillmentDigital:
		return fmt.Errorf("type %q is not shipping or digital", f.Type)
	case f.ID == "":
		return errors.New("id is empty")
	case f.Title == "":
		return errors.New("title is empty")
	case f.Subtotal < 0 || f.Subtotal > MaxAmount || f.Tax < 0 || f.Tax > MaxAmount:
		return fmt.Errorf("amounts (subtotal %d, tax %d) are outside 0..%d", f.Subtotal, f.Tax, MaxAmount)
	case f.Type == FulfillmentDigital && (f.Carrier != "" || !f.EarliestDelivery.IsZero() || !f.LatestDelivery.IsZero()):
		return errors.New("a digital option has no carrier or delivery times")
	case !f.EarliestDelivery.IsZero() && !f.LatestDelivery.IsZero() && f.LatestDelivery.Before(f.EarliestDelivery):
		return errors.New("latest delivery is before earliest delivery")
	}
	return nil
}

// SelectedFulfillment is a chosen fulfillment option. ItemIDs are item ids
// (LineItem.ItemID) it covers; empty means every item.
type SelectedFulfillment struct {
	OptionID string
	ItemIDs  []string
}

// TotalType is the kind of a total.
type TotalType string

// Total types of the session totals, in both versions.
const (
	TotalItemsBaseAmount TotalType = "items_base_amount"
	TotalItemsDiscount   TotalType = "items_discount"
	TotalSubtotal        TotalType = "subtotal"
	TotalDiscount        TotalType = "discount"
	TotalFulfillment     TotalType = "fulfillment"
	TotalTax             TotalType = "tax"
	TotalFee             TotalType = "fee"
	TotalTotal           TotalType = "total"
)

// DefaultTotalLabels are the display texts of the totals.
var DefaultTotalLabels = map[TotalType]string{
	TotalItemsBaseAmount: "Item(s) total",
	TotalItemsDiscount:   "Item discounts",
	TotalSubtotal:        "Subtotal",
	TotalDiscount:        "Discount",
	TotalFulfillment:     "Fulfillment",
	TotalTax:             "Tax",
	TotalFee:             "Fee",
	TotalTotal:           "Total",
}

// Total is one entry of a totals list.
type Total struct {
	Type        TotalType
	DisplayText string
	Amount      int64
	// Description is sent by 2026-04-17 only (e.g. what a fee is for).
	Description string
}

// Fee is an extra charge on the session.
type Fee struct {
	DisplayText string // defaults to "Fee"
	Description string
	Amount      int64
}

// ComputeTotals returns the totals list of a session made of lines, the
// selected fulfillment options, an order-level discount and fees, in the
// order items_base_amount, items_discount, subtotal, discount, fulfillment,
// tax, fee…, total. items_discount, discount and fees appear only when not
// zero; fulfillment only when an option is selected. The identities are
//
//	subtotal = items_base_amount − items_discount
//	tax      = Σ line tax + Σ selected option tax
//	fulfillment = Σ selected option subtotal
//	total    = subtotal − discount + fulfillment + tax + Σ fee
//
// (option tax is counted in "tax", not in "fulfillment", so that it is
// counted once). labels may be nil.
func ComputeTotals(lines []LineItem, selected []FulfillmentOption, discount int64, fees []Fee, labels map[TotalType]string) ([]Total, error) {
	var base, itemsDiscount, tax, fulfillment, feeSum int64
	for i, l := range lines {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("line_items[%d]: %w", i, err)
		}
		base += l.BaseAmount()
		itemsDiscount += l.Discount
		tax += l.Tax
	}
	for i, f := range selected {
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("selected fulfillment option %d: %w", i, err)
		}
		fulfillment += f.Subtotal
		tax += f.Tax
	}
	subtotal := base - itemsDiscount
	if discount < 0 || discount > subtotal {
		return nil, fmt.Errorf("order discount %d is outside 0..subtotal %d", discount, subtotal)
	}
	for i, f := range fees {
		if f.Amount < 0 || f.Amount > MaxAmount {
			return nil, fmt.Errorf("fees[%d]: amount %d is outside 0..%d", i, f.Amount, MaxAmount)
		}
		feeSum += f.Amount
	}
	total := subtotal - discount + fulfillment + tax + feeSum
	if base > MaxAmount || total > MaxAmount {
		return nil, fmt.Errorf("the session total %d exceeds %d", total, MaxAmount)
	}

	label := func(t TotalType) string {
		if s := labels[t]; s != "" {
			return s
		}
		return DefaultTotalLabels[t]
	}
	out := []Total{{Type: TotalItemsBaseAmount, DisplayText: label(TotalItemsBaseAmount), Amount: base}}
	if itemsDiscount != 0 {
		out = append(out, Total{Type: TotalItemsDiscount, DisplayText: label(TotalItemsDiscount), Amount: itemsDiscount})
	}
	out = append(out, Total{Type: TotalSubtotal, DisplayText: label(TotalSubtotal), Amount: subtotal})
	if discount != 0 {
		out = append(out, Total{Type: TotalDiscount, DisplayText: label(TotalDiscount), Amount: discount})
	}
	if len(selected) > 0 {
		out = append(out, Total{Type: TotalFulfillment, DisplayText: label(TotalFulfillment), Amount: fulfillment})
	}
	out = append(out, Total{Type: TotalTax, DisplayText: label(TotalTax), Amount: tax})
	for _, f := range fees {
		t := Total{Type: TotalFee, DisplayText: f.DisplayText, Amount: f.Amount, Description: f.Description}
		if t.DisplayText == "" {
			t.DisplayText = label(TotalFee)
		}
		out = append(out, t)
	}
	out = append(out, Total{Type: TotalTotal, DisplayText: label(TotalTotal), Amount: total})
	if err := CheckTotals(out); err != nil {
		return nil, err // unreachable: a guard on the code above
	}
	return out, nil
}

// CheckTotals checks any totals list (ours, or an order's): known types,
// non-negative amounts, a display text each, exactly one "total" and at most
// one subtotal and items_base_amount, and
//
//	subtotal = items_base_amount − Σ items_discount   (when both are present)
//	total    = subtotal − Σ discount + Σ fulfillment + Σ tax + Σ fee
//
// (subtotal defaulting to items_base_amount − Σ items_discount when absent).
func CheckTotals(totals []Total) error {
	count := map[TotalType]int{}
	sum := map[TotalType]int64{}
	for i, t := range totals {
		if _, ok := DefaultTotalLabels[t.Type]; !ok {
			return fmt.Errorf("totals[%d]: unknown type %q", i, t.Type)
		}
		if t.DisplayText == "" {
			return fmt.Errorf("totals[%d]: display text is empty", i)
		}
		if t.Amount < 0 || t.Amount > MaxAmount {
			return fmt.Errorf("totals[%d]: amount %d is outside 0..%d", i, t.Amount, MaxAmount)
		}
		count[t.Type]++
		sum[t.Type] += t.Amount
	}
	if count[TotalTotal] != 1 {
		return fmt.Errorf("totals: want exactly one %q entry, have %d", TotalTotal, count[TotalTotal])
	}
	if count[TotalSubtotal] > 1 || count[TotalItemsBaseAmount] > 1 {
		return errors.New("totals: subtotal and items_base_amount may appear once each")
	}
	subtotal := sum[TotalItemsBaseAmount] - sum[TotalItemsDiscount]
	if count[TotalSubtotal] == 1 {
		if count[TotalItemsBaseAmount] == 1 && sum[TotalSubtotal] != subtotal {
			return fmt.Errorf("totals: subtotal %d ≠ items_base_amount %d − items_discount %d",
				sum[TotalSubtotal], sum[TotalItemsBaseAmount], sum[TotalItemsDiscount])
		}
		subtotal = sum[TotalSubtotal]
	}
	want := subtotal - sum[TotalDiscount] + sum[TotalFulfillment] + sum[TotalTax] + sum[TotalFee]
	if sum[TotalTotal] != want {
		return fmt.Errorf("totals: total %d ≠ subtotal %d − discount %d + fulfillment %d + tax %d + fee %d = %d",
			sum[TotalTotal], subtotal, sum[TotalDiscount], sum[TotalFulfillment], sum[TotalTax], sum[TotalFee], want)
	}
	return nil
}

// MessageType is the kind of a message.
type MessageType string

// Message types. 2025-09-29 has no warning; warnings go to it as info.
const (
	MessageInfo    MessageType = "info"
	MessageWarning MessageType = "warning"
	MessageError   MessageType = "error"
)

// ContentType is the format of a message's content.
type ContentType string

// Content types. Markdown is CommonMark 0.31.2 without raw HTML.
const (
	ContentPlain    ContentType = "plain"
	ContentMarkdown ContentType = "markdown"
)

// MessageCode is the code of an error or warning message.
type MessageCode string

// Error message codes. 2025-09-29 knows only the first six; the others go to
// it as "invalid".
const (
	MessageCodeMissing                 MessageCode = "missing"
	MessageCodeInvalid                 MessageCode = "invalid"
	MessageCodeOutOfStock              MessageCode = "out_of_stock"
	MessageCodePaymentDeclined         MessageCode = "payment_declined"
	MessageCodeRequiresSignIn          MessageCode = "requires_sign_in"
	MessageCodeRequires3DS             MessageCode = "requires_3ds"
	MessageCodeLowStock                MessageCode = "low_stock"
	MessageCodeQuantityExceeded        MessageCode = "quantity_exceeded"
	MessageCodeCouponInvalid           MessageCode = "coupon_invalid"
	MessageCodeCouponExpired           MessageCode = "coupon_expired"
	MessageCodeMinimumNotMet           MessageCode = "minimum_not_met"
	MessageCodeMaximumExceeded         MessageCode = "maximum_exceeded"
	MessageCodeRegionRestricted        MessageCode = "region_restricted"
	MessageCodeAgeVerificationRequired MessageCode = "age_verification_required"
	MessageCodeApprovalRequired        MessageCode = "approval_required"
	MessageCodeUnsupported             MessageCode = "unsupported"
	MessageCodeNotFound                MessageCode = "not_found"
	MessageCodeConflict                MessageCode = "conflict"
	MessageCodeRateLimited             MessageCode = "rate_limited"
	MessageCodeExpired                 MessageCode = "expired"
	MessageCodeInterventionRequired    MessageCode = "intervention_required"
)

// Warning message codes (2026-04-17).
const (
	WarningLowStock            MessageCode = "low_stock"
	WarningHighDemand          MessageCode = "high_demand"
	WarningShippingDelay       MessageCode = "shipping_delay"
	WarningPriceChange         MessageCode = "price_change"
	WarningExpiringPromotion   MessageCode = "expiring_promotion"
	WarningLimitedAvailability MessageCode = "limited_availability"
)

var errorCodes20250929 = []MessageCode{MessageCodeMissing, MessageCodeInvalid, MessageCodeOutOfStock,
	MessageCodePaymentDeclined, MessageCodeRequiresSignIn, MessageCodeRequires3DS}

var errorCodes = append(append([]MessageCode{}, errorCodes20250929...),
	MessageCodeLowStock, MessageCodeQuantityExceeded, MessageCodeCouponInvalid, MessageCodeCouponExpired,
	MessageCodeMinimumNotMet, MessageCodeMaximumExceeded, MessageCodeRegionRestricted,
	MessageCodeAgeVerificationRequired, MessageCodeApprovalRequired, MessageCodeUnsupported,
	MessageCodeNotFound, MessageCodeConflict, MessageCodeRateLimited, MessageCodeExpired,
	MessageCodeInterventionRequired)

var warningCodes = []MessageCode{WarningLowStock, WarningHighDemand, WarningShippingDelay, WarningPriceChange,
	WarningExpiringPromotion, WarningLimitedAvailability,
	"discount_code_expired", "discount_code_invalid", "discount_code_already_applied",
	"discount_code_combination_disallowed", "discount_code_minimum_not_met",
	"discount_code_user_not_logged_in", "discount_code_user_ineligible", "discount_code_usage_limit_reached"}

// Message is a note to the agent or buyer. Business problems (out of stock,
// payment declined, bad email) are messages on a 2xx session, not Errors.
type Message struct {
	Type MessageType
	// Code is required for errors and warnings, empty for info.
	Code MessageCode
	// Param is the JSONPath of the field concerned, e.g. "$.line_items[0]".
	Param       string
	ContentType ContentType
	Content     string
	// Severity (info|low|medium|high|critical) and Resolution
	// (recoverable|requires_buyer_input|requires_buyer_review) are sent by
	// 2026-04-17 only.
	Severity   string
	Resolution string
}

// InfoMessage returns a plain-text info message.
func InfoMessage(content string) Message {
	return Message{Type: MessageInfo, ContentType: ContentPlain, Content: content}
}

// ErrorMessage returns a plain-text error message about param.
func ErrorMessage(code MessageCode, param, content string) Message {
	return Message{Type: MessageError, Code: code, Param: param, ContentType: ContentPlain, Content: content}
}

// Validate checks the message on its own.
func (m Message) Validate() error {
	switch m.Type {
	case MessageInfo:
		if m.Code != "" {
			return errors.New("an info message has no code")
		}
	case MessageWarning:
		if !containsCode(warningCodes, m.Code) {
			return fmt.Errorf("unknown warning code %q", m.Code)
		}
	case MessageError:
		if !containsCode(errorCodes, m.Code) {
			return fmt.Errorf("unknown error code %q", m.Code)
		}
	default:
		return fmt.Errorf("unknown message type %q", m.Type)
	}
	switch m.ContentType {
	case ContentPlain:
	case ContentMarkdown:
		if hasRawHTML(m.Content) {
			return errors.New("markdown content contains raw HTML")
		}
	default:
		return fmt.Errorf("unknown content type %q", m.ContentType)
	}
	if m.Content == "" {
		return errors.New("content is empty")
	}
	if m.Param != "" && !validJSONPath(m.Param) {
		return fmt.Errorf("param %q is not a JSONPath", m.Param)
	}
	switch m.Severity {
	case "", "info", "low", "medium", "high", "critical":
	default:
		return fmt.Errorf("unknown severity %q", m.Severity)
	}
	switch m.Resolution {
	case "", "recoverable", "requires_buyer_input", "requires_buyer_review":
	default:
		return fmt.Errorf("unknown resolution %q", m.Resolution)
	}
	return nil
}

func containsCode(list []MessageCode, c MessageCode) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// LinkType is the kind of a policy link.
type LinkType string

// Link types (2026-04-17). 2025-09-29 knows terms_of_use and privacy_policy
// and one catch-all, seller_shop_policies, which return_policy and
// shipping_policy are sent as; the other types are left out there.
const (
	LinkTypeTermsOfUse     LinkType = "terms_of_use"
	LinkTypePrivacyPolicy  LinkType = "privacy_policy"
	LinkTypeReturnPolicy   LinkType = "return_policy"
	LinkTypeShippingPolicy LinkType = "shipping_policy"
	LinkTypeContactUs      LinkType = "contact_us"
	LinkTypeAboutUs        LinkType = "about_us"
	LinkTypeFAQ            LinkType = "faq"
	LinkTypeSupport        LinkType = "support"
)

// Link is a link to a merchant policy page.
type Link struct {
	Type  LinkType
	URL   string
	Title string // 2026-04-17 only
}

// PaymentHandler is a way to pay (2026-04-17 $defs/PaymentHandler).
type PaymentHandler struct {
	ID                      string
	Name                    string // reverse-DNS spec name, e.g. dev.acp.tokenized.card
	DisplayName             string
	Version                 string // YYYY-MM-DD
	Spec                    string // URL
	RequiresDelegatePayment bool
	RequiresPCICompliance   bool
	PSP                     string   // e.g. "stripe"
	ConfigSchema            string   // URL
	InstrumentSchemas       []string // URLs
	Config                  map[string]any
	DisplayOrder            *int
}

// The tokenized-card handler over Stripe shared payment tokens, as the
// official examples declare it.
const (
	StripeSPTHandlerID = "card_tokenized"
	// CredentialTypeSPT is the credential type of a Stripe shared payment token.
	CredentialTypeSPT = "spt"
	// ProviderStripe is the payment provider of 2025-09-29.
	ProviderStripe = "stripe"
)

// StripeSPTHandler returns the handler for cards paid with Stripe shared
// payment tokens (credential type "spt") into the Stripe account
// stripeAccountID ("acct_…"), which agents need to delegate the payment.
func StripeSPTHandler(stripeAccountID string) PaymentHandler {
	return PaymentHandler{
		ID:                      StripeSPTHandlerID,
		Name:                    "dev.acp.tokenized.card",
		DisplayName:             "Card",
		Version:                 "2026-01-22",
		Spec:                    "https://acp.dev/handlers/tokenized.card",
		RequiresDelegatePayment: true,
		RequiresPCICompliance:   false,
		PSP:                     ProviderStripe,
		ConfigSchema:            "https://acp.dev/schemas/handlers/tokenized.card/config.json",
		InstrumentSchemas:       []string{"https://acp.dev/schemas/handlers/tokenized.card/instrument.json"},
		Config: map[string]any{
			"merchant_id": stripeAccountID,
			"psp":         ProviderStripe,
		},
	}
}

func (h PaymentHandler) validate() error {
	switch {
	case h.ID == "" || h.Name == "" || h.PSP == "":
		return errors.New("id, name and psp are required")
	case !isDate(h.Version):
		return fmt.Errorf("version %q is not YYYY-MM-DD", h.Version)
	case !validURL(h.Spec) || !validURL(h.ConfigSchema):
		return errors.New("spec and config_schema must be absolute URLs")
	}
	for _, u := range h.InstrumentSchemas {
		if !validURL(u) {
			return fmt.Errorf("instrument schema %q is not an absolute URL", u)
		}
	}
	return nil
}

func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil && len(s) == 10
}

// Interventions is the negotiated intervention capability: the intersection
// of what the agent supports and the merchant offers, what the merchant
// requires (3ds, biometric) and when (always|conditional|optional).
type Interventions struct {
	Supported   []string
	Required    []string
	Enforcement string
}

// AuthenticationMetadata is what an agent needs to run 3-D Secure.
type AuthenticationMetadata struct {
	AcquirerBIN        string // ≤ 11
	AcquirerCountry    string // ISO 3166-1 alpha-2
	AcquirerMerchantID string // ≤ 35
	MerchantName       string // ≤ 40
	RequestorID        string // ≤ 35, optional
	// DirectoryServer is american_express, mastercard or visa.
	DirectoryServer string
	FlowPreference  *FlowPreference
}

// FlowPreference is the preferred 3DS flow: Type "challenge" (with
// Challenge "mandated"|"preferred") or "frictionless" (Frictionless "low_risk").
type FlowPreference struct {
	Type         string
	Challenge    string
	Frictionless string
}

func (a AuthenticationMetadata) validate() error {
	switch {
	case a.AcquirerBIN == "" || len(a.AcquirerBIN) > 11:
		return errors.New("acquirer BIN must be 1 to 11 characters")
	case !validCountry(a.AcquirerCountry):
		return fmt.Errorf("acquirer country %q is not an ISO 3166-1 alpha-2 code", a.AcquirerCountry)
	case a.AcquirerMerchantID == "" || len(a.AcquirerMerchantID) > 35:
		return errors.New("acquirer merchant id must be 1 to 35 characters")
	case a.MerchantName == "" || len([]rune(a.MerchantName)) > 40:
		return errors.New("merchant name must be 1 to 40 characters")
	case len(a.RequestorID) > 35:
		return errors.New("requestor id must be at most 35 characters")
	}
	switch a.DirectoryServer {
	case "american_express", "mastercard", "visa":
	default:
		return fmt.Errorf("unknown directory server %q", a.DirectoryServer)
	}
	if f := a.FlowPreference; f != nil {
		switch {
		case f.Type != "challenge" && f.Type != "frictionless":
			return fmt.Errorf("unknown flow preference %q", f.Type)
		case f.Challenge != "" && f.Challenge != "mandated" && f.Challenge != "preferred":
			return fmt.Errorf("unknown challenge preference %q", f.Challenge)
		case f.Frictionless != "" && f.Frictionless != "low_risk":
			return fmt.Errorf("unknown frictionless preference %q", f.Frictionless)
		}
	}
	return nil
}

// Order is the order a completed session created. 2025-09-29 carries only
// ID, CheckoutSessionID and PermalinkURL.
type Order struct {
	ID                string
	CheckoutSessionID string
	PermalinkURL      string

	// 2026-04-17 fields.
	OrderNumber       string
	ClientReferenceID string
	// Status is open; see the OrderStatus constants.
	Status            string
	EstimatedDelivery *DeliveryWindow
	Confirmation      *OrderConfirmation
	Support           *SupportInfo
	LineItems         []OrderLineItem
	// Fulfillments say how the items travel (shipments, digital delivery);
	// Adjustments what changed after the order (refunds, cancellation).
	Fulfillments []OrderFulfillment
	Adjustments  []OrderAdjustment
	// Totals, when set, must pass CheckTotals.
	Totals []Total
}

// OrderFulfillment is one shipment or delivery of an order's items.
type OrderFulfillment struct {
	ID string
	// Type is shipping, pickup or digital (see the FulfillmentType
	// constants).
	Type FulfillmentType
	// Status is open; see the FulfillmentStatus constants.
	Status                               string
	Carrier, TrackingNumber, TrackingURL string
	LineItems                            []LineItemRef
	// Events is the fulfillment's history, oldest first.
	Events []FulfillmentEvent
}

// Known fulfillment statuses (the field is open).
const (
	FulfillmentStatusPending        = "pending"
	FulfillmentStatusProcessing     = "processing"
	FulfillmentStatusShipped        = "shipped"
	FulfillmentStatusInTransit      = "in_transit"
	FulfillmentStatusOutForDelivery = "out_for_delivery"
	FulfillmentStatusDelivered      = "delivered"
	FulfillmentStatusFailed         = "failed"
	FulfillmentStatusCanceled       = "canceled"
)

// LineItemRef is a quantity (≥ 1) of an order line, by the line's id.
type LineItemRef struct {
	ID       string
	Quantity int
}

// FulfillmentEvent is a point in a fulfillment's history.
type FulfillmentEvent struct {
	ID          string
	Type        string // shipped, in_transit, delivered, … (open)
	OccurredAt  time.Time
	Description string
}

// OrderAdjustment is a change after the order: a refund, a cancellation…
type OrderAdjustment struct {
	ID string
	// Type is open; see the AdjustmentType constants.
	Type       string
	OccurredAt time.Time
	// Status: pending, completed or failed (open).
	Status string
	// Amount is what the buyer gets back, tax included, in minor units of
	// Currency (lower-case ISO 4217).
	Amount      int64
	Currency    string
	Reason      string
	Description string
	LineItems   []LineItemRef
}

// Known adjustment types and statuses (both fields are open).
const (
	AdjustmentRefund       = "refund"
	AdjustmentCredit       = "credit"
	AdjustmentCancellation = "cancellation"

	AdjustmentPending   = "pending"
	AdjustmentCompleted = "completed"
	AdjustmentFailed    = "failed"
)

// Known order statuses (the field is open: accept others).
const (
	OrderStatusCreated      = "created"
	OrderStatusConfirmed    = "confirmed"
	OrderStatusManualReview = "manual_review"
	OrderStatusProcessing   = "processing"
	OrderStatusShipped      = "shipped"
	OrderStatusCompleted    = "completed"
	OrderStatusCanceled     = "canceled"
)

// DeliveryWindow is an estimated delivery range.
type DeliveryWindow struct {
	Earliest, Latest time.Time
}

// OrderConfirmation is what the buyer was told.
type OrderConfirmation struct {
	ConfirmationNumber    string
	ConfirmationEmailSent *bool
	ReceiptURL            string
	InvoiceNumber         string
	OrderNotes            string
}

// SupportInfo is how to reach the merchant about the order.
type SupportInfo struct {
	Email         string
	Phone         string
	Hours         string
	HelpCenterURL string
}

// OrderLineItem is a line of an order, with its quantities over time.
type OrderLineItem struct {
	ID          string
	Title       string
	ProductID   string
	Description string
	ImageURL    string
	URL         string
	// Ordered (≥ 1), Current (after removals) and Fulfilled quantities.
	Ordered, Current, Fulfilled int
	UnitPrice                   int64
	Subtotal                    int64
	// Status: processing|partial|fulfilled|removed (open).
	Status string
}

func (o Order) validate(sessionID string) error {
	switch {
	case o.ID == "":
		return errors.New("id is empty")
	case o.CheckoutSessionID != sessionID:
		return fmt.Errorf("checkout session id %q is not the session's %q", o.CheckoutSessionID, sessionID)
	case !validURL(o.PermalinkURL):
		return fmt.Errorf("permalink URL %q is not an absolute http(s) URL", o.PermalinkURL)
	}
	if d := o.EstimatedDelivery; d != nil && (d.Earliest.IsZero() || d.Latest.IsZero() || d.Latest.Before(d.Earliest)) {
		return errors.New("estimated delivery needs earliest ≤ latest")
	}
	if c := o.Confirmation; c != nil && c.ReceiptURL != "" && !validURL(c.ReceiptURL) {
		return fmt.Errorf("receipt URL %q is not an absolute http(s) URL", c.ReceiptURL)
	}
	if s := o.Support; s != nil {
		if s.Email != "" && !ValidEmail(s.Email) {
			return fmt.Errorf("support email %q is not valid", s.Email)
		}
		if s.HelpCenterURL != "" && !validURL(s.HelpCenterURL) {
			return fmt.Errorf("help center URL %q is not an absolute http(s) URL", s.HelpCenterURL)
		}
	}
	for i, l := range o.LineItems {
		switch {
		case l.ID == "" || l.Title == "":
			return fmt.Errorf("line_items[%d]: id and title are required", i)
		case l.Ordered < 1 || l.Current < 0 || l.Fulfilled < 0 || l.Current > l.Ordered || l.Fulfilled > l.Current:
			return fmt.Errorf("line_items[%d]: quantities need 0 ≤ fulfilled ≤ current ≤ ordered, ordered ≥ 1", i)
		case l.UnitPrice < 0 || l.Subtotal < 0:
			return fmt.Errorf("line_items[%d]: negative amount", i)
		case l.ImageURL != "" && !validURL(l.ImageURL), l.URL != "" && !validURL(l.URL):
			return fmt.Errorf("line_items[%d]: URLs must be absolute http(s) URLs", i)
		}
	}
	for i, f := range o.Fulfillments {
		switch {
		case f.ID == "":
			return fmt.Errorf("fulfillments[%d]: id is required", i)
		case f.Type != FulfillmentShipping && f.Type != "pickup" && f.Type != FulfillmentDigital:
			return fmt.Errorf("fulfillments[%d]: type %q is not shipping, pickup or digital", i, f.Type)
		case f.TrackingURL != "" && !validURL(f.TrackingURL):
			return fmt.Errorf("fulfillments[%d]: tracking URL %q is not an absolute http(s) URL", i, f.TrackingURL)
		}
		if err := checkLineRefs(f.LineItems); err != nil {
			return fmt.Errorf("fulfillments[%d]: %w", i, err)
		}
		for j, e := range f.Events {
			if e.ID == "" || e.Type == "" || e.OccurredAt.IsZero() {
				return fmt.Errorf("fulfillments[%d].events[%d]: id, type and occurred_at are required", i, j)
			}
		}
	}
	for i, a := range o.Adjustments {
		switch {
		case a.ID == "" || a.Type == "" || a.Status == "" || a.OccurredAt.IsZero():
			return fmt.Errorf("adjustments[%d]: id, type, status and occurred_at are required", i)
		case a.Amount < 0:
			return fmt.Errorf("adjustments[%d]: negative amount", i)
		case a.Currency != "" && !lowerCurrency(a.Currency):
			return fmt.Errorf("adjustments[%d]: currency %q is not a lower-case ISO 4217 code", i, a.Currency)
		}
		if err := checkLineRefs(a.LineItems); err != nil {
			return fmt.Errorf("adjustments[%d]: %w", i, err)
		}
	}
	if len(o.Totals) > 0 {
		// amount_refunded is the order's own entry: outside the sum.
		var totals []Total
		refunded, n := int64(0), 0
		for _, t := range o.Totals {
			if t.Type == TotalAmountRefunded {
				refunded, n = t.Amount, n+1
				if t.DisplayText == "" {
					return errors.New("totals: amount_refunded has no display text")
				}
				continue
			}
			totals = append(totals, t)
		}
		if err := CheckTotals(totals); err != nil {
			return err
		}
		for _, t := range totals {
			if t.Type == TotalTotal && (n > 1 || refunded < 0 || refunded > t.Amount) {
				return fmt.Errorf("totals: amount_refunded must appear at most once, within 0..total %d", t.Amount)
			}
		}
	}
	return nil
}

// TotalAmountRefunded is an order's cumulative refunds: an order totals
// entry outside the checkout sum ("total" stays the original charge).
const TotalAmountRefunded TotalType = "amount_refunded"

func checkLineRefs(refs []LineItemRef) error {
	for j, r := range refs {
		if r.ID == "" || r.Quantity < 1 {
			return fmt.Errorf("line_items[%d]: an id and a quantity ≥ 1 are required", j)
		}
	}
	return nil
}

func lowerCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'a' || c[i] > 'z' {
			return false
		}
	}
	return true
}

// Totals computes the session's totals list (see ComputeTotals).
func (s *Session) Totals() ([]Total, error) {
	sel, err := s.selectedOptions()
	if err != nil {
		return nil, err
	}
	return ComputeTotals(s.LineItems, sel, s.Discount, s.Fees, s.TotalLabels)
}

// selectedOptions resolves the selected option ids.
func (s *Session) selectedOptions() ([]FulfillmentOption, error) {
	var out []FulfillmentOption
	for i, sel := range s.SelectedFulfillment {
		found := false
		for _, o := range s.FulfillmentOptions {
			if o.ID == sel.OptionID {
				out = append(out, o)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("selected fulfillment %d: option %q is not among the fulfillment options", i, sel.OptionID)
		}
	}
	return out, nil
}

// Validate checks the session against the rules of the schemas and the RFC
// that hold in every version. EncodeSession calls it, then adds the checks
// of the version.
func (s *Session) Validate() error {
	if s == nil {
		return errors.New("acp: session is nil")
	}
	if err := s.validate(); err != nil {
		return fmt.Errorf("acp: session %q: %w", s.ID, err)
	}
	return nil
}

func (s *Session) validate() error {
	if err := s.validateHeader(); err != nil {
		return err
	}
	itemIDs, err := s.validateLines()
	if err != nil {
		return err
	}
	if err := s.FulfillmentDetails.validate(); err != nil {
		return err
	}
	optionIDs := map[string]bool{}
	for i, o := range s.FulfillmentOptions {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("fulfillment_options[%d]: %w", i, err)
		}
		if optionIDs[o.ID] {
			return fmt.Errorf("fulfillment_options[%d]: duplicate option id %q", i, o.ID)
		}
		optionIDs[o.ID] = true
	}
	selected, err := s.selectedOptions()
	if err != nil {
		return err
	}
	if err := s.validateSelection(itemIDs); err != nil {
		return err
	}
	if _, err := s.Totals(); err != nil {
		return err
	}
	if err := s.validateExtras(); err != nil {
		return err
	}
	return s.validateState(selected)
}

// validateHeader checks the session's id, status, currency and buyer.
func (s *Session) validateHeader() error {
	if s.ID == "" {
		return errors.New("id is empty")
	}
	if !s.Status.Valid() {
		return fmt.Errorf("unknown status %q", s.Status)
	}
	if _, ok := NormalizeCurrency(s.Currency); !ok {
		return fmt.Errorf("currency %q is not an ISO 4217 code", s.Currency)
	}
	if b := s.Buyer; b != nil {
		if b.Email != "" && !ValidEmail(b.Email) {
			return fmt.Errorf("buyer email %q is not valid", b.Email)
		}
		if b.PhoneNumber != "" {
			if _, ok := NormalizePhone(b.PhoneNumber); !ok {
				return fmt.Errorf("buyer phone number %q is not valid", b.PhoneNumber)
			}
		}
	}
	return nil
}

// validateLines checks the lengths of the session's lists and each line
// item, whose ids are unique; it returns the set of their item ids.
func (s *Session) validateLines() (map[string]bool, error) {
	if len(s.LineItems) == 0 || len(s.LineItems) > MaxLineItems {
		return nil, fmt.Errorf("a session has 1 to %d line items, not %d", MaxLineItems, len(s.LineItems))
	}
	if len(s.FulfillmentOptions) > MaxListLen || len(s.Fees) > MaxListLen || len(s.Messages) > MaxListLen {
		return nil, fmt.Errorf("at most %d fulfillment options, fees and messages", MaxListLen)
	}
	lineIDs := map[string]bool{}
	itemIDs := map[string]bool{}
	for i, l := range s.LineItems {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("line_items[%d]: %w", i, err)
		}
		if lineIDs[l.ID] {
			return nil, fmt.Errorf("line_items[%d]: duplicate line id %q", i, l.ID)
		}
		lineIDs[l.ID] = true
		itemIDs[l.ItemID] = true
	}
	return itemIDs, nil
}

// validate checks the fulfillment details' email, phone number and
// address; nil details are valid.
func (fd *FulfillmentDetails) validate() error {
	if fd == nil {
		return nil
	}
	if fd.Email != "" && !ValidEmail(fd.Email) {
		return fmt.Errorf("fulfillment email %q is not valid", fd.Email)
	}
	if fd.PhoneNumber != "" {
		if _, ok := NormalizePhone(fd.PhoneNumber); !ok {
			return fmt.Errorf("fulfillment phone number %q is not valid", fd.PhoneNumber)
		}
	}
	if fd.Address != nil {
		if err := fd.Address.validate(); err != nil {
			return fmt.Errorf("fulfillment address: %w", err)
		}
	}
	return nil
}

// validateSelection checks that the selected fulfillments cover line items
// (itemIDs), each at most once, and that several selections each name
// their items.
func (s *Session) validateSelection(itemIDs map[string]bool) error {
	covered := map[string]bool{}
	for i, sel := range s.SelectedFulfillment {
		for _, id := range sel.ItemIDs {
			if !itemIDs[id] {
				return fmt.Errorf("selected fulfillment %d: item %q is not in the line items", i, id)
			}
			if covered[id] {
				return fmt.Errorf("selected fulfillment %d: item %q is covered twice", i, id)
			}
			covered[id] = true
		}
		if len(sel.ItemIDs) == 0 && len(s.SelectedFulfillment) > 1 {
			return fmt.Errorf("selected fulfillment %d: with several selections each must name its item ids", i)
		}
	}
	return nil
}

// validateExtras checks the messages, links, payment handlers, continue
// URL and authentication metadata.
func (s *Session) validateExtras() error {
	for i, m := range s.Messages {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
	}
	for i, l := range s.Links {
		if _, ok := linkTypes[l.Type]; !ok {
			return fmt.Errorf("links[%d]: unknown type %q", i, l.Type)
		}
		if !validURL(l.URL) {
			return fmt.Errorf("links[%d]: %q is not an absolute http(s) URL", i, l.URL)
		}
	}
	for i, h := range s.PaymentHandlers {
		if err := h.validate(); err != nil {
			return fmt.Errorf("payment handler %d: %w", i, err)
		}
	}
	if s.ContinueURL != "" && !validURL(s.ContinueURL) {
		return fmt.Errorf("continue URL %q is not an absolute http(s) URL", s.ContinueURL)
	}
	if s.AuthenticationMetadata != nil {
		if err := s.AuthenticationMetadata.validate(); err != nil {
			return fmt.Errorf("authentication metadata: %w", err)
		}
	}
	return nil
}

// validateState checks what the session's status needs (selected are its
// selected fulfillment options), and that only a completed session
// carries an order, a valid one.
func (s *Session) validateState(selected []FulfillmentOption) error {
	switch s.Status {
	case StatusCompleted:
		if s.Order == nil {
			return errors.New("a completed session carries its order")
		}
	case StatusAuthenticationRequired:
		if s.AuthenticationMetadata == nil {
			return errors.New("authentication_required needs authentication metadata (RFC §8)")
		}
	case StatusReadyForPayment:
		if len(s.PaymentHandlers) == 0 {
			return errors.New("ready_for_payment needs a payment handler")
		}
		if len(s.FulfillmentOptions) > 0 && len(selected) == 0 {
			return errors.New("ready_for_payment needs a selected fulfillment option")
		}
		for _, o := range selected {
			if o.Type == FulfillmentShipping && (s.FulfillmentDetails == nil || s.FulfillmentDetails.Address == nil) {
				return errors.New("ready_for_payment with shipping needs a fulfillment address")
			}
		}
	}
	if s.Order != nil {
		if s.Status != StatusCompleted {
			return fmt.Errorf("only a completed session carries an order, not one %s", s.Status)
		}
		if err := s.Order.validate(s.ID); err != nil {
			return fmt.Errorf("order: %w", err)
		}
	}
	return nil
}

var linkTypes = map[LinkType]struct{}{
	LinkTypeTermsOfUse: {}, LinkTypePrivacyPolicy: {}, LinkTypeReturnPolicy: {}, LinkTypeShippingPolicy: {},
	LinkTypeContactUs: {}, LinkTypeAboutUs: {}, LinkTypeFAQ: {}, LinkTypeSupport: {},
}

func validCountry(s string) bool {
	_, ok := NormalizeCountry(s)
	return ok
}

func (a *Address) validate() error {
	switch {
	case a.Name == "" || a.LineOne == "" || a.City == "":
		return errors.New("name, line one and city are required")
	}
	if _, ok := NormalizeCountry(a.Country); !ok {
		return fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", a.Country)
	}
	return nil
}
