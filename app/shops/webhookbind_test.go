package shops_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// receiveNow is the clock of the receiver tests; deliveries are triggered
// five minutes before it unless a case says otherwise.
var receiveNow = time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC)

func newReceiver() (*shops.Shopify, *webhookFake) {
	fake := &webhookFake{known: map[string]app.ShopStatus{
		"a-shop.myshopify.com": app.ShopActive, "b-shop.myshopify.com": app.ShopActive, "gone.myshopify.com": app.ShopUninstalled,
	}}
	return &shops.Shopify{ClientSecret: fuzzWebhookSecret, Store: fake, Queue: fake,
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return receiveNow }}, fake
}

func delivery(topic, shop, body string) shops.WebhookDelivery {
	return shops.WebhookDelivery{
		Topic: topic, Shop: shop, WebhookID: "w-" + topic, EventID: "e-" + topic, TriggeredAt: "2026-11-27T10:00:00Z",
		HMAC: shopify.SignWebhook([]byte(body), fuzzWebhookSecret), Body: strings.NewReader(body), ContentLength: int64(len(body)),
	}
}

// TestReceiveWebhookBindsPrivacyTopics: the HMAC covers the body only, so
// a privacy or uninstall delivery is stored only when its signed body has
// its topic's documented shape and names the header's shop (and the
// Shopify shop id we hold). Each refused case is a genuinely signed body
// re-sent under another topic or shop header, as the attack did.
func TestReceiveWebhookBindsPrivacyTopics(t *testing.T) {
	t.Parallel()
	const (
		a, b         = "a-shop.myshopify.com", "b-shop.myshopify.com"
		shopRedactA  = `{"shop_id":954889,"shop_domain":"a-shop.myshopify.com"}`
		custRedactA  = `{"shop_id":954889,"shop_domain":"a-shop.myshopify.com","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263]}`
		dataRequestA = `{"shop_id":954889,"shop_domain":"a-shop.myshopify.com","orders_requested":[299938],"customer":{"id":191167,"email":"john@example.com","phone":null},"data_request":{"id":9999}}`
		uninstallA   = `{"id":954889,"name":"A","domain":"a.example","myshopify_domain":"a-shop.myshopify.com"}`
		productA     = `{"id":788032119674292922,"title":"Example T-Shirt","admin_graphql_api_id":"gid://shopify/Product/788032119674292922"}`
	)
	cases := []struct {
		name, topic, shop, body string
		code                    app.Code // "" when stored
	}{
		{"shop/redact of A", shops.TopicShopRedact, a, shopRedactA, ""},
		{"customers/redact of A", shops.TopicCustomersRedact, a, custRedactA, ""},
		{"customers/data_request of A", shops.TopicCustomersDataRequest, a, dataRequestA, ""},
		{"app/uninstalled of A", shops.TopicAppUninstalled, a, uninstallA, ""},
		{"domain in another case", shops.TopicShopRedact, a, strings.Replace(shopRedactA, `"a-shop.`, `"A-Shop.`, 1), ""},

		{"A's products/update as B's shop/redact (the attack)", shops.TopicShopRedact, b, productA, app.CodeInvalid},
		{"A's products/update as A's shop/redact", shops.TopicShopRedact, a, productA, app.CodeInvalid},
		{"A's shop/redact under B's header", shops.TopicShopRedact, b, shopRedactA, app.CodeForbidden},
		{"A's customers/redact under B's header", shops.TopicCustomersRedact, b, custRedactA, app.CodeForbidden},
		{"A's data request under B's header", shops.TopicCustomersDataRequest, b, dataRequestA, app.CodeForbidden},
		{"A's app/uninstalled under B's header", shops.TopicAppUninstalled, b, uninstallA, app.CodeForbidden},
		{"A's customers/redact as A's shop/redact", shops.TopicShopRedact, a, custRedactA, app.CodeInvalid},
		{"A's data request as A's shop/redact", shops.TopicShopRedact, a, dataRequestA, app.CodeInvalid},
		{"A's data request as A's customers/redact", shops.TopicCustomersRedact, a, dataRequestA, app.CodeInvalid},
		{"A's customers/redact as A's data request", shops.TopicCustomersDataRequest, a, custRedactA, app.CodeInvalid},
		{"A's shop/redact as A's app/uninstalled", shops.TopicAppUninstalled, a, shopRedactA, app.CodeInvalid},
		{"A's app/uninstalled as A's shop/redact", shops.TopicShopRedact, a, uninstallA, app.CodeInvalid},
		{"another shop id than the one we hold", shops.TopicShopRedact, a, `{"shop_id":1,"shop_domain":"a-shop.myshopify.com"}`, app.CodeForbidden},
		{"shop id as a string", shops.TopicShopRedact, a, `{"shop_id":"954889","shop_domain":"a-shop.myshopify.com"}`, app.CodeInvalid},
		{"no shop_domain", shops.TopicShopRedact, a, `{"shop_id":954889}`, app.CodeInvalid},
		{"shop_domain not a string", shops.TopicShopRedact, a, `{"shop_id":954889,"shop_domain":["a-shop.myshopify.com"]}`, app.CodeInvalid},
		{"shop_domain of another host", shops.TopicShopRedact, a, `{"shop_id":954889,"shop_domain":"a-shop.myshopify.com.evil.com"}`, app.CodeForbidden},
		{"customer id a string", shops.TopicCustomersRedact, a, strings.Replace(custRedactA, `"id":191167`, `"id":"191167"`, 1), app.CodeInvalid},
		{"orders_to_redact of strings", shops.TopicCustomersRedact, a, strings.Replace(custRedactA, `[299938,280263]`, `["x"]`, 1), app.CodeInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, fake := newReceiver()
			_, err := s.ReceiveWebhook(context.Background(), delivery(c.topic, c.shop, c.body))
			if c.code == "" {
				if err != nil || len(fake.stored) != 1 || fake.enqueued != 1 {
					t.Fatalf("err %v, stored %d, want stored once", err, len(fake.stored))
				}
				return
			}
			if app.ErrorCode(err) != c.code || len(fake.stored) != 0 || fake.enqueued != 0 {
				t.Fatalf("err %v (code %q), stored %d; want %q and nothing stored", err, app.ErrorCode(err), len(fake.stored), c.code)
			}
		})
	}
}

// TestReceiveWebhookTriggeredAt: a delivery older than WebhookMaxAge (less
// than the dedupe retention) is refused with a message that says so; so
// is one without the header. One just inside the window is stored.
func TestReceiveWebhookTriggeredAt(t *testing.T) {
	t.Parallel()
	if shops.WebhookMaxAge >= app.WebhookRetention {
		t.Fatalf("WebhookMaxAge %s must stay under the dedupe retention %s", shops.WebhookMaxAge, app.WebhookRetention)
	}
	for _, c := range []struct {
		name, at, wantMsg string
	}{
		{"inside the window", receiveNow.Add(-shops.WebhookMaxAge + time.Minute).Format(time.RFC3339Nano), ""},
		{"Shopify's spelling", "2026-11-27T10:00:27.877041743Z", ""},
		{"stale", receiveNow.Add(-shops.WebhookMaxAge - time.Minute).Format(time.RFC3339), "no longer recognised as redeliveries"},
		{"missing", "", "X-Shopify-Triggered-At is required"},
		{"not a time", "yesterday", "X-Shopify-Triggered-At is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, fake := newReceiver()
			d := delivery("products/update", "a-shop.myshopify.com", `{"id":1}`)
			d.TriggeredAt = c.at
			_, err := s.ReceiveWebhook(context.Background(), d)
			if c.wantMsg == "" {
				if err != nil || len(fake.stored) != 1 {
					t.Fatalf("err %v, stored %d", err, len(fake.stored))
				}
				return
			}
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Field != "X-Shopify-Triggered-At" || !strings.Contains(ae.Message, c.wantMsg) || len(fake.stored) != 0 {
				t.Fatalf("err %v, stored %d; want a refusal saying %q", err, len(fake.stored), c.wantMsg)
			}
		})
	}
}

// readCounter counts what is read from a body.
type readCounter struct {
	r io.Reader
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReceiveWebhookBoundsReading: a signature header that cannot be an
// HMAC-SHA256, or a declared length over MaxWebhookBody, is refused before
// a byte of the body is read; a body longer than it declared is cut at
// MaxWebhookBody+1 bytes read; a wrong HMAC is refused after one read of
// the body (no second pass), and an event id is required.
func TestReceiveWebhookBoundsReading(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte(" "), shops.MaxWebhookBody+100)
	good := `{"id":1}`
	for _, c := range []struct {
		name       string
		edit       func(d *shops.WebhookDelivery, body *readCounter)
		code       app.Code
		tooLarge   bool
		maxRead    int
		wantStored bool
	}{
		{"genuine", func(*shops.WebhookDelivery, *readCounter) {}, "", false, len(good), true},
		{"no signature header", func(d *shops.WebhookDelivery, _ *readCounter) { d.HMAC = "" }, app.CodeUnauthorized, false, 0, false},
		{"signature not base64", func(d *shops.WebhookDelivery, _ *readCounter) { d.HMAC = strings.Repeat("!", 44) }, app.CodeUnauthorized, false, 0, false},
		{"signature of 16 bytes", func(d *shops.WebhookDelivery, _ *readCounter) { d.HMAC = "AAAAAAAAAAAAAAAAAAAAAA==" }, app.CodeUnauthorized, false, 0, false},
		{"declared length over the ceiling", func(d *shops.WebhookDelivery, _ *readCounter) { d.ContentLength = shops.MaxWebhookBody + 1 }, app.CodeInvalid, true, 0, false},
		{"longer than declared", func(d *shops.WebhookDelivery, r *readCounter) { d.ContentLength = -1; r.r = bytes.NewReader(big) }, app.CodeInvalid, true, shops.MaxWebhookBody + 1, false},
		{"wrong signature", func(d *shops.WebhookDelivery, _ *readCounter) {
			d.HMAC = shopify.SignWebhook([]byte(good), "another-secret")
		}, app.CodeUnauthorized, false, len(good), false},
		{"no event id", func(d *shops.WebhookDelivery, _ *readCounter) { d.EventID = "" }, app.CodeInvalid, false, len(good), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, fake := newReceiver()
			d := delivery("products/update", "a-shop.myshopify.com", good)
			body := &readCounter{r: d.Body}
			c.edit(&d, body)
			d.Body = body
			_, err := s.ReceiveWebhook(context.Background(), d)
			if c.wantStored != (len(fake.stored) == 1) || c.wantStored != (err == nil) {
				t.Fatalf("err %v, stored %d", err, len(fake.stored))
			}
			if !c.wantStored && (app.ErrorCode(err) != c.code || errors.Is(err, shops.ErrWebhookTooLarge) != c.tooLarge) {
				t.Fatalf("err %v, want code %q (too large: %v)", err, c.code, c.tooLarge)
			}
			if body.n > c.maxRead {
				t.Fatalf("read %d bytes of the body, want at most %d", body.n, c.maxRead)
			}
		})
	}
}

// TestShopRedactWaitsForUninstall: shop/redact deletes a shop only once it
// has been uninstalled for 48 h. An installed shop is kept and the
// delivery finished with an outcome that says so; a shop uninstalled an
// hour ago is kept, the delivery left unprocessed with a note and looked
// at again when the 48 h are up; one uninstalled 48 h ago is deleted.
func TestShopRedactWaitsForUninstall(t *testing.T) {
	t.Parallel()
	const shop = "a-shop.myshopify.com"
	payload := []byte(`{"shop_id":954889,"shop_domain":"a-shop.myshopify.com"}`)
	for _, c := range []struct {
		name           string
		status         app.ShopStatus
		uninstalledAgo time.Duration
		deleted        int
		finished       string // outcome prefix; "" when deferred
	}{
		{"installed", app.ShopActive, 0, 0, "deleted nothing: the shop is installed"},
		{"uninstalled an hour ago", app.ShopUninstalled, time.Hour, 0, ""},
		{"uninstalled 48 h ago", app.ShopUninstalled, shops.ShopRedactDelay, 1, "deleted everything held for the shop"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := &webhookFake{ev: app.WebhookEvent{Shop: shop, Topic: shops.TopicShopRedact, WebhookID: "w1", Payload: payload},
				known: map[string]app.ShopStatus{shop: c.status}, uninstalledAt: receiveNow.Add(-c.uninstalledAgo)}
			s := &shops.Shopify{Store: fake, Queue: fake, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return receiveNow }}
			if err := s.ProcessWebhook(context.Background(), 7); err != nil {
				t.Fatal(err)
			}
			if fake.deleted != c.deleted {
				t.Fatalf("%d deletions, want %d", fake.deleted, c.deleted)
			}
			if c.finished == "" {
				due := fake.uninstalledAt.Add(shops.ShopRedactDelay)
				if len(fake.finished) != 0 || len(fake.noted) != 1 || !strings.HasPrefix(fake.noted[0], "waiting") ||
					len(fake.scheduled) != 1 || !fake.scheduled[0].Equal(due) || len(fake.compliance) != 0 {
					t.Fatalf("finished %q, noted %q, scheduled %v (want %v), recorded %d", fake.finished, fake.noted, fake.scheduled, due, len(fake.compliance))
				}
				return
			}
			if len(fake.finished) != 1 || !strings.HasPrefix(fake.finished[0], c.finished) || len(fake.compliance) != 1 || fake.enqueued != 0 {
				t.Fatalf("finished %q, recorded %d, enqueued %d; want %q", fake.finished, len(fake.compliance), fake.enqueued, c.finished)
			}
		})
	}
}

// BenchmarkReceiveWebhookRefused measures what a stranger's delivery costs
// before it is refused: a full-size body with a well-formed but wrong
// signature (read once, hashed while read) and the same body without a
// signature header (not read at all).
func BenchmarkReceiveWebhookRefused(b *testing.B) {
	body := bytes.Repeat([]byte("x"), shops.MaxWebhookBody)
	for _, c := range []struct {
		name, hmac string
	}{
		{"wrong signature, 4 MiB read", shopify.SignWebhook([]byte("other"), fuzzWebhookSecret)},
		{"no signature header", ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := newReceiver()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				d := delivery("products/update", "a-shop.myshopify.com", "")
				d.HMAC, d.Body, d.ContentLength = c.hmac, bytes.NewReader(body), int64(len(body))
				if _, err := s.ReceiveWebhook(context.Background(), d); app.ErrorCode(err) != app.CodeUnauthorized {
					b.Fatal(err)
				}
			}
		})
	}
}
