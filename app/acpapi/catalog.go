package acpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/feeds"
)

// The catalog tools: acpbridge's own extension of the MCP server, not part
// of ACP (whose binding has checkout tools only). An agent that found the
// shop through its feed can search and read the same published items over
// the connection it checks out on, with the same key and rate limit. They
// read exactly what the shop's newest published feed publishes (feeds.Service
// SearchItems and GetItem), so a product the merchant excluded, a draft or
// an item the feed left out is not found here either.
//
// The tools' schemas are built from the Go types they decode into and
// answer with (feeds.SearchQuery, SearchPage, ItemDetail) by reflection
// over their json tags, with descriptions from a table keyed by the same
// names: a field added to SearchQuery without a description fails
// CatalogTools (and its test), so schema and decoder cannot drift apart.

// Catalog is the search of the shop's published feed (feeds.Service).
// Bad input is an *app.Error with CodeInvalid naming the field; an item the
// feed does not publish is app.ErrNotFound.
type Catalog interface {
	SearchItems(ctx context.Context, shopID int64, q feeds.SearchQuery) (*feeds.SearchPage, error)
	GetItem(ctx context.Context, shopID int64, itemID string) (*feeds.ItemDetail, error)
}

// The catalog tools' names, prefixed so that they cannot be taken for
// ACP's own tools nor collide with a future one.
const (
	ToolSearchProducts = "acpbridge_search_products"
	ToolGetProduct     = "acpbridge_get_product"
)

// CatalogTool is one of the catalog tools.
type CatalogTool struct {
	Name        string
	Title       string
	Description string
	// InputSchema and OutputSchema are JSON Schemas (draft 2020-12) of the
	// arguments and of the structured result.
	InputSchema  json.RawMessage
	OutputSchema json.RawMessage
}

// GetProductArgs are the arguments of acpbridge_get_product.
type GetProductArgs struct {
	ID string `json:"id"`
}

// argDoc describes one argument: its description and the constraints the
// JSON type alone does not say. The type comes from the Go field.
type argDoc struct {
	description string
	more        map[string]any
}

// searchArgs documents every json field of feeds.SearchQuery.
var searchArgs = map[string]argDoc{
	"query": {description: "Words that must all appear (case-insensitively) in the item's title, description, brand, " +
		"category, GTIN, MPN/SKU, colour, size or ids. Items whose title holds every word come first. Empty: every item."},
	"min_price": {description: "Lowest price, inclusive, in minor units (cents). Needs currency.", more: map[string]any{"minimum": 0}},
	"max_price": {description: "Highest price, inclusive, in minor units (cents). Needs currency.", more: map[string]any{"minimum": 0}},
	"currency":  {description: "ISO 4217 code of the prices, the shop's currency (e.g. usd); required with min_price or max_price."},
	"availability": {description: "Only items with this availability.",
		more: map[string]any{"enum": []feed.Availability{feed.InStock, feed.OutOfStock, feed.Backorder, feed.PreOrder}}},
	"category": {description: `A prefix of the item's category path, case-insensitive, e.g. "Apparel & Accessories > Clothing".`},
	"cursor":   {description: "next_cursor of the previous page, to get the next one (with the same other arguments)."},
	"limit": {description: fmt.Sprintf("Items per page, 1-%d (default %d).", feeds.MaxSearchLimit, feeds.DefaultSearchLimit),
		more: map[string]any{"minimum": 1, "maximum": feeds.MaxSearchLimit}},
}

// getArgs documents every json field of GetProductArgs.
var getArgs = map[string]argDoc{
	"id": {description: "The item id (a search result's id: the variant, which is also the checkout item id).", more: map[string]any{"minLength": 1}},
}

// extensionNote opens both tools' descriptions.
const extensionNote = "acpbridge extension (not an ACP tool): "

// CatalogTools returns the two catalog tools.
func CatalogTools() ([]CatalogTool, error) {
	search, err := inputSchema(reflect.TypeFor[feeds.SearchQuery](), searchArgs, nil)
	if err != nil {
		return nil, err
	}
	get, err := inputSchema(reflect.TypeFor[GetProductArgs](), getArgs, []string{"id"})
	if err != nil {
		return nil, err
	}
	page, err := outputSchema(reflect.TypeFor[feeds.SearchPage]())
	if err != nil {
		return nil, err
	}
	detail, err := outputSchema(reflect.TypeFor[feeds.ItemDetail]())
	if err != nil {
		return nil, err
	}
	return []CatalogTool{
		{
			Name: ToolSearchProducts, Title: "Search the shop's products",
			Description: extensionNote + "search the products this shop publishes in its product feed, the items an agent can " +
				"buy through the checkout tools. Only what the shop's published feed publishes is returned: prices in minor units and " +
				"availability as of the feed's last build (a checkout session prices the items live). Results come a page at a " +
				"time: pass next_cursor back as cursor for the next page.",
			InputSchema: search, OutputSchema: page,
		},
		{
			Name: ToolGetProduct, Title: "Get one of the shop's products",
			Description: extensionNote + "get one item of this shop's published product feed by id, with every published " +
				"variant of its product. Only what the shop's published feed publishes is returned; any other id is not found.",
			InputSchema: get, OutputSchema: detail,
		},
	}, nil
}

// jsonFields lists a struct's fields by json name (the field, and whether
// its tag says omitempty), in declaration order.
func jsonFields(t reflect.Type) ([]string, map[string]reflect.StructField, map[string]bool) {
	var names []string
	fields := map[string]reflect.StructField{}
	optional := map[string]bool{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		fields[name] = f
		optional[name] = strings.Contains(","+opts+",", ",omitempty,")
	}
	return names, fields, optional
}

// inputSchema is the schema of the arguments decoded into t: one property
// per json field, typed from the Go field, described by docs. Properties
// are not closed: unknown arguments are ignored, as decodeArgs does.
func inputSchema(t reflect.Type, docs map[string]argDoc, required []string) (json.RawMessage, error) {
	names, fields, _ := jsonFields(t)
	props := map[string]any{}
	for _, name := range names {
		d, ok := docs[name]
		if !ok {
			return nil, fmt.Errorf("acpapi: %s.%s (json %q) has no description in the catalog tool's table", t.Name(), fields[name].Name, name)
		}
		s, err := typeSchema(fields[name].Type)
		if err != nil {
			return nil, fmt.Errorf("acpapi: %s.%s: %w", t.Name(), fields[name].Name, err)
		}
		s["description"] = d.description
		for k, v := range d.more {
			s[k] = v
		}
		props[name] = s
	}
	for name := range docs {
		if _, ok := fields[name]; !ok {
			return nil, fmt.Errorf("acpapi: the catalog tool's table describes %q, which %s does not have", name, t.Name())
		}
	}
	if required == nil {
		required = []string{}
	}
	return json.Marshal(map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"properties": props,
		"required":   required,
	})
}

// outputSchema is the schema of t's JSON (a struct): every field typed,
// those without omitempty required.
func outputSchema(t reflect.Type) (json.RawMessage, error) {
	s, err := typeSchema(t)
	if err != nil {
		return nil, err
	}
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	return json.Marshal(s)
}

// typeSchema is the JSON Schema of the JSON encoding/json makes of t, for
// the kinds the catalog's types use.
func typeSchema(t reflect.Type) (map[string]any, error) {
	switch t.Kind() {
	case reflect.Pointer:
		return typeSchema(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Slice:
		items, err := typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("a map keyed by %s", t.Key())
		}
		values, err := typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		names, fields, optional := jsonFields(t)
		props := map[string]any{}
		required := []string{}
		for _, name := range names {
			s, err := typeSchema(fields[name].Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.Name(), fields[name].Name, err)
			}
			props[name] = s
			if !optional[name] {
				required = append(required, name)
			}
		}
		return map[string]any{"type": "object", "properties": props, "required": required}, nil
	}
	return nil, fmt.Errorf("no JSON Schema for %s", t)
}

// decodeArgs decodes a tool's arguments (a JSON object; empty or null is
// {}) into dst, a pointer to a struct, field by field so that a wrong type
// is named by its path ($.limit). Unknown arguments are ignored and a null
// is an absent argument: liberal in what agents send, precise in what is
// wrong. It returns the names of the arguments set.
func decodeArgs(args json.RawMessage, dst any) (map[string]bool, error) {
	set := map[string]bool{}
	args = bytes.TrimSpace(args)
	if len(args) == 0 || bytes.Equal(args, []byte("null")) {
		return set, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(args, &obj); err != nil {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "$", Message: "the arguments must be a JSON object"}
	}
	v := reflect.ValueOf(dst).Elem()
	names, fields, _ := jsonFields(v.Type())
	for _, name := range names {
		raw, ok := obj[name]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		f := fields[name]
		target := reflect.New(f.Type)
		if err := json.Unmarshal(raw, target.Interface()); err != nil {
			return nil, &app.Error{Code: app.CodeInvalid, Field: "$." + name,
				Message: fmt.Sprintf("%s must be %s", name, jsonKind(f.Type))}
		}
		v.FieldByIndex(f.Index).Set(target.Elem())
		set[name] = true
	}
	return set, nil
}

// jsonKind names what a value of t is in JSON, for error messages.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	}
	return "a " + t.Kind().String()
}

// DecodeSearchArgs decodes acpbridge_search_products' arguments.
func DecodeSearchArgs(args json.RawMessage) (feeds.SearchQuery, error) {
	var q feeds.SearchQuery
	set, err := decodeArgs(args, &q)
	if err != nil {
		return feeds.SearchQuery{}, err
	}
	if set["limit"] && q.Limit == 0 {
		// SearchQuery's zero Limit is the default page; an agent that
		// sends 0 asked for an empty one, which the schema refuses.
		return feeds.SearchQuery{}, &app.Error{Code: app.CodeInvalid, Field: "$.limit",
			Message: fmt.Sprintf("limit must be between 1 and %d", feeds.MaxSearchLimit)}
	}
	return q, nil
}

// DecodeGetArgs decodes acpbridge_get_product's arguments: id is required.
func DecodeGetArgs(args json.RawMessage) (GetProductArgs, error) {
	var a GetProductArgs
	if _, err := decodeArgs(args, &a); err != nil {
		return a, err
	}
	if a.ID == "" {
		return a, &app.Error{Code: app.CodeInvalid, Field: "$.id", Message: "Missing required field: id"}
	}
	return a, nil
}

// SearchProducts runs one call of acpbridge_search_products: the caller is
// authenticated for the shop (Authorization as sent) and held to its key's
// rate, then the arguments are decoded and the shop's published feed is
// searched. Errors are as Run's: *app.Error (bad arguments with Field the
// argument's path, $.limit), or a server failure; ErrUnknownOperation when
// the pipeline has no Catalog.
func (p *Pipeline) SearchProducts(ctx context.Context, shop, authorization string, args json.RawMessage) (*feeds.SearchPage, error) {
	ag, err := p.authenticateCatalog(ctx, shop, authorization)
	if err != nil {
		return nil, err
	}
	q, err := DecodeSearchArgs(args)
	if err != nil {
		return nil, err
	}
	page, err := p.Catalog.SearchItems(ctx, ag.Shop.ID, q)
	if err != nil {
		return nil, argumentError(err)
	}
	return page, nil
}

// GetProduct runs one call of acpbridge_get_product, as SearchProducts; an
// id the published feed does not have is CodeNotFound naming $.id.
func (p *Pipeline) GetProduct(ctx context.Context, shop, authorization string, args json.RawMessage) (*feeds.ItemDetail, error) {
	ag, err := p.authenticateCatalog(ctx, shop, authorization)
	if err != nil {
		return nil, err
	}
	a, err := DecodeGetArgs(args)
	if err != nil {
		return nil, err
	}
	d, err := p.Catalog.GetItem(ctx, ag.Shop.ID, a.ID)
	if errors.Is(err, app.ErrNotFound) {
		return nil, &app.Error{Code: app.CodeNotFound, Field: "$.id",
			Message: fmt.Sprintf("the shop's published feed has no item %q", a.ID)}
	}
	if err != nil {
		return nil, argumentError(err)
	}
	return d, nil
}

// authenticateCatalog is authenticate's key and rate steps. There is no
// signature step: the tools take no meta to carry one, and they only read
// what the shop publishes in its feed anyway.
func (p *Pipeline) authenticateCatalog(ctx context.Context, shop, authorization string) (*app.Agent, error) {
	ag, err := p.Agents.Authenticate(ctx, shop, authorization)
	if err != nil {
		return nil, err
	}
	if p.Limiter != nil {
		if err := p.Limiter.AllowKey(ag.Key.ID); err != nil {
			return nil, err
		}
	}
	if p.Catalog == nil {
		return nil, ErrUnknownOperation
	}
	return ag, nil
}

// argumentError turns the use-case's invalid input, whose Field is the
// query's field name (limit), into the argument's path ($.limit).
func argumentError(err error) error {
	var ae *app.Error
	if errors.As(err, &ae) && ae.Code == app.CodeInvalid && ae.Field != "" && !strings.HasPrefix(ae.Field, "$") {
		out := *ae
		out.Field = "$." + ae.Field
		return &out
	}
	return err
}
