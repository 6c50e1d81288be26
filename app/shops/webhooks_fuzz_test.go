package shops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// The Shopify webhook payloads the app parses itself (the order topics are
// shopify.ParseOrderWebhook's, fuzzed in package shopify): the catalog
// topics (products/create|update|delete, inventory_levels/update,
// bulk_operations/finish), the privacy topics and app/uninstalled, run
// through Shopify.ProcessWebhook against fakes of the store and catalog;
// and the receiver, Shopify.ReceiveWebhook.

const fuzzWebhookSecret = "fuzz-webhook-secret"

// webhookFake is the store and catalog of one processed delivery: it
// records every call, each with the shop it was for.
type webhookFake struct {
	shops.ShopifyStore // only the methods below are called; any other panics
	ev                 app.WebhookEvent
	shops              []string // the shop of every call
	catalog            []string // "product_changed 12", ...
	finished           []string
	compliance         []app.ComplianceRequest
	refs               []app.CustomerRef
	stored             []app.WebhookEvent
	enqueued           int
	known              map[string]app.ShopStatus
	uninstalledAt      time.Time // of every uninstalled shop
	deleted            int       // DeleteShopData calls
	noted              []string  // NoteWebhookEvent outcomes (deferred deliveries)
	scheduled          []time.Time
}

func (f *webhookFake) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}

func (f *webhookFake) WebhookEvent(_ context.Context, id int64) (*app.WebhookEvent, error) {
	ev := f.ev
	ev.ID = id
	return &ev, nil
}

func (f *webhookFake) ClaimWebhookEvent(ctx context.Context, id int64, _, _ time.Time) (*app.WebhookEvent, bool, error) {
	ev, err := f.WebhookEvent(ctx, id)
	return ev, err == nil && ev.ProcessedAt == nil, err
}

func (f *webhookFake) ReleaseWebhookEvent(context.Context, int64) error { return nil }

func (f *webhookFake) FinishWebhookEvent(_ context.Context, _ int64, outcome string) error {
	f.finished = append(f.finished, outcome)
	return nil
}

func (f *webhookFake) UninstallShop(_ context.Context, shop string) error {
	f.shops = append(f.shops, shop)
	return nil
}

func (f *webhookFake) SaveComplianceRequest(_ context.Context, r app.ComplianceRequest) error {
	f.shops = append(f.shops, r.Shop)
	f.compliance = append(f.compliance, r)
	return nil
}

func (f *webhookFake) CustomerData(_ context.Context, shop string, c app.CustomerRef) (map[string]int64, error) {
	f.shops, f.refs = append(f.shops, shop), append(f.refs, c)
	return map[string]int64{"checkout_sessions": 1}, nil
}

func (f *webhookFake) CustomerExport(_ context.Context, shop string, c app.CustomerRef) (*app.CustomerExport, error) {
	return &app.CustomerExport{Shop: shop, Customer: app.ExportedCustomer{ID: c.ID, Email: c.Email}}, nil
}

func (f *webhookFake) RedactCustomer(_ context.Context, shop string, c app.CustomerRef) (map[string]int64, error) {
	f.shops, f.refs = append(f.shops, shop), append(f.refs, c)
	return map[string]int64{"checkout_sessions": 1}, nil
}

func (f *webhookFake) DeleteShopData(_ context.Context, shop string, _ time.Time, _ string) (map[string]int64, error) {
	f.shops = append(f.shops, shop)
	f.deleted++
	return map[string]int64{"shops": 1}, nil
}

func (f *webhookFake) NoteWebhookEvent(_ context.Context, _ int64, outcome string) error {
	f.noted = append(f.noted, outcome)
	return nil
}

// fakeShopID is the Shopify id of every shop the fake knows.
const fakeShopID = 954889

func (f *webhookFake) ShopByDomain(_ context.Context, domain string) (*app.Shop, error) {
	st, ok := f.known[domain]
	if !ok {
		return nil, app.ErrNotFound
	}
	sh := &app.Shop{ID: 1, Domain: domain, Status: st, ShopifyGID: "gid://shopify/Shop/" + strconv.Itoa(fakeShopID)}
	if st == app.ShopUninstalled {
		at := f.uninstalledAt
		sh.UninstalledAt = &at
	}
	return sh, nil
}

func (f *webhookFake) CachedShopByDomain(ctx context.Context, domain string) (*app.Shop, error) {
	return f.ShopByDomain(ctx, domain)
}

func (f *webhookFake) InsertWebhookEvent(_ context.Context, ev app.WebhookEvent) (int64, bool, error) {
	f.stored = append(f.stored, ev)
	return int64(len(f.stored)), false, nil
}

func (f *webhookFake) EnqueueTx(_ context.Context, _ river.JobArgs, opts *river.InsertOpts) error {
	f.enqueued++
	if opts != nil {
		f.scheduled = append(f.scheduled, opts.ScheduledAt)
	}
	return nil
}

// The catalog side (shops.CatalogEvents).

func (f *webhookFake) Installed(context.Context, string, app.ShopProfile) error { return nil }

func (f *webhookFake) ProductChanged(_ context.Context, shop string, id int64) error {
	f.shops, f.catalog = append(f.shops, shop), append(f.catalog, "product_changed "+strconv.FormatInt(id, 10))
	return nil
}

func (f *webhookFake) ProductDeleted(_ context.Context, shop string, id int64) error {
	f.shops, f.catalog = append(f.shops, shop), append(f.catalog, "product_deleted "+strconv.FormatInt(id, 10))
	return nil
}

func (f *webhookFake) InventoryChanged(_ context.Context, shop string, id int64) error {
	f.shops, f.catalog = append(f.shops, shop), append(f.catalog, "inventory_changed "+strconv.FormatInt(id, 10))
	return nil
}

func (f *webhookFake) BulkFinished(_ context.Context, shop, id string) error {
	f.shops, f.catalog = append(f.shops, shop), append(f.catalog, "bulk_finished "+id)
	return nil
}

var processedTopics = []string{
	"products/create", "products/update", "products/delete", "inventory_levels/update", "bulk_operations/finish",
	shops.TopicCustomersDataRequest, shops.TopicCustomersRedact, shops.TopicShopRedact, shops.TopicAppUninstalled,
}

// FuzzProcessCatalogAndPrivacyWebhooks: any payload under any of the
// topics the app parses itself is processed without panicking or failing
// (a job that fails on a payload would retry it for days), and:
//
//   - the delivery is finished exactly once, with an outcome;
//   - every call is for the delivery's stored shop (the header's, which the
//     receiver bound to the signed body for the privacy and uninstall
//     topics), never one the payload names (shop_domain);
//   - a catalog call's id comes from the payload: positive, and agreeing
//     with encoding/json's reading of the payload's "id",
//     "inventory_item_id" or "admin_graphql_api_id" as a generic map;
//   - a privacy request is recorded once, with a JSON report, and the
//     customer it acted on is the payload's (agreeing with encoding/json);
//     a shop/redact of a shop uninstalled 48 h ago deletes it once.
func FuzzProcessCatalogAndPrivacyWebhooks(f *testing.F) {
	seeds := []string{
		`{"id":788032119674292922,"title":"Example T-Shirt","admin_graphql_api_id":"gid://shopify/Product/788032119674292922"}`,
		`{"id":"12"}`, `{"id":-1}`, `{"id":1e3}`, `{"id":9223372036854775808}`, `{"ID":5,"id":6}`, `{"id":5,"id":7}`,
		`{"inventory_item_id":271878346596884015,"location_id":24826418,"available":6}`, `{"inventory_item_id":null}`,
		`{"admin_graphql_api_id":"gid://shopify/BulkOperation/1","status":"completed"}`, `{"admin_graphql_api_id":5}`,
		`{"shop_id":954889,"shop_domain":"other.myshopify.com","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938,280263,220458]}`,
		`{"shop_domain":"a.myshopify.com","customer":{"id":"191167"},"orders_requested":[1],"data_request":{"id":9999}}`,
		`{"customer":{"id":{}}}`, `{"customer":[]}`, `{}`, `[]`, `null`, `{"id":1}xx`, "",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	logger := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		const shop = "a-shop.myshopify.com"
		topic := processedTopics[int(which)%len(processedTopics)]
		now := time.Unix(1_800_000_000, 0)
		fake := &webhookFake{ev: app.WebhookEvent{Shop: shop, Topic: topic, WebhookID: "w1", Payload: payload},
			known: map[string]app.ShopStatus{shop: app.ShopUninstalled}, uninstalledAt: now.Add(-shops.ShopRedactDelay)}
		s := &shops.ShopifyWebhooks{Shopify: &shops.Shopify{Store: fake, Logger: logger, Now: func() time.Time { return now }}, Catalog: fake}
		if err := s.ProcessWebhook(context.Background(), 7); err != nil {
			t.Fatalf("%s %q: %v", topic, payload, err)
		}
		if len(fake.finished) != 1 || fake.finished[0] == "" {
			t.Fatalf("%s %q: finished %q, want one outcome", topic, payload, fake.finished)
		}
		for _, sh := range fake.shops {
			if sh != shop {
				t.Fatalf("%s %q acted on shop %q", topic, payload, sh)
			}
		}
		m := firstObject(payload)
		switch topic {
		case "products/create", "products/update", "products/delete", "inventory_levels/update":
			field, call := "id", "product_changed"
			switch topic {
			case "products/delete":
				call = "product_deleted"
			case "inventory_levels/update":
				field, call = "inventory_item_id", "inventory_changed"
			}
			checkCatalogID(t, topic, payload, m, field, call, fake.catalog)
		case "bulk_operations/finish":
			want, simple := simpleField(m, "admin_graphql_api_id")
			ws, isString := want.(string)
			switch {
			case len(fake.catalog) > 1:
				t.Fatalf("%q: calls %v", payload, fake.catalog)
			case len(fake.catalog) == 1 && fake.catalog[0] == "bulk_finished ":
				t.Fatalf("%q: %v", payload, fake.catalog)
			case simple && isString && ws != "" && (len(fake.catalog) != 1 || fake.catalog[0] != "bulk_finished "+ws):
				t.Fatalf("%q: calls %v, want bulk_finished %s", payload, fake.catalog, ws)
			}
		case shops.TopicCustomersDataRequest, shops.TopicCustomersRedact, shops.TopicShopRedact:
			if len(fake.catalog) != 0 {
				t.Fatalf("privacy webhook made catalog calls %v", fake.catalog)
			}
			if len(fake.compliance) == 0 {
				if !strings.HasPrefix(fake.finished[0], "rejected") {
					t.Fatalf("%s %q: neither recorded nor rejected (%q)", topic, payload, fake.finished[0])
				}
				return
			}
			r := fake.compliance[0]
			if len(fake.compliance) != 1 || r.Topic != topic || r.WebhookID != "w1" || !json.Valid(r.Report) || r.CompletedAt == nil {
				t.Fatalf("%s %q: recorded %+v", topic, payload, fake.compliance)
			}
			if topic == shops.TopicShopRedact && fake.deleted != 1 {
				t.Fatalf("%q: shop uninstalled 48 h ago, %d deletions", payload, fake.deleted)
			}
			if topic != shops.TopicShopRedact && (len(fake.refs) != 1 || fake.refs[0].ID != r.CustomerID) {
				t.Fatalf("%s %q: acted on %+v, recorded customer %q", topic, payload, fake.refs, r.CustomerID)
			}
			if c, ok := m["customer"].(map[string]any); ok && r.CustomerID != "" {
				if id, simple := simpleField(c, "id"); simple && id != nil && jsonText(id) != r.CustomerID {
					t.Fatalf("%q: customer %q, encoding/json reads %v", payload, r.CustomerID, id)
				}
			}
			if r.CustomerID != "" && !json.Valid([]byte(r.CustomerID)) {
				t.Fatalf("%q: customer id %q is not a number", payload, r.CustomerID)
			}
		}
	})
}

// checkCatalogID checks the one catalog call of a product or inventory
// webhook against encoding/json's reading of the payload as a map.
func checkCatalogID(t *testing.T, topic string, payload []byte, m map[string]any, field, call string, calls []string) {
	t.Helper()
	if len(calls) > 1 {
		t.Fatalf("%s %q: calls %v", topic, payload, calls)
	}
	if len(calls) == 1 {
		name, idText, _ := strings.Cut(calls[0], " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		if name != call || err != nil || id <= 0 || !bytes.Contains(payload, []byte(idText)) {
			t.Fatalf("%s %q: call %q", topic, payload, calls[0])
		}
	}
	v, simple := simpleField(m, field)
	if !simple {
		return
	}
	n, isNumber := v.(json.Number)
	want, err := n.Int64()
	switch {
	case isNumber && err == nil && want > 0:
		if len(calls) != 1 || calls[0] != call+" "+strconv.FormatInt(want, 10) {
			t.Fatalf("%s %q: calls %v, want %s %d", topic, payload, calls, call, want)
		}
	case v == nil || !isNumber && !isNumericString(v):
		if len(calls) != 0 {
			t.Fatalf("%s %q: calls %v without a numeric %s", topic, payload, calls, field)
		}
	}
}

// firstObject reads the payload's first JSON value with encoding/json as
// a generic map (nil when it is not an object, or when an object of it
// repeats a key: a map keeps the last, a struct field the last that fits).
func firstObject(payload []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || repeatsKey(payload) {
		return nil
	}
	return m
}

// repeatsKey reports whether an object of the first JSON value repeats a
// key (compared as encoding/json compares struct fields, ignoring case).
func repeatsKey(payload []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(payload))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: v == '{', keys: map[string]bool{}, key: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return false
				}
			}
			continue
		case string:
			if top != nil && top.object && top.key {
				k := strings.ToLower(v)
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		if top == nil {
			return false
		}
		if top.object {
			top.key = true
		}
	}
}

// simpleField returns m[key] when no other key of m matches key the way
// encoding/json matches struct fields (ignoring case), so the generic
// reading and a struct's must agree.
func simpleField(m map[string]any, key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	for k := range m {
		if k != key && strings.EqualFold(k, key) {
			return nil, false
		}
	}
	v, ok := m[key]
	if !ok {
		return nil, true
	}
	return v, true
}

func isNumericString(v any) bool {
	s, ok := v.(string)
	return ok && json.Valid([]byte(s)) && s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9')
}

func jsonText(v any) string {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// FuzzReceiveWebhook: the receiver stores a delivery only when its HMAC
// verifies over the very body stored (trimmed), its topic is one the app
// subscribes to, its shop is a myshopify.com domain the app knows, and the
// body is one JSON object; a privacy or uninstall topic's body must, in
// addition, name that shop and its Shopify id (encoding/json's reading of
// the body as a map agrees); then it stores it once with one job. Anything
// else stores nothing.
func FuzzReceiveWebhook(f *testing.F) {
	f.Add(uint8(0), "a-shop.myshopify.com", "w1", []byte(`{"id":1}`), true, "")
	f.Add(uint8(5), " A-SHOP.myshopify.com ", "w2", []byte(" {\"id\":1}\n"), true, "")
	f.Add(uint8(11), "gone.myshopify.com", "w3", []byte(`{}`), true, "")
	f.Add(uint8(1), "a-shop.myshopify.com", "w4", []byte(`[1]`), true, "")
	f.Add(uint8(2), "a-shop.myshopify.com", "w5", []byte(`{"id":1}`), false, "AAAA")
	f.Add(uint8(3), "evil.example.com", "w6", []byte(`{"id":1}`), true, "")
	f.Add(uint8(4), "a-shop.myshopify.com", "", []byte(`{"id":1}`), true, "")
	// The bound topics (indexes into topics below): well-formed bodies, and
	// the forgeries they must refuse.
	f.Add(uint8(3), "a-shop.myshopify.com", "w8", []byte(`{"id":954889,"myshopify_domain":"a-shop.myshopify.com"}`), true, "")
	f.Add(uint8(16), "gone.myshopify.com", "w9", []byte(`{"shop_id":954889,"shop_domain":"gone.myshopify.com"}`), true, "")
	f.Add(uint8(16), "a-shop.myshopify.com", "w10", []byte(`{"shop_id":954889,"shop_domain":"gone.myshopify.com"}`), true, "")
	f.Add(uint8(16), "a-shop.myshopify.com", "w11", []byte(`{"id":788032119674292922,"title":"Example T-Shirt"}`), true, "")
	f.Add(uint8(16), "a-shop.myshopify.com", "w12", []byte(`{"shop_id":1,"shop_domain":"a-shop.myshopify.com"}`), true, "")
	f.Add(uint8(15), "a-shop.myshopify.com", "w13", []byte(`{"shop_id":954889,"shop_domain":"a-shop.myshopify.com","customer":{"id":1,"email":"a@example.com","phone":null},"orders_to_redact":[2]}`), true, "")
	f.Add(uint8(16), "a-shop.myshopify.com", "w14", []byte(`{"shop_id":954889,"shop_domain":"a-shop.myshopify.com","customer":{"id":1},"orders_to_redact":[2]}`), true, "")
	f.Add(uint8(14), "a-shop.myshopify.com", "w15", []byte(`{"shop_id":954889,"shop_domain":"A-SHOP.myshopify.com","customer":{"id":1,"email":"a@example.com"},"orders_requested":[],"data_request":{"id":9}}`), true, "")
	topics := append([]string{"orders/delete", "", "APP/UNINSTALLED"}, shops.WebhookTopics...)
	logger := slog.New(slog.DiscardHandler)
	now := time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, which uint8, shop, webhookID string, body []byte, sign bool, hmac string) {
		topic := topics[int(which)%len(topics)]
		if sign {
			hmac = shopify.SignWebhook(body, fuzzWebhookSecret)
		}
		fake := &webhookFake{known: map[string]app.ShopStatus{
			"a-shop.myshopify.com": app.ShopActive, "gone.myshopify.com": app.ShopUninstalled,
		}}
		s := &shops.Shopify{ClientSecret: fuzzWebhookSecret, Store: fake, Queue: fake, Logger: logger, Now: func() time.Time { return now }}
		_, err := s.ReceiveWebhook(context.Background(), shops.WebhookDelivery{
			Topic: topic, Shop: shop, WebhookID: webhookID, EventID: "e-" + webhookID, HMAC: hmac,
			Body: bytes.NewReader(body), ContentLength: int64(len(body)), TriggeredAt: "2026-11-27T10:00:00Z",
		})
		if len(fake.stored) != fake.enqueued || len(fake.stored) > 1 {
			t.Fatalf("stored %d deliveries with %d jobs", len(fake.stored), fake.enqueued)
		}
		if len(fake.stored) == 0 {
			return
		}
		if err != nil {
			t.Fatalf("stored a delivery and answered %v", err)
		}
		ev := fake.stored[0]
		norm, nerr := shopify.NormalizeShop(shop)
		switch {
		case !shopify.VerifyWebhook(body, hmac, fuzzWebhookSecret):
			t.Fatalf("stored a delivery whose HMAC does not verify")
		case !bytes.Equal(ev.Payload, bytes.TrimSpace(body)):
			t.Fatalf("stored %q, received %q", ev.Payload, body)
		case nerr != nil || ev.Shop != norm || fake.known[norm] == "":
			t.Fatalf("stored a delivery for shop %q (header %q)", ev.Shop, shop)
		case ev.Topic != topic || !containsString(shops.WebhookTopics, topic):
			t.Fatalf("stored topic %q", ev.Topic)
		case ev.WebhookID != webhookID || webhookID == "":
			t.Fatalf("stored webhook id %q", ev.WebhookID)
		case firstObject(ev.Payload) == nil || !json.Valid(ev.Payload):
			t.Fatalf("stored a payload that is not one JSON object: %q", ev.Payload)
		case fake.known[norm] == app.ShopUninstalled && topic != shops.TopicAppUninstalled && !containsString(shops.ComplianceTopics, topic):
			t.Fatalf("stored %s for an uninstalled shop", topic)
		case ev.TriggeredAt == nil || !ev.TriggeredAt.Equal(now.Add(-5*time.Minute)):
			t.Fatalf("stored triggered_at %v", ev.TriggeredAt)
		}
		if shops.IsBoundTopic(topic) {
			checkBoundBody(t, topic, norm, ev.Payload)
		}
	})
}

// checkBoundBody: a stored privacy or uninstall delivery's body, read by
// encoding/json as a map, names the delivery's shop and the fake's shop id
// in its topic's members; shop/redact carries no customer request.
func checkBoundBody(t *testing.T, topic, shop string, payload []byte) {
	t.Helper()
	m := firstObject(payload)
	if m == nil {
		return // repeats a key: a map and a struct read it differently
	}
	idKey, domainKey := "shop_id", "shop_domain"
	if topic == shops.TopicAppUninstalled {
		idKey, domainKey = "id", "myshopify_domain"
	}
	domain, simple := simpleField(m, domainKey)
	ds, isString := domain.(string)
	if named, err := shopify.NormalizeShop(ds); simple && (!isString || err != nil || named != shop) {
		t.Fatalf("stored %s for %s, body names %v", topic, shop, domain)
	}
	id, simple := simpleField(m, idKey)
	if n, isNumber := id.(json.Number); simple && (!isNumber || n.String() != strconv.Itoa(fakeShopID)) {
		t.Fatalf("stored %s for shop id %d, body names %v", topic, fakeShopID, id)
	}
	if topic == shops.TopicShopRedact {
		for _, k := range []string{"customer", "orders_to_redact", "orders_requested", "data_request"} {
			if v, simple := simpleField(m, k); simple && v != nil {
				t.Fatalf("stored a shop/redact carrying %q: %q", k, payload)
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
