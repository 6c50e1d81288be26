package emulator

import (
	"slices"
	"strings"
	"time"
)

// This file holds the shop's orders: what orderCreate writes, what the
// orders queries read, and the merchant's actions afterwards (fulfil,
// refund, cancel), each of which sends the webhooks Shopify would. Amounts
// are minor units of the shop's currency (USD), like Variant.PriceCents.
//
// Merchant actions send only the topics the app subscribes to in
// shopify.app.toml (the emulator has no subscription list): fulfilling sends
// fulfillments/create and orders/updated, not orders/fulfilled; orderCreate
// sends inventory_levels/update for the stock it claims, not orders/create
// or orders/paid. A buyer paying a draft order at the checkout page
// (checkout_page.go) does send draft_orders/update, orders/create and
// orders/paid: that is how the handoff's order reaches the app.

// Order is an order of an emulated shop, as orderCreate wrote it and the
// merchant changed it since. Orders returns copies.
type Order struct {
	ID int64
	// Number is the order number (1001, 1002, …), Name "#1001".
	Number int
	Name   string
	// StatusPageURL is the buyer's order status page.
	StatusPageURL string
	Email, Phone  string
	// Customer is the customer the order belongs to, nil for none.
	Customer *Customer
	// BuyerAcceptsMarketing is orderCreate's buyerAcceptsMarketing.
	BuyerAcceptsMarketing bool
	// ShippingAddress and BillingAddress are nil when not given.
	ShippingAddress, BillingAddress *Address
	Currency                        string
	Lines                           []OrderLine
	ShippingLines                   []OrderShippingLine
	// TaxLines are the order-level tax lines orderCreate was given; they
	// count only when no line and no shipping line has tax lines.
	TaxLines      []OrderTaxLine
	TaxesIncluded bool
	// DiscountCode is the code applied, "" for none; DiscountKind is
	// FIXED_AMOUNT, PERCENTAGE or FREE_SHIPPING, DiscountCents its amount
	// (for FREE_SHIPPING, the shipping it waived).
	DiscountCode, DiscountKind string
	DiscountCents              int64
	// SubtotalCents is the lines after discounts, ShippingCents the
	// shipping after discounts, TaxCents every tax line, TotalCents what
	// the buyer owes (taxes added unless TaxesIncluded). They do not change
	// after creation; refunds are in Refunds.
	SubtotalCents, ShippingCents, TaxCents, TotalCents int64
	// FinancialStatus is the displayFinancialStatus: PAID, PENDING,
	// AUTHORIZED, PARTIALLY_PAID, PARTIALLY_REFUNDED, REFUNDED, …
	FinancialStatus string
	Transactions    []OrderTransaction
	Fulfillments    []Fulfillment
	Refunds         []Refund
	// SourceName, SourceIdentifier and SourceURL are orderCreate's.
	SourceName, SourceIdentifier, SourceURL string
	Tags                                    []string
	Note                                    string
	CustomAttributes                        []Attribute
	Test                                    bool
	// InventoryBehaviour, SendReceipt and SendFulfillmentReceipt are the
	// options orderCreate ran with.
	InventoryBehaviour                  string
	SendReceipt, SendFulfillmentReceipt bool
	// CancelledAt is zero unless cancelled; CancelReason is then one of
	// CUSTOMER, DECLINED, FRAUD, INVENTORY, OTHER, STAFF.
	CancelledAt  time.Time
	CancelReason string
	// ClosedAt is zero while the order is open.
	ClosedAt                          time.Time
	ProcessedAt, CreatedAt, UpdatedAt time.Time
	// token is the status page's path token.
	token string
}

// OrderLine is a line item.
type OrderLine struct {
	ID int64
	// VariantID and ProductID are 0 for a custom line.
	VariantID, ProductID     int64
	Title, VariantTitle, SKU string
	Quantity                 int
	// UnitCents is the price of one unit as orderCreate was given it.
	UnitCents        int64
	RequiresShipping bool
	Taxable          bool
	TaxLines         []OrderTaxLine
	// FulfilledQuantity is how many units fulfillments shipped;
	// RemovedQuantity how many a cancellation removed.
	FulfilledQuantity, RemovedQuantity int
}

// TaxCents adds up the line's tax lines.
func (l *OrderLine) TaxCents() int64 { return sumTax(l.TaxLines) }

// OrderTaxLine is a tax line. Rate is the decimal fraction as given, e.g.
// "0.0725".
type OrderTaxLine struct {
	Title         string
	Rate          string
	Cents         int64
	ChannelLiable bool
}

// OrderShippingLine is a shipping line.
type OrderShippingLine struct {
	ID                  int64
	Title, Code, Source string
	Cents               int64
	TaxLines            []OrderTaxLine
}

// OrderTransaction is a payment transaction of an order.
type OrderTransaction struct {
	ID int64
	// ParentID is the transaction a refund or capture applies to, 0 for none.
	ParentID int64
	// Kind is SALE, AUTHORIZATION, CAPTURE, REFUND, …; Status SUCCESS,
	// PENDING, FAILURE, ….
	Kind, Status      string
	Gateway           string
	AuthorizationCode string
	AmountCents       int64
	Test              bool
	ProcessedAt       time.Time
}

// Fulfillment is a shipment of some of an order's lines.
type Fulfillment struct {
	ID int64
	// Name is the order's name and a sequence, e.g. "#1001.1".
	Name string
	// Status is SUCCESS or CANCELLED.
	Status string
	// ShipmentStatus is the carrier's latest news, one of the
	// FulfillmentDisplayStatus values such as IN_TRANSIT or DELIVERED, ""
	// for none yet.
	ShipmentStatus       string
	Tracking             Tracking
	Lines                []FulfillmentLine
	CreatedAt, UpdatedAt time.Time
}

// FulfillmentLine is how much of a line item a fulfillment ships.
type FulfillmentLine struct {
	ID, LineID int64
	Quantity   int
}

// Tracking is a shipment's tracking information.
type Tracking struct {
	Company, Number, URL string
}

// Refund is money given back, with its REFUND transactions.
type Refund struct {
	ID           int64
	Note         string
	AmountCents  int64
	Transactions []OrderTransaction
	CreatedAt    time.Time
}

// Customer is a shop's customer, found by email.
type Customer struct {
	ID                  int64
	Email, Phone        string
	FirstName, LastName string
	// AcceptsEmailMarketing is the email marketing consent (SUBSCRIBED).
	AcceptsEmailMarketing bool
	CreatedAt, UpdatedAt  time.Time
}

// Address is a mailing address; Country and Province are codes.
type Address struct {
	FirstName, LastName, Company string
	Address1, Address2, City     string
	Province, Country, Zip       string
	Phone                        string
}

// Attribute is a custom attribute (key and value).
type Attribute struct{ Key, Value string }

// GID is the order's Admin API id.
func (o *Order) GID() string { return gid("Order", o.ID) }

// ReceivedCents is what successful SALE and CAPTURE transactions took.
func (o *Order) ReceivedCents() int64 {
	var n int64
	for _, t := range o.Transactions {
		if t.Status == "SUCCESS" && (t.Kind == "SALE" || t.Kind == "CAPTURE") {
			n += t.AmountCents
		}
	}
	return n
}

// RefundedCents is what successful refunds gave back.
func (o *Order) RefundedCents() int64 {
	var n int64
	for _, r := range o.Refunds {
		n += r.AmountCents
	}
	return n
}

// FulfillmentStatus is the displayFulfillmentStatus: UNFULFILLED,
// PARTIALLY_FULFILLED, FULFILLED, or RESTOCKED once a cancellation removed
// everything that was not shipped.
func (o *Order) FulfillmentStatus() string {
	var ordered, shipped, removed int
	for _, l := range o.Lines {
		ordered += l.Quantity
		shipped += l.FulfilledQuantity
		removed += l.RemovedQuantity
	}
	switch {
	case shipped == 0 && removed > 0 && removed >= ordered:
		return "RESTOCKED"
	case shipped > 0 && shipped+removed >= ordered:
		return "FULFILLED"
	case shipped > 0:
		return "PARTIALLY_FULFILLED"
	}
	return "UNFULFILLED"
}

// clone deep-copies an order.
func (o *Order) clone() Order {
	c := *o
	if o.Customer != nil {
		cu := *o.Customer
		c.Customer = &cu
	}
	if o.ShippingAddress != nil {
		a := *o.ShippingAddress
		c.ShippingAddress = &a
	}
	if o.BillingAddress != nil {
		a := *o.BillingAddress
		c.BillingAddress = &a
	}
	c.Lines = slices.Clone(o.Lines)
	for i := range c.Lines {
		c.Lines[i].TaxLines = slices.Clone(c.Lines[i].TaxLines)
	}
	c.ShippingLines = slices.Clone(o.ShippingLines)
	for i := range c.ShippingLines {
		c.ShippingLines[i].TaxLines = slices.Clone(c.ShippingLines[i].TaxLines)
	}
	c.TaxLines = slices.Clone(o.TaxLines)
	c.Transactions = slices.Clone(o.Transactions)
	c.Fulfillments = slices.Clone(o.Fulfillments)
	for i := range c.Fulfillments {
		c.Fulfillments[i].Lines = slices.Clone(c.Fulfillments[i].Lines)
	}
	c.Refunds = slices.Clone(o.Refunds)
	for i := range c.Refunds {
		c.Refunds[i].Transactions = slices.Clone(c.Refunds[i].Transactions)
	}
	c.Tags = slices.Clone(o.Tags)
	c.CustomAttributes = slices.Clone(o.CustomAttributes)
	return c
}

// line finds a line item by id.
func (o *Order) line(id int64) *OrderLine {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			return &o.Lines[i]
		}
	}
	return nil
}

// refreshFinancialStatus recomputes the status after a refund.
func (o *Order) refreshFinancialStatus() {
	refunded, received := o.RefundedCents(), o.ReceivedCents()
	switch {
	case refunded == 0:
	case refunded >= received:
		o.FinancialStatus = "REFUNDED"
	default:
		o.FinancialStatus = "PARTIALLY_REFUNDED"
	}
}

func sumTax(lines []OrderTaxLine) int64 {
	var n int64
	for _, t := range lines {
		n += t.Cents
	}
	return n
}

// orderBook is one shop's orders and customers, guarded by Emulator.mu.
// Its zero value is ready.
type orderBook struct {
	orders    []*Order // ascending ID
	customers []*Customer
	// nextNumber is the next order number, 0 meaning 1001.
	nextNumber int
	// nextID numbers every order object (orders, lines, transactions,
	// fulfillments, refunds…) within the shop's own range.
	nextID int64
	// searchLag hides orders younger than it from the orders query, as
	// Shopify's search index lags behind writes.
	searchLag time.Duration
}

// newID returns the next object id of the shop: a range per shop, so ids
// are unique across shops as Shopify's are.
func (s *shopState) newID() int64 {
	s.orders.nextID++
	return 5_000_000_000_000 + (s.id%1_000_000)*1_000_000_000 + s.orders.nextID
}

// order finds an order by numeric id.
func (s *shopState) order(id int64) *Order {
	for _, o := range s.orders.orders {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// customerByEmail finds a customer, case-insensitively.
func (s *shopState) customerByEmail(email string) *Customer {
	for _, c := range s.orders.customers {
		if email != "" && strings.EqualFold(c.Email, email) {
			return c
		}
	}
	return nil
}

// customerByID finds a customer by numeric id.
func (s *shopState) customerByID(id int64) *Customer {
	for _, c := range s.orders.customers {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// Orders returns copies of the shop's orders, oldest first, or nil for an
// unknown shop.
func (e *Emulator) Orders(shop string) []Order {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil {
		return nil
	}
	out := make([]Order, len(s.orders.orders))
	for i, o := range s.orders.orders {
		out[i] = o.clone()
	}
	return out
}

// Customers returns copies of the shop's customers, oldest first.
func (e *Emulator) Customers(shop string) []Customer {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil {
		return nil
	}
	out := make([]Customer, len(s.orders.customers))
	for i, c := range s.orders.customers {
		out[i] = *c
	}
	return out
}

// SetOrderSearchLag makes orders younger than d (by the emulator's clock)
// invisible to the orders query, as Shopify's search index trails writes by
// a few seconds; order(id:) and node(id:) see them at once. Zero (the
// default) indexes at once.
func (e *Emulator) SetOrderSearchLag(shop string, d time.Duration) error {
	return e.withShop(shop, "set order search lag", func(s *shopState) { s.orders.searchLag = d })
}
