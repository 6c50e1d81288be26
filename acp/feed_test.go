package acp_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

const feedSchemaPath = "spec/2026-04-17/schema.feed.json"

// feedSchema compiles one $defs entry of the official feed schema, with
// format assertions (uri, date-time) switched on.
func feedSchema(t *testing.T, def string) *jsonschema.Schema {
	t.Helper()
	sch, err := acptest.Schema(acp.V20260417, "schema.feed.json", def, false)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validateJSON(t *testing.T, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

func fullProduct() acp.FeedProduct {
	merchant := &acp.FeedSeller{
		Name: "Example Merchant",
		Links: []acp.FeedLink{
			{Type: acp.LinkPrivacyPolicy, Title: "Privacy Policy", URL: "https://merchant.example/policies/privacy-policy"},
			{Type: acp.LinkTermsOfService, Title: "Terms of Service", URL: "https://merchant.example/policies/terms-of-service"},
			{Type: acp.LinkRefundPolicy, Title: "Refund Policy", URL: "https://merchant.example/policies/refund-policy"},
		},
	}
	return acp.FeedProduct{
		ID:          "8000000000001",
		Title:       "Classic Tee",
		Description: &acp.FeedDescription{Plain: "Classic cotton tee.", HTML: "<p>Classic cotton tee.</p>", Markdown: "Classic *cotton* tee."},
		URL:         "https://merchant.example/products/classic-tee",
		Media: []acp.FeedMedia{
			{Type: acp.MediaImage, URL: "https://cdn.merchant.example/tee.jpg", AltText: "Front", Width: 1200, Height: 1600},
			{Type: acp.MediaVideo, URL: "https://cdn.merchant.example/tee.mp4"},
		},
		Variants: []acp.FeedVariant{{
			ID:          "44000000000001",
			Title:       "Classic Tee - Red / S",
			Description: &acp.FeedDescription{Plain: "Red, small."},
			URL:         "https://merchant.example/products/classic-tee?variant=44000000000001",
			Barcodes:    []acp.FeedBarcode{{Type: acp.BarcodeGTIN, Value: "00012345600012"}},
			Price:       &acp.FeedPrice{Amount: 1999, Currency: "USD"},
			ListPrice:   &acp.FeedPrice{Amount: 2499, Currency: "USD"},
			UnitPrice: &acp.FeedUnitPrice{
				Amount: 167, Currency: "USD",
				Measure:   acp.FeedMeasure{Value: 12.5, Unit: "oz"},
				Reference: acp.FeedReferenceMeasure{Value: 1, Unit: "oz"},
			},
			Availability:   &acp.FeedAvailability{Available: new(true), Status: acp.StockInStock},
			Categories:     []acp.FeedCategory{{Value: "Apparel & Accessories > Clothing > Shirts & Tops", Taxonomy: acp.TaxonomyShopify}},
			Condition:      []string{acp.ConditionNew},
			VariantOptions: []acp.FeedVariantOption{{Name: "Color", Value: "Red"}, {Name: "Size", Value: "S"}},
			Media:          []acp.FeedMedia{{Type: acp.MediaImage, URL: "https://cdn.merchant.example/tee-red.jpg"}},
			Seller:         merchant,
			Marketplace:    &acp.FeedSeller{Name: "Example Marketplace"},
		}, {
			ID:           "44000000000002",
			Title:        "Classic Tee - Red / M",
			Availability: &acp.FeedAvailability{Available: new(false), Status: acp.StockOutOfStock},
		}},
	}
}

func TestFeedProductMatchesSchema(t *testing.T) {
	t.Parallel()
	sch := feedSchema(t, "Product")

	valid := fullProduct()
	b, err := json.Marshal(valid)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateJSON(t, sch, b); err != nil {
		t.Fatalf("fully populated product does not validate: %v\n%s", err, b)
	}
	// Every field of the schema is exercised: the marshalled JSON must carry
	// every property the schema defines for Product and Variant.
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "title", "description", "url", "media", "variants"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("product JSON lacks %q", k)
		}
	}
	v0 := generic["variants"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "title", "description", "url", "barcodes", "price", "list_price", "unit_price",
		"availability", "categories", "condition", "variant_options", "media", "seller", "marketplace"} {
		if _, ok := v0[k]; !ok {
			t.Errorf("variant JSON lacks %q", k)
		}
	}
	// available:false must survive (it is not an "empty" value here).
	if !strings.Contains(string(b), `"available":false`) {
		t.Errorf("available:false was dropped: %s", b)
	}

	// The validator must reject what the schema forbids, so the check above
	// can fail.
	invalid := []struct {
		name   string
		mutate func(p *acp.FeedProduct)
	}{
		{"lower-case currency", func(p *acp.FeedProduct) { p.Variants[0].Price.Currency = "usd" }},
		{"negative amount", func(p *acp.FeedProduct) { p.Variants[0].Price.Amount = -1 }},
		{"relative media url", func(p *acp.FeedProduct) { p.Media[0].URL = "not a uri" }},
		{"empty description", func(p *acp.FeedProduct) { p.Description = &acp.FeedDescription{} }},
	}
	for _, tt := range invalid {
		p := fullProduct()
		tt.mutate(&p)
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(t, sch, b); err == nil {
			t.Errorf("%s: schema accepted %s", tt.name, b)
		}
	}
}

func TestFeedProductNilVariantsIsEmptyArray(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"product", acp.FeedProduct{ID: "1"}, `{"id":"1","variants":[]}`},
		{"upsert", acp.UpsertProductsRequest{}, `{"products":[]}`},
		{"products response", acp.ProductsResponse{}, `{"products":[]}`},
		{"nested", acp.UpsertProductsRequest{Products: []acp.FeedProduct{{ID: "2"}}}, `{"products":[{"id":"2","variants":[]}]}`},
		{"metadata zero time omitted", acp.FeedMetadata{ID: "f"}, `{"id":"f"}`},
		{"metadata", acp.FeedMetadata{ID: "f", TargetCountry: "US", UpdatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
			`{"id":"f","target_country":"US","updated_at":"2026-03-01T00:00:00Z"}`},
		{"upsert response", acp.UpsertProductsResponse{ID: "feed_8f3K2x", Accepted: false}, `{"id":"feed_8f3K2x","accepted":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}

// TestFeedSchemaExamples decodes the example of every $defs entry into its Go
// type (rejecting unknown fields), encodes it again and compares the JSON.
// A $defs entry without a Go type fails the test, so a schema update that
// adds a definition cannot go unnoticed.
func TestFeedSchemaExamples(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(feedSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Defs map[string]struct {
			Example json.RawMessage `json:"example"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &bundle); err != nil {
		t.Fatal(err)
	}
	types := map[string]func() any{
		"Description":           func() any { return new(acp.FeedDescription) },
		"Price":                 func() any { return new(acp.FeedPrice) },
		"Availability":          func() any { return new(acp.FeedAvailability) },
		"Barcode":               func() any { return new(acp.FeedBarcode) },
		"Media":                 func() any { return new(acp.FeedMedia) },
		"VariantOption":         func() any { return new(acp.FeedVariantOption) },
		"Category":              func() any { return new(acp.FeedCategory) },
		"Link":                  func() any { return new(acp.FeedLink) },
		"Seller":                func() any { return new(acp.FeedSeller) },
		"Condition":             func() any { return new([]string) },
		"Measure":               func() any { return new(acp.FeedMeasure) },
		"ReferenceMeasure":      func() any { return new(acp.FeedReferenceMeasure) },
		"UnitPrice":             func() any { return new(acp.FeedUnitPrice) },
		"Variant":               func() any { return new(acp.FeedVariant) },
		"Product":               func() any { return new(acp.FeedProduct) },
		"FeedMetadata":          func() any { return new(acp.FeedMetadata) },
		"CreateFeedRequest":     func() any { return new(acp.CreateFeedRequest) },
		"ProductsResponse":      func() any { return new(acp.ProductsResponse) },
		"UpsertProductsRequest": func() any { return new(acp.UpsertProductsRequest) },
		"Error":                 func() any { return new(acp.Error) },
	}
	names := make([]string, 0, len(bundle.Defs))
	for name := range bundle.Defs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		def := bundle.Defs[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mk, ok := types[name]
			if !ok {
				t.Fatalf("no Go type for $defs/%s", name)
			}
			if len(def.Example) == 0 {
				t.Fatalf("$defs/%s has no example", name)
			}
			sch := feedSchema(t, name)
			if err := validateJSON(t, sch, def.Example); err != nil {
				t.Fatalf("the schema's own example does not validate: %v", err)
			}
			v := mk()
			dec := json.NewDecoder(bytes.NewReader(def.Example))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("decode example: %v", err)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(def.Example, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("round trip changed the example\n want %s\n  got %s", def.Example, out)
			}
			if err := validateJSON(t, sch, out); err != nil {
				t.Errorf("re-encoded example does not validate: %v", err)
			}
		})
	}
}

// TestUpsertProductsResponseExample round-trips the response example of
// openapi.feed.yaml (the JSON Schema bundle lacks this definition).
func TestUpsertProductsResponseExample(t *testing.T) {
	t.Parallel()
	const example = `{"id":"feed_8f3K2x","accepted":true}`
	var r acp.UpsertProductsResponse
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.ID != "feed_8f3K2x" || !r.Accepted {
		t.Fatalf("decoded %+v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != example {
		t.Errorf("got %s, want %s", b, example)
	}
}
