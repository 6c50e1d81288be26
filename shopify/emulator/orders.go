package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
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
// fulfillments/create and orders/updated, not orders/fulfilled; creating an
// order sends inventory_levels/update for the stock it claims, not
// orders/create or orders/paid.

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

// ErrOrderState is returned for a merchant action the order's state does
// not allow, e.g. cancelling a fulfilled order or refunding more than was
// paid.
var ErrOrderState = errors.New("emulator: not possible in the order's state")

// webhook is a delivery to make once the lock is released.
type webhook struct {
	topic   string
	payload any
}

// orderAction runs fn on an order (id is a GID or a number) under the lock,
// then sends the webhooks fn returns, in order, synchronously.
func (e *Emulator) orderAction(what, shop, id string, fn func(s *shopState, o *Order, now time.Time) ([]webhook, error)) error {
	e.mu.Lock()
	s := e.shop(shop)
	oid, ok := parseGID(id, "Order")
	var o *Order
	if s != nil && ok {
		o = s.order(oid)
	}
	if o == nil {
		e.mu.Unlock()
		return fmt.Errorf("%s %s in %s: %w", what, id, shop, ErrNotFound)
	}
	hooks, err := fn(s, o, e.now())
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s %s in %s: %w", what, id, shop, err)
	}
	for _, h := range hooks {
		e.notify(s.domain, h.topic, h.payload)
	}
	return nil
}

// FulfillOrder ships every unfulfilled unit of the order (GID or number) in
// one fulfillment with the tracking information, as a merchant marking it
// fulfilled does, then sends fulfillments/create and orders/updated.
func (e *Emulator) FulfillOrder(shop, orderID string, t Tracking) error {
	return e.orderAction("fulfill order", shop, orderID, func(s *shopState, o *Order, now time.Time) ([]webhook, error) {
		if !o.CancelledAt.IsZero() {
			return nil, fmt.Errorf("order is cancelled: %w", ErrOrderState)
		}
		f := Fulfillment{
			ID: s.newID(), Name: fmt.Sprintf("%s.%d", o.Name, len(o.Fulfillments)+1), Status: "SUCCESS",
			Tracking: t, CreatedAt: now, UpdatedAt: now,
		}
		for i := range o.Lines {
			l := &o.Lines[i]
			if left := l.Quantity - l.FulfilledQuantity - l.RemovedQuantity; left > 0 {
				f.Lines = append(f.Lines, FulfillmentLine{ID: s.newID(), LineID: l.ID, Quantity: left})
				l.FulfilledQuantity += left
			}
		}
		if len(f.Lines) == 0 {
			return nil, fmt.Errorf("nothing left to fulfill: %w", ErrOrderState)
		}
		o.Fulfillments = append(o.Fulfillments, f)
		o.UpdatedAt = now
		return []webhook{
			{"fulfillments/create", fulfillmentPayload(s, o, &o.Fulfillments[len(o.Fulfillments)-1])},
			{"orders/updated", orderPayload(s, o)},
		}, nil
	})
}

// FulfillmentUpdate changes a fulfillment: new tracking information, a
// carrier's shipment status (IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED, …),
// or its cancellation. Zero fields are left alone.
type FulfillmentUpdate struct {
	Tracking       *Tracking
	ShipmentStatus string
	Cancel         bool
}

// shipmentStatuses are the FulfillmentDisplayStatus values a carrier
// reports.
var shipmentStatuses = []string{
	"LABEL_PRINTED", "LABEL_PURCHASED", "CONFIRMED", "CARRIER_PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY",
	"ATTEMPTED_DELIVERY", "DELAYED", "DELIVERED", "FAILURE", "READY_FOR_PICKUP", "PICKED_UP", "NOT_DELIVERED",
}

// UpdateFulfillment changes one of the order's fulfillments (fulfillment
// id a GID or a number) and sends fulfillments/update and orders/updated.
// Cancelling puts its units back to unfulfilled.
func (e *Emulator) UpdateFulfillment(shop, orderID, fulfillmentID string, u FulfillmentUpdate) error {
	fid, ok := parseGID(fulfillmentID, "Fulfillment")
	status := strings.ToUpper(u.ShipmentStatus)
	if status != "" && !slices.Contains(shipmentStatuses, status) {
		return fmt.Errorf("update fulfillment %s: unknown shipment status %q", fulfillmentID, u.ShipmentStatus)
	}
	return e.orderAction("update fulfillment of", shop, orderID, func(s *shopState, o *Order, now time.Time) ([]webhook, error) {
		var f *Fulfillment
		for i := range o.Fulfillments {
			if ok && o.Fulfillments[i].ID == fid {
				f = &o.Fulfillments[i]
			}
		}
		if f == nil {
			return nil, fmt.Errorf("fulfillment %s: %w", fulfillmentID, ErrNotFound)
		}
		if f.Status == "CANCELLED" {
			return nil, fmt.Errorf("fulfillment is cancelled: %w", ErrOrderState)
		}
		if u.Tracking != nil {
			f.Tracking = *u.Tracking
		}
		if status != "" {
			f.ShipmentStatus = status
		}
		if u.Cancel {
			f.Status = "CANCELLED"
			for _, fl := range f.Lines {
				if l := o.line(fl.LineID); l != nil {
					l.FulfilledQuantity -= fl.Quantity
				}
			}
		}
		f.UpdatedAt, o.UpdatedAt = now, now
		return []webhook{
			{"fulfillments/update", fulfillmentPayload(s, o, f)},
			{"orders/updated", orderPayload(s, o)},
		}, nil
	})
}

// RefundOrder gives amountCents back to the buyer through the gateway of
// the order's payment, without restocking, as a merchant's refund of an
// amount does: a refund with one REFUND transaction whose parent is the
// sale, note reason. It sends refunds/create and orders/updated. The amount
// must be positive and at most what is left to refund.
func (e *Emulator) RefundOrder(shop, orderID string, amountCents int64, reason string) error {
	return e.orderAction("refund order", shop, orderID, func(s *shopState, o *Order, now time.Time) ([]webhook, error) {
		left := o.ReceivedCents() - o.RefundedCents()
		if amountCents <= 0 || amountCents > left {
			return nil, fmt.Errorf("refund of %s with %s refundable: %w", formatMoney(amountCents), formatMoney(left), ErrOrderState)
		}
		var parent OrderTransaction
		for _, t := range o.Transactions {
			if t.Status == "SUCCESS" && (t.Kind == "SALE" || t.Kind == "CAPTURE") {
				parent = t
			}
		}
		t := OrderTransaction{
			ID: s.newID(), ParentID: parent.ID, Kind: "REFUND", Status: "SUCCESS", Gateway: parent.Gateway,
			AuthorizationCode: parent.AuthorizationCode, AmountCents: amountCents, Test: parent.Test, ProcessedAt: now,
		}
		r := Refund{ID: s.newID(), Note: reason, AmountCents: amountCents, Transactions: []OrderTransaction{t}, CreatedAt: now}
		o.Refunds = append(o.Refunds, r)
		o.Transactions = append(o.Transactions, t)
		o.refreshFinancialStatus()
		o.UpdatedAt = now
		return []webhook{
			{"refunds/create", refundPayload(s, o, &o.Refunds[len(o.Refunds)-1])},
			{"orders/updated", orderPayload(s, o)},
		}, nil
	})
}

// cancelReasons are Shopify's OrderCancelReason values.
var cancelReasons = []string{"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"}

// CancelOrder cancels an order that has shipped nothing yet, as a merchant
// does: it is closed, its units are removed and restocked (tracked
// variants get their quantity back), nothing is refunded (call RefundOrder
// for that). reason is an OrderCancelReason (any case). It sends
// orders/cancelled, orders/updated and inventory_levels/update per
// restocked variant.
func (e *Emulator) CancelOrder(shop, orderID, reason string) error {
	reason = strings.ToUpper(strings.TrimSpace(reason))
	if !slices.Contains(cancelReasons, reason) {
		return fmt.Errorf("cancel order %s: reason %q is not one of %v", orderID, reason, cancelReasons)
	}
	return e.orderAction("cancel order", shop, orderID, func(s *shopState, o *Order, now time.Time) ([]webhook, error) {
		if !o.CancelledAt.IsZero() {
			return nil, fmt.Errorf("order is already cancelled: %w", ErrOrderState)
		}
		for _, f := range o.Fulfillments {
			if f.Status == "SUCCESS" {
				return nil, fmt.Errorf("order has fulfillments: %w", ErrOrderState)
			}
		}
		var hooks []webhook
		for i := range o.Lines {
			l := &o.Lines[i]
			l.RemovedQuantity = l.Quantity - l.FulfilledQuantity
			if o.InventoryBehaviour == "BYPASS" || l.VariantID == 0 {
				continue
			}
			if p, v := s.variant(l.VariantID); v != nil && v.Tracked {
				v.InventoryQuantity += l.RemovedQuantity
				v.UpdatedAt, p.UpdatedAt = now, now
				hooks = append(hooks, webhook{"inventory_levels/update", inventoryLevelPayload(s, v, now)})
			}
		}
		o.CancelledAt, o.CancelReason, o.ClosedAt, o.UpdatedAt = now, reason, now, now
		return append([]webhook{
			{"orders/cancelled", orderPayload(s, o)},
			{"orders/updated", orderPayload(s, o)},
		}, hooks...), nil
	})
}

// notifyAfter sends webhooks from a resolver, which holds e.mu and must not
// do I/O: a goroutine sends them in order once the lock is free (notify
// takes it), as Shopify delivers webhooks after the API call answered.
func (e *Emulator) notifyAfter(shop string, hooks []webhook) {
	if len(hooks) == 0 || e.ctx.Err() != nil {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for _, h := range hooks {
			if e.ctx.Err() != nil {
				return
			}
			e.notify(shop, h.topic, h.payload)
		}
	}()
}

// orderSortValue is an order's value for an OrderSortKeys key.
func orderSortValue(o *Order, key string) string {
	switch key {
	case "CREATED_AT":
		return o.CreatedAt.UTC().Format(sortableTime)
	case "UPDATED_AT":
		return o.UpdatedAt.UTC().Format(sortableTime)
	case "ORDER_NUMBER":
		return fmt.Sprintf("%012d", o.Number)
	case "TOTAL_PRICE", "CURRENT_TOTAL_PRICE":
		return fmt.Sprintf("%015d", o.TotalCents)
	case "ID":
		return ""
	}
	return o.ProcessedAt.UTC().Format(sortableTime) // PROCESSED_AT, the default
}

// matchOrder applies orders search terms: source_identifier, source_name,
// name, id, email, tag, tag_not, financial_status, fulfillment_status,
// status, test, created_at, updated_at, processed_at, and free text (name,
// email, source identifier). Unknown fields match everything.
func matchOrder(o *Order, terms []searchTerm) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "":
			ok = matchOrderName(o, t.value) || strings.EqualFold(o.Email, t.value) || strings.EqualFold(o.SourceIdentifier, t.value)
		case "source_identifier":
			ok = strings.EqualFold(o.SourceIdentifier, t.value)
		case "source_name":
			ok = strings.EqualFold(o.SourceName, t.value)
		case "name":
			ok = matchOrderName(o, t.value)
		case "id":
			ok = compareInt(o.ID, t)
		case "email":
			ok = strings.EqualFold(o.Email, t.value)
		case "tag":
			ok = slices.ContainsFunc(o.Tags, func(s string) bool { return strings.EqualFold(s, t.value) })
		case "tag_not":
			ok = !slices.ContainsFunc(o.Tags, func(s string) bool { return strings.EqualFold(s, t.value) })
		case "financial_status":
			ok = strings.EqualFold(o.FinancialStatus, t.value)
		case "fulfillment_status":
			ok = matchFulfillmentStatus(o, t.value)
		case "status":
			ok = matchOrderStatus(o, t.value)
		case "test":
			ok = strconv.FormatBool(o.Test) == strings.ToLower(t.value)
		case "created_at":
			ok = compareTime(o.CreatedAt, t)
		case "updated_at":
			ok = compareTime(o.UpdatedAt, t)
		case "processed_at":
			ok = compareTime(o.ProcessedAt, t)
		}
		if ok == t.negate {
			return false
		}
	}
	return true
}

// matchOrderName matches "#1001" or "1001".
func matchOrderName(o *Order, v string) bool {
	return strings.EqualFold(o.Name, v) || o.Name == "#"+v
}

func matchFulfillmentStatus(o *Order, v string) bool {
	st := o.FulfillmentStatus()
	switch strings.ToLower(v) {
	case "shipped", "fulfilled":
		return st == "FULFILLED"
	case "unshipped", "unfulfilled":
		return st == "UNFULFILLED"
	case "partial":
		return st == "PARTIALLY_FULFILLED"
	}
	return strings.EqualFold(st, v)
}

func matchOrderStatus(o *Order, v string) bool {
	cancelled, closed := !o.CancelledAt.IsZero(), !o.ClosedAt.IsZero()
	switch strings.ToLower(v) {
	case "open":
		return !closed && !cancelled
	case "closed":
		return closed
	case "cancelled":
		return cancelled
	case "not_closed":
		return !closed
	case "any":
		return true
	}
	return false
}
