package acp

import (
	"errors"
	"fmt"
)

// Order event types: the WebhookEvent.type the merchant sends the agent
// (POST /agentic_checkout/webhooks/order_events).
const (
	EventOrderCreate = "order_create"
	EventOrderUpdate = "order_update"
)

// EncodeOrderEvent returns the body of an order webhook in the wire shape
// of version v, after validating the order:
//
//   - 2026-04-17: {type, data} where data is the full Order with
//     data.type "order" and a status (required in events).
//   - 2025-09-29: {type, data{type:"order", checkout_session_id,
//     permalink_url, status, refunds[{type, amount}]}}. The status is mapped
//     down to that version's closed list (OldOrderStatus); refund and
//     cancellation adjustments that gave money back become refunds of the
//     original payment, credits become store_credit; the rest of the order
//     has no place there.
func EncodeOrderEvent(v Version, eventType string, o *Order) ([]byte, error) {
	switch eventType {
	case EventOrderCreate, EventOrderUpdate:
	default:
		return nil, fmt.Errorf("acp: unknown order event type %q", eventType)
	}
	if o == nil {
		return nil, errors.New("acp: order event without an order")
	}
	if o.Status == "" {
		return nil, errors.New("acp: an order event needs the order's status")
	}
	if err := o.validate(o.CheckoutSessionID); err != nil {
		return nil, fmt.Errorf("acp: invalid order: %w", err)
	}
	switch v {
	case V20260417:
		return marshal(struct {
			Type string    `json:"type"`
			Data *w26Order `json:"data"`
		}{eventType, order20260417(o)})
	case V20250929:
		d := w25EventOrder{Type: "order", CheckoutSessionID: o.CheckoutSessionID, PermalinkURL: o.PermalinkURL,
			Status: OldOrderStatus(o.Status), Refunds: []w25Refund{}}
		for _, a := range o.Adjustments {
			if a.Amount <= 0 || a.Status == AdjustmentFailed {
				continue
			}
			switch a.Type {
			case AdjustmentRefund, AdjustmentCancellation:
				d.Refunds = append(d.Refunds, w25Refund{Type: "original_payment", Amount: a.Amount})
			case AdjustmentCredit, "store_credit":
				d.Refunds = append(d.Refunds, w25Refund{Type: "store_credit", Amount: a.Amount})
			}
		}
		return marshal(struct {
			Type string         `json:"type"`
			Data *w25EventOrder `json:"data"`
		}{eventType, &d})
	}
	return nil, fmt.Errorf("acp: unsupported version %q", v)
}

// OldOrderStatus maps an order status onto 2025-09-29's closed list
// (created, manual_review, confirmed, canceled, shipped, fulfilled):
// processing is still confirmed, completed is fulfilled, and an unknown
// status is confirmed (the order exists and is paid).
func OldOrderStatus(s string) string {
	switch s {
	case OrderStatusCreated, OrderStatusManualReview, OrderStatusConfirmed, OrderStatusCanceled, OrderStatusShipped:
		return s
	case OrderStatusCompleted, "fulfilled":
		return "fulfilled"
	}
	return OrderStatusConfirmed
}

type w25EventOrder struct {
	Type              string      `json:"type"`
	CheckoutSessionID string      `json:"checkout_session_id"`
	PermalinkURL      string      `json:"permalink_url"`
	Status            string      `json:"status"`
	Refunds           []w25Refund `json:"refunds"`
}

type w25Refund struct {
	Type   string `json:"type"`
	Amount int64  `json:"amount"`
}
