package acp

import (
	"errors"
	"fmt"
	"time"
)

// Order is the order a completed session created. 2025-09-29 carries only
// ID, CheckoutSessionID and PermalinkURL.
type Order struct {
	ID                string
	CheckoutSessionID string
	PermalinkURL      string

	// 2026-04-17 fields.
	OrderNumber       string
	ClientReferenceID string
	// Status is open; see the OrderStatus constants.
	Status            string
	EstimatedDelivery *DeliveryWindow
	Confirmation      *OrderConfirmation
	Support           *SupportInfo
	LineItems         []OrderLineItem
	// Fulfillments say how the items travel (shipments, digital delivery);
	// Adjustments what changed after the order (refunds, cancellation).
	Fulfillments []OrderFulfillment
	Adjustments  []OrderAdjustment
	// Totals, when set, must pass CheckTotals.
	Totals []Total
}

// OrderFulfillment is one shipment or delivery of an order's items.
type OrderFulfillment struct {
	ID string
	// Type is shipping, pickup or digital (see the FulfillmentType
	// constants).
	Type FulfillmentType
	// Status is open; see the FulfillmentStatus constants.
	Status                               string
	Carrier, TrackingNumber, TrackingURL string
	LineItems                            []LineItemRef
	// Events is the fulfillment's history, oldest first.
	Events []FulfillmentEvent
}

// Known fulfillment statuses (the field is open).
const (
	FulfillmentStatusPending        = "pending"
	FulfillmentStatusProcessing     = "processing"
	FulfillmentStatusShipped        = "shipped"
	FulfillmentStatusInTransit      = "in_transit"
	FulfillmentStatusOutForDelivery = "out_for_delivery"
	FulfillmentStatusDelivered      = "delivered"
	FulfillmentStatusFailed         = "failed"
	FulfillmentStatusCanceled       = "canceled"
)

// LineItemRef is a quantity (≥ 1) of an order line, by the line's id.
type LineItemRef struct {
	ID       string
	Quantity int
}

// FulfillmentEvent is a point in a fulfillment's history.
type FulfillmentEvent struct {
	ID          string
	Type        string // shipped, in_transit, delivered, … (open)
	OccurredAt  time.Time
	Description string
}

// OrderAdjustment is a change after the order: a refund, a cancellation…
type OrderAdjustment struct {
	ID string
	// Type is open; see the AdjustmentType constants.
	Type       string
	OccurredAt time.Time
	// Status: pending, completed or failed (open).
	Status string
	// Amount is what the buyer gets back, tax included, in minor units of
	// Currency (lower-case ISO 4217).
	Amount      int64
	Currency    string
	Reason      string
	Description string
	LineItems   []LineItemRef
}

// Known adjustment types and statuses (both fields are open).
const (
	AdjustmentRefund       = "refund"
	AdjustmentCredit       = "credit"
	AdjustmentCancellation = "cancellation"

	AdjustmentPending   = "pending"
	AdjustmentCompleted = "completed"
	AdjustmentFailed    = "failed"
)

// Known order statuses (the field is open: accept others).
const (
	OrderStatusCreated      = "created"
	OrderStatusConfirmed    = "confirmed"
	OrderStatusManualReview = "manual_review"
	OrderStatusProcessing   = "processing"
	OrderStatusShipped      = "shipped"
	OrderStatusCompleted    = "completed"
	OrderStatusCanceled     = "canceled"
)

// DeliveryWindow is an estimated delivery range.
type DeliveryWindow struct {
	Earliest, Latest time.Time
}

// OrderConfirmation is what the buyer was told.
type OrderConfirmation struct {
	ConfirmationNumber    string
	ConfirmationEmailSent *bool
	ReceiptURL            string
	InvoiceNumber         string
	OrderNotes            string
}

// SupportInfo is how to reach the merchant about the order.
type SupportInfo struct {
	Email         string
	Phone         string
	Hours         string
	HelpCenterURL string
}

// OrderLineItem is a line of an order, with its quantities over time.
type OrderLineItem struct {
	ID          string
	Title       string
	ProductID   string
	Description string
	ImageURL    string
	URL         string
	// Ordered (≥ 1), Current (after removals) and Fulfilled quantities.
	Ordered, Current, Fulfilled int
	UnitPrice                   int64
	Subtotal                    int64
	// Status: processing|partial|fulfilled|removed (open).
	Status string
}

func (o Order) validate(sessionID string) error {
	switch {
	case o.ID == "":
		return errors.New("id is empty")
	case o.CheckoutSessionID != sessionID:
		return fmt.Errorf("checkout session id %q is not the session's %q", o.CheckoutSessionID, sessionID)
	case !validURL(o.PermalinkURL):
		return fmt.Errorf("permalink URL %q is not an absolute http(s) URL", o.PermalinkURL)
	}
	if d := o.EstimatedDelivery; d != nil && (d.Earliest.IsZero() || d.Latest.IsZero() || d.Latest.Before(d.Earliest)) {
		return errors.New("estimated delivery needs earliest ≤ latest")
	}
	if c := o.Confirmation; c != nil && c.ReceiptURL != "" && !validURL(c.ReceiptURL) {
		return fmt.Errorf("receipt URL %q is not an absolute http(s) URL", c.ReceiptURL)
	}
	if s := o.Support; s != nil {
		if s.Email != "" && !ValidEmail(s.Email) {
			return fmt.Errorf("support email %q is not valid", s.Email)
		}
		if s.HelpCenterURL != "" && !validURL(s.HelpCenterURL) {
			return fmt.Errorf("help center URL %q is not an absolute http(s) URL", s.HelpCenterURL)
		}
	}
	for i, l := range o.LineItems {
		switch {
		case l.ID == "" || l.Title == "":
			return fmt.Errorf("line_items[%d]: id and title are required", i)
		case l.Ordered < 1 || l.Current < 0 || l.Fulfilled < 0 || l.Current > l.Ordered || l.Fulfilled > l.Current:
			return fmt.Errorf("line_items[%d]: quantities need 0 ≤ fulfilled ≤ current ≤ ordered, ordered ≥ 1", i)
		case l.UnitPrice < 0 || l.Subtotal < 0:
			return fmt.Errorf("line_items[%d]: negative amount", i)
		case l.ImageURL != "" && !validURL(l.ImageURL), l.URL != "" && !validURL(l.URL):
			return fmt.Errorf("line_items[%d]: URLs must be absolute http(s) URLs", i)
		}
	}
	for i, f := range o.Fulfillments {
		switch {
		case f.ID == "":
			return fmt.Errorf("fulfillments[%d]: id is required", i)
		case f.Type != FulfillmentShipping && f.Type != "pickup" && f.Type != FulfillmentDigital:
			return fmt.Errorf("fulfillments[%d]: type %q is not shipping, pickup or digital", i, f.Type)
		case f.TrackingURL != "" && !validURL(f.TrackingURL):
			return fmt.Errorf("fulfillments[%d]: tracking URL %q is not an absolute http(s) URL", i, f.TrackingURL)
		}
		if err := checkLineRefs(f.LineItems); err != nil {
			return fmt.Errorf("fulfillments[%d]: %w", i, err)
		}
		for j, e := range f.Events {
			if e.ID == "" || e.Type == "" || e.OccurredAt.IsZero() {
				return fmt.Errorf("fulfillments[%d].events[%d]: id, type and occurred_at are required", i, j)
			}
		}
	}
	for i, a := range o.Adjustments {
		switch {
		case a.ID == "" || a.Type == "" || a.Status == "" || a.OccurredAt.IsZero():
			return fmt.Errorf("adjustments[%d]: id, type, status and occurred_at are required", i)
		case a.Amount < 0:
			return fmt.Errorf("adjustments[%d]: negative amount", i)
		case a.Currency != "" && !lowerCurrency(a.Currency):
			return fmt.Errorf("adjustments[%d]: currency %q is not a lower-case ISO 4217 code", i, a.Currency)
		}
		if err := checkLineRefs(a.LineItems); err != nil {
			return fmt.Errorf("adjustments[%d]: %w", i, err)
		}
	}
	if len(o.Totals) > 0 {
		// amount_refunded is the order's own entry: outside the sum.
		var totals []Total
		refunded, n := int64(0), 0
		for _, t := range o.Totals {
			if t.Type == TotalAmountRefunded {
				refunded, n = t.Amount, n+1
				if t.DisplayText == "" {
					return errors.New("totals: amount_refunded has no display text")
				}
				continue
			}
			totals = append(totals, t)
		}
		if err := CheckTotals(totals); err != nil {
			return err
		}
		for _, t := range totals {
			if t.Type == TotalTotal && (n > 1 || refunded < 0 || refunded > t.Amount) {
				return fmt.Errorf("totals: amount_refunded must appear at most once, within 0..total %d", t.Amount)
			}
		}
	}
	return nil
}

// TotalAmountRefunded is an order's cumulative refunds: an order totals
// entry outside the checkout sum ("total" stays the original charge).
const TotalAmountRefunded TotalType = "amount_refunded"

func checkLineRefs(refs []LineItemRef) error {
	for j, r := range refs {
		if r.ID == "" || r.Quantity < 1 {
			return fmt.Errorf("line_items[%d]: an id and a quantity ≥ 1 are required", j)
		}
	}
	return nil
}

func lowerCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'a' || c[i] > 'z' {
			return false
		}
	}
	return true
}
