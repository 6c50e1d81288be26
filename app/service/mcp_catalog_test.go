package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/config"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/web"
)

// catalogCall calls a catalog tool: its structured result decoded into
// out, or the JSON-RPC error (whose -32000 data must be an ACP Error).
// The text content must be the same JSON as the structured content.
func (a *mcpAgent) catalogCall(tool string, args any, out any) *jsonrpc.Error {
	a.t.Helper()
	res, err := a.session.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		var je *jsonrpc.Error
		if !errors.As(err, &je) {
			a.t.Fatalf("%s: not a JSON-RPC error: %v", tool, err)
		}
		if je.Code == web.CodeACPError {
			if err := acptest.Validate(acp.V20260417, "Error", je.Data); err != nil {
				a.t.Errorf("%s: error.data does not match the ACP Error schema: %v\n%s", tool, err, je.Data)
			}
		}
		return je
	}
	if res.IsError {
		a.t.Fatalf("%s: a tool error result: %+v", tool, res.Content)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		a.t.Fatal(err)
	}
	if len(res.Content) != 1 {
		a.t.Errorf("%s: %d content blocks, want 1", tool, len(res.Content))
	} else if tc, ok := res.Content[0].(*mcp.TextContent); !ok || !jsonEqual(tc.Text, string(b)) {
		a.t.Errorf("%s: the text content is not the structured content: %+v", tool, res.Content[0])
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		a.t.Fatalf("%s: %v\n%s", tool, err, b)
	}
	return nil
}

// searchAll walks every page of a search, limit items at a time.
func (a *mcpAgent) searchAll(args map[string]any, limit int) []feeds.SearchItem {
	a.t.Helper()
	var all []feeds.SearchItem
	args = maps.Clone(args)
	if args == nil {
		args = map[string]any{}
	}
	args["limit"] = limit
	for range 100 {
		var p feeds.SearchPage
		if je := a.catalogCall("acpbridge_search_products", args, &p); je != nil {
			a.t.Fatalf("search %v: %d %s %s", args, je.Code, je.Message, je.Data)
		}
		if len(p.Items) > limit || p.NextCursor != "" && len(p.Items) != limit {
			a.t.Fatalf("a page of %d items (limit %d), next %q", len(p.Items), limit, p.NextCursor)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		args["cursor"] = p.NextCursor
	}
	a.t.Fatal("search: more than 100 pages")
	return nil
}

func itemIDs(items []feeds.SearchItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// TestMCPCatalog: acpbridge's catalog tools over the real service, on both
// databases: search finds exactly the published feed's items, each filter
// the subset the unfiltered results say it should, across pages; get
// answers an item with its product's variants; what the feed leaves out
// (a draft, a product the merchant excludes) is not found.
func TestMCPCatalog(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		rebuild(t, e.shopifyEnv, e.sh) // the search index complete, whatever the first build's job is doing
		token, err := e.svc.Feeds().RotateToken(ctx, e.sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		published, _ := pullFeed(t, e.shopifyEnv, token)
		a := e.mcpAgent(t)

		// Everything, in pages of 7: the feed's items, each once.
		all := a.searchAll(nil, 7)
		got := itemIDs(all)
		var want []string
		for id := range published {
			want = append(want, id)
		}
		slices.Sort(want)
		sorted := slices.Sorted(slices.Values(got))
		if !slices.Equal(sorted, want) || len(want) < 10 {
			t.Fatalf("search of everything: %d items %v, the feed has %d %v", len(got), got, len(want), want)
		}
		// The same order as one page of 50 (when it fits).
		if len(all) <= feeds.MaxSearchLimit {
			if one := a.searchAll(nil, feeds.MaxSearchLimit); !slices.Equal(itemIDs(one), got) {
				t.Errorf("pages of 7 %v, one page %v", got, itemIDs(one))
			}
		}

		products := e.emu.Products(testShop)
		tee, draft := products[0], products[3]
		teeIDs := []string{}
		for _, v := range tee.Variants {
			teeIDs = append(teeIDs, variantID(v))
		}
		prices := slices.Sorted(func(yield func(int64) bool) {
			for _, it := range all {
				if !yield(it.Price) {
					return
				}
			}
		})
		lo, hi := prices[len(prices)/4], prices[3*len(prices)/4]
		filtered := func(keep func(feeds.SearchItem) bool) []string {
			var out []string
			for _, it := range all {
				if keep(it) {
					out = append(out, it.ID)
				}
			}
			slices.Sort(out)
			return out
		}
		category := "Apparel & Accessories > Clothing"
		for _, c := range []struct {
			name string
			args map[string]any
			want []string
		}{
			{"price range", map[string]any{"min_price": lo, "max_price": hi, "currency": strings.ToLower(e.sh.CurrencyCode)},
				filtered(func(it feeds.SearchItem) bool { return it.Price >= lo && it.Price <= hi })},
			{"out of stock", map[string]any{"availability": "out_of_stock"},
				filtered(func(it feeds.SearchItem) bool { return it.Availability == "out_of_stock" })},
			{"in stock", map[string]any{"availability": "in_stock"},
				filtered(func(it feeds.SearchItem) bool { return it.Availability == "in_stock" })},
			{"category prefix", map[string]any{"category": strings.ToUpper(category)},
				filtered(func(it feeds.SearchItem) bool { return strings.HasPrefix(it.Category, category) })},
			{"the tee's title", map[string]any{"query": tee.Title}, nil},
		} {
			items := a.searchAll(c.args, 5)
			ids := slices.Sorted(slices.Values(itemIDs(items)))
			if c.want == nil { // text: every tee variant, and only items that say so
				for _, id := range teeIDs {
					if !slices.Contains(ids, id) {
						t.Errorf("%s: tee variant %s missing from %v", c.name, id, ids)
					}
				}
				for _, it := range items {
					text := strings.ToLower(it.Title + " " + it.Description + " " + it.Category + " " + it.Brand)
					for _, w := range strings.Fields(strings.ToLower(tee.Title)) {
						if !strings.Contains(text, w) {
							t.Errorf("%s: %s (%q) does not contain %q", c.name, it.ID, it.Title, w)
						}
					}
				}
				continue
			}
			if len(c.want) == 0 || !slices.Equal(ids, c.want) {
				t.Errorf("%s: %v, want %v", c.name, ids, c.want)
			}
		}

		// One item with its product's variants.
		var d feeds.ItemDetail
		if je := a.catalogCall("acpbridge_get_product", map[string]any{"id": teeIDs[1]}, &d); je != nil {
			t.Fatalf("get: %d %s %s", je.Code, je.Message, je.Data)
		}
		if d.Item.ID != teeIDs[1] || !slices.Equal(slices.Sorted(slices.Values(itemIDs(d.Variants))), slices.Sorted(slices.Values(teeIDs))) {
			t.Errorf("get %s: item %s, variants %v, want %v", teeIDs[1], d.Item.ID, itemIDs(d.Variants), teeIDs)
		}
		for _, v := range d.Variants {
			if v.GroupID != d.Item.GroupID || v.Options["Size"] == "" || v.Price <= 0 || v.Currency != e.sh.CurrencyCode {
				t.Errorf("variant %+v", v)
			}
		}

		// What the feed does not publish: a draft; the tee, once the
		// merchant excludes it.
		notFound := func(what, id string) {
			t.Helper()
			je := a.catalogCall("acpbridge_get_product", map[string]any{"id": id}, &feeds.ItemDetail{})
			if d := acpErr(t, je); je.Code != web.CodeACPError || d["code"] != "not_found" || d["param"] != "$.id" || d["type"] != "invalid_request" {
				t.Errorf("%s: %d %v", what, je.Code, d)
			}
		}
		notFound("draft product", variantID(draft.Variants[0]))
		notFound("unknown id", "44999999999999")
		yes := true
		if err := e.svc.Feeds().SaveRule(ctx, app.FeedRule{ShopID: e.sh.ID, Scope: app.RuleProduct, TargetID: tee.ID, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		rebuild(t, e.shopifyEnv, e.sh)
		notFound("excluded product", teeIDs[0])
		for _, it := range a.searchAll(map[string]any{"query": tee.Title}, 50) {
			if slices.Contains(teeIDs, it.ID) {
				t.Errorf("the excluded tee's variant %s is still found", it.ID)
			}
		}
	})
}

// TestMCPCatalogRefusals: bad arguments are -32000 with an ACP
// invalid_request naming the argument; wrong keys are refused; nothing is
// a server error.
func TestMCPCatalogRefusals(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	rebuild(t, e.shopifyEnv, e.sh)
	a := e.mcpAgent(t)
	for _, c := range []struct {
		tool, name string
		args       any
		code       string
		param      string
	}{
		{"acpbridge_search_products", "limit 0", map[string]any{"limit": 0}, "invalid", "$.limit"},
		{"acpbridge_search_products", "limit 500", map[string]any{"limit": 500}, "invalid", "$.limit"},
		{"acpbridge_search_products", "limit a string", map[string]any{"limit": "10"}, "invalid", "$.limit"},
		{"acpbridge_search_products", "min_price without currency", map[string]any{"min_price": 1000}, "invalid", "$.currency"},
		{"acpbridge_search_products", "another currency", map[string]any{"max_price": 1000, "currency": "xts"}, "invalid", "$.currency"},
		{"acpbridge_search_products", "negative price", map[string]any{"min_price": -1, "currency": "usd"}, "invalid", "$.min_price"},
		{"acpbridge_search_products", "max below min", map[string]any{"min_price": 10, "max_price": 5, "currency": "usd"}, "invalid", "$.max_price"},
		{"acpbridge_search_products", "price a decimal string", map[string]any{"min_price": "10.00", "currency": "usd"}, "invalid", "$.min_price"},
		{"acpbridge_search_products", "bad cursor", map[string]any{"cursor": "not-a-cursor"}, "invalid", "$.cursor"},
		{"acpbridge_search_products", "cursor of another build", map[string]any{"cursor": "1.0.1"}, "invalid", "$.cursor"},
		{"acpbridge_search_products", "unknown availability", map[string]any{"availability": "sold_out"}, "invalid", "$.availability"},
		{"acpbridge_search_products", "query too long", map[string]any{"query": strings.Repeat("x", 201)}, "invalid", "$.query"},
		{"acpbridge_search_products", "arguments not an object", []int{1}, "invalid", "$"},
		{"acpbridge_get_product", "no id", map[string]any{}, "invalid", "$.id"},
		{"acpbridge_get_product", "id a number", map[string]any{"id": 44000000000001}, "invalid", "$.id"},
		{"acpbridge_get_product", "id too long", map[string]any{"id": strings.Repeat("9", 65)}, "invalid", "$.id"},
		{"acpbridge_get_product", "unknown id", map[string]any{"id": "nope"}, "not_found", "$.id"},
	} {
		je := a.catalogCall(c.tool, c.args, &map[string]any{})
		if je == nil || je.Code != web.CodeACPError {
			t.Errorf("%s: %v, want a -32000 error", c.name, je)
			continue
		}
		d := acpErr(t, je)
		if d["type"] != "invalid_request" || d["code"] != c.code || d["param"] != c.param || je.Message != d["message"] || d["message"] == "" {
			t.Errorf("%s: %q %v, want %s %s", c.name, je.Message, d, c.code, c.param)
		}
	}
	// Unknown arguments are ignored.
	var p feeds.SearchPage
	if je := a.catalogCall("acpbridge_search_products", map[string]any{"limit": 1, "colour": "red", "meta": map[string]any{}}, &p); je != nil || len(p.Items) != 1 {
		t.Errorf("unknown arguments: %v %v", p, je)
	}

	// Keys: another shop's URL with this key, a wrong key, none: refused
	// at the MCP server. A key revoked after initialize: the tool call
	// itself is refused unauthorized.
	url := web.MCPURL(e.svc.URL(), testShop)
	for name, c := range map[string]struct{ url, key string }{
		"another shop": {web.MCPURL(e.svc.URL(), "other-shop.myshopify.com"), e.key},
		"wrong key":    {url, e.key + "x"},
		"no key":       {url, ""},
	} {
		if _, err := connectMCP(t, c.url, c.key); err == nil {
			t.Errorf("%s: initialize succeeded", name)
		}
	}
	second, k2, err := e.svc.Agents().CreateAPIKey(ctx, e.sh.ID, "revoked soon")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := connectMCP(t, url, second)
	if err != nil {
		t.Fatal(err)
	}
	b := &mcpAgent{t: t, session: cs}
	if je := b.catalogCall("acpbridge_get_product", map[string]any{"id": strconv.FormatInt(e.items.inStock.ID, 10)}, &feeds.ItemDetail{}); je != nil {
		t.Fatalf("get with the second key: %v", je)
	}
	if err := e.svc.Agents().RevokeAPIKey(ctx, e.sh.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"acpbridge_search_products", "acpbridge_get_product"} {
		// Refused by the MCP server (401) before the tool runs.
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"id": "1"}})
		var je *jsonrpc.Error
		if err == nil || errors.As(err, &je) && je.Code == jsonrpc.CodeInternalError {
			t.Errorf("%s with a revoked key: %v", tool, err)
		}
	}
}

// TestMCPCatalogTools: tools/list has the catalog tools, read-only, with
// input and output schemas that compile as JSON Schema 2020-12.
func TestMCPCatalogTools(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.mcpAgent(t)
	res, err := a.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, tool := range res.Tools {
		if !strings.HasPrefix(tool.Name, "acpbridge_") {
			continue
		}
		found++
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			t.Errorf("%s: not read-only: %+v", tool.Name, tool.Annotations)
		}
		if !strings.Contains(tool.Description, "acpbridge extension") {
			t.Errorf("%s: description %q", tool.Name, tool.Description)
		}
		for what, s := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			if s == nil {
				t.Errorf("%s: no %s schema", tool.Name, what)
				continue
			}
			compileSchema(t, tool.Name+"-"+what, s)
		}
	}
	if found != 2 {
		t.Errorf("%d catalog tools listed, want 2", found)
	}
}

// compileSchema compiles a tool's schema as JSON Schema 2020-12.
func compileSchema(t *testing.T, name string, s any) *jsonschema.Schema {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "https://acpbridge.test/mcp/" + name + ".json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: the schema does not compile: %v", name, err)
	}
	return sch
}

// TestMCPCatalogAcrossShops: each shop's catalog tools answer from its own
// feed only. Shop B's key is refused on shop A's server; on its own, shop
// A's item ids are not found. The per-key rate limit counts catalog calls
// with REST calls (AGENT_RATE_LIMIT 0.5/s, a burst of one).
func TestMCPCatalogAcrossShops(t *testing.T) {
	t.Parallel()
	e := newSecApp(t, app.DatabaseSQLite, func(c *config.Config) { c.AgentRate = 0.5 })
	ctx := context.Background()
	keyOf := map[string]string{}
	shops := map[string]*app.Shop{}
	for _, domain := range []string{secShopA, secShopB} {
		s := e.installShop(t, domain)
		if _, err := e.svc.Feeds().Build(ctx, s.sh.ID); err != nil {
			t.Fatal(err)
		}
		k, _, err := e.svc.Agents().CreateAPIKey(ctx, s.sh.ID, "catalog agent")
		if err != nil {
			t.Fatal(err)
		}
		e.used("API key of "+domain, k)
		keyOf[domain], shops[domain] = k, s.sh
	}
	if _, err := connectMCP(t, web.MCPURL(e.svc.URL(), secShopA), keyOf[secShopB]); err == nil {
		t.Error("shop B's key initialized shop A's MCP server")
	}
	pages := map[string]feeds.SearchPage{}
	for _, domain := range []string{secShopA, secShopB} {
		cs, err := connectMCP(t, web.MCPURL(e.svc.URL(), domain), keyOf[domain])
		if err != nil {
			t.Fatalf("%s: %v", domain, err)
		}
		a := &mcpAgent{t: t, session: cs}
		var p feeds.SearchPage
		if je := a.catalogCall("acpbridge_search_products", map[string]any{"limit": 50}, &p); je != nil || len(p.Items) == 0 {
			t.Fatalf("%s: search: %v %v", domain, p, je)
		}
		pages[domain] = p
	}
	for _, it := range pages[secShopB].Items {
		for _, other := range pages[secShopA].Items {
			if it.ID == other.ID {
				t.Fatalf("item %s in both shops' results", it.ID)
			}
		}
	}
	// Shop B's agent asks for shop A's item on B's server (its rate
	// allows one call every two seconds: a fresh key).
	k, _, err := e.svc.Agents().CreateAPIKey(ctx, shops[secShopB].ID, "second catalog agent")
	if err != nil {
		t.Fatal(err)
	}
	e.used("second API key of "+secShopB, k)
	cs, err := connectMCP(t, web.MCPURL(e.svc.URL(), secShopB), k)
	if err != nil {
		t.Fatal(err)
	}
	b := &mcpAgent{t: t, session: cs}
	je := b.catalogCall("acpbridge_get_product", map[string]any{"id": pages[secShopA].Items[0].ID}, &feeds.ItemDetail{})
	if d := acpErr(t, je); je.Code != web.CodeACPError || d["code"] != "not_found" {
		t.Errorf("shop A's item from shop B: %d %v", je.Code, d)
	}
	// The same key, straight after: over its rate.
	je = b.catalogCall("acpbridge_search_products", map[string]any{}, &feeds.SearchPage{})
	if d := acpErr(t, je); je.Code != web.CodeACPError || d["code"] != "rate_limit_exceeded" {
		t.Errorf("second call within the key's rate: %d %v", je.Code, d)
	}
	e.scanLogs(t)
}
