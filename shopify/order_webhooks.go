package shopify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
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

// The raw shapes: ids as json.Number, nullable values as pointers.
type (
	rawOrder struct {
		ID                json.Number      `json:"id"`
		GID               *string          `json:"admin_graphql_api_id"`
		Name              *string          `json:"name"`
		SourceIdentifier  *string          `json:"source_identifier"`
		SourceName        *string          `json:"source_name"`
		FinancialStatus   *string          `json:"financial_status"`
		FulfillmentStatus *string          `json:"fulfillment_status"`
		Currency          *string          `json:"currency"`
		TotalPrice        *string          `json:"total_price"`
		CurrentTotalPrice *string          `json:"current_total_price"`
		CancelledAt       *string          `json:"cancelled_at"`
		CancelReason      *string          `json:"cancel_reason"`
		ClosedAt          *string          `json:"closed_at"`
		CreatedAt         *string          `json:"created_at"`
		UpdatedAt         *string          `json:"updated_at"`
		Tags              *string          `json:"tags"`
		LineItems         []rawLineItem    `json:"line_items"`
		Fulfillments      []rawFulfillment `json:"fulfillments"`
		Refunds           []rawRefund      `json:"refunds"`
	}
	rawLineItem struct {
		ID                  json.Number  `json:"id"`
		VariantID           *json.Number `json:"variant_id"`
		Quantity            *json.Number `json:"quantity"`
		FulfillableQuantity *json.Number `json:"fulfillable_quantity"`
		FulfillmentStatus   *string      `json:"fulfillment_status"`
	}
	rawFulfillment struct {
		ID              json.Number   `json:"id"`
		OrderID         json.Number   `json:"order_id"`
		GID             *string       `json:"admin_graphql_api_id"`
		Name            *string       `json:"name"`
		Status          *string       `json:"status"`
		ShipmentStatus  *string       `json:"shipment_status"`
		TrackingCompany *string       `json:"tracking_company"`
		TrackingNumber  *string       `json:"tracking_number"`
		TrackingNumbers []string      `json:"tracking_numbers"`
		TrackingURL     *string       `json:"tracking_url"`
		TrackingURLs    []string      `json:"tracking_urls"`
		CreatedAt       *string       `json:"created_at"`
		UpdatedAt       *string       `json:"updated_at"`
		LineItems       []rawLineItem `json:"line_items"`
	}
	rawRefund struct {
		ID              json.Number      `json:"id"`
		OrderID         json.Number      `json:"order_id"`
		GID             *string          `json:"admin_graphql_api_id"`
		Note            *string          `json:"note"`
		CreatedAt       *string          `json:"created_at"`
		Transactions    []rawTransaction `json:"transactions"`
		RefundLineItems []struct {
			ID          json.Number  `json:"id"`
			LineItemID  json.Number  `json:"line_item_id"`
			Quantity    *json.Number `json:"quantity"`
			SubtotalSet *struct {
				ShopMoney struct {
					Amount *string `json:"amount"`
				} `json:"shop_money"`
			} `json:"subtotal_set"`
		} `json:"refund_line_items"`
	}
	rawTransaction struct {
		ID            json.Number  `json:"id"`
		ParentID      *json.Number `json:"parent_id"`
		Kind          *string      `json:"kind"`
		Status        *string      `json:"status"`
		Gateway       *string      `json:"gateway"`
		Amount        *string      `json:"amount"`
		Currency      *string      `json:"currency"`
		Authorization *string      `json:"authorization"`
	}
)

// decodeWebhook decodes a JSON object body, turning decoding failures into
// precise *PayloadErrors.
func decodeWebhook(topic string, body []byte, v any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return &PayloadError{Topic: topic, Problem: "body is not a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return &PayloadError{Topic: topic, Problem: "body has data after the JSON object"}
		}
	}
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return &PayloadError{Topic: topic, Field: te.Field, Problem: "is a JSON " + te.Value + ", want " + jsonKind(te.Type.String())}
	}
	return &PayloadError{Topic: topic, Problem: "body is not valid JSON"}
}

// jsonKind names a Go type as the JSON it decodes.
func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "Number"), strings.Contains(goType, "int"):
		return "number"
	case strings.Contains(goType, "string"):
		return "string"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}

// checker validates decoded fields, keeping the first failure.
type checker struct {
	topic string
	err   *PayloadError
}

func (c *checker) fail(field, problem string) {
	if c.err == nil {
		c.err = &PayloadError{Topic: c.topic, Field: field, Problem: problem}
	}
}

// id reads a required positive integer id.
func (c *checker) id(field string, n json.Number) int64 {
	if n == "" {
		c.fail(field, "is missing or null")
		return 0
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v <= 0 {
		c.fail(field, "is not a positive integer id")
		return 0
	}
	return v
}

// optID reads a nullable positive integer id (0 for null).
func (c *checker) optID(field string, n *json.Number) int64 {
	if n == nil {
		return 0
	}
	return c.id(field, *n)
}

// count reads a non-negative integer; def when null or absent.
func (c *checker) count(field string, n *json.Number, def int) int {
	if n == nil {
		return def
	}
	v, err := strconv.ParseInt(n.String(), 10, 32)
	if err != nil || v < 0 {
		c.fail(field, "is not a non-negative integer")
		return 0
	}
	return int(v)
}

func (c *checker) required(field string, s *string) string {
	if s == nil || strings.TrimSpace(*s) == "" {
		c.fail(field, "is missing or empty")
		return ""
	}
	return *s
}

// gid checks admin_graphql_api_id against the numeric id.
func (c *checker) gid(field string, s *string, kind string, id int64) string {
	want := "gid://shopify/" + kind + "/" + strconv.FormatInt(id, 10)
	switch {
	case s == nil:
		c.fail(field, "is missing or null")
	case id != 0 && *s != want:
		c.fail(field, "is not the GID of "+kind+" id")
	}
	return want
}

var enumRe = regexp.MustCompile(`^[a-z][a-z_]{0,63}$`)

// enum reads a lower-case REST enum value; "" for null unless required.
func (c *checker) enum(field string, s *string, required bool) string {
	if s == nil || *s == "" {
		if required {
			c.fail(field, "is missing or empty")
		}
		return ""
	}
	if !enumRe.MatchString(*s) {
		c.fail(field, "is not a lower-case enum value")
		return ""
	}
	return *s
}

var currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)

func (c *checker) currency(field string, s *string) string {
	if s == nil || !currencyRe.MatchString(*s) {
		c.fail(field, "is not a currency code")
		return ""
	}
	return *s
}

var amountRe = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,6})?$`)

// amount reads a decimal money string; "" when optional and absent.
func (c *checker) amount(field string, s *string, required bool) string {
	if s == nil {
		if required {
			c.fail(field, "is missing or null")
		}
		return ""
	}
	if !amountRe.MatchString(*s) {
		c.fail(field, "is not a decimal amount")
		return ""
	}
	return *s
}

func (c *checker) time(field string, s *string) time.Time {
	if s == nil {
		c.fail(field, "is missing or null")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		c.fail(field, "is not an RFC 3339 time")
	}
	return t
}

func (c *checker) optTime(field string, s *string) *time.Time {
	if s == nil {
		return nil
	}
	t := c.time(field, s)
	return &t
}

func (c *checker) lineItem(path string, l rawLineItem) WebhookLineItem {
	return WebhookLineItem{
		ID:                  c.id(path+".id", l.ID),
		VariantID:           c.optID(path+".variant_id", l.VariantID),
		Quantity:            c.count(path+".quantity", l.Quantity, 0),
		FulfillableQuantity: c.count(path+".fulfillable_quantity", l.FulfillableQuantity, -1),
		FulfillmentStatus:   c.enum(path+".fulfillment_status", l.FulfillmentStatus, false),
	}
}

// fulfillment checks a fulfillment; prefix is its path ("" at the root).
func (c *checker) fulfillment(prefix string, r rawFulfillment) FulfillmentWebhook {
	f := FulfillmentWebhook{
		ID: c.id(prefix+"id", r.ID), OrderID: c.id(prefix+"order_id", r.OrderID), Name: deref(r.Name),
		Status:          c.enum(prefix+"status", r.Status, true),
		ShipmentStatus:  c.enum(prefix+"shipment_status", r.ShipmentStatus, false),
		TrackingCompany: deref(r.TrackingCompany),
		CreatedAt:       c.time(prefix+"created_at", r.CreatedAt),
		UpdatedAt:       c.time(prefix+"updated_at", r.UpdatedAt),
	}
	f.GID = c.gid(prefix+"admin_graphql_api_id", r.GID, "Fulfillment", f.ID)
	f.TrackingNumbers = mergeOne(deref(r.TrackingNumber), r.TrackingNumbers)
	f.TrackingURLs = mergeOne(deref(r.TrackingURL), r.TrackingURLs)
	for i, l := range r.LineItems {
		f.LineItems = append(f.LineItems, c.lineItem(fmt.Sprintf("%sline_items.%d", prefix, i), l))
	}
	return f
}

// mergeOne puts first in front of list unless already there, dropping
// empty strings.
func mergeOne(first string, list []string) []string {
	var out []string
	if first != "" {
		out = append(out, first)
	}
	for _, s := range list {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// refund checks a refund; prefix is its path ("" at the root).
func (c *checker) refund(prefix string, r rawRefund) RefundWebhook {
	rw := RefundWebhook{
		ID: c.id(prefix+"id", r.ID), OrderID: c.id(prefix+"order_id", r.OrderID), Note: deref(r.Note),
		CreatedAt: c.time(prefix+"created_at", r.CreatedAt),
	}
	rw.GID = c.gid(prefix+"admin_graphql_api_id", r.GID, "Refund", rw.ID)
	for i, t := range r.Transactions {
		p := fmt.Sprintf("%stransactions.%d.", prefix, i)
		wt := WebhookTransaction{
			ID: c.id(p+"id", t.ID), ParentID: c.optID(p+"parent_id", t.ParentID),
			Kind: c.enum(p+"kind", t.Kind, true), Status: c.enum(p+"status", t.Status, true),
			Gateway: deref(t.Gateway), Amount: c.amount(p+"amount", t.Amount, true), Authorization: deref(t.Authorization),
		}
		if t.Currency != nil {
			wt.Currency = c.currency(p+"currency", t.Currency)
		}
		rw.Transactions = append(rw.Transactions, wt)
	}
	for i, l := range r.RefundLineItems {
		p := fmt.Sprintf("%srefund_line_items.%d.", prefix, i)
		rl := WebhookRefundLine{ID: c.id(p+"id", l.ID), LineItemID: c.id(p+"line_item_id", l.LineItemID), Quantity: c.count(p+"quantity", l.Quantity, 0)}
		if l.SubtotalSet != nil {
			rl.Subtotal = c.amount(p+"subtotal_set.shop_money.amount", l.SubtotalSet.ShopMoney.Amount, true)
		}
		rw.RefundLineItems = append(rw.RefundLineItems, rl)
	}
	return rw
}
