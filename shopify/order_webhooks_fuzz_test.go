package shopify_test

import (
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
)

// FuzzParseOrderWebhooks: any body, under any of the order topics, is
// refused with a *PayloadError or accepted without panicking, and whatever
// is accepted keeps the parsers' promises: positive ids, GIDs that match
// them, amounts that add up.
func FuzzParseOrderWebhooks(f *testing.F) {
	for _, s := range []string{orderJSON, fulfillmentJSON, refundJSON, draftOrderJSON, `{}`, `{"id":1}`, `null`, `{"id":"1","line_items":[{}]}`} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(2), []byte(s))
		f.Add(uint8(4), []byte(s))
		f.Add(uint8(5), []byte(s))
		f.Add(uint8(7), []byte(s))
	}
	topics := []string{
		shopify.TopicOrdersUpdated, shopify.TopicOrdersCancelled, shopify.TopicFulfillmentsCreate,
		shopify.TopicFulfillmentsUpdate, shopify.TopicRefundsCreate, shopify.TopicOrdersCreate, shopify.TopicOrdersPaid,
		shopify.TopicDraftOrdersUpdate,
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		topic := topics[int(which)%len(topics)]
		switch topic {
		case shopify.TopicDraftOrdersUpdate:
			d, err := shopify.ParseDraftOrderWebhook(topic, body)
			if err != nil {
				mustPayloadError(t, err)
				return
			}
			if d.ID <= 0 || d.GID != "gid://shopify/DraftOrder/"+strconv.FormatInt(d.ID, 10) || d.Name == "" || d.Status == "" || d.OrderID < 0 {
				t.Fatalf("accepted draft order %+v", d)
			}
			if (d.OrderID == 0) != (d.OrderGID == "") || (d.Status == "completed" && d.OrderID == 0) {
				t.Fatalf("accepted draft order %+v: order id and GID disagree", d)
			}
			checkNoteAttributes(t, d.NoteAttributes)
		case shopify.TopicOrdersUpdated, shopify.TopicOrdersCancelled, shopify.TopicOrdersCreate, shopify.TopicOrdersPaid:
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
			checkNoteAttributes(t, o.NoteAttributes)
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

func checkNoteAttributes(t *testing.T, attrs []shopify.NoteAttribute) {
	t.Helper()
	for _, a := range attrs {
		if strings.TrimSpace(a.Name) == "" {
			t.Fatalf("accepted note attribute without a name: %+v", attrs)
		}
	}
}
