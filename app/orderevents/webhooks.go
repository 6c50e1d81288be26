package orderevents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/shopify"
)

// OrderWebhook acts on an order webhook (ShopifyWebhooks calls it for the
// order topics): for an order this app wrote for an agent, it gives the
// money back through the payment provider for a refund or a cancellation, then returns
// the order_update to record. The external calls come first and are each
// safe to repeat; record stores the event in the caller's transaction,
// with the delivery's outcome. An error leaves the delivery to be retried.
func (s *Service) OrderWebhook(ctx context.Context, ev *app.WebhookEvent) (string, func(ctx context.Context) error, error) {
	var (
		orderNum int64
		refund   *shopify.RefundWebhook
	)
	switch ev.Topic {
	case shopify.TopicFulfillmentsCreate, shopify.TopicFulfillmentsUpdate:
		f, err := shopify.ParseFulfillmentWebhook(ev.Topic, ev.Payload)
		if err != nil {
			return "rejected: " + err.Error(), nil, nil
		}
		orderNum = f.OrderID
	case shopify.TopicRefundsCreate:
		r, err := shopify.ParseRefundWebhook(ev.Topic, ev.Payload)
		if err != nil {
			return "rejected: " + err.Error(), nil, nil
		}
		orderNum, refund = r.OrderID, r
	case shopify.TopicOrdersCancelled:
		o, err := shopify.ParseOrderWebhook(ev.Topic, ev.Payload)
		if err != nil {
			return "rejected: " + err.Error(), nil, nil
		}
		orderNum = o.ID
	case shopify.TopicOrdersCreate, shopify.TopicOrdersPaid:
		return s.handoffOrder(ctx, ev)
	case shopify.TopicDraftOrdersUpdate:
		return s.handoffDraft(ctx, ev)
	default:
		return "ignored: order changes arrive through their own topics", nil, nil
	}
	sh := app.ShopFromContext(ctx, ev.Shop) // the webhook request's, when inline
	var err error
	if sh == nil {
		sh, err = s.Store.ShopByDomain(ctx, ev.Shop)
	}
	if errors.Is(err, app.ErrNotFound) {
		return "ignored: unknown shop", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	orderID := "gid://shopify/Order/" + strconv.FormatInt(orderNum, 10)
	p, err := s.Store.CheckoutPaymentByOrder(ctx, sh.ID, orderID)
	if errors.Is(err, app.ErrNotFound) {
		return "ignored: not an order created by the app", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	cs, err := s.Store.CheckoutSession(ctx, sh.ID, p.SessionID)
	if err != nil {
		return "", nil, err
	}
	so, err := shopify.GetOrder(ctx, s.Shopify, sh.Domain, orderID)
	if err != nil {
		return "", nil, err
	}
	if so == nil {
		return "ignored: the order no longer exists in Shopify", nil, nil
	}

	outcome := "agent told"
	switch ev.Topic {
	case shopify.TopicRefundsCreate:
		amount, err := app.ParseMoney(refund.Refunded(), cs.Currency)
		if err != nil {
			return "rejected: refund amount: " + err.Error(), nil, nil
		}
		if amount > 0 {
			what, err := s.refund(ctx, sh, p, amount, "shopify_refund/"+strconv.FormatInt(refund.ID, 10))
			if err != nil {
				return "", nil, err
			}
			outcome = what + "; " + outcome
		}
	case shopify.TopicOrdersCancelled:
		what, err := s.cancelPayment(ctx, sh, p, so)
		if err != nil {
			return "", nil, err
		}
		outcome = what + "; " + outcome
	}
	out, err := s.prepare(cs, p, so, acp.EventOrderUpdate)
	if err != nil {
		return "", nil, err
	}
	return outcome, func(ctx context.Context) error { return s.record(ctx, out) }, nil
}

// refund gives amount back on the order's PaymentIntent, once per key.
func (s *Service) refund(ctx context.Context, sh *app.Shop, p *checkout.Payment, amount int64, what string) (string, error) {
	if p.PaymentIntentID == "" || p.State != checkout.PaymentCompleted {
		return "no captured payment to refund", nil
	}
	pay, err := s.Payments.Open(ctx, s.Store, s.Keys, sh.ID)
	if err != nil {
		return "", err
	}
	r, err := pay.Refund(ctx, pay.Credentials, p.PaymentIntentID, amount, refundKey(sh.ID, p.OrderID, what))
	if errors.Is(err, checkout.ErrRefundRefused) {
		if s.Logger != nil {
			s.Logger.WarnContext(ctx, "the payment provider refused a refund of an agent order", "provider", pay.Name(),
				"shop_id", sh.ID, "session", p.SessionID, "amount", amount, "err", err)
		}
		return pay.Name() + " refused the refund of " + strconv.FormatInt(amount, 10) + ": " + app.Truncate(err.Error(), 200), nil
	}
	if err != nil {
		return "", fmt.Errorf("refund %d of %s: %w", amount, p.PaymentIntentID, err)
	}
	return "refunded " + strconv.FormatInt(r.Amount, 10) + " on " + pay.Name() + " (" + r.ID + ")", nil
}

// cancelPayment gives back what a cancelled order still holds: the
// captured amount not refunded yet (refunds Shopify made with the
// cancellation have their own refunds/create), or the authorisation.
func (s *Service) cancelPayment(ctx context.Context, sh *app.Shop, p *checkout.Payment, so *shopify.Order) (string, error) {
	switch p.State {
	case checkout.PaymentCompleted:
		var refunded int64
		for _, r := range so.Refunds {
			if refundStatus(r) == acp.AdjustmentFailed {
				continue
			}
			n, err := app.ParseMoney(r.Total, p.Currency)
			if err != nil {
				return "", fmt.Errorf("refund %s: %w", r.ID, err)
			}
			refunded += n
		}
		left := p.Amount - refunded
		if left <= 0 {
			return "nothing left to refund", nil
		}
		return s.refund(ctx, sh, p, left, "cancellation")
	case checkout.PaymentAuthorized, checkout.PaymentOrdered:
		if p.PaymentIntentID == "" {
			return "no payment to release", nil
		}
		pay, err := s.Payments.Open(ctx, s.Store, s.Keys, sh.ID)
		if err != nil {
			return "", err
		}
		if err := pay.Cancel(ctx, pay.Credentials, p.PaymentIntentID, refundKey(sh.ID, p.OrderID, "cancel_authorization")); err != nil {
			return "", fmt.Errorf("cancel the authorisation %s: %w", p.PaymentIntentID, err)
		}
		return "authorisation released on " + pay.Name(), nil
	}
	return "no payment to give back", nil
}

// refundKey is the payment provider's idempotency key of one refund of one order.
func refundKey(shopID int64, orderID, what string) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(shopID, 10) + "/" + orderID + "/" + what))
	return "acpb_rf_" + hex.EncodeToString(sum[:16])
}
