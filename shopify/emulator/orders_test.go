package emulator_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// createDoc runs orderCreate and selects what the tests check.
const createDoc = `mutation Create($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order {
      id legacyResourceId name number statusPageUrl sourceIdentifier sourceName email tags note test
      displayFinancialStatus displayFulfillmentStatus currencyCode taxesIncluded discountCodes paymentGatewayNames
      customer { id firstName defaultEmailAddress { emailAddress marketingState } }
      shippingAddress { city provinceCode countryCodeV2 }
      totalPriceSet { shopMoney { amount currencyCode } } subtotalPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } } totalShippingPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } } totalReceivedSet { shopMoney { amount } } totalOutstandingSet { shopMoney { amount } }
      taxLines { title rate priceSet { shopMoney { amount } } }
      shippingLine { title code taxLines { priceSet { shopMoney { amount } } } }
      lineItems(first: 10) { nodes { id name quantity sku requiresShipping taxable variant { id } originalUnitPriceSet { shopMoney { amount } } taxLines { rate priceSet { shopMoney { amount } } } } }
      transactions(first: 5) { kind status gateway paymentId amountSet { shopMoney { amount } } }
    }
    userErrors { field message code }
  }
}`

// create runs createDoc with the staff token and returns the payload.
func (b *bundle) create(t *testing.T, shop string, order, options map[string]any) map[string]any {
	t.Helper()
	vars := map[string]any{"order": order}
	if options != nil {
		vars["options"] = options
	}
	data := b.mustData(t, shop, b.emu.StaffToken(shop), createDoc, vars)
	p, _ := data["orderCreate"].(map[string]any)
	return p
}

func usd(amount string) map[string]any {
	return map[string]any{"shopMoney": map[string]any{"amount": amount, "currencyCode": "USD"}}
}

// simpleOrder is one unit of a variant at its price, paid.
func simpleOrder(v emulator.Variant, qty int, source string) map[string]any {
	return map[string]any{
		"currency": "USD", "sourceIdentifier": source, "financialStatus": "PAID",
		"lineItems": []any{map[string]any{"variantId": v.GID(), "quantity": qty, "requiresShipping": true}},
	}
}

func TestOrderCreateShapes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	shirt := b.emu.Products(testShop)[0].Variants[0]
	p := b.create(t, testShop, map[string]any{
		"currency": "USD", "email": "ann@example.com", "sourceName": "acpbridge", "sourceIdentifier": "cs_shape",
		"tags": []any{"acp", " acp ", "agent"}, "note": "hello", "buyerAcceptsMarketing": true,
		"shippingAddress": map[string]any{"firstName": "Ann", "city": "Sacramento", "provinceCode": "CA", "countryCode": "US"},
		"customer":        map[string]any{"toUpsert": map[string]any{"email": "ann@example.com", "firstName": "Ann"}},
		"lineItems": []any{
			map[string]any{"variantId": shirt.GID(), "quantity": 2, "priceSet": usd("20.00"), "requiresShipping": true,
				// No priceSet: the rate applies to the line's total.
				"taxLines": []any{map[string]any{"title": "CA State Tax", "rate": "0.0725"}}},
			map[string]any{"title": "Gift wrap", "quantity": 1, "priceSet": usd("4.00"), "taxable": false},
		},
		"shippingLines": []any{map[string]any{"title": "Standard", "code": "shopify-Standard", "priceSet": usd("5.00"),
			"taxLines": []any{map[string]any{"title": "CA State Tax", "rate": "0.0725", "priceSet": usd("0.36")}}}},
		"discountCode": map[string]any{"itemPercentageDiscountCode": map[string]any{"code": "WELCOME10", "percentage": 10}},
		"transactions": []any{map[string]any{"gateway": "acpbridge (Stripe)", "authorizationCode": "pi_1", "amountSet": usd("46.16")}},
	}, nil)
	if errs := p["userErrors"].([]any); len(errs) != 0 {
		t.Fatalf("userErrors %v", errs)
	}
	o := p["order"]
	// Lines 40 + 4 = 44, less 10 % = 39.60; tax 2.90 + 0.36; shipping 5.
	for path, want := range map[string]any{
		"name": "#1001", "number": 1.0, "displayFinancialStatus": "PARTIALLY_PAID", // no financialStatus: from the transactions "displayFulfillmentStatus": "UNFULFILLED",
		"sourceIdentifier": "cs_shape", "sourceName": "acpbridge", "currencyCode": "USD", "email": "ann@example.com", "note": "hello",
	} {
		if got := dig(o, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	for field, want := range map[string]string{
		"subtotalPriceSet": "39.6", "totalDiscountsSet": "4.4", "totalTaxSet": "3.26", "totalShippingPriceSet": "5.0",
		"totalPriceSet": "47.86", "totalReceivedSet": "46.16", "totalOutstandingSet": "1.7",
	} {
		if got := shop(o, field); got != want {
			t.Errorf("%s = %v, want %s", field, got, want)
		}
	}
	if tags := dig(o, "tags").([]any); len(tags) != 2 {
		t.Errorf("tags %v, want acp and agent", tags)
	}
	if got := dig(o, "lineItems", "nodes", 0, "taxLines", 0, "priceSet", "shopMoney", "amount"); got != "2.9" {
		t.Errorf("computed line tax %v, want 2.9 (7.25 %% of 40)", got)
	}
	if got := dig(o, "taxLines", 0, "priceSet", "shopMoney", "amount"); got != "3.26" || len(dig(o, "taxLines").([]any)) != 1 {
		t.Errorf("order tax lines %v, want one of 3.26", dig(o, "taxLines"))
	}
	if dig(o, "lineItems", "nodes", 1, "variant") != nil || dig(o, "lineItems", "nodes", 1, "taxable") != false || dig(o, "lineItems", "nodes", 0, "name") == nil {
		t.Errorf("lines %v", dig(o, "lineItems"))
	}
	if dig(o, "transactions", 0, "kind") != "SALE" || dig(o, "transactions", 0, "status") != "SUCCESS" || dig(o, "transactions", 0, "paymentId") != "pi_1" {
		t.Errorf("transactions %v", dig(o, "transactions"))
	}
	if dig(o, "customer", "defaultEmailAddress", "marketingState") != "SUBSCRIBED" || dig(o, "customer", "firstName") != "Ann" {
		t.Errorf("customer %v", dig(o, "customer"))
	}
	url, _ := dig(o, "statusPageUrl").(string)
	if !strings.HasPrefix(url, "https://"+testShop+"/") || !strings.Contains(url, "/orders/") || !strings.Contains(url, "/authenticate?key=") {
		t.Errorf("statusPageUrl %q", url)
	}
	id := dig(o, "id").(string)
	if id != "gid://shopify/Order/"+dig(o, "legacyResourceId").(string) {
		t.Errorf("id %s", id)
	}
	// The order reads back by order(id:) and node(id:), its line by node.
	token := b.emu.StaffToken(testShop)
	lineID := dig(o, "lineItems", "nodes", 0, "id").(string)
	data := b.mustData(t, testShop, token, `query($id: ID!, $line: ID!) {
	  order(id: $id) { name }
	  node(id: $id) { ... on Order { name sourceIdentifier } }
	  nodes(ids: [$line, "gid://shopify/Order/1"]) { ... on LineItem { quantity } }
	}`, map[string]any{"id": id, "line": lineID})
	if dig(data, "order", "name") != "#1001" || dig(data, "node", "sourceIdentifier") != "cs_shape" || dig(data, "nodes", 0, "quantity") != 2.0 || dig(data, "nodes", 1) != nil {
		t.Errorf("read back %v", data)
	}

	// Numbers go on per shop; ids never repeat across shops.
	shirt2 := b.emu.Products(otherShop)[0].Variants[0]
	p2 := b.create(t, testShop, simpleOrder(shirt, 1, "cs_2"), nil)
	p3 := b.create(t, otherShop, simpleOrder(shirt2, 1, "cs_3"), nil)
	if dig(p2, "order", "name") != "#1002" || dig(p3, "order", "name") != "#1001" || dig(p3, "order", "id") == id || dig(p3, "order", "id") == dig(p2, "order", "id") {
		t.Errorf("numbering %v %v", dig(p2, "order", "name"), dig(p3, "order", "name"))
	}
	if cs := b.emu.Customers(testShop); len(cs) != 1 || !cs[0].AcceptsEmailMarketing {
		t.Errorf("customers %+v", cs)
	}
}

func TestOrderCreateUserErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	shirt := b.emu.Products(testShop)[0].Variants[0]
	line := func(extra map[string]any) []any {
		l := map[string]any{"variantId": shirt.GID(), "quantity": 1}
		for k, v := range extra {
			l[k] = v
		}
		return []any{l}
	}
	tests := []struct {
		name  string
		order map[string]any
		code  string
		field string
	}{
		{"no lines", map[string]any{"lineItems": []any{}}, "INVALID", "order.lineItems"},
		{"zero quantity", map[string]any{"lineItems": line(map[string]any{"quantity": 0})}, "INVALID", "order.lineItems.0.quantity"},
		{"unknown variant", map[string]any{"lineItems": line(map[string]any{"variantId": "gid://shopify/ProductVariant/9"})}, "INVALID", "order.lineItems.0.variantId"},
		{"custom line without price", map[string]any{"lineItems": []any{map[string]any{"title": "X", "quantity": 1}}}, "INVALID", "order.lineItems.0.priceSet"},
		{"price in another currency", map[string]any{"lineItems": line(map[string]any{"priceSet": map[string]any{"shopMoney": map[string]any{"amount": "1", "currencyCode": "EUR"}}})}, "INVALID", "order.lineItems.0.priceSet.shopMoney"},
		{"foreign order currency", map[string]any{"currency": "EUR", "lineItems": line(nil)}, "INVALID", "order.currency"},
		{"bad email", map[string]any{"email": "nope", "lineItems": line(nil)}, "INVALID", "order.email"},
		{"customer twice", map[string]any{"customerId": "gid://shopify/Customer/1", "customer": map[string]any{"toAssociate": map[string]any{"id": "gid://shopify/Customer/1"}}, "lineItems": line(nil)}, "REDUNDANT_CUSTOMER_FIELDS", "order.customer"},
		{"unknown customer", map[string]any{"customer": map[string]any{"toAssociate": map[string]any{"id": "gid://shopify/Customer/1"}}, "lineItems": line(nil)}, "INVALID", "order.customer.toAssociate"},
		{"processed in the future", map[string]any{"processedAt": "2027-01-01T00:00:00Z", "lineItems": line(nil)}, "PROCESSED_AT_INVALID", "order.processedAt"},
		{"tax rate over 1", map[string]any{"lineItems": line(map[string]any{"taxLines": []any{map[string]any{"title": "T", "rate": "7.25"}}})}, "TAX_LINE_RATE_MISSING", "order.lineItems.0.taxLines.0.rate"},
		{"zero transaction", map[string]any{"lineItems": line(nil), "transactions": []any{map[string]any{"amountSet": usd("0")}}}, "INVALID", "order.transactions.0.amountSet"},
		{"refund transaction", map[string]any{"lineItems": line(nil), "transactions": []any{map[string]any{"kind": "REFUND", "amountSet": usd("1")}}}, "INVALID", "order.transactions.0.kind"},
		{"two discount kinds", map[string]any{"lineItems": line(nil), "discountCode": map[string]any{
			"itemPercentageDiscountCode": map[string]any{"code": "A", "percentage": 5}, "freeShippingDiscountCode": map[string]any{"code": "B"}}}, "INVALID", "order.discountCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.create(t, testShop, tt.order, nil)
			errs, _ := p["userErrors"].([]any)
			if p["order"] != nil || len(errs) == 0 {
				t.Fatalf("accepted: %v", p)
			}
			var fields []string
			for _, f := range dig(errs[0], "field").([]any) {
				fields = append(fields, f.(string))
			}
			if dig(errs[0], "code") != tt.code || strings.Join(fields, ".") != tt.field {
				t.Errorf("error %v, want %s at %s", errs[0], tt.code, tt.field)
			}
		})
	}
	if n := len(b.emu.Orders(testShop)); n != 0 {
		t.Errorf("%d orders written", n)
	}
}

func TestOrderCreateInventoryAndStatus(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	products := b.emu.Products(testShop)
	s, xl, ebook := products[0].Variants[0], products[0].Variants[3], products[2].Variants[0]
	// A tracked variant that may oversell.
	if err := b.emu.UpdateProduct(testShop, products[5].GID(), func(p *emulator.Product) {
		p.Variants[0].InventoryPolicy, p.Variants[0].Tracked = "CONTINUE", true
	}); err != nil {
		t.Fatal(err)
	}
	cont := b.emu.Products(testShop)[5].Variants[0]
	stock := func(v emulator.Variant) int {
		for _, p := range b.emu.Products(testShop) {
			for _, pv := range p.Variants {
				if pv.ID == v.ID {
					return pv.InventoryQuantity
				}
			}
		}
		t.Fatalf("variant %d gone", v.ID)
		return 0
	}
	obey := map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"}

	// BYPASS (the default) claims nothing.
	b.create(t, testShop, simpleOrder(s, 2, "cs_bypass"), nil)
	if stock(s) != s.InventoryQuantity {
		t.Errorf("BYPASS changed stock")
	}
	// Obeying the policy: a sold-out DENY variant refuses, and the whole
	// order is refused.
	order := simpleOrder(s, 1, "cs_xl")
	order["lineItems"] = append(order["lineItems"].([]any), map[string]any{"variantId": xl.GID(), "quantity": 1})
	p := b.create(t, testShop, order, obey)
	if p["order"] != nil || dig(p, "userErrors", 0, "code") != "INVENTORY_CLAIM_FAILED" || dig(p, "userErrors", 0, "field", 2) != "1" {
		t.Errorf("sold-out XL: %v", p)
	}
	if stock(s) != s.InventoryQuantity {
		t.Errorf("a refused order claimed stock")
	}
	// CONTINUE oversells, untracked needs nothing, DENY in stock is claimed.
	order = simpleOrder(s, 3, "cs_mix")
	order["lineItems"] = append(order["lineItems"].([]any),
		map[string]any{"variantId": cont.GID(), "quantity": cont.InventoryQuantity + 5},
		map[string]any{"variantId": ebook.GID(), "quantity": 9})
	if p := b.create(t, testShop, order, obey); p["order"] == nil {
		t.Fatalf("mixed order refused: %v", p["userErrors"])
	}
	if stock(s) != s.InventoryQuantity-3 || stock(cont) != -5 || stock(ebook) != 0 {
		t.Errorf("stock after: shirt %d, continue %d, ebook %d", stock(s), stock(cont), stock(ebook))
	}
	// Ignoring the policy, a sold-out DENY variant goes negative.
	if p := b.create(t, testShop, simpleOrder(xl, 1, "cs_ignore"), map[string]any{"inventoryBehaviour": "DECREMENT_IGNORING_POLICY"}); p["order"] == nil || stock(xl) != -1 {
		t.Errorf("ignoring policy: %v, stock %d", p["userErrors"], stock(xl))
	}

	// Without financialStatus, it follows from the transactions.
	for _, tt := range []struct {
		txs  []any
		want string
	}{
		{nil, "PENDING"},
		{[]any{map[string]any{"kind": "AUTHORIZATION", "amountSet": usd("1.00")}}, "AUTHORIZED"},
		{[]any{map[string]any{"amountSet": usd("1.00")}}, "PARTIALLY_PAID"},
		{[]any{map[string]any{"amountSet": usd("1.00"), "status": "FAILURE"}}, "PENDING"},
		{[]any{map[string]any{"amountSet": usd("500.00")}}, "PAID"},
	} {
		o := simpleOrder(s, 1, "cs_status")
		delete(o, "financialStatus")
		if tt.txs != nil {
			o["transactions"] = tt.txs
		}
		if got := dig(b.create(t, testShop, o, nil), "order", "displayFinancialStatus"); got != tt.want {
			t.Errorf("transactions %v: status %v, want %s", tt.txs, got, tt.want)
		}
	}
}

func TestOrdersQuery(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	s := b.emu.Products(testShop)[0].Variants[0]
	token := b.emu.StaffToken(testShop)
	for _, src := range []string{"cs_a", "cs_b", "cs_c"} {
		b.create(t, testShop, simpleOrder(s, 1, src), nil)
		b.clock.Advance(time.Minute)
	}
	if err := b.emu.CancelOrder(testShop, b.emu.Orders(testShop)[2].GID(), "OTHER"); err != nil {
		t.Fatal(err)
	}
	names := func(query string, extra string) string {
		t.Helper()
		data := b.mustData(t, testShop, token, `query($q: String) { orders(first: 10, query: $q`+extra+`) { nodes { name } } }`, map[string]any{"q": query})
		var out []string
		for _, n := range dig(data, "orders", "nodes").([]any) {
			out = append(out, dig(n, "name").(string))
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct{ query, extra, want string }{
		{"", "", "#1001 #1002 #1003"},
		{"", ", reverse: true", "#1003 #1002 #1001"},
		{`source_identifier:"cs_b"`, "", "#1002"},
		{"source_identifier:cs_", "", ""},
		{"name:#1003", "", "#1003"},
		{"name:1001", "", "#1001"},
		{"status:cancelled", "", "#1003"},
		{"status:open", "", "#1001 #1002"},
		{"financial_status:paid -name:1002", "", "#1001 #1003"},
		{"", ", sortKey: ORDER_NUMBER, reverse: true", "#1003 #1002 #1001"},
	} {
		if got := names(tt.query, tt.extra); got != tt.want {
			t.Errorf("orders(query: %q%s) = %q, want %q", tt.query, tt.extra, got, tt.want)
		}
	}
	// Paging.
	data := b.mustData(t, testShop, token, `{ orders(first: 2) { pageInfo { hasNextPage endCursor } nodes { name } } }`, nil)
	next := b.mustData(t, testShop, token, `query($after: String) { orders(first: 2, after: $after) { pageInfo { hasNextPage } nodes { name } } }`,
		map[string]any{"after": dig(data, "orders", "pageInfo", "endCursor")})
	if dig(data, "orders", "pageInfo", "hasNextPage") != true || dig(next, "orders", "nodes", 0, "name") != "#1003" || dig(next, "orders", "pageInfo", "hasNextPage") != false {
		t.Errorf("paging %v then %v", data, next)
	}
	// The search index lags: a new order shows only once it is old enough.
	if err := b.emu.SetOrderSearchLag(testShop, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	b.create(t, testShop, simpleOrder(s, 1, "cs_new"), nil)
	if got := names("source_identifier:cs_new", ""); got != "" {
		t.Errorf("a fresh order was found at once: %q", got)
	}
	b.clock.Advance(5 * time.Second)
	if got := names("source_identifier:cs_new", ""); got != "#1004" {
		t.Errorf("after the lag: %q", got)
	}
}

func TestOrderScopes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		scopes       []string
		read, create bool
	}{
		{[]string{"read_products"}, false, false},
		{[]string{"read_products", "read_orders"}, true, false},
		{[]string{"read_products", "write_orders"}, true, true},
	} {
		b := setup(t, func(c *emulator.Config) { c.Scopes = tt.scopes })
		token := b.install(t, testShop, false)["access_token"].(string)
		_, resp := b.gql(t, testShop, token, `{ orders(first: 1) { nodes { id } } node(id: "gid://shopify/Order/1") { id } }`, nil)
		if denied := errorCode(resp) == "ACCESS_DENIED"; denied == tt.read {
			t.Errorf("%v: reading orders: %v", tt.scopes, resp)
		}
		s := b.emu.Products(testShop)[0].Variants[0]
		_, resp = b.gql(t, testShop, token, createDoc, map[string]any{"order": simpleOrder(s, 1, "cs_scope")})
		if created := dig(resp, "data", "orderCreate", "order") != nil; created != tt.create {
			t.Errorf("%v: creating an order: %v", tt.scopes, resp)
		}
		if tt.create {
			continue
		}
		if errorCode(resp) != "ACCESS_DENIED" || !contains(errorMessage(resp), "write_orders") {
			t.Errorf("%v: %v", tt.scopes, resp)
		}
	}
}

func TestOrderCreateFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	s := b.emu.Products(testShop)[0].Variants[0]
	vars := map[string]any{"order": simpleOrder(s, 1, "cs_fault")}
	body := map[string]any{"query": createDoc, "variables": vars}
	headers := map[string]string{"X-Shopify-Access-Token": b.emu.StaffToken(testShop)}

	// A 5xx fails the request before it runs: nothing is written.
	b.emu.FailNext(1, http.StatusInternalServerError)
	if status, _ := b.postJSON(t, b.emu.GraphQLURL(testShop), headers, body); status != http.StatusInternalServerError {
		t.Fatalf("status %d", status)
	}
	if n := len(b.emu.Orders(testShop)); n != 0 {
		t.Fatalf("%d orders after a failed request", n)
	}
	// A lost response: the order is written, the client hears nothing.
	b.emu.LoseNextResponse()
	if _, _, err := b.tryPostJSON(b.emu.GraphQLURL(testShop), headers, body); err == nil {
		t.Fatal("a lost response arrived")
	}
	if orders := b.emu.Orders(testShop); len(orders) != 1 || orders[0].SourceIdentifier != "cs_fault" {
		t.Fatalf("orders after a lost response: %+v", orders)
	}
	// The next request is answered again.
	if p := b.create(t, testShop, simpleOrder(s, 1, "cs_after"), nil); dig(p, "order", "name") != "#1002" {
		t.Errorf("after the fault: %v", p)
	}
	// A loss aimed at orderCreate spares the requests that come first.
	b.emu.LoseNextResponseTo("orderCreate")
	if status, resp := b.gql(t, testShop, b.emu.StaffToken(testShop), `{ shop { name } }`, nil); status != http.StatusOK || dig(resp, "data", "shop", "name") == nil {
		t.Fatalf("another query while a loss is aimed at orderCreate: %d %v", status, resp)
	}
	vars["order"] = simpleOrder(s, 1, "cs_aimed")
	if _, _, err := b.tryPostJSON(b.emu.GraphQLURL(testShop), headers, body); err == nil {
		t.Fatal("the aimed loss did not strike orderCreate")
	}
	if orders := b.emu.Orders(testShop); len(orders) != 3 || orders[2].SourceIdentifier != "cs_aimed" {
		t.Fatalf("orders after the aimed loss: %+v", orders)
	}
}

func TestMerchantActionsSendWebhooks(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	b.install(t, testShop, true)
	s := b.emu.Products(testShop)[0].Variants[1]
	order := simpleOrder(s, 2, "cs_hooks")
	order["transactions"] = []any{map[string]any{"gateway": "acpbridge (Stripe)", "authorizationCode": "pi_9", "amountSet": usd(moneyOf(2 * s.PriceCents))}}
	order["email"] = "ann@example.com"
	p := b.create(t, testShop, order, map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"})
	id := dig(p, "order", "id").(string)

	// Claiming stock tells the app, as Shopify does.
	var inv map[string]any
	_ = json.Unmarshal(sink.next(t, "inventory_levels/update").body, &inv)
	if inv["inventory_item_id"] != float64(s.InventoryItemID) || inv["available"] != float64(s.InventoryQuantity-2) {
		t.Errorf("inventory webhook %v", inv)
	}

	if err := b.emu.FulfillOrder(testShop, id, emulator.Tracking{Company: "UPS", Number: "1Z1", URL: "https://ups.example/1Z1"}); err != nil {
		t.Fatal(err)
	}
	f, err := shopify.ParseFulfillmentWebhook("fulfillments/create", sink.next(t, "fulfillments/create").body)
	if err != nil {
		t.Fatalf("fulfillments/create: %v", err)
	}
	if f.Status != "success" || f.TrackingCompany != "UPS" || f.TrackingNumbers[0] != "1Z1" || f.TrackingURLs[0] != "https://ups.example/1Z1" ||
		len(f.LineItems) != 1 || f.LineItems[0].Quantity != 2 || f.Name != "#1001.1" {
		t.Errorf("fulfillment %+v", f)
	}
	o, err := shopify.ParseOrderWebhook("orders/updated", sink.next(t, "orders/updated").body)
	if err != nil {
		t.Fatalf("orders/updated: %v", err)
	}
	if o.FulfillmentStatus != "fulfilled" || o.SourceIdentifier != "cs_hooks" || o.FinancialStatus != "paid" || len(o.Fulfillments) != 1 {
		t.Errorf("order after fulfilment %+v", o)
	}
	if err := b.emu.FulfillOrder(testShop, id, emulator.Tracking{}); !errors.Is(err, emulator.ErrOrderState) {
		t.Errorf("fulfilling twice: %v", err)
	}

	fid := "gid://shopify/Fulfillment/" + jsonID(f.ID)
	if err := b.emu.UpdateFulfillment(testShop, id, fid, emulator.FulfillmentUpdate{ShipmentStatus: "IN_TRANSIT"}); err != nil {
		t.Fatal(err)
	}
	if f, err := shopify.ParseFulfillmentWebhook("fulfillments/update", sink.next(t, "fulfillments/update").body); err != nil || f.ShipmentStatus != "in_transit" {
		t.Errorf("fulfillments/update: %+v, %v", f, err)
	}
	if err := b.emu.UpdateFulfillment(testShop, id, fid, emulator.FulfillmentUpdate{ShipmentStatus: "teleported"}); err == nil {
		t.Error("an unknown shipment status was accepted")
	}

	if err := b.emu.RefundOrder(testShop, id, 700, "late"); err != nil {
		t.Fatal(err)
	}
	r, err := shopify.ParseRefundWebhook("refunds/create", sink.next(t, "refunds/create").body)
	if err != nil {
		t.Fatalf("refunds/create: %v", err)
	}
	if r.Refunded() != "7.00" || r.Note != "late" || r.Transactions[0].Gateway != "acpbridge (Stripe)" || r.Transactions[0].ParentID == 0 || r.Transactions[0].Authorization != "pi_9" {
		t.Errorf("refund %+v", r)
	}
	if o, _ := shopify.ParseOrderWebhook("orders/updated", sink.next(t, "orders/updated").body); o == nil || o.FinancialStatus != "partially_refunded" {
		t.Errorf("order after refund %+v", o)
	}
	if err := b.emu.RefundOrder(testShop, id, 2*s.PriceCents, "too much"); !errors.Is(err, emulator.ErrOrderState) {
		t.Errorf("refunding more than is left: %v", err)
	}
	if err := b.emu.RefundOrder(testShop, id, 2*s.PriceCents-700, "the rest"); err != nil {
		t.Fatal(err)
	}
	if got := b.emu.Orders(testShop)[0]; got.FinancialStatus != "REFUNDED" || got.RefundedCents() != got.ReceivedCents() {
		t.Errorf("fully refunded order %+v", got)
	}
	if err := b.emu.CancelOrder(testShop, id, "customer"); !errors.Is(err, emulator.ErrOrderState) {
		t.Errorf("cancelling a fulfilled order: %v", err)
	}

	// An unshipped order is cancelled and restocked.
	p = b.create(t, testShop, simpleOrder(s, 1, "cs_cancel"), map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"})
	other := dig(p, "order", "id").(string)
	sink.next(t, "inventory_levels/update")
	if err := b.emu.CancelOrder(testShop, other, "Inventory"); err != nil {
		t.Fatal(err)
	}
	c, err := shopify.ParseOrderWebhook("orders/cancelled", sink.next(t, "orders/cancelled").body)
	if err != nil || c.CancelledAt == nil || c.CancelReason != "inventory" || c.FulfillmentStatus != "restocked" {
		t.Errorf("orders/cancelled: %+v, %v", c, err)
	}
	_ = json.Unmarshal(sink.next(t, "inventory_levels/update").body, &inv)
	if inv["available"] != float64(s.InventoryQuantity-2) {
		t.Errorf("restocked to %v, want %d", inv["available"], s.InventoryQuantity-2)
	}
	if err := b.emu.CancelOrder(testShop, other, "OTHER"); !errors.Is(err, emulator.ErrOrderState) {
		t.Errorf("cancelling twice: %v", err)
	}
	if err := b.emu.CancelOrder(testShop, other, "bored"); err == nil {
		t.Error("an unknown cancel reason was accepted")
	}
	for _, err := range []error{
		b.emu.FulfillOrder(testShop, "gid://shopify/Order/1", emulator.Tracking{}),
		b.emu.RefundOrder("nowhere.myshopify.com", other, 1, ""),
		b.emu.UpdateFulfillment(testShop, other, "gid://shopify/Fulfillment/1", emulator.FulfillmentUpdate{}),
	} {
		if !errors.Is(err, emulator.ErrNotFound) {
			t.Errorf("unknown order or fulfillment: %v", err)
		}
	}
}

func jsonID(n int64) string { return strconv.FormatInt(n, 10) }

// TestOrderCreateSendsOrderWebhooks: as Shopify does for any order, an
// order written by orderCreate is announced by orders/create, and by
// orders/paid when it was created paid, besides the stock it claims.
func TestOrderCreateSendsOrderWebhooks(t *testing.T) {
	t.Parallel()
	sink := newWebhookSink(t)
	b := setup(t, func(c *emulator.Config) { c.AppURL = sink.URL })
	b.install(t, testShop, true) // Shopify notifies installed apps only
	s := b.emu.Products(testShop)[0].Variants[0]
	topics := func() []string { // what arrives until the sink is quiet
		var got []string
		for {
			select {
			case w := <-sink.got:
				topic := w.header.Get("X-Shopify-Topic")
				got = append(got, topic)
				var o map[string]any
				if strings.HasPrefix(topic, "orders/") && (json.Unmarshal(w.body, &o) != nil || o["id"] == nil || o["source_identifier"] == nil) {
					t.Errorf("%s body: %s", topic, w.body)
				}
			case <-time.After(500 * time.Millisecond):
				slices.Sort(got)
				return got
			}
		}
	}
	cases := []struct {
		name    string
		order   map[string]any
		options map[string]any
		want    []string
	}{
		{"paid, stock claimed", simpleOrder(s, 1, "cs_paid"), map[string]any{"inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
			[]string{"inventory_levels/update", "orders/create", "orders/paid"}},
		{"pending, stock bypassed", func() map[string]any {
			o := simpleOrder(s, 1, "cs_pending")
			delete(o, "financialStatus")
			return o
		}(), nil, []string{"orders/create"}},
	}
	for _, tc := range cases {
		if p := b.create(t, testShop, tc.order, tc.options); p["order"] == nil {
			t.Fatalf("%s: %v", tc.name, p["userErrors"])
		}
		if got := topics(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: webhooks %v, want %v", tc.name, got, tc.want)
		}
	}
}
