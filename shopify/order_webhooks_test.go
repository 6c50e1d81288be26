package shopify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
)

// Payloads shaped like Shopify's REST webhooks (trimmed to what matters).
const (
	fulfillmentJSON = `{"id":5001000000101,"order_id":5001000000001,"admin_graphql_api_id":"gid://shopify/Fulfillment/5001000000101",
"name":"#1001.1","status":"success","shipment_status":null,"service":"manual","tracking_company":"UPS",
"tracking_number":"1Z999","tracking_numbers":["1Z999","1Z998"],"tracking_url":"https://ups.example/1Z999","tracking_urls":[],
"created_at":"2026-10-05T12:00:00Z","updated_at":"2026-10-05T12:00:00Z",
"line_items":[{"id":5001000000002,"variant_id":44000000000003,"quantity":2,"fulfillable_quantity":0,"fulfillment_status":"fulfilled","price":"26.99"}]}`

	refundJSON = `{"id":5001000000201,"order_id":5001000000001,"admin_graphql_api_id":"gid://shopify/Refund/5001000000201",
"note":"damaged box","created_at":"2026-10-06T09:30:00-04:00","restock":false,"refund_line_items":[
{"id":7,"line_item_id":5001000000002,"quantity":1,"subtotal":26.99,"subtotal_set":{"shop_money":{"amount":"26.99","currency_code":"USD"}}}],
"transactions":[
{"id":5001000000202,"parent_id":5001000000003,"kind":"refund","status":"success","gateway":"acpbridge (Stripe)","amount":"26.99","currency":"USD","authorization":"pi_1"},
{"id":5001000000203,"parent_id":null,"kind":"refund","status":"failure","gateway":"acpbridge (Stripe)","amount":"1.00","currency":"USD","authorization":null}],
"order_adjustments":[]}`

	orderJSON = `{"id":5001000000001,"admin_graphql_api_id":"gid://shopify/Order/5001000000001","name":"#1001","order_number":1001,
"source_identifier":"cs_123","source_name":"acpbridge","financial_status":"partially_refunded","fulfillment_status":"fulfilled",
"currency":"USD","total_price":"58.97","current_total_price":"31.98","cancelled_at":null,"cancel_reason":null,"closed_at":null,
"created_at":"2026-10-05T12:00:00Z","updated_at":"2026-10-06T13:30:00Z","tags":"acp, agent:chatgpt",
"order_status_url":"https://demo-shop.myshopify.com/1/orders/abc/authenticate?key=k",
"line_items":[{"id":5001000000002,"variant_id":44000000000003,"quantity":2,"fulfillable_quantity":0,"fulfillment_status":"fulfilled"},
{"id":5001000000004,"variant_id":null,"quantity":1,"fulfillable_quantity":1,"fulfillment_status":null}],
"note_attributes":[{"name":"acpbridge_session","value":"cs_123"},{"name":"gift","value":null}],
"fulfillments":[` + fulfillmentJSON + `],"refunds":[` + refundJSON + `]}`

	draftOrderJSON = `{"id":5001000000301,"admin_graphql_api_id":"gid://shopify/DraftOrder/5001000000301","name":"#D1",
"status":"completed","order_id":5001000000001,"email":"ada@example.com","currency":"USD","total_price":"58.97",
"invoice_url":"https://demo-shop.myshopify.com/1/invoices/abc","note_attributes":[{"name":"acpbridge_session","value":"cs_123"}],
"created_at":"2026-10-05T11:00:00Z","updated_at":"2026-10-05T12:00:00Z","completed_at":"2026-10-05T12:00:00Z"}`
)

func TestParseOrderWebhook(t *testing.T) {
	t.Parallel()
	o, err := shopify.ParseOrderWebhook(shopify.TopicOrdersUpdated, []byte(orderJSON))
	if err != nil {
		t.Fatalf("ParseOrderWebhook: %v", err)
	}
	if o.ID != 5001000000001 || o.GID != "gid://shopify/Order/5001000000001" || o.Name != "#1001" || o.SourceIdentifier != "cs_123" ||
		o.FinancialStatus != "partially_refunded" || o.FulfillmentStatus != "fulfilled" || o.TotalPrice != "58.97" ||
		o.CurrentTotalPrice != "31.98" || o.CancelledAt != nil || o.UpdatedAt.IsZero() || len(o.Tags) != 2 || o.Tags[1] != "agent:chatgpt" ||
		o.StatusURL != "https://demo-shop.myshopify.com/1/orders/abc/authenticate?key=k" {
		t.Errorf("order %+v", o)
	}
	if len(o.LineItems) != 2 || o.LineItems[1].VariantID != 0 || o.LineItems[1].FulfillableQuantity != 1 || o.LineItems[0].FulfillmentStatus != "fulfilled" {
		t.Errorf("lines %+v", o.LineItems)
	}
	if len(o.Fulfillments) != 1 || o.Fulfillments[0].TrackingCompany != "UPS" || len(o.Refunds) != 1 || o.Refunds[0].Refunded() != "26.99" {
		t.Errorf("fulfillments %+v refunds %+v", o.Fulfillments, o.Refunds)
	}

	if v, ok := o.NoteAttribute("acpbridge_session"); !ok || v != "cs_123" || len(o.NoteAttributes) != 2 || o.NoteAttributes[1] != (shopify.NoteAttribute{Name: "gift"}) {
		t.Errorf("note attributes %+v", o.NoteAttributes)
	}
	if _, ok := o.NoteAttribute("missing"); ok {
		t.Error("found a note attribute that is not there")
	}
	for _, topic := range []string{shopify.TopicOrdersCreate, shopify.TopicOrdersPaid} {
		if p, err := shopify.ParseOrderWebhook(topic, []byte(orderJSON)); err != nil || p.SourceName != "acpbridge" || p.FinancialStatus != "partially_refunded" {
			t.Errorf("%s: %+v, %v", topic, p, err)
		}
	}

	cancelled := strings.Replace(orderJSON, `"cancelled_at":null,"cancel_reason":null`, `"cancelled_at":"2026-10-06T13:30:00Z","cancel_reason":"customer"`, 1)
	c, err := shopify.ParseOrderWebhook(shopify.TopicOrdersCancelled, []byte(cancelled))
	if err != nil || c.CancelledAt == nil || c.CancelReason != "customer" {
		t.Errorf("cancelled: %+v, %v", c, err)
	}
}

func TestParseDraftOrderWebhook(t *testing.T) {
	t.Parallel()
	d, err := shopify.ParseDraftOrderWebhook(shopify.TopicDraftOrdersUpdate, []byte(draftOrderJSON))
	if err != nil {
		t.Fatalf("ParseDraftOrderWebhook: %v", err)
	}
	if d.ID != 5001000000301 || d.GID != "gid://shopify/DraftOrder/5001000000301" || d.Name != "#D1" || d.Status != "completed" ||
		d.OrderID != 5001000000001 || d.OrderGID != "gid://shopify/Order/5001000000001" || d.Email != "ada@example.com" ||
		d.Currency != "USD" || d.TotalPrice != "58.97" || d.CompletedAt == nil || d.UpdatedAt.IsZero() ||
		len(d.NoteAttributes) != 1 || d.NoteAttributes[0].Value != "cs_123" || !strings.HasSuffix(d.InvoiceURL, "/invoices/abc") {
		t.Errorf("draft %+v", d)
	}
	open := strings.NewReplacer(`"status":"completed","order_id":5001000000001`, `"status":"open","order_id":null`, `"completed_at":"2026-10-05T12:00:00Z"`, `"completed_at":null`).Replace(draftOrderJSON)
	d, err = shopify.ParseDraftOrderWebhook(shopify.TopicDraftOrdersUpdate, []byte(open))
	if err != nil || d.Status != "open" || d.OrderID != 0 || d.OrderGID != "" || d.CompletedAt != nil {
		t.Errorf("open draft %+v, %v", d, err)
	}
}

func TestParseFulfillmentAndRefundWebhooks(t *testing.T) {
	t.Parallel()
	f, err := shopify.ParseFulfillmentWebhook(shopify.TopicFulfillmentsCreate, []byte(fulfillmentJSON))
	if err != nil {
		t.Fatalf("ParseFulfillmentWebhook: %v", err)
	}
	if f.ID != 5001000000101 || f.OrderID != 5001000000001 || f.Status != "success" || f.ShipmentStatus != "" || f.Name != "#1001.1" ||
		strings.Join(f.TrackingNumbers, ",") != "1Z999,1Z998" || len(f.TrackingURLs) != 1 || len(f.LineItems) != 1 || f.LineItems[0].Quantity != 2 {
		t.Errorf("fulfillment %+v", f)
	}
	r, err := shopify.ParseRefundWebhook(shopify.TopicRefundsCreate, []byte(refundJSON))
	if err != nil {
		t.Fatalf("ParseRefundWebhook: %v", err)
	}
	if r.ID != 5001000000201 || r.OrderID != 5001000000001 || r.Note != "damaged box" || len(r.Transactions) != 2 ||
		r.Transactions[0].ParentID != 5001000000003 || r.Transactions[0].Authorization != "pi_1" || r.Refunded() != "26.99" ||
		len(r.RefundLineItems) != 1 || r.RefundLineItems[0].Subtotal != "26.99" || r.CreatedAt.IsZero() {
		t.Errorf("refund %+v", r)
	}
}

func TestParseOrderWebhooksRefuseMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, topic, body, field string
	}{
		{"not JSON", shopify.TopicOrdersUpdated, `{"id":`, ""},
		{"an array", shopify.TopicOrdersUpdated, `[1]`, ""},
		{"trailing data", shopify.TopicRefundsCreate, refundJSON + `{}`, ""},
		{"wrong topic for the parser", shopify.TopicRefundsCreate, orderJSON, ""},
		{"order id missing", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"id":5001000000001,`, ``, 1), "id"},
		{"order id negative", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `{"id":5001000000001,`, `{"id":-1,`, 1), "id"},
		{"gid of another order", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"gid://shopify/Order/5001000000001"`, `"gid://shopify/Order/1"`, 1), "admin_graphql_api_id"},
		{"total not an amount", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"58.97"`, `"58,97"`, 1), "total_price"},
		{"total a number", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"58.97"`, `58.97`, 1), "total_price"},
		{"currency", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"USD","total_price"`, `"usd","total_price"`, 1), "currency"},
		{"status not an enum", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"partially_refunded"`, `"Partially Refunded"`, 1), "financial_status"},
		{"bad time", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"2026-10-06T13:30:00Z","tags"`, `"yesterday","tags"`, 1), "updated_at"},
		{"cancelled without cancelled_at", shopify.TopicOrdersCancelled, orderJSON, "cancelled_at"},
		{"line quantity negative", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"quantity":1,"fulfillable_quantity":1`, `"quantity":-1,"fulfillable_quantity":1`, 1), "line_items.1.quantity"},
		{"fulfillment of another order", shopify.TopicOrdersUpdated, strings.Replace(orderJSON, `"order_id":5001000000001,"admin_graphql_api_id":"gid://shopify/Fulfillment`, `"order_id":9,"admin_graphql_api_id":"gid://shopify/Fulfillment`, 1), "fulfillments.0.order_id"},
		{"fulfillment status missing", shopify.TopicFulfillmentsUpdate, strings.Replace(fulfillmentJSON, `"status":"success",`, ``, 1), "status"},
		{"fulfillment line id missing", shopify.TopicFulfillmentsCreate, strings.Replace(fulfillmentJSON, `"id":5001000000002,`, ``, 1), "line_items.0.id"},
		{"tracking numbers not strings", shopify.TopicFulfillmentsCreate, strings.Replace(fulfillmentJSON, `["1Z999","1Z998"]`, `[1]`, 1), "tracking_numbers"},
		{"refund amount missing", shopify.TopicRefundsCreate, strings.Replace(refundJSON, `"amount":"26.99","currency":"USD","authorization"`, `"currency":"USD","authorization"`, 1), "transactions.0.amount"},
		{"refund line without line item", shopify.TopicRefundsCreate, strings.Replace(refundJSON, `"line_item_id":5001000000002,`, ``, 1), "refund_line_items.0.line_item_id"},
		{"note attribute without name", shopify.TopicOrdersPaid, strings.Replace(orderJSON, `{"name":"gift","value":null}`, `{"value":"x"}`, 1), "note_attributes.1.name"},
		{"note attribute value a number", shopify.TopicOrdersCreate, strings.Replace(orderJSON, `"value":"cs_123"`, `"value":5`, 1), "note_attributes.value"},
		{"draft on another topic", shopify.TopicOrdersCreate, draftOrderJSON, ""},
		{"draft completed without order", shopify.TopicDraftOrdersUpdate, strings.Replace(draftOrderJSON, `"order_id":5001000000001`, `"order_id":null`, 1), "order_id"},
		{"draft gid kind", shopify.TopicDraftOrdersUpdate, strings.Replace(draftOrderJSON, `gid://shopify/DraftOrder/`, `gid://shopify/Order/`, 1), "admin_graphql_api_id"},
		{"draft status missing", shopify.TopicDraftOrdersUpdate, strings.Replace(draftOrderJSON, `"status":"completed",`, ``, 1), "status"},
		{"draft updated_at missing", shopify.TopicDraftOrdersUpdate, strings.Replace(draftOrderJSON, `"updated_at":"2026-10-05T12:00:00Z",`, ``, 1), "updated_at"},
		{"refund gid kind", shopify.TopicRefundsCreate, strings.Replace(refundJSON, `gid://shopify/Refund/`, `gid://shopify/Order/`, 1), "admin_graphql_api_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			switch {
			case strings.HasPrefix(tt.topic, "orders/"):
				_, err = shopify.ParseOrderWebhook(tt.topic, []byte(tt.body))
			case strings.HasPrefix(tt.topic, "draft_orders/"):
				_, err = shopify.ParseDraftOrderWebhook(tt.topic, []byte(tt.body))
			case strings.HasPrefix(tt.topic, "fulfillments/"):
				_, err = shopify.ParseFulfillmentWebhook(tt.topic, []byte(tt.body))
			default:
				_, err = shopify.ParseRefundWebhook(tt.topic, []byte(tt.body))
			}
			var pe *shopify.PayloadError
			if !errors.As(err, &pe) || !errors.Is(err, shopify.ErrBadPayload) {
				t.Fatalf("err = %v, want a *PayloadError", err)
			}
			if tt.field != "" && pe.Field != tt.field {
				t.Errorf("field %q (%v), want %q", pe.Field, err, tt.field)
			}
			if pe.Topic != tt.topic {
				t.Errorf("topic %q, want %q", pe.Topic, tt.topic)
			}
		})
	}
}
