package orderevents_test

import (
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/shopify"
)

// TestIgnoredOrderWebhook: orders/create and orders/paid of an order with
// no handoff session attribute (the app's own orderCreate orders, the
// merchant's other orders) are noise, told without decoding when the body
// cannot name the attribute; one of a handoff session (its name escaped
// or not), another topic, or a body naming it that does not parse is
// handed to OrderWebhook.
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
		{"own order, a name escaped (decoded to tell)", shopify.TopicOrdersCreate, strings.Replace(own, `"name":"#1001"`, `"name":"Caf\u00e9"`, 1), true},
		{"handoff attribute's name escaped", shopify.TopicOrdersPaid, strings.Replace(handoff, "acpbridge_session", `acpbridge\u005fsession`, 1), false},
		{"a body that cannot name the attribute", shopify.TopicOrdersCreate, `{"id":"x"}`, true},
		{"a body naming it that does not parse", shopify.TopicOrdersCreate, `{"id":"x","note_attributes":[{"name":"acpbridge_session","value":"cs_3"}]}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			outcome, ignored := s.IgnoredOrderWebhook(&app.WebhookEvent{Topic: c.topic, Payload: []byte(c.body)})
			if ignored != c.want || ignored && outcome == "" {
				t.Errorf("ignored %v (%q), want %v", ignored, outcome, c.want)
			}
		})
	}
}
