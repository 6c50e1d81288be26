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

	// Extensions are the session's active extensions (2026-04-17
	// capabilities.extensions), e.g. DiscountExtension.
	Extensions []Extension
	// Discounts is the discount extension's object (2026-04-17 only; nil
	// leaves it out). 2025-09-29 sees discounts only in the totals.
	Discounts *Discounts

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
