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
		OrderStatusURL    *string          `json:"order_status_url"`
		CancelledAt       *string          `json:"cancelled_at"`
		CancelReason      *string          `json:"cancel_reason"`
		ClosedAt          *string          `json:"closed_at"`
		CreatedAt         *string          `json:"created_at"`
		UpdatedAt         *string          `json:"updated_at"`
		Tags              *string          `json:"tags"`
		LineItems         []rawLineItem    `json:"line_items"`
		Fulfillments      []rawFulfillment `json:"fulfillments"`
		Refunds           []rawRefund      `json:"refunds"`
		NoteAttributes    []rawAttribute   `json:"note_attributes"`
	}
	rawAttribute struct {
		Name  *string `json:"name"`
		Value *string `json:"value"`
	}
	rawDraftOrder struct {
		ID             json.Number    `json:"id"`
		GID            *string        `json:"admin_graphql_api_id"`
		Name           *string        `json:"name"`
		Status         *string        `json:"status"`
		OrderID        *json.Number   `json:"order_id"`
		InvoiceURL     *string        `json:"invoice_url"`
		Email          *string        `json:"email"`
		Currency       *string        `json:"currency"`
		TotalPrice     *string        `json:"total_price"`
		CompletedAt    *string        `json:"completed_at"`
		UpdatedAt      *string        `json:"updated_at"`
		NoteAttributes []rawAttribute `json:"note_attributes"`
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

// noteAttributes reads REST note_attributes: a name is required, a null
// value is "".
func (c *checker) noteAttributes(field string, raw []rawAttribute) []NoteAttribute {
	var out []NoteAttribute
	for i, a := range raw {
		name := c.required(fmt.Sprintf("%s.%d.name", field, i), a.Name)
		out = append(out, NoteAttribute{Name: name, Value: deref(a.Value)})
	}
	return out
}
