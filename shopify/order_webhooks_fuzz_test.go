package shopify_test

import (
	"math/big"
	"strconv"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
)

// FuzzParseOrderWebhooks: any body, under any of the order topics, is
// refused with a *PayloadError or accepted without panicking, and whatever
// is accepted keeps the parsers' promises: positive ids, GIDs that match
// them, amounts that add up.
func FuzzParseOrderWebhooks(f *testing.F) {
	for _, s := range []string{orderJSON, fulfillmentJSON, refundJSON, `{}`, `{"id":1}`, `null`, `{"id":"1","line_items":[{}]}`} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(2), []byte(s))
		f.Add(uint8(4), []byte(s))
	}
	topics := []string{
		shopify.TopicOrdersUpdated, shopify.TopicOrdersCancelled, shopify.TopicFulfillmentsCreate,
		shopify.TopicFulfillmentsUpdate, shopify.TopicRefundsCreate,
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		topic := topics[int(which)%len(topics)]
		switch topic {
		case shopify.TopicOrdersUpdated, shopify.TopicOrdersCancelled:
			o, err := shopify.ParseOrderWebhook(topic, body)
			if err != nil {
				mustPayloadError(t, err)
				return
			}
			if o.ID <= 0 || o.GID != "gid://shopify/Order/"+strconv.FormatInt(o.ID, 10) || o.Name == "" || len(o.Currency) != 3 {
				t.Fatalf("accepted order %+v", o)
			}
			if topic == shopify.TopicOrdersCancelled && o.CancelledAt == nil {
				t.Fatal("accepted orders/cancelled without cancelled_at")
			}
			for _, fw := range o.Fulfillments {
				checkFulfillment(t, &fw)
				if fw.OrderID != o.ID {
					t.Fatalf("fulfillment of order %d in order %d", fw.OrderID, o.ID)
				}
			}
			for _, r := range o.Refunds {
				checkRefund(t, &r)
			}
		case shopify.TopicRefundsCreate:
			r, err := shopify.ParseRefundWebhook(topic, body)
			if err != nil {
				mustPayloadError(t, err)
				return
			}
			checkRefund(t, r)
		default:
			fw, err := shopify.ParseFulfillmentWebhook(topic, body)
			if err != nil {
				mustPayloadError(t, err)
				return
			}
			checkFulfillment(t, fw)
		}
	})
}

func mustPayloadError(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*shopify.PayloadError); !ok {
		t.Fatalf("error %T %v is not a *PayloadError", err, err)
	}
}

func checkFulfillment(t *testing.T, f *shopify.FulfillmentWebhook) {
	t.Helper()
	if f.ID <= 0 || f.OrderID <= 0 || f.GID != "gid://shopify/Fulfillment/"+strconv.FormatInt(f.ID, 10) || f.Status == "" {
		t.Fatalf("accepted fulfillment %+v", f)
	}
	for _, l := range f.LineItems {
		if l.ID <= 0 || l.Quantity < 0 || l.VariantID < 0 {
			t.Fatalf("accepted line %+v", l)
		}
	}
}

func checkRefund(t *testing.T, r *shopify.RefundWebhook) {
	t.Helper()
	if r.ID <= 0 || r.OrderID <= 0 || r.GID != "gid://shopify/Refund/"+strconv.FormatInt(r.ID, 10) {
		t.Fatalf("accepted refund %+v", r)
	}
	if _, ok := new(big.Rat).SetString(r.Refunded()); !ok {
		t.Fatalf("refunded %q is not a number", r.Refunded())
	}
	for _, tx := range r.Transactions {
		if tx.ID <= 0 || tx.Kind == "" || tx.Status == "" {
			t.Fatalf("accepted transaction %+v", tx)
		}
	}
}
