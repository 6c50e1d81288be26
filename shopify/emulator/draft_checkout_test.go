package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

const draftCreateDoc = `mutation Create($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder { id name status invoiceUrl reserveInventoryUntil totalPriceSet { shopMoney { amount } } customAttributes { key value } }
    userErrors { field message }
  }
}`

const draftReadDoc = `query Read($id: ID!) { draftOrder(id: $id) {
  id status order { id name } totalPriceSet { shopMoney { amount } } taxLines { title priceSet { shopMoney { amount } } }
  lineItems(first: 10) { nodes { id name quantity custom variant { id } originalTotalSet { shopMoney { amount } } taxLines { priceSet { shopMoney { amount } } } } }
} }`

const draftDeleteDoc = `mutation Delete($id: ID!) { draftOrderDelete(input: {id: $id}) { deletedId userErrors { field message } } }`

// draftEnv is an installed shop whose webhooks reach a sink, and a shirt
// variant with a known stock (DENY when sold out).
type draftEnv struct {
	b     *bundle
	sink  *webhookSink
	token string
	shirt emulator.Variant
}

func newDraftEnv(t *testing.T, stock int) *draftEnv {
	t.Helper()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	token, _ := b.install(t, testShop, false)["access_token"].(string)
	shirt := b.emu.Products(testShop)[0].Variants[0]
	if shirt.InventoryPolicy != "DENY" || !shirt.Tracked {
		t.Fatalf("seeded shirt %+v is not a tracked DENY variant", shirt)
	}
	if err := b.emu.SetInventory(testShop, shirt.GID(), stock); err != nil {
		t.Fatal(err)
	}
	return &draftEnv{b: b, sink: sink, token: token, shirt: shirt}
}

// create runs draftOrderCreate for qty shirts and returns the draft.
func (env *draftEnv) create(t *testing.T, qty int, extra map[string]any) map[string]any {
	t.Helper()
	in := map[string]any{"lineItems": []any{map[string]any{"variantId": env.shirt.GID(), "quantity": qty}}}
	for k, v := range extra {
		in[k] = v
	}
	data := env.b.mustData(t, testShop, env.token, draftCreateDoc, map[string]any{"input": in})
	if errs := dig(data, "draftOrderCreate", "userErrors"); len(errs.([]any)) != 0 {
		t.Fatalf("draftOrderCreate: %v", errs)
	}
	return dig(data, "draftOrderCreate", "draftOrder").(map[string]any)
}

func (env *draftEnv) stock(t *testing.T) int {
	t.Helper()
	return env.b.emu.Products(testShop)[0].Variants[0].InventoryQuantity
}

// post pays at a checkout page.
func post(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestDraftOrderCheckoutPage(t *testing.T) {
	t.Parallel()
	env := newDraftEnv(t, 3)
	b := env.b
	until := b.clock.Now().Add(time.Hour).Format(time.RFC3339)
	d := env.create(t, 2, map[string]any{
		"email":                 "ada@example.com",
		"shippingAddress":       map[string]any{"firstName": "Ada", "lastName": "Buyer", "address1": "1 Test Street", "city": "New York", "provinceCode": "NY", "countryCode": "US", "zip": "10001"},
		"shippingLine":          map[string]any{"shippingRateHandle": "shopify-Express"},
		"discountCodes":         []any{"SAVE5"},
		"reserveInventoryUntil": until,
		"customAttributes":      []any{map[string]any{"key": "acpbridge_session", "value": "cs_1"}},
		"tags":                  []any{"acpbridge"},
		"sourceName":            "acpbridge",
	})
	invoice, _ := d["invoiceUrl"].(string)
	total, _ := dig(d, "totalPriceSet", "shopMoney", "amount").(string)
	if d["name"] != "#D1" || d["status"] != "OPEN" || d["reserveInventoryUntil"] != until || !strings.HasPrefix(invoice, b.emu.URL()+"/checkouts/"+testShop+"/") {
		t.Fatalf("draft %v", d)
	}
	// Priced as draftOrderCalculate: (2 × price − $5) + NY tax on items and
	// shipping + $15 Express.
	sub := 2*env.shirt.PriceCents - 500
	taxCents := (sub*88_750+500_000)/1_000_000 + (1500*88_750+500_000)/1_000_000
	wantTotal := sub + 1500 + taxCents
	if gotCents, err := shopify.MinorUnits(total, 2); err != nil || gotCents != wantTotal {
		t.Fatalf("total %s, want %d cents", total, wantTotal)
	}
	if got := env.stock(t); got != 1 {
		t.Errorf("available with 2 of 3 reserved: %d", got)
	}

	status, page := get(t, invoice)
	if status != http.StatusOK || !strings.Contains(page, env.b.emu.Products(testShop)[0].Title) || !strings.Contains(page, "USD "+formatCents(wantTotal)) || !strings.Contains(page, "<form method=\"post\">") ||
		!strings.Contains(page, "Discount (SAVE5)") {
		t.Fatalf("GET %d:\n%s", status, page)
	}

	status, page = post(t, invoice, url.Values{"email": {"paid@example.com"}})
	if status != http.StatusOK || !strings.Contains(page, "#1001") {
		t.Fatalf("POST %d:\n%s", status, page)
	}
	orders := b.emu.Orders(testShop)
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	o := orders[0]
	if o.TotalCents != wantTotal || o.FinancialStatus != "PAID" || o.Email != "paid@example.com" || o.SourceName != "acpbridge" ||
		o.ShippingAddress == nil || o.ShippingAddress.Province != "NY" || len(o.Lines) != 1 || o.Lines[0].Quantity != 2 ||
		len(o.CustomAttributes) != 1 || o.CustomAttributes[0] != (emulator.Attribute{Key: "acpbridge_session", Value: "cs_1"}) ||
		len(o.Transactions) != 1 || o.ReceivedCents() != wantTotal {
		t.Errorf("order %+v", o)
	}
	if got := env.stock(t); got != 1 {
		t.Errorf("available after paying the reserved 2: %d, want 1", got)
	}
	if r := b.emu.Reserved(testShop, d["id"].(string)); len(r) != 0 {
		t.Errorf("reservation left after payment: %v", r)
	}

	// The webhooks, signed, in Shopify's order.
	var eventIDs []string
	dw := env.sink.next(t, shopify.TopicDraftOrdersUpdate)
	draftHook, err := shopify.ParseDraftOrderWebhook(shopify.TopicDraftOrdersUpdate, dw.body)
	if err != nil || draftHook.Status != "completed" || draftHook.OrderGID != o.GID() || draftHook.GID != d["id"] || draftHook.Name != "#D1" {
		t.Errorf("draft_orders/update %+v, %v", draftHook, err)
	}
	eventIDs = append(eventIDs, dw.header.Get("X-Shopify-Event-Id"))
	for _, topic := range []string{shopify.TopicOrdersCreate, shopify.TopicOrdersPaid} {
		w := env.sink.next(t, topic)
		if !shopify.VerifyWebhook(w.body, w.header.Get("X-Shopify-Hmac-Sha256"), testSecret) {
			t.Errorf("%s: bad signature", topic)
		}
		eventIDs = append(eventIDs, w.header.Get("X-Shopify-Event-Id"))
		ow, err := shopify.ParseOrderWebhook(topic, w.body)
		if err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		session, ok := ow.NoteAttribute("acpbridge_session")
		if ow.GID != o.GID() || ow.FinancialStatus != "paid" || ow.SourceName != "acpbridge" || !ok || session != "cs_1" || ow.TotalPrice != total {
			t.Errorf("%s: %+v", topic, ow)
		}
	}
	for _, id := range eventIDs {
		if id == "" {
			t.Errorf("webhook without X-Shopify-Event-Id: %v", eventIDs)
		}
	}

	// The draft names its order; paying again is refused, no second order.
	data := b.mustData(t, testShop, env.token, draftReadDoc, map[string]any{"id": d["id"]})
	if dig(data, "draftOrder", "status") != "COMPLETED" || dig(data, "draftOrder", "order", "id") != o.GID() {
		t.Errorf("draftOrder after payment: %v", data)
	}
	if dig(data, "draftOrder", "lineItems", "nodes", 0, "quantity") != float64(2) || dig(data, "draftOrder", "lineItems", "nodes", 0, "variant", "id") != env.shirt.GID() ||
		dig(data, "draftOrder", "lineItems", "nodes", 0, "originalTotalSet", "shopMoney", "amount") != decimal(2*env.shirt.PriceCents) ||
		dig(data, "draftOrder", "taxLines", 0, "priceSet", "shopMoney", "amount") != decimal(taxCents) {
		t.Errorf("draftOrder lines and taxes: %v", data)
	}
	if status, page := post(t, invoice, nil); status != http.StatusConflict {
		t.Errorf("second POST: %d\n%s", status, page)
	}
	if _, err := b.emu.PayDraft(invoice, ""); !errors.Is(err, emulator.ErrDraftCompleted) {
		t.Errorf("PayDraft of a paid draft: %v", err)
	}
	if status, page := get(t, invoice); status != http.StatusOK || !strings.Contains(page, "has been paid") || strings.Contains(page, "<form") {
		t.Errorf("GET after payment %d:\n%s", status, page)
	}
	if n := len(b.emu.Orders(testShop)); n != 1 {
		t.Errorf("%d orders after paying twice", n)
	}
}

// decimal is a GraphQL Decimal amount as the emulator writes it ("12.3").
func decimal(c int64) string { return strings.TrimSuffix(formatCents(c), "0") }

// formatCents is a page amount, "12.34".
func formatCents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

func TestDraftOrderCheckoutConcurrentPay(t *testing.T) {
	t.Parallel()
	env := newDraftEnv(t, 10)
	invoice := env.create(t, 1, nil)["invoiceUrl"].(string)
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.PostForm(invoice, nil)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	paid := 0
	for s := range statuses {
		switch s {
		case http.StatusOK:
			paid++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", s)
		}
	}
	if n := len(env.b.emu.Orders(testShop)); paid != 1 || n != 1 {
		t.Errorf("%d paid, %d orders; want exactly one", paid, n)
	}
	if got := env.stock(t); got != 9 {
		t.Errorf("stock %d after one sale of 10", got)
	}
}

func TestDraftOrderReservation(t *testing.T) {
	t.Parallel()
	env := newDraftEnv(t, 3)
	b := env.b
	until := func(d time.Duration) string { return b.clock.Now().Add(d).Format(time.RFC3339) }

	held := env.create(t, 2, map[string]any{"reserveInventoryUntil": until(time.Hour)})
	if got := env.stock(t); got != 1 {
		t.Fatalf("available %d with 2 of 3 reserved", got)
	}
	// Reserved stock is not sellable to another buyer.
	other := env.create(t, 2, nil)
	if _, err := b.emu.PayDraft(other["invoiceUrl"].(string), ""); !errors.Is(err, emulator.ErrSoldOut) {
		t.Errorf("paying 2 of 1 unreserved: %v", err)
	}
	if status, _ := post(t, other["invoiceUrl"].(string), nil); status != http.StatusConflict {
		t.Errorf("POST for stock held by another draft: %d", status)
	}

	// Deleting releases the reservation; the page is gone.
	data := b.mustData(t, testShop, env.token, draftDeleteDoc, map[string]any{"id": held["id"]})
	if dig(data, "draftOrderDelete", "deletedId") != held["id"] {
		t.Fatalf("delete: %v", data)
	}
	if got := env.stock(t); got != 3 {
		t.Errorf("available %d after deleting the draft, want 3", got)
	}
	if status, _ := get(t, held["invoiceUrl"].(string)); status != http.StatusNotFound {
		t.Errorf("GET of a deleted draft: %d", status)
	}
	if status, _ := post(t, held["invoiceUrl"].(string), nil); status != http.StatusNotFound {
		t.Errorf("POST to a deleted draft: %d", status)
	}
	data = b.mustData(t, testShop, env.token, draftDeleteDoc, map[string]any{"id": held["id"]})
	if dig(data, "draftOrderDelete", "deletedId") != nil || len(dig(data, "draftOrderDelete", "userErrors").([]any)) != 1 {
		t.Errorf("deleting twice: %v", data)
	}

	// The time passing releases it too.
	short := env.create(t, 3, map[string]any{"reserveInventoryUntil": until(10 * time.Minute)})
	if got := env.stock(t); got != 0 {
		t.Errorf("available %d with all 3 reserved", got)
	}
	b.clock.Advance(11 * time.Minute)
	if r := b.emu.Reserved(testShop, short["id"].(string)); len(r) != 0 {
		t.Errorf("reservation after it ran out: %v", r)
	}
	if got := env.stock(t); got != 3 {
		t.Errorf("available %d after the reservation ran out, want 3", got)
	}
	if n := len(b.emu.Orders(testShop)); n != 0 {
		t.Errorf("%d orders", n)
	}
}

func TestDraftOrderPayRedeliver(t *testing.T) {
	t.Parallel()
	env := newDraftEnv(t, 5)
	d := env.create(t, 1, map[string]any{"email": "ada@example.com"})
	p, err := env.b.emu.PayDraft(d["invoiceUrl"].(string), "")
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	var paid *emulator.Delivery
	for _, dl := range p.Deliveries {
		topics = append(topics, dl.Topic)
		if dl.Topic == shopify.TopicOrdersPaid {
			paid = dl
		}
	}
	if strings.Join(topics, " ") != "inventory_levels/update draft_orders/update orders/create orders/paid" || paid == nil {
		t.Fatalf("deliveries %v", topics)
	}
	for range 2 {
		if err := env.b.emu.Redeliver(context.Background(), paid); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for range 3 {
		w := env.sink.next(t, shopify.TopicOrdersPaid)
		ids = append(ids, w.header.Get("X-Shopify-Webhook-Id")+"/"+w.header.Get("X-Shopify-Event-Id"))
	}
	if ids[0] != ids[1] || ids[1] != ids[2] || ids[0] != paid.ID+"/"+paid.EventID {
		t.Errorf("redelivered ids %v", ids)
	}
	// The log has it too, and a second app (replica) can be sent it.
	logged := env.b.emu.Deliveries(testShop, shopify.TopicOrdersPaid)
	if len(logged) != 1 || logged[0].ID != paid.ID || string(logged[0].Body) != string(paid.Body) || logged[0].Status != http.StatusOK {
		t.Fatalf("Deliveries: %+v", logged)
	}
	replica := newWebhookSink(t)
	if err := env.b.emu.RedeliverTo(context.Background(), replica.URL, logged[0]); err != nil {
		t.Fatal(err)
	}
	if w := replica.next(t, shopify.TopicOrdersPaid); w.header.Get("X-Shopify-Webhook-Id") != paid.ID || string(w.body) != string(paid.Body) {
		t.Errorf("replica got %v", w.header)
	}
	if n := len(env.b.emu.Deliveries(otherShop, "")); n != 0 {
		t.Errorf("%d deliveries logged for a shop that had none", n)
	}
	if _, err := env.b.emu.PayDraft("http://127.0.0.1/nowhere", ""); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("PayDraft of no invoice URL: %v", err)
	}
}

const draftUpdateDoc = `mutation Update($id: ID!, $input: DraftOrderInput!) {
  draftOrderUpdate(id: $id, input: $input) {
    draftOrder { id email reserveInventoryUntil discountCodes totalPriceSet { shopMoney { amount } } }
    userErrors { field message }
  }
}`

// TestDraftOrderUpdateKeepsWhatIsNotGiven: draftOrderUpdate changes the
// fields it is given, keeps the others and clears those given as null.
func TestDraftOrderUpdateKeepsWhatIsNotGiven(t *testing.T) {
	t.Parallel()
	env := newDraftEnv(t, 10)
	b := env.b
	until := b.clock.Now().Add(time.Hour).Format(time.RFC3339)
	d := env.create(t, 2, map[string]any{"email": "ada@example.com", "discountCodes": []any{"SAVE5"}, "reserveInventoryUntil": until})
	update := func(in map[string]any) map[string]any {
		t.Helper()
		data := b.mustData(t, testShop, env.token, draftUpdateDoc, map[string]any{"id": d["id"], "input": in})
		if errs := dig(data, "draftOrderUpdate", "userErrors").([]any); len(errs) != 0 {
			t.Fatalf("draftOrderUpdate: %v", errs)
		}
		return dig(data, "draftOrderUpdate", "draftOrder").(map[string]any)
	}
	u := update(map[string]any{"lineItems": []any{map[string]any{"variantId": env.shirt.GID(), "quantity": 3}}})
	if u["email"] != "ada@example.com" || u["reserveInventoryUntil"] != until || len(u["discountCodes"].([]any)) != 1 {
		t.Errorf("after changing the lines: %v", u)
	}
	if r := b.emu.Reserved(testShop, d["id"].(string)); r[env.shirt.GID()] != 3 || env.stock(t) != 7 {
		t.Errorf("reserved %v, stock %d after reserving 3 of 10", r, env.stock(t))
	}
	u = update(map[string]any{"email": nil, "reserveInventoryUntil": nil, "discountCodes": []any{}})
	if u["email"] != nil || u["reserveInventoryUntil"] != nil || len(u["discountCodes"].([]any)) != 0 {
		t.Errorf("after clearing: %v", u)
	}
	if r := b.emu.Reserved(testShop, d["id"].(string)); len(r) != 0 || env.stock(t) != 10 {
		t.Errorf("reserved %v, stock %d after clearing the reservation", r, env.stock(t))
	}
	data := b.mustData(t, testShop, env.token, `query($id: ID!) { node(id: $id) { ... on DraftOrder { id name status } } }`, map[string]any{"id": d["id"]})
	if dig(data, "node", "name") != "#D1" || dig(data, "node", "status") != "OPEN" {
		t.Errorf("node: %v", data)
	}
}
