package acpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/feeds"
)

func ptr[T any](v T) *T { return &v }

// TestDecodeSearchArgs: every argument lands in its SearchQuery field; a
// wrong type is refused naming its path; unknown arguments and nulls are
// ignored.
func TestDecodeSearchArgs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  string
		want  feeds.SearchQuery
		field string // the refused argument's path; "" = accepted
	}{
		{"none", ``, feeds.SearchQuery{}, ""},
		{"null", `null`, feeds.SearchQuery{}, ""},
		{"empty", `{}`, feeds.SearchQuery{}, ""},
		{"all", `{"query":"rain jacket","min_price":1000,"max_price":5000,"currency":"usd","availability":"in_stock",` +
			`"category":"Apparel","cursor":"1.2.3","limit":5}`,
			feeds.SearchQuery{Text: "rain jacket", MinPrice: ptr[int64](1000), MaxPrice: ptr[int64](5000), Currency: "usd",
				Availability: "in_stock", Category: "Apparel", Cursor: "1.2.3", Limit: 5}, ""},
		{"zero price is a price", `{"min_price":0,"currency":"usd"}`, feeds.SearchQuery{MinPrice: ptr[int64](0), Currency: "usd"}, ""},
		{"unknown and null arguments are ignored", `{"query":"mug","colour":"red","limit":null,"meta":{"api_version":"2026-04-17"}}`,
			feeds.SearchQuery{Text: "mug"}, ""},
		{"not an object", `[1]`, feeds.SearchQuery{}, "$"},
		{"a string", `"mug"`, feeds.SearchQuery{}, "$"},
		{"query a number", `{"query":5}`, feeds.SearchQuery{}, "$.query"},
		{"limit a string", `{"limit":"5"}`, feeds.SearchQuery{}, "$.limit"},
		{"limit 0 is no default", `{"limit":0}`, feeds.SearchQuery{}, "$.limit"},
		{"limit a fraction", `{"limit":2.5}`, feeds.SearchQuery{}, "$.limit"},
		{"price a string", `{"min_price":"10.00","currency":"usd"}`, feeds.SearchQuery{}, "$.min_price"},
		{"price an object", `{"max_price":{"amount":1}}`, feeds.SearchQuery{}, "$.max_price"},
		{"availability a list", `{"availability":["in_stock"]}`, feeds.SearchQuery{}, "$.availability"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := acpapi.DecodeSearchArgs(json.RawMessage(c.args))
			if c.field != "" {
				var ae *app.Error
				if !errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Field != c.field || ae.Message == "" {
					t.Fatalf("err = %v, want invalid %s", err, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestDecodeGetArgs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args, want, field string
	}{
		{`{"id":"44000000000001"}`, "44000000000001", ""},
		{`{"id":"7","extra":true}`, "7", ""},
		{`{}`, "", "$.id"},
		{``, "", "$.id"},
		{`{"id":""}`, "", "$.id"},
		{`{"id":null}`, "", "$.id"},
		{`{"id":44000000000001}`, "", "$.id"},
		{`["7"]`, "", "$"},
	} {
		got, err := acpapi.DecodeGetArgs(json.RawMessage(c.args))
		var ae *app.Error
		switch {
		case c.field == "" && (err != nil || got.ID != c.want):
			t.Errorf("%s: %+v %v, want id %s", c.args, got, err, c.want)
		case c.field != "" && (!errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Field != c.field):
			t.Errorf("%s: err %v, want invalid %s", c.args, err, c.field)
		}
	}
}

// TestCatalogToolSchemas: the schemas compile as JSON Schema 2020-12; the
// search schema has exactly SearchQuery's json fields and get's exactly id;
// they accept what the decoders accept and refuse what feeds refuses by
// type or range; the output schemas accept the results' JSON.
func TestCatalogToolSchemas(t *testing.T) {
	t.Parallel()
	tools, err := acpapi.CatalogTools()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]acpapi.CatalogTool{}
	for _, tool := range tools {
		byName[tool.Name] = tool
		if !strings.HasPrefix(tool.Name, "acpbridge_") || !strings.Contains(tool.Description, "acpbridge extension") ||
			!strings.Contains(tool.Description, "published feed") {
			t.Errorf("%s: not named or described as acpbridge's extension over the published feed: %q", tool.Name, tool.Description)
		}
	}
	if len(byName) != 2 || byName[acpapi.ToolSearchProducts].Name == "" || byName[acpapi.ToolGetProduct].Name == "" {
		t.Fatalf("tools %v", byName)
	}
	compile := func(name string, raw json.RawMessage) *jsonschema.Schema {
		t.Helper()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		url := "https://acpbridge.test/" + name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	instance := func(s string) any {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// The search schema's properties are SearchQuery's json fields.
	search := byName[acpapi.ToolSearchProducts]
	var sch struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(search.InputSchema, &sch); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for f := range reflect.TypeFor[feeds.SearchQuery]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	var props []string
	for p := range sch.Properties {
		props = append(props, p)
	}
	slices.Sort(fields)
	slices.Sort(props)
	if !slices.Equal(fields, props) {
		t.Errorf("search schema properties %v, SearchQuery json fields %v", props, fields)
	}

	in := compile("search-in", search.InputSchema)
	for _, ok := range []string{`{}`, `{"query":"jacket","limit":50,"min_price":0,"max_price":100,"currency":"usd","availability":"pre_order","category":"A","cursor":"x"}`,
		`{"query":"x","unknown":1}`} {
		if err := in.Validate(instance(ok)); err != nil {
			t.Errorf("search schema refuses %s: %v", ok, err)
		}
		if _, err := acpapi.DecodeSearchArgs(json.RawMessage(ok)); err != nil {
			t.Errorf("decoder refuses %s: %v", ok, err)
		}
	}
	for _, bad := range []string{`{"limit":0}`, `{"limit":51}`, `{"limit":"5"}`, `{"min_price":-1}`, `{"availability":"sold_out"}`, `{"query":3}`, `[]`} {
		if err := in.Validate(instance(bad)); err == nil {
			t.Errorf("search schema accepts %s", bad)
		}
	}

	get := byName[acpapi.ToolGetProduct]
	gin := compile("get-in", get.InputSchema)
	if err := gin.Validate(instance(`{"id":"44000000000001"}`)); err != nil {
		t.Errorf("get schema refuses an id: %v", err)
	}
	for _, bad := range []string{`{}`, `{"id":""}`, `{"id":7}`} {
		if err := gin.Validate(instance(bad)); err == nil {
			t.Errorf("get schema accepts %s", bad)
		}
	}

	// The output schemas accept the results as encoding/json writes them,
	// with and without the optional fields, and refuse a result missing
	// a required one.
	item := feeds.SearchItem{ID: "1", GroupID: "g", Title: "T", URL: "https://s.example/p", Price: 1299, Currency: "USD", Availability: "in_stock"}
	full := item
	full.RegularPrice, full.InventoryQuantity, full.Options, full.Brand = 1599, ptr(3), map[string]string{"Size": "M"}, "B"
	out := compile("search-out", search.OutputSchema)
	for _, page := range []feeds.SearchPage{{Items: []feeds.SearchItem{}}, {Items: []feeds.SearchItem{item, full}, NextCursor: "c"}} {
		b, _ := json.Marshal(page)
		if err := out.Validate(instance(string(b))); err != nil {
			t.Errorf("search output schema refuses %s: %v", b, err)
		}
	}
	if err := out.Validate(instance(`{"items":[{"id":"1"}]}`)); err == nil {
		t.Error("search output schema accepts an item without its required fields")
	}
	gout := compile("get-out", get.OutputSchema)
	b, _ := json.Marshal(feeds.ItemDetail{Item: full, Variants: []feeds.SearchItem{item, full}})
	if err := gout.Validate(instance(string(b))); err != nil {
		t.Errorf("get output schema refuses %s: %v", b, err)
	}
	if err := gout.Validate(instance(`{"item":{}}`)); err == nil {
		t.Error("get output schema accepts a detail without variants")
	}
}

// fakeCatalog records what it is asked and answers as told.
type fakeCatalog struct {
	shopID int64
	q      feeds.SearchQuery
	id     string
	err    error
}

func (f *fakeCatalog) SearchItems(_ context.Context, shopID int64, q feeds.SearchQuery) (*feeds.SearchPage, error) {
	f.shopID, f.q = shopID, q
	if f.err != nil {
		return nil, f.err
	}
	return &feeds.SearchPage{Items: []feeds.SearchItem{{ID: "1"}}}, nil
}

func (f *fakeCatalog) GetItem(_ context.Context, shopID int64, id string) (*feeds.ItemDetail, error) {
	f.shopID, f.id = shopID, id
	if f.err != nil {
		return nil, f.err
	}
	return &feeds.ItemDetail{Item: feeds.SearchItem{ID: id}}, nil
}

// limitAll refuses every key.
type limitAll struct{}

func (limitAll) AllowKey(int64) error {
	return &app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", Message: "slow down"}
}

// TestPipelineCatalog: the calls reach the catalog with the agent's shop;
// the use-case's invalid fields become argument paths, its not found one
// naming $.id; a rate-limited key and a pipeline without a catalog are
// refused before any catalog call.
func TestPipelineCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &fakeCatalog{}
	p := &acpapi.Pipeline{Agents: fakeAgents{}, Catalog: f}
	page, err := p.SearchProducts(ctx, testShop, "Bearer k", json.RawMessage(`{"query":"mug","limit":3}`))
	if err != nil || len(page.Items) != 1 || f.shopID != 1 || f.q.Text != "mug" || f.q.Limit != 3 {
		t.Fatalf("search: %+v %v; catalog saw shop %d %+v", page, err, f.shopID, f.q)
	}
	d, err := p.GetProduct(ctx, testShop, "Bearer k", json.RawMessage(`{"id":"42"}`))
	if err != nil || d.Item.ID != "42" || f.id != "42" {
		t.Fatalf("get: %+v %v", d, err)
	}

	f.err = &app.Error{Code: app.CodeInvalid, Field: "currency", Message: "the shop sells in USD, not EUR"}
	_, err = p.SearchProducts(ctx, testShop, "Bearer k", json.RawMessage(`{"min_price":1,"currency":"eur"}`))
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Field != "$.currency" || ae.Code != app.CodeInvalid || !strings.Contains(ae.Message, "USD") {
		t.Errorf("invalid currency: %v", err)
	}
	if f.err.(*app.Error).Field != "currency" {
		t.Error("the use-case's error was changed in place")
	}
	f.err = app.ErrNotFound
	_, err = p.GetProduct(ctx, testShop, "Bearer k", json.RawMessage(`{"id":"404"}`))
	if !errors.As(err, &ae) || ae.Code != app.CodeNotFound || ae.Field != "$.id" || !strings.Contains(ae.Message, "404") {
		t.Errorf("unknown id: %v", err)
	}
	f.err = errors.New("database down")
	if _, err := p.SearchProducts(ctx, testShop, "Bearer k", nil); err == nil || app.ErrorCode(err) != "" {
		t.Errorf("server failure: %v, want it passed on as one", err)
	}

	// Refused before the catalog is asked.
	f.err, f.q = nil, feeds.SearchQuery{}
	limited := &acpapi.Pipeline{Agents: fakeAgents{}, Catalog: f, Limiter: limitAll{}}
	if _, err := limited.SearchProducts(ctx, testShop, "Bearer k", json.RawMessage(`{"query":"late"}`)); app.ErrorCode(err) != app.CodeRateLimited || f.q.Text != "" {
		t.Errorf("rate limited: %v, catalog saw %+v", err, f.q)
	}
	if _, err := (&acpapi.Pipeline{Agents: fakeAgents{}}).GetProduct(ctx, testShop, "Bearer k", json.RawMessage(`{"id":"1"}`)); !errors.Is(err, acpapi.ErrUnknownOperation) {
		t.Errorf("no catalog: %v", err)
	}
	if _, err := p.SearchProducts(ctx, testShop, "Bearer k", json.RawMessage(`{"limit":"ten"}`)); !errors.As(err, &ae) || ae.Field != "$.limit" {
		t.Errorf("bad argument: %v", err)
	}
}
