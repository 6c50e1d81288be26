package shops_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// inlineFake is webhookFake whose catalog calls fail with err (after
// being recorded) and whose store answers every insert with dup.
type inlineFake struct {
	*webhookFake
	err error
	dup bool
}

func (f *inlineFake) ProductChanged(ctx context.Context, shop string, id int64) error {
	_ = f.webhookFake.ProductChanged(ctx, shop, id)
	return f.err
}

func (f *inlineFake) ProductDeleted(ctx context.Context, shop string, id int64) error {
	_ = f.webhookFake.ProductDeleted(ctx, shop, id)
	return f.err
}

func (f *inlineFake) InventoryChanged(ctx context.Context, shop string, id int64) error {
	_ = f.webhookFake.InventoryChanged(ctx, shop, id)
	return f.err
}

func (f *inlineFake) BulkFinished(ctx context.Context, shop, id string) error {
	_ = f.webhookFake.BulkFinished(ctx, shop, id)
	return f.err
}

func (f *inlineFake) InsertWebhookEvent(ctx context.Context, ev app.WebhookEvent) (int64, bool, error) {
	id, _, err := f.webhookFake.InsertWebhookEvent(ctx, ev)
	return id, f.dup, err
}

// TestReceiveHandledFirst: a delivery of HandledFirstTopics is handled in
// its request, then stored once, already processed (no payload, no claim,
// no job, no second write); one whose handling fails is stored
// unprocessed, its payload kept, claimed for InlineClaim (the sweep hands
// it to a job once that passes), and is still answered as stored. A
// redelivery is handled again (harmless for these topics) and answered as
// a duplicate. bulk_operations/finish is stored claimed first, then
// finished.
func TestReceiveHandledFirst(t *testing.T) {
	t.Parallel()
	const shop = "a-shop.myshopify.com"
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	fail := errors.New("enqueue failed")
	cases := []struct {
		topic, body string
		err         error
		dup         bool
		call        string
		processed   bool // stored processed
		finished    int  // FinishWebhookEvent calls (a second write)
	}{
		{"products/create", `{"id":12}`, nil, false, "product_changed 12", true, 0},
		{"products/update", `{"id":12}`, nil, false, "product_changed 12", true, 0},
		{"products/delete", `{"id":12}`, nil, false, "product_deleted 12", true, 0},
		{"inventory_levels/update", `{"inventory_item_id":34}`, nil, false, "inventory_changed 34", true, 0},
		{"inventory_levels/update", `{"inventory_item_id":34}`, fail, false, "inventory_changed 34", false, 0},
		{"products/delete", `{"id":12}`, fail, false, "product_deleted 12", false, 0},
		{"products/update", `{"id":12}`, nil, true, "product_changed 12", true, 0},
		{"bulk_operations/finish", `{"admin_graphql_api_id":"gid://shopify/BulkOperation/5"}`, nil, false,
			"bulk_finished gid://shopify/BulkOperation/5", true, 1},
	}
	for _, c := range cases {
		name := c.topic
		if c.err != nil {
			name += " failing"
		}
		if c.dup {
			name += " redelivered"
		}
		t.Run(name, func(t *testing.T) {
			fake := &inlineFake{webhookFake: &webhookFake{known: map[string]app.ShopStatus{shop: app.ShopActive}}, err: c.err, dup: c.dup}
			w := &shops.ShopifyWebhooks{Shopify: &shops.Shopify{ClientSecret: fuzzWebhookSecret, Store: fake, Queue: fake,
				Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}, Catalog: fake}
			body := []byte(c.body)
			dup, err := w.ReceiveWebhook(context.Background(), shops.WebhookDelivery{
				Topic: c.topic, Shop: shop, WebhookID: "w1", EventID: "e1", HMAC: shopify.SignWebhook(body, fuzzWebhookSecret),
				Body: bytes.NewReader(body), ContentLength: int64(len(body)), TriggeredAt: now.Format(time.RFC3339),
			})
			if err != nil || dup != c.dup {
				t.Fatalf("ReceiveWebhook = %v, %v; want duplicate %v", dup, err, c.dup)
			}
			if !slices.Equal(fake.catalog, []string{c.call}) {
				t.Fatalf("catalog calls %q, want %q", fake.catalog, c.call)
			}
			if len(fake.stored) != 1 || fake.enqueued != 0 || len(fake.finished) != c.finished {
				t.Fatalf("%d inserts, %d jobs, %d finishes; want 1, 0, %d", len(fake.stored), fake.enqueued, len(fake.finished), c.finished)
			}
			ev := fake.stored[0]
			switch {
			case c.finished > 0:
				if ev.ProcessedAt != nil || ev.ClaimedUntil == nil {
					t.Fatalf("stored before its processing: %+v, want unprocessed and claimed", ev)
				}
			case c.processed:
				if ev.ProcessedAt == nil || !ev.ProcessedAt.Equal(now) || ev.Outcome == "" || string(ev.Payload) != "{}" || ev.ClaimedUntil != nil {
					t.Fatalf("stored: %+v, want processed with its outcome, no payload, no claim", ev)
				}
			default:
				if ev.ProcessedAt != nil || ev.ClaimedUntil == nil || !ev.ClaimedUntil.Equal(now.Add(shops.InlineClaim)) || string(ev.Payload) != c.body {
					t.Fatalf("stored after a failed handling: %+v, want unprocessed, claimed for InlineClaim, its payload kept", ev)
				}
			}
		})
	}
}
