package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

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
