package orderevents

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/shopify"
)

// An order placed at Shopify's checkout for a handoff session (a
// Shopify-checkout shop's, checkout/handoff.go) comes back by three topics:
// orders/create, orders/paid and draft_orders/update. Whichever arrives
// first completes the session; the others find it completed.

// handoffOrder acts on orders/create and orders/paid: an order carrying a
// session's note attribute completes that session once it is paid (or
// authorised: the money is Shopify's to take).
func (s *Service) handoffOrder(ctx context.Context, ev *app.WebhookEvent) (string, func(ctx context.Context) error, error) {
	o, err := shopify.ParseOrderWebhook(ev.Topic, ev.Payload)
	if err != nil {
		return "rejected: " + err.Error(), nil, nil
	}
	sessionID, _ := o.NoteAttribute(checkout.HandoffAttribute)
	if sessionID == "" {
		return ignoredNotHandoff, nil, nil
	}
	if ev.Topic == shopify.TopicOrdersCreate && !paid(o.FinancialStatus) {
		return "noted: not paid yet (" + o.FinancialStatus + "); orders/paid completes the session", nil, nil
	}
	var known *shopify.OrderRef
	if o.StatusURL != "" {
		// The payload (signed by Shopify) names the order fully: no
		// read of it is needed.
		known = &shopify.OrderRef{ID: o.GID, Name: o.Name, StatusPageURL: o.StatusURL, Total: o.TotalPrice}
	}
	return s.completeHandoff(ctx, ev.Shop, sessionID, "", o.GID, known, time.Time{})
}

// IgnoredOrderWebhook implements shops.OrderNoise: an orders/create or
// orders/paid without a handoff session's note attribute is an order the
// app has nothing to do with here (the app's own orders, written by
// orderCreate, are followed through their later topics; the merchant's
// other orders are none of its business), as handoffOrder would find.
func (s *Service) IgnoredOrderWebhook(ev *app.WebhookEvent) (string, bool) {
	if ev.Topic != shopify.TopicOrdersCreate && ev.Topic != shopify.TopicOrdersPaid {
		return "", false
	}
	// Most orders are not a handoff's: a body in which the attribute's
	// name cannot appear, not even escaped, is told apart without being
	// decoded (decoding an order took about 0.14 ms of CPU at 20
	// conversations/s, about half of what receiving one cost).
	if !bytes.Contains(ev.Payload, []byte(checkout.HandoffAttribute)) && !bytes.Contains(ev.Payload, []byte(`\u`)) {
		return ignoredNotHandoff, true
	}
	o, err := shopify.ParseOrderWebhook(ev.Topic, ev.Payload)
	if err != nil {
		return "", false // handoffOrder says why, in its own words
	}
	if sessionID, _ := o.NoteAttribute(checkout.HandoffAttribute); sessionID != "" {
		return "", false
	}
	return ignoredNotHandoff, true
}

// ignoredNotHandoff is the outcome of an order's news that is not of an
// agent's checkout at Shopify.
const ignoredNotHandoff = "ignored: not an order of an agent's checkout at Shopify"

// handoffDraft acts on draft_orders/update: a draft that became an order
// completes its session.
func (s *Service) handoffDraft(ctx context.Context, ev *app.WebhookEvent) (string, func(ctx context.Context) error, error) {
	d, err := shopify.ParseDraftOrderWebhook(ev.Topic, ev.Payload)
	if err != nil {
		return "rejected: " + err.Error(), nil, nil
	}
	var sessionID string
	for _, a := range d.NoteAttributes {
		if a.Name == checkout.HandoffAttribute {
			sessionID = a.Value
			break
		}
	}
	if sessionID == "" {
		return "ignored: not a draft order of an agent's checkout", nil, nil
	}
	if d.OrderGID == "" {
		return "noted: the draft is not an order yet (" + d.Status + ")", nil, nil
	}
	// The order's own webhooks (sent with this one) name the order
	// fully; this one only by id, which costs a read: they are left a
	// while to complete the session first.
	return s.completeHandoff(ctx, ev.Shop, sessionID, d.GID, d.OrderGID, nil, ev.ReceivedAt.Add(orderWebhookWait))
}

// orderWebhookWait is how long draft_orders/update leaves the completion
// of a handoff session to the order's own webhooks.
const orderWebhookWait = 5 * time.Second

// paid: Shopify holds the buyer's money (or its authorisation).
func paid(financialStatus string) bool {
	switch financialStatus {
	case "paid", "authorized", "partially_paid":
		return true
	}
	return false
}

// completeHandoff completes the session with Shopify's order: the session
// becomes completed with its order, a payment record without a provider
// charge is kept (so order_updates find the order, and refunds stay
// Shopify's), and the order_create is recorded, all in the webhook's
// transaction. The session's row version makes that happen once when two
// deliveries (or replicas) race: the loser's transaction fails, its job is
// retried and finds the session completed.
//
// known is the order as the webhook's payload gives it (orders/*), nil
// when the payload does not (draft_orders/update): then the order is read,
// with the cheapest query that names it (shopify.GetOrderRef), but not
// before readAfter (the delivery is deferred until then).
func (s *Service) completeHandoff(ctx context.Context, domain, sessionID, draftID, orderID string, known *shopify.OrderRef,
	readAfter time.Time) (string, func(ctx context.Context) error, error) {
	sh := app.ShopFromContext(ctx, domain) // the webhook request's, when inline
	var err error
	if sh == nil {
		sh, err = s.Store.ShopByDomain(ctx, domain)
	}
	if errors.Is(err, app.ErrNotFound) {
		return "ignored: unknown shop", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	cs, err := s.Store.CheckoutSession(ctx, sh.ID, sessionID)
	if errors.Is(err, app.ErrNotFound) {
		return "ignored: no such checkout session", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if cs.State.Handoff == nil {
		return "ignored: the session was not handed to Shopify's checkout", nil, nil
	}
	if draftID != "" && cs.State.Handoff.DraftID != draftID {
		return "ignored: not the session's draft order", nil, nil
	}
	if cs.State.Order != nil {
		return "already completed with " + cs.State.Order.Name, nil, nil
	}
	so := known
	if so == nil && s.now().Before(readAfter) {
		return "noted: orders/create or orders/paid completes the session; looked at again at " + readAfter.UTC().Format(time.RFC3339),
			nil, &app.WebhookDeferred{Until: readAfter}
	}
	if so == nil {
		if so, err = shopify.GetOrderRef(ctx, s.Shopify, sh.Domain, orderID); err != nil {
			return "", nil, err
		}
	}
	if so == nil {
		// Shopify's order reads are consistent at once: a delivery naming
		// an order the shop does not have is not to be retried.
		return "ignored: order " + orderID + " does not exist in Shopify", nil, nil
	}
	order := checkout.ShopOrder{ID: so.ID, Name: so.Name, StatusURL: so.StatusPageURL}
	if total, err := app.ParseMoney(so.Total, cs.Currency); err == nil && s.Logger != nil {
		if want, _ := checkout.HandoffPayment(cs, order, s.now()); want != nil && want.Amount != total {
			s.Logger.WarnContext(ctx, "a Shopify-checkout order's total differs from its session's", "session", cs.ID,
				"order", so.ID, "order_total", total, "session_total", want.Amount)
		}
	}
	record := func(ctx context.Context) error {
		var cur *checkout.Session
		now := s.now()
		for attempt := 1; ; attempt++ {
			if cur, err = s.Store.CheckoutSession(ctx, sh.ID, sessionID); err != nil {
				return err
			}
			if !checkout.CompleteHandoff(cur, order, now) {
				return nil // completed meanwhile (another delivery, another replica)
			}
			// A conditional write that loses leaves the transaction usable:
			// read again and look.
			err = s.Store.SaveCheckoutSession(ctx, cur)
			if err == nil {
				break
			}
			if !errors.Is(err, app.ErrConflict) || attempt == 3 {
				return err
			}
		}
		p, err := checkout.HandoffPayment(cur, order, now)
		if err != nil {
			return err
		}
		if err := s.Store.SavePayment(ctx, p); err != nil {
			return err
		}
		return s.OrderCreated(ctx, cur, p)
	}
	return "session " + sessionID + " completed with " + so.Name + "; agent told", record, nil
}
