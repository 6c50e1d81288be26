package shopify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file parses the webhooks that tell the app what became of an agent's
// order in Shopify: REST-shaped JSON (numeric ids with admin_graphql_api_id,
// snake_case, lower-case enums, money as decimal strings). Every parser
// checks the payload strictly and says precisely what is wrong; fields it
// does not read are ignored, so new ones Shopify adds do no harm. Enum
// values are checked for form (lower-case words), not against a list, so a
// value Shopify adds later is passed on rather than refused.

// Order webhook topics. The app subscribes to orders/updated,
// orders/cancelled, fulfillments/create, fulfillments/update and
// refunds/create in shopify.app.toml.
const (
	TopicOrdersUpdated      = "orders/updated"
	TopicOrdersCancelled    = "orders/cancelled"
	TopicOrdersFulfilled    = "orders/fulfilled"
	TopicFulfillmentsCreate = "fulfillments/create"
	TopicFulfillmentsUpdate = "fulfillments/update"
	TopicRefundsCreate      = "refunds/create"
	// TopicOrdersCreate and TopicOrdersPaid come when a buyer pays a draft
	// order at Shopify's checkout (with TopicDraftOrdersUpdate).
	TopicOrdersCreate      = "orders/create"
	TopicOrdersPaid        = "orders/paid"
	TopicDraftOrdersUpdate = "draft_orders/update"
)

// ErrBadPayload is the sentinel every *PayloadError matches.
var ErrBadPayload = errors.New("malformed webhook payload")

// PayloadError is a webhook body that is not what its topic promises. It
// names the field (a JSON path such as "line_items.2.quantity") and the
// problem, never the value.
type PayloadError struct {
	Topic   string
	Field   string
	Problem string
}

// Error implements error.
func (e *PayloadError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("shopify webhook %s: %s", e.Topic, e.Problem)
	}
	return fmt.Sprintf("shopify webhook %s: %s: %s", e.Topic, e.Field, e.Problem)
}

// Is makes errors.Is(err, ErrBadPayload) true.
func (e *PayloadError) Is(target error) bool { return target == ErrBadPayload }

// OrderWebhook is an orders/* payload.
type OrderWebhook struct {
	// ID is the order's numeric id, GID its admin_graphql_api_id.
	ID   int64
	GID  string
	Name string
	// SourceIdentifier is what orderCreate was given (the checkout
	// session id), "" for orders from elsewhere.
	SourceIdentifier, SourceName string
	// FinancialStatus is REST's: "paid", "partially_refunded",
	// "refunded", …; FulfillmentStatus "fulfilled", "partial",
	// "restocked" or "" (nothing shipped).
	FinancialStatus, FulfillmentStatus string
	Currency                           string
	// TotalPrice is the original total, CurrentTotalPrice after refunds
	// and removals ("" when absent).
	TotalPrice, CurrentTotalPrice string
	// StatusURL is the buyer's order status page (order_status_url), ""
	// when the payload has none.
	StatusURL string
	// CancelledAt is nil unless cancelled; CancelReason is then
	// "customer", "fraud", "inventory", "declined", "staff" or "other".
	CancelledAt  *time.Time
	CancelReason string
	ClosedAt     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Tags         []string
	LineItems    []WebhookLineItem
	Fulfillments []FulfillmentWebhook
	Refunds      []RefundWebhook
	// NoteAttributes are the order's note attributes in Shopify's order,
	// e.g. a draft order's custom attributes; see NoteAttribute.
	NoteAttributes []NoteAttribute
}

// NoteAttribute is a note attribute (REST's name and value).
type NoteAttribute struct{ Name, Value string }

// NoteAttribute returns the value of the first note attribute called name,
// and whether there is one.
func (o *OrderWebhook) NoteAttribute(name string) (string, bool) {
	for _, a := range o.NoteAttributes {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// WebhookLineItem is a line item in a webhook.
type WebhookLineItem struct {
	ID int64
	// VariantID is 0 for a custom line or a deleted variant.
	VariantID int64
	Quantity  int
	// FulfillableQuantity is what is left to ship (-1 when absent);
	// FulfillmentStatus "fulfilled", "partial" or "".
	FulfillableQuantity int
	FulfillmentStatus   string
}

// FulfillmentWebhook is a fulfillments/* payload, or an order's
// fulfillment.
type FulfillmentWebhook struct {
	ID, OrderID int64
	GID, Name   string
	// Status is "pending", "open", "success", "cancelled", "error" or
	// "failure"; ShipmentStatus the carrier's latest ("in_transit",
	// "out_for_delivery", "delivered", "failure", …), "" for none.
	Status, ShipmentStatus string
	TrackingCompany        string
	// TrackingNumbers and TrackingURLs include tracking_number and
	// tracking_url.
	TrackingNumbers, TrackingURLs []string
	CreatedAt, UpdatedAt          time.Time
	LineItems                     []WebhookLineItem
}

// RefundWebhook is a refunds/create payload, or an order's refund.
type RefundWebhook struct {
	ID, OrderID     int64
	GID             string
	Note            string
	CreatedAt       time.Time
	Transactions    []WebhookTransaction
	RefundLineItems []WebhookRefundLine
}

// WebhookTransaction is a payment transaction in a webhook.
type WebhookTransaction struct {
	ID, ParentID int64
	// Kind is "refund", "sale", "capture", …; Status "success",
	// "pending", "failure", "error".
	Kind, Status, Gateway string
	Amount, Currency      string
	// Authorization is the processor's reference, "" for none.
	Authorization string
}

// WebhookRefundLine is a refunded quantity of a line item.
type WebhookRefundLine struct {
	ID, LineItemID int64
	Quantity       int
	// Subtotal is the refunded amount of the line before tax, "" when
	// absent.
	Subtotal string
}

// Refunded adds up the refund's successful refund transactions, exactly,
// as a decimal string ("0" for none).
func (r *RefundWebhook) Refunded() string {
	var amounts []string
	for _, t := range r.Transactions {
		if t.Kind == "refund" && t.Status == "success" {
			amounts = append(amounts, t.Amount)
		}
	}
	s, _ := sumDecimals(amounts) // amounts were checked when parsed
	return s
}

// ParseOrderWebhook parses an orders/* body (orders/updated,
// orders/cancelled, orders/fulfilled, …). An orders/cancelled payload must
// carry cancelled_at.
func ParseOrderWebhook(topic string, body []byte) (*OrderWebhook, error) {
	if !strings.HasPrefix(topic, "orders/") {
		return nil, &PayloadError{Topic: topic, Problem: "not an orders/* topic"}
	}
	var raw rawOrder
	if err := decodeWebhook(topic, body, &raw); err != nil {
		return nil, err
	}
	c := &checker{topic: topic}
	o := &OrderWebhook{
		ID: c.id("id", raw.ID), Name: c.required("name", raw.Name),
		SourceIdentifier: deref(raw.SourceIdentifier), SourceName: deref(raw.SourceName),
		FinancialStatus:   c.enum("financial_status", raw.FinancialStatus, false),
		FulfillmentStatus: c.enum("fulfillment_status", raw.FulfillmentStatus, false),
		Currency:          c.currency("currency", raw.Currency),
		TotalPrice:        c.amount("total_price", raw.TotalPrice, true),
		CurrentTotalPrice: c.amount("current_total_price", raw.CurrentTotalPrice, false),
		StatusURL:         deref(raw.OrderStatusURL),
		CancelledAt:       c.optTime("cancelled_at", raw.CancelledAt),
		CancelReason:      c.enum("cancel_reason", raw.CancelReason, false),
		ClosedAt:          c.optTime("closed_at", raw.ClosedAt),
		CreatedAt:         c.time("created_at", raw.CreatedAt),
		UpdatedAt:         c.time("updated_at", raw.UpdatedAt),
	}
	o.GID = c.gid("admin_graphql_api_id", raw.GID, "Order", o.ID)
	if topic == TopicOrdersCancelled && raw.CancelledAt == nil {
		c.fail("cancelled_at", "is null on orders/cancelled")
	}
	if t := deref(raw.Tags); strings.TrimSpace(t) != "" {
		for _, tag := range strings.Split(t, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				o.Tags = append(o.Tags, tag)
			}
		}
	}
	for i, l := range raw.LineItems {
		o.LineItems = append(o.LineItems, c.lineItem(fmt.Sprintf("line_items.%d", i), l))
	}
	o.NoteAttributes = c.noteAttributes("note_attributes", raw.NoteAttributes)
	for i, f := range raw.Fulfillments {
		fw := c.fulfillment(fmt.Sprintf("fulfillments.%d.", i), f)
		if fw.OrderID != o.ID && c.err == nil {
			c.fail(fmt.Sprintf("fulfillments.%d.order_id", i), "is not the order's id")
		}
		o.Fulfillments = append(o.Fulfillments, fw)
	}
	for i, r := range raw.Refunds {
		rw := c.refund(fmt.Sprintf("refunds.%d.", i), r)
		if rw.OrderID != o.ID && c.err == nil {
			c.fail(fmt.Sprintf("refunds.%d.order_id", i), "is not the order's id")
		}
		o.Refunds = append(o.Refunds, rw)
	}
	if c.err != nil {
		return nil, c.err
	}
	return o, nil
}

// ParseFulfillmentWebhook parses a fulfillments/create or
// fulfillments/update body.
func ParseFulfillmentWebhook(topic string, body []byte) (*FulfillmentWebhook, error) {
	if topic != TopicFulfillmentsCreate && topic != TopicFulfillmentsUpdate {
		return nil, &PayloadError{Topic: topic, Problem: "not a fulfillments/create or fulfillments/update topic"}
	}
	var raw rawFulfillment
	if err := decodeWebhook(topic, body, &raw); err != nil {
		return nil, err
	}
	c := &checker{topic: topic}
	f := c.fulfillment("", raw)
	if c.err != nil {
		return nil, c.err
	}
	return &f, nil
}

// ParseRefundWebhook parses a refunds/create body.
func ParseRefundWebhook(topic string, body []byte) (*RefundWebhook, error) {
	if topic != TopicRefundsCreate {
		return nil, &PayloadError{Topic: topic, Problem: "not the refunds/create topic"}
	}
	var raw rawRefund
	if err := decodeWebhook(topic, body, &raw); err != nil {
		return nil, err
	}
	c := &checker{topic: topic}
	r := c.refund("", raw)
	if c.err != nil {
		return nil, c.err
	}
	return &r, nil
}

// DraftOrderWebhook is a draft_orders/update payload.
type DraftOrderWebhook struct {
	// ID is the draft's numeric id, GID its admin_graphql_api_id.
	ID   int64
	GID  string
	Name string
	// Status is REST's: "open", "invoice_sent" or "completed".
	Status string
	// OrderID is the order the draft became (0 before it is paid),
	// OrderGID its GID ("" before).
	OrderID  int64
	OrderGID string
	// InvoiceURL, Email, Currency and TotalPrice are "" when absent.
	InvoiceURL, Email    string
	Currency, TotalPrice string
	CompletedAt          *time.Time
	UpdatedAt            time.Time
	// NoteAttributes are the draft's custom attributes.
	NoteAttributes []NoteAttribute
}

// ParseDraftOrderWebhook parses a draft_orders/update body. A completed
// draft must name its order.
func ParseDraftOrderWebhook(topic string, body []byte) (*DraftOrderWebhook, error) {
	if topic != TopicDraftOrdersUpdate {
		return nil, &PayloadError{Topic: topic, Problem: "not the draft_orders/update topic"}
	}
	var raw rawDraftOrder
	if err := decodeWebhook(topic, body, &raw); err != nil {
		return nil, err
	}
	c := &checker{topic: topic}
	d := &DraftOrderWebhook{
		ID: c.id("id", raw.ID), Name: c.required("name", raw.Name),
		Status:     c.enum("status", raw.Status, true),
		OrderID:    c.optID("order_id", raw.OrderID),
		InvoiceURL: deref(raw.InvoiceURL), Email: deref(raw.Email),
		TotalPrice:  c.amount("total_price", raw.TotalPrice, false),
		CompletedAt: c.optTime("completed_at", raw.CompletedAt),
		UpdatedAt:   c.time("updated_at", raw.UpdatedAt),
	}
	if raw.Currency != nil {
		d.Currency = c.currency("currency", raw.Currency)
	}
	d.GID = c.gid("admin_graphql_api_id", raw.GID, "DraftOrder", d.ID)
	if d.OrderID != 0 {
		d.OrderGID = "gid://shopify/Order/" + strconv.FormatInt(d.OrderID, 10)
	}
	if d.Status == "completed" && d.OrderID == 0 {
		c.fail("order_id", "is null on a completed draft order")
	}
	d.NoteAttributes = c.noteAttributes("note_attributes", raw.NoteAttributes)
	if c.err != nil {
		return nil, c.err
	}
	return d, nil
}
