package orderevents_test

import (
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/shopify"
)

// TestIgnoredOrderWebhook: orders/create and orders/paid of an order with
// no handoff session attribute (the app's own orderCreate orders, the
// merchant's other orders) are noise; one of a handoff session, another
// topic, or a payload that does not parse is handed to OrderWebhook.
func TestIgnoredOrderWebhook(t *testing.T) {
	const (
		own = `{"id":5001,"admin_graphql_api_id":"gid://shopify/Order/5001","name":"#1001","financial_status":"paid",` +
			`"currency":"USD","total_price":"10.00","created_at":"2026-12-01T10:00:00Z","updated_at":"2026-12-01T10:00:00Z","source_identifier":"cs_1","note_attributes":[]}`
		handoff = `{"id":5002,"admin_graphql_api_id":"gid://shopify/Order/5002","name":"#1002","financial_status":"paid",` +
			`"currency":"USD","total_price":"10.00","created_at":"2026-12-01T10:00:00Z","updated_at":"2026-12-01T10:00:00Z","note_attributes":[{"name":"acpbridge_session","value":"cs_2"}]}`
	)
	s := &orderevents.Service{}
	for _, c := range []struct {
		name, topic, body string
		want              bool
	}{
		{"own order created", shopify.TopicOrdersCreate, own, true},
		{"own order paid", shopify.TopicOrdersPaid, own, true},
		{"handoff order created", shopify.TopicOrdersCreate, handoff, false},
		{"handoff order paid", shopify.TopicOrdersPaid, handoff, false},
		{"order updated", "orders/updated", own, false},
		{"draft order updated", shopify.TopicDraftOrdersUpdate, own, false},
		{"payload that does not parse", shopify.TopicOrdersCreate, `{"id":"x"}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			outcome, ignored := s.IgnoredOrderWebhook(&app.WebhookEvent{Topic: c.topic, Payload: []byte(c.body)})
			if ignored != c.want || ignored && outcome == "" {
				t.Errorf("ignored %v (%q), want %v", ignored, outcome, c.want)
			}
		})
	}
}
