package orderevents

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/shopify"
)

// buildOrder is the protocol's order of a completed session: its lines and
// totals from the session, and, when Shopify's order is given, what was
// shipped, refunded or cancelled since.
func buildOrder(cs *checkout.Session, p *checkout.Payment, so *shopify.Order) (*acp.Order, error) {
	view := cs.View()
	totals, err := view.Totals()
	if err != nil {
		return nil, err
	}
	o := &acp.Order{ID: p.OrderID, CheckoutSessionID: cs.ID, PermalinkURL: orderPermalink(cs, p), OrderNumber: p.OrderName,
		Status: acp.OrderStatusConfirmed, Totals: totals}
	byVariant := addOrderLines(o, view)
	if so == nil {
		return o, nil
	}
	currency := strings.ToLower(cs.Currency)
	lineOf := matchShopifyLines(o, so, byVariant)
	shipped := addFulfillments(o, so, lineOf, fulfillmentKind(cs))
	allFulfilled, anyCurrent := setLineStatuses(o, shipped.fulfilled)
	refunded, err := addRefunds(o, cs, so, lineOf, currency)
	if err != nil {
		return nil, err
	}
	if so.CancelledAt != nil {
		refunded += addCancellation(o, p, so, refunded, currency)
	} else if shipped.live > 0 {
		o.Status = shippedStatus(allFulfilled && anyCurrent, shipped.delivered == shipped.live)
	}
	if refunded > 0 {
		addRefundedTotal(o, totals, refunded)
	}
	return o, nil
}

// orderPermalink is the order's status page: the one the payment recorded,
// else the one the session's state kept.
func orderPermalink(cs *checkout.Session, p *checkout.Payment) string {
	permalink := p.OrderStatusURL
	if permalink == "" && cs.State.Order != nil {
		permalink = cs.State.Order.StatusURL
	}
	return permalink
}

// addOrderLines appends the session's lines to o, all still processing, and
// returns each line's index by variant GID (to match Shopify's lines).
func addOrderLines(o *acp.Order, view *acp.Session) map[string]int {
	byVariant := map[string]int{} // variant GID → index in o.LineItems
	for i, l := range view.LineItems {
		li := acp.OrderLineItem{ID: l.ID, Title: l.Name, ProductID: l.ProductID, Ordered: l.Quantity, Current: l.Quantity,
			UnitPrice: l.UnitAmount, Subtotal: l.UnitAmount * int64(l.Quantity), Status: "processing"}
		if len(l.Images) > 0 {
			li.ImageURL = l.Images[0]
		}
		if li.Title == "" {
			li.Title = "Item " + l.ItemID
		}
		o.LineItems = append(o.LineItems, li)
		byVariant["gid://shopify/ProductVariant/"+l.VariantID] = i
	}
	return byVariant
}

// matchShopifyLines maps Shopify's line IDs onto o's lines, by variant (the
// order was written from the session's lines, in order, so the position is
// the fallback), and takes each line's current quantity from Shopify.
func matchShopifyLines(o *acp.Order, so *shopify.Order, byVariant map[string]int) map[string]int {
	lineOf := map[string]int{}
	for i, sl := range so.LineItems {
		j, ok := byVariant[sl.VariantID]
		if !ok && i < len(o.LineItems) {
			j, ok = i, true
		}
		if ok {
			lineOf[sl.ID] = j
			if c := sl.CurrentQuantity; c >= 0 && c <= o.LineItems[j].Ordered {
				o.LineItems[j].Current = c
			}
		}
	}
	return lineOf
}

// lineRefs lists the quantities per line ID in the order of o's lines,
// leaving out the lines with none.
func lineRefs(o *acp.Order, lines map[string]int) []acp.LineItemRef {
	var out []acp.LineItemRef
	for j := range o.LineItems {
		if n := lines[o.LineItems[j].ID]; n > 0 {
			out = append(out, acp.LineItemRef{ID: o.LineItems[j].ID, Quantity: n})
		}
	}
	return out
}

// fulfillmentKind is how the session's goods reach the buyer.
func fulfillmentKind(cs *checkout.Session) acp.FulfillmentType {
	if !cs.State.Quote.NeedsShipping {
		return acp.FulfillmentDigital
	}
	return acp.FulfillmentShipping
}

// shipment sums up an order's fulfillments: live counts those neither
// cancelled nor failed, delivered those of them delivered, and fulfilled is
// the quantity they carry per line ID.
type shipment struct {
	live, delivered int
	fulfilled       map[string]int
}

// addFulfillments appends Shopify's fulfillments to o and sums them up.
func addFulfillments(o *acp.Order, so *shopify.Order, lineOf map[string]int, kind acp.FulfillmentType) shipment {
	s := shipment{fulfilled: map[string]int{}}
	for _, f := range so.Fulfillments {
		of := acp.OrderFulfillment{ID: f.ID, Type: kind, Status: fulfillmentStatus(f, kind)}
		if len(f.Tracking) > 0 {
			t := f.Tracking[0]
			of.Carrier, of.TrackingNumber = t.Company, t.Number
			if u, err := url.Parse(t.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				of.TrackingURL = t.URL
			}
		}
		lines := map[string]int{}
		for _, fl := range f.Lines {
			if j, ok := lineOf[fl.LineItemID]; ok && fl.Quantity > 0 {
				lines[o.LineItems[j].ID] += fl.Quantity
			}
		}
		of.LineItems = lineRefs(o, lines)
		if of.Status != acp.FulfillmentStatusCanceled && of.Status != acp.FulfillmentStatusFailed {
			s.live++
			if of.Status == acp.FulfillmentStatusDelivered {
				s.delivered++
			}
			for id, n := range lines {
				s.fulfilled[id] += n
			}
		}
		of.Events = fulfillmentEvents(f)
		o.Fulfillments = append(o.Fulfillments, of)
	}
	return s
}

// fulfillmentEvents are the steps a fulfillment has passed, each with a
// stable ID (the fulfillment's, with the step) so agents can deduplicate.
func fulfillmentEvents(f shopify.Fulfillment) []acp.FulfillmentEvent {
	var events []acp.FulfillmentEvent
	if !f.CreatedAt.IsZero() {
		events = append(events, acp.FulfillmentEvent{ID: f.ID + "#shipped", Type: "shipped", OccurredAt: f.CreatedAt})
	}
	if f.InTransitAt != nil {
		events = append(events, acp.FulfillmentEvent{ID: f.ID + "#in_transit", Type: "in_transit", OccurredAt: *f.InTransitAt})
	}
	if f.DeliveredAt != nil {
		events = append(events, acp.FulfillmentEvent{ID: f.ID + "#delivered", Type: "delivered", OccurredAt: *f.DeliveredAt})
	}
	return events
}

// setLineStatuses sets each line's fulfilled quantity and status, and says
// whether every line still ordered is fully fulfilled and whether any is.
func setLineStatuses(o *acp.Order, fulfilled map[string]int) (allFulfilled, anyCurrent bool) {
	allFulfilled = true
	for j := range o.LineItems {
		l := &o.LineItems[j]
		l.Fulfilled = min(fulfilled[l.ID], l.Current)
		switch {
		case l.Current == 0:
			l.Status = "removed"
			continue
		case l.Fulfilled == l.Current:
			l.Status = "fulfilled"
		case l.Fulfilled > 0:
			l.Status, allFulfilled = "partial", false
		default:
			allFulfilled = false
		}
		anyCurrent = true
	}
	return allFulfilled, anyCurrent
}

// addRefunds appends Shopify's refunds to o as adjustments and returns the
// amount refunded (the failed ones left out).
func addRefunds(o *acp.Order, cs *checkout.Session, so *shopify.Order, lineOf map[string]int, currency string) (int64, error) {
	var refunded int64
	for _, r := range so.Refunds {
		amount, err := app.ParseMoney(r.Total, cs.Currency)
		if err != nil {
			return 0, fmt.Errorf("refund %s: %w", r.ID, err)
		}
		adj := acp.OrderAdjustment{ID: r.ID, Type: acp.AdjustmentRefund, OccurredAt: r.CreatedAt, Status: refundStatus(r),
			Amount: amount, Currency: currency, Description: app.Truncate(r.Note, 500)}
		if adj.OccurredAt.IsZero() {
			adj.OccurredAt = so.UpdatedAt
		}
		lines := map[string]int{}
		for _, rl := range r.Lines {
			if j, ok := lineOf[rl.LineItemID]; ok && rl.Quantity > 0 {
				lines[o.LineItems[j].ID] += rl.Quantity
			}
		}
		adj.LineItems = lineRefs(o, lines)
		if adj.Status != acp.AdjustmentFailed {
			refunded += amount
		}
		o.Adjustments = append(o.Adjustments, adj)
	}
	return refunded, nil
}

// addCancellation marks o cancelled and appends the cancellation's
// adjustment; it returns what the cancellation itself gave back: the
// captured amount not already refunded.
func addCancellation(o *acp.Order, p *checkout.Payment, so *shopify.Order, refunded int64, currency string) int64 {
	o.Status = acp.OrderStatusCanceled
	var back int64
	if p.State == checkout.PaymentCompleted {
		back = max(0, p.Amount-refunded)
	}
	o.Adjustments = append(o.Adjustments, acp.OrderAdjustment{ID: so.ID + "#cancellation", Type: acp.AdjustmentCancellation,
		OccurredAt: *so.CancelledAt, Status: acp.AdjustmentCompleted, Amount: back, Currency: currency,
		Reason: strings.ToLower(so.CancelReason)})
	return back
}

// shippedStatus is the status of an order with live fulfillments: completed
// when every line is fulfilled and every fulfillment delivered, shipped when
// every line is fulfilled, else processing.
func shippedStatus(allFulfilled, allDelivered bool) string {
	switch {
	case allFulfilled && allDelivered:
		return acp.OrderStatusCompleted
	case allFulfilled:
		return acp.OrderStatusShipped
	default:
		return acp.OrderStatusProcessing
	}
}

// addRefundedTotal appends the amount refunded to o's totals, at most the
// order's total.
func addRefundedTotal(o *acp.Order, totals []acp.Total, refunded int64) {
	var total int64
	for _, t := range totals {
		if t.Type == acp.TotalTotal {
			total = t.Amount
		}
	}
	o.Totals = append(o.Totals, acp.Total{Type: acp.TotalAmountRefunded, DisplayText: "Refunded", Amount: min(refunded, total)})
}

// fulfillmentStatus maps a Shopify fulfillment onto the protocol's.
func fulfillmentStatus(f shopify.Fulfillment, kind acp.FulfillmentType) string {
	switch f.Status {
	case "CANCELLED":
		return acp.FulfillmentStatusCanceled
	case "ERROR", "FAILURE":
		return acp.FulfillmentStatusFailed
	}
	if f.DeliveredAt != nil || kind == acp.FulfillmentDigital {
		return acp.FulfillmentStatusDelivered
	}
	switch f.DisplayStatus {
	case "DELIVERED", "PICKED_UP":
		return acp.FulfillmentStatusDelivered
	case "IN_TRANSIT", "ATTEMPTED_DELIVERY", "DELAYED":
		return acp.FulfillmentStatusInTransit
	case "OUT_FOR_DELIVERY":
		return acp.FulfillmentStatusOutForDelivery
	case "FAILURE", "NOT_DELIVERED", "CARRIER_PICKED_UP_FAILED":
		return acp.FulfillmentStatusFailed
	}
	return acp.FulfillmentStatusShipped
}

// refundStatus is a Shopify refund's state by its refund transactions.
func refundStatus(r shopify.Refund) string {
	pending, failed, ok := false, false, false
	for _, t := range r.Transactions {
		switch t.Status {
		case "SUCCESS":
			ok = true
		case "PENDING", "AWAITING_RESPONSE":
			pending = true
		case "FAILURE", "ERROR":
			failed = true
		}
	}
	switch {
	case ok || !pending && !failed:
		return acp.AdjustmentCompleted
	case pending:
		return acp.AdjustmentPending
	}
	return acp.AdjustmentFailed
}
