package acp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

// eventOrder is an order with every part events carry: a shipment with
// tracking, a partial refund and the totals with amount_refunded.
func eventOrder() *acp.Order {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	return &acp.Order{
		ID: "gid://shopify/Order/1001", CheckoutSessionID: "cs_abc", PermalinkURL: "https://shop.example.com/orders/1001",
		OrderNumber: "#1001", Status: acp.OrderStatusShipped,
		LineItems: []acp.OrderLineItem{{ID: "li_1", Title: "Tee", Ordered: 2, Current: 2, Fulfilled: 2, UnitPrice: 2699, Subtotal: 5398, Status: "fulfilled"}},
		Fulfillments: []acp.OrderFulfillment{{
			ID: "gid://shopify/Fulfillment/7", Type: acp.FulfillmentShipping, Status: acp.FulfillmentStatusShipped,
			Carrier: "UPS", TrackingNumber: "1Z999", TrackingURL: "https://ups.example/track?n=1Z999",
			LineItems: []acp.LineItemRef{{ID: "li_1", Quantity: 2}},
			Events:    []acp.FulfillmentEvent{{ID: "gid://shopify/Fulfillment/7/shipped", Type: "shipped", OccurredAt: at}},
		}},
		Adjustments: []acp.OrderAdjustment{
			{ID: "gid://shopify/Refund/9", Type: acp.AdjustmentRefund, OccurredAt: at.Add(time.Hour), Status: acp.AdjustmentCompleted,
				Amount: 1000, Currency: "usd", Description: "damaged box"},
		},
		Totals: []acp.Total{
			{Type: acp.TotalSubtotal, DisplayText: "Subtotal", Amount: 5398},
			{Type: acp.TotalFulfillment, DisplayText: "Shipping", Amount: 500},
			{Type: acp.TotalTax, DisplayText: "Tax", Amount: 391},
			{Type: acp.TotalTotal, DisplayText: "Total", Amount: 6289},
			{Type: acp.TotalAmountRefunded, DisplayText: "Refunded", Amount: 1000},
		},
	}
}

// TestOrderEvent20260417: the event is {type, data} and data, the full
// order, validates against $defs/Order of the 2026-04-17 JSON Schema, with
// data.type "order" and the fulfillments and adjustments in it.
func TestOrderEvent20260417(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{acp.EventOrderCreate, acp.EventOrderUpdate} {
		b, err := acp.EncodeOrderEvent(acp.V20260417, typ, eventOrder())
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(b, &ev); err != nil || len(ev) != 2 || string(ev["type"]) != `"`+typ+`"` {
			t.Fatalf("event %s: %v", b, err)
		}
		if err := acptest.Validate(acp.V20260417, "Order", ev["data"]); err != nil {
			t.Errorf("data does not validate as an Order: %v\n%s", err, ev["data"])
		}
		var d struct {
			Type         string `json:"type"`
			Status       string `json:"status"`
			Fulfillments []struct {
				Carrier, TrackingNumber string
				TrackingURL             string `json:"tracking_url"`
			} `json:"fulfillments"`
			Adjustments []struct {
				Type   string `json:"type"`
				Amount int64  `json:"amount"`
			} `json:"adjustments"`
		}
		_ = json.Unmarshal(ev["data"], &d)
		if d.Type != "order" || d.Status != "shipped" || len(d.Fulfillments) != 1 || d.Fulfillments[0].TrackingURL == "" ||
			len(d.Adjustments) != 1 || d.Adjustments[0].Amount != 1000 {
			t.Errorf("data = %s", ev["data"])
		}
	}
}

// TestOrderExamplesShape: the official order examples' fulfillments and
// adjustments validate (a guard that the schema we check against is the
// one the examples follow).
func TestOrderExamplesShape(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "shared", "acp-spec", "2026-04-17", "examples", "orders")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		t.Skip("the spec examples are not beside the repository")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		delete(m, "$schema")
		delete(m, "_description")
		b, _ := json.Marshal(m)
		if err := acptest.Validate(acp.V20260417, "Order", b); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}

// webhook2025 is the 2025-09-29 OpenAPI webhook schema
// (openapi.agentic_checkout_webhook.yaml, components.schemas), written out:
// no JSON Schema of it is published.
//
//	WebhookEvent: additionalProperties false, required [type, data],
//	  type enum [order_create, order_update], data EventDataOrder
//	EventDataOrder: additionalProperties false, required [type,
//	  checkout_session_id, permalink_url, status, refunds]; type const order,
//	  permalink_url format uri, status enum [created, manual_review,
//	  confirmed, canceled, shipped, fulfilled], refunds array of Refund
//	Refund: additionalProperties false, required [type, amount], type enum
//	  [store_credit, original_payment], amount integer
func checkWebhook2025(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	only := func(where string, m map[string]any, keys ...string) {
		for k := range m {
			if !strings.Contains(" "+strings.Join(keys, " ")+" ", " "+k+" ") {
				t.Errorf("%s: property %q is not in the schema", where, k)
			}
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: required %q missing", where, k)
			}
		}
	}
	oneOf := func(where string, v any, vals ...string) {
		s, ok := v.(string)
		if !ok || !strings.Contains(" "+strings.Join(vals, " ")+" ", " "+s+" ") {
			t.Errorf("%s = %v, want one of %v", where, v, vals)
		}
	}
	only("WebhookEvent", ev, "type", "data")
	oneOf("type", ev["type"], "order_create", "order_update")
	d, _ := ev["data"].(map[string]any)
	only("EventDataOrder", d, "type", "checkout_session_id", "permalink_url", "status", "refunds")
	oneOf("data.type", d["type"], "order")
	oneOf("data.status", d["status"], "created", "manual_review", "confirmed", "canceled", "shipped", "fulfilled")
	if s, _ := d["checkout_session_id"].(string); s == "" {
		t.Error("data.checkout_session_id is not a string")
	}
	if u, _ := d["permalink_url"].(string); !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		t.Errorf("data.permalink_url %q is not a URI", u)
	}
	refunds, ok := d["refunds"].([]any)
	if !ok {
		t.Fatalf("data.refunds is not an array: %s", body)
	}
	for _, r := range refunds {
		m, _ := r.(map[string]any)
		only("Refund", m, "type", "amount")
		oneOf("refund.type", m["type"], "store_credit", "original_payment")
		if a, ok := m["amount"].(float64); !ok || a != float64(int64(a)) {
			t.Errorf("refund.amount %v is not an integer", m["amount"])
		}
	}
	return d
}

// TestOrderEvent20250929: the old shape, field by field, with the status
// mapped down and refunds from the adjustments.
func TestOrderEvent20250929(t *testing.T) {
	t.Parallel()
	o := eventOrder()
	o.Adjustments = append(o.Adjustments, acp.OrderAdjustment{ID: "c", Type: acp.AdjustmentCancellation,
		OccurredAt: time.Now(), Status: acp.AdjustmentCompleted, Amount: 5289, Currency: "usd", Reason: "customer"})
	o.Totals[4].Amount = 6289
	for status, want := range map[string]string{
		acp.OrderStatusCreated: "created", acp.OrderStatusConfirmed: "confirmed", acp.OrderStatusProcessing: "confirmed",
		acp.OrderStatusShipped: "shipped", acp.OrderStatusCompleted: "fulfilled", acp.OrderStatusCanceled: "canceled",
		acp.OrderStatusManualReview: "manual_review", "on_hold": "confirmed",
	} {
		o.Status = status
		b, err := acp.EncodeOrderEvent(acp.V20250929, acp.EventOrderUpdate, o)
		if err != nil {
			t.Fatal(err)
		}
		d := checkWebhook2025(t, b)
		if d["status"] != want {
			t.Errorf("status %s → %v, want %s", status, d["status"], want)
		}
		refunds := d["refunds"].([]any)
		if len(refunds) != 2 || refunds[0].(map[string]any)["amount"] != float64(1000) || refunds[1].(map[string]any)["amount"] != float64(5289) {
			t.Errorf("refunds = %v", refunds)
		}
	}
	// No adjustments: refunds is an empty array, not null.
	o = eventOrder()
	o.Adjustments, o.Totals = nil, nil
	b, err := acp.EncodeOrderEvent(acp.V20250929, acp.EventOrderCreate, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"refunds":[]`) {
		t.Errorf("no refunds: %s", b)
	}
	checkWebhook2025(t, b)
}

func TestOrderEventRefusesBadOrders(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(o *acp.Order){
		"no status":            func(o *acp.Order) { o.Status = "" },
		"fulfillment type":     func(o *acp.Order) { o.Fulfillments[0].Type = "teleport" },
		"tracking url":         func(o *acp.Order) { o.Fulfillments[0].TrackingURL = "ups" },
		"line ref quantity":    func(o *acp.Order) { o.Fulfillments[0].LineItems[0].Quantity = 0 },
		"adjustment time":      func(o *acp.Order) { o.Adjustments[0].OccurredAt = time.Time{} },
		"adjustment currency":  func(o *acp.Order) { o.Adjustments[0].Currency = "USD" },
		"negative adjustment":  func(o *acp.Order) { o.Adjustments[0].Amount = -1 },
		"refunded over total":  func(o *acp.Order) { o.Totals[4].Amount = 7000 },
		"refunded twice":       func(o *acp.Order) { o.Totals = append(o.Totals, o.Totals[4]) },
		"unknown event type":   nil,
		"missing permalinkurl": func(o *acp.Order) { o.PermalinkURL = "" },
	} {
		o := eventOrder()
		typ := acp.EventOrderUpdate
		if change == nil {
			typ = "order.updated"
		} else {
			change(o)
		}
		for _, v := range acp.SupportedVersions {
			if b, err := acp.EncodeOrderEvent(v, typ, o); err == nil {
				t.Errorf("%s (%s): encoded %s", name, v, b)
			}
		}
	}
}
