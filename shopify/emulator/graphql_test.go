package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify/emulator"
)

func TestGraphQLAuth(t *testing.T) {
	t.Parallel()
	const q = `{ shop { name } }`
	tests := []struct {
		name       string
		token      func(b *bundle) string
		shop       string
		wantStatus int
	}{
		{"Valid", func(b *bundle) string { return b.install(t, testShop, true)["access_token"].(string) }, testShop, http.StatusOK},
		{"Missing", func(*bundle) string { return "" }, testShop, http.StatusUnauthorized},
		{"Unknown", func(*bundle) string { return "shpat_nope" }, testShop, http.StatusUnauthorized},
		{"Expired", func(b *bundle) string {
			tok := b.install(t, testShop, true)["access_token"].(string)
			b.emu.ExpireAccessTokens(testShop)
			return tok
		}, testShop, http.StatusUnauthorized},
		{"Revoked", func(b *bundle) string {
			tok := b.install(t, testShop, false)["access_token"].(string)
			b.emu.RevokeTokens(testShop)
			return tok
		}, testShop, http.StatusUnauthorized},
		{"OtherShopsToken", func(b *bundle) string { return b.install(t, otherShop, true)["access_token"].(string) }, testShop, http.StatusUnauthorized},
		{"UnknownShop", func(b *bundle) string { return b.emu.StaffToken(testShop) }, "nosuch.myshopify.com", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			status, body := b.gql(t, tt.shop, tt.token(b), q, nil)
			if status != tt.wantStatus {
				t.Fatalf("status=%d, want %d (body %v)", status, tt.wantStatus, body)
			}
			if status == http.StatusUnauthorized && body["errors"] != "[API] Invalid API key or access token (unrecognized login or wrong password)" {
				t.Errorf("401 body=%v", body)
			}
		})
	}
}

func TestGraphQLOtherVersionNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	url := strings.Replace(b.emu.GraphQLURL(testShop), "2026-10", "2025-01", 1)
	status, _ := b.postJSON(t, url, map[string]string{"X-Shopify-Access-Token": b.emu.StaffToken(testShop)}, map[string]any{"query": "{ shop { name } }"})
	if status != http.StatusNotFound {
		t.Errorf("status=%d, want 404", status)
	}
}

func TestGraphQLDirectLoopback(t *testing.T) {
	t.Parallel()
	// The demo hands out http://127.0.0.1:PORT/admin/api/2026-10/graphql.json
	// with the staff token; the token tells the shop.
	b := setup(t, nil)
	url := b.emu.URL() + "/admin/api/2026-10/graphql.json"
	status, body := b.postJSON(t, url, map[string]string{"X-Shopify-Access-Token": b.emu.StaffToken(otherShop)}, map[string]any{"query": "{ shop { myshopifyDomain } }"})
	if status != http.StatusOK || dig(body, "data", "shop", "myshopifyDomain") != otherShop {
		t.Errorf("status=%d body=%v", status, body)
	}
}

func TestSchemaValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.emu.StaffToken(testShop)
	tests := []struct {
		name    string
		query   string
		wantMsg string
	}{
		{"MisspelledField", "{\n  produtcs(first: 1) { nodes { id } }\n}", `Cannot query field "produtcs" on type "QueryRoot"`},
		{"UnknownArgument", `{ products(first: 1, colour: "red") { nodes { id } } }`, `Unknown argument "colour"`},
		{"WrongType", `{ products(first: "ten") { nodes { id } } }`, `Int`},
		{"UnknownNestedField", `{ products(first: 1) { nodes { id weight } } }`, `Cannot query field "weight" on type "Product"`},
		{"SyntaxError", `{ products(first: 1) { nodes { id }`, `Expected`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := b.gql(t, testShop, tok, tt.query, nil)
			if status != http.StatusOK {
				t.Fatalf("status=%d, want 200", status)
			}
			if got := errorCode(body); got != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("code=%q, want GRAPHQL_VALIDATION_FAILED (body %v)", got, body)
			}
			if !contains(errorMessage(body), tt.wantMsg) {
				t.Errorf("message=%q, want it to contain %q", errorMessage(body), tt.wantMsg)
			}
			if dig(body, "errors", 0, "locations", 0, "line") == nil {
				t.Errorf("no locations: %v", body)
			}
			if body["data"] != nil {
				t.Errorf("data=%v, want none", body["data"])
			}
		})
	}
}

func TestProjector(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.emu.StaffToken(testShop)
	p := b.emu.Products(testShop)[0]
	const q = `
query One($id: ID!, $withVendor: Boolean!, $skipHandle: Boolean = true) {
  __typename
  item: product(id: $id) {
    __typename
    ...Basics
    vendor @include(if: $withVendor)
    handle @skip(if: $skipHandle)
    featuredMedia { __typename ... on MediaImage { image { url } } ... on Video { id } }
    firstVariant: variants(first: 1) { nodes { id price } }
  }
}
fragment Basics on Product { id name: title }`
	data := b.mustData(t, testShop, tok, q, map[string]any{"id": p.GID(), "withVendor": true})
	want := map[string]any{
		"__typename": "QueryRoot",
		"item": map[string]any{
			"__typename":    "Product",
			"id":            p.GID(),
			"name":          p.Title,
			"vendor":        p.Vendor,
			"featuredMedia": map[string]any{"__typename": "MediaImage", "image": map[string]any{"url": p.Images[0].URL}},
			"firstVariant":  map[string]any{"nodes": []any{map[string]any{"id": p.Variants[0].GID(), "price": moneyOf(p.Variants[0].PriceCents)}}},
		},
	}
	gotJSON, _ := json.Marshal(data)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("data=%s\nwant %s", gotJSON, wantJSON)
	}
}

func moneyOf(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func TestFieldOrderFollowsSelection(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	req, _ := http.NewRequest(http.MethodPost, b.emu.GraphQLURL(testShop), strings.NewReader(`{"query":"{ shop { name id currencyCode } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", b.emu.StaffToken(testShop))
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	want := `{"shop":{"name":"Demo Shop","id":"gid://shopify/Shop/60000000001","currencyCode":"USD"}}`
	if string(raw.Data) != want {
		t.Errorf("data=%s, want %s", raw.Data, want)
	}
}

func TestProductsPagination(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.install(t, testShop, true)["access_token"].(string)
	const q = `query Page($after: String) {
  products(first: 7, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
}`
	var ids []string
	var after any
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		data := b.mustData(t, testShop, tok, q, map[string]any{"after": after})
		for _, e := range dig(data, "products", "edges").([]any) {
			ids = append(ids, dig(e, "node", "id").(string))
		}
		if dig(data, "products", "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(data, "products", "pageInfo", "endCursor")
	}
	products := b.emu.Products(testShop)
	if len(ids) != len(products) {
		t.Fatalf("paged %d products, want %d", len(ids), len(products))
	}
	for i, p := range products {
		if ids[i] != p.GID() {
			t.Errorf("ids[%d]=%s, want %s", i, ids[i], p.GID())
		}
	}
}

func TestProductsQueryFilter(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.emu.StaffToken(testShop)
	products := b.emu.Products(testShop)
	active, afterFifth, recent := 0, 0, 0
	cut := products[10].UpdatedAt
	for _, p := range products {
		if p.Status == "ACTIVE" {
			active++
		}
		if p.ID > products[4].ID {
			afterFifth++
		}
		if p.UpdatedAt.After(cut) {
			recent++
		}
	}
	tests := []struct {
		query string
		want  int
	}{
		{"status:active", active},
		{"status:draft", 1},
		{"status:archived", 1},
		{"id:>" + products[4].GID()[len("gid://shopify/Product/"):], afterFifth},
		{"updated_at:>'" + cut.UTC().Format(time.RFC3339) + "'", recent},
		{"status:active id:>0", active},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			data := b.mustData(t, testShop, tok, `query($q: String) { products(first: 250, query: $q) { nodes { id } } }`, map[string]any{"q": tt.query})
			if got := len(dig(data, "products", "nodes").([]any)); got != tt.want {
				t.Errorf("%d products, want %d", got, tt.want)
			}
		})
	}
}

func TestNodeLookups(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.emu.StaffToken(testShop)
	p := b.emu.Products(testShop)[0]
	v := p.Variants[0]
	data := b.mustData(t, testShop, tok, `query($p: ID!, $v: ID!) {
  node(id: $p) { ... on Product { title } }
  nodes(ids: [$p, $v, "gid://shopify/Product/1"]) { __typename id }
  productVariant(id: $v) { sku product { id } inventoryItem { id requiresShipping } }
}`, map[string]any{"p": p.GID(), "v": v.GID()})
	if dig(data, "node", "title") != p.Title {
		t.Errorf("node=%v", data["node"])
	}
	if dig(data, "nodes", 1, "__typename") != "ProductVariant" || dig(data, "nodes", 2) != nil {
		t.Errorf("nodes=%v", data["nodes"])
	}
	if dig(data, "productVariant", "product", "id") != p.GID() || dig(data, "productVariant", "sku") != v.SKU {
		t.Errorf("productVariant=%v", data["productVariant"])
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	tok := b.emu.StaffToken(testShop)
	b.emu.SetThrottle(30, 10)
	const q = `query Ids { products(first: 20) { nodes { id } } }` // requested 2+20 = 22, actual the same

	status, body := b.gql(t, testShop, tok, q, nil)
	if status != http.StatusOK || body["errors"] != nil {
		t.Fatalf("first call: status=%d body=%v", status, body)
	}
	if got := dig(body, "extensions", "cost", "throttleStatus", "currentlyAvailable"); got != 8.0 {
		t.Errorf("currentlyAvailable=%v, want 8", got)
	}

	status, body = b.gql(t, testShop, tok, q, nil)
	if status != http.StatusOK || errorCode(body) != "THROTTLED" || errorMessage(body) != "Throttled" {
		t.Fatalf("second call: status=%d body=%v, want THROTTLED", status, body)
	}
	cost := dig(body, "extensions", "cost").(map[string]any)
	if cost["actualQueryCost"] != nil || cost["requestedQueryCost"] != 22.0 || body["data"] != nil {
		t.Errorf("throttled cost=%v data=%v", cost, body["data"])
	}
	if dig(cost, "throttleStatus", "maximumAvailable") != 30.0 || dig(cost, "throttleStatus", "restoreRate") != 10.0 {
		t.Errorf("throttleStatus=%v", cost["throttleStatus"])
	}

	b.clock.Advance(time.Second) // 18 available: still short
	if _, body = b.gql(t, testShop, tok, q, nil); errorCode(body) != "THROTTLED" {
		t.Errorf("after 1s: %v, want THROTTLED", body)
	}
	b.clock.Advance(time.Second) // 28 available
	if _, body = b.gql(t, testShop, tok, q, nil); body["errors"] != nil {
		t.Errorf("after 2s: %v, want success", body["errors"])
	}
	st := b.emu.Stats(testShop)
	if st.Throttled != 2 {
		t.Errorf("Throttled=%d, want 2", st.Throttled)
	}
	if got, want := st.Operations["Ids"], (emulator.OperationStats{Calls: 4, Throttled: 2, Cost: 44}); got != want {
		t.Errorf("Operations[Ids]=%+v, want %+v", got, want)
	}
}

func TestCostIsReportedAndNested(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, body := b.gql(t, testShop, b.emu.StaffToken(testShop), `{ products(first: 10) { edges { node { id variants(first: 5) { nodes { id } } } } } }`, nil)
	// 2 + 10 products + 10 × (2 + 5 variants) = 82
	if got := dig(body, "extensions", "cost", "requestedQueryCost"); got != 82.0 {
		t.Errorf("requestedQueryCost=%v, want 82", got)
	}
	actual := dig(body, "extensions", "cost", "actualQueryCost").(float64)
	if actual <= 0 || actual > 82 {
		t.Errorf("actualQueryCost=%v", actual)
	}
	if got := b.emu.Stats(testShop).Cost; got != int(actual) {
		t.Errorf("Stats.Cost=%d, want the actual cost %v", got, actual)
	}
	_, body = b.gql(t, testShop, b.emu.StaffToken(testShop), `{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }`, nil)
	if errorCode(body) != "MAX_COST_EXCEEDED" {
		t.Errorf("huge query: %v, want MAX_COST_EXCEEDED", body["errors"])
	}
	if got := b.emu.Stats(testShop).Cost; got != int(actual) {
		t.Errorf("Stats.Cost=%d after a refused query, want %v (it ran nothing)", got, actual)
	}
}

func TestMissingResolverAndScopes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *emulator.Config) { c.Scopes = []string{"read_orders"} })
	tok := b.install(t, testShop, false)["access_token"].(string)

	_, body := b.gql(t, testShop, tok, `mutation { webhookSubscriptionDelete(id: "gid://shopify/WebhookSubscription/1") { deletedWebhookSubscriptionId } }`, nil)
	if got := errorMessage(body); got != "emulator: no resolver for webhookSubscriptionDelete" {
		t.Errorf("message=%q", got)
	}
	_, body = b.gql(t, testShop, tok, `{ shop { name } products(first: 1) { nodes { id } } }`, nil)
	if errorCode(body) != "ACCESS_DENIED" || dig(body, "data", "products") != nil || dig(body, "data", "shop", "name") != "Demo Shop" {
		t.Errorf("body=%v, want ACCESS_DENIED on products only", body)
	}
	data := b.mustData(t, testShop, tok, `{ currentAppInstallation { accessScopes { handle } } }`, nil)
	if got := dig(data, "currentAppInstallation", "accessScopes", 0, "handle"); got != "read_orders" {
		t.Errorf("accessScopes=%v", data)
	}
}
