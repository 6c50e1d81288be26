package feed_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app/feed"
)

func testShop() feed.Shop {
	return feed.Shop{
		Domain:     "acme.myshopify.com",
		Name:       "Acme Store",
		Currency:   "USD",
		Country:    "US",
		PrimaryURL: "https://acme.example",
	}
}

func testSettings() feed.Settings {
	return feed.Settings{
		SellerName:       "Acme Goods",
		SellerURL:        "https://acme.example",
		StoreCountry:     "US",
		TargetCountries:  []string{"US", "ca"},
		ReturnPolicyURL:  "https://acme.example/policies/refund-policy",
		ReturnWindowDays: 30,
		PrivacyPolicyURL: "https://acme.example/policies/privacy-policy",
		TermsURL:         "https://acme.example/policies/terms-of-service",
		BrandFallback:    "Acme",
		EligibleSearch:   true,
		EligibleCheckout: true,
		FieldNames:       feed.NamesCurrent,
	}
}

func ptr[T any](v T) *T { return &v }

// tee is an active, published product with three variants (Color × Size).
func tee() feed.Product {
	v := func(id, color, size, barcode string, img string) feed.Variant {
		return feed.Variant{
			ID:                id,
			GID:               "gid://shopify/ProductVariant/" + id,
			Title:             color + " / " + size,
			SKU:               "TEE-" + strings.ToUpper(color[:1]+size),
			Barcode:           barcode,
			PriceMinor:        1999,
			Currency:          "USD",
			AvailableForSale:  true,
			InventoryQuantity: 12,
			InventoryPolicy:   "DENY",
			Tracked:           true,
			RequiresShipping:  true,
			WeightValue:       180,
			WeightUnit:        "GRAMS",
			ImageURL:          img,
			Options:           []feed.Option{{Name: "Color", Value: color}, {Name: "Size", Value: size}},
		}
	}
	return feed.Product{
		ID:              "8001",
		GID:             "gid://shopify/Product/8001",
		Handle:          "classic-tee",
		Title:           "Classic Tee",
		DescriptionHTML: "<p>Soft <strong>organic</strong> cotton.</p><ul><li>Regular fit</li><li>Machine wash</li></ul>",
		Vendor:          "Acme Apparel",
		ProductType:     "T-Shirts",
		Category:        "Apparel & Accessories > Clothing > Shirts & Tops",
		Status:          "ACTIVE",
		URL:             "https://acme.example/products/classic-tee",
		Tags:            []string{"cotton", "summer"},
		Images: []feed.Image{
			{URL: "https://cdn.acme.example/tee-front.jpg", Alt: "Front", Width: 1200, Height: 1600},
			{URL: "https://cdn.acme.example/tee-back.jpg", Alt: "Back", Width: 1200, Height: 1600},
			{URL: "https://cdn.acme.example/tee-blue.jpg", Alt: "Blue", Width: 1200, Height: 1600},
		},
		Variants: []feed.Variant{
			v("4001", "Red", "S", "036000291452", ""),
			v("4002", "Red", "M", "4006381333931", ""),
			v("4003", "Blue", "S", "", "https://cdn.acme.example/tee-blue.jpg"),
		},
		Published: true,
	}
}

// mug is an active, published product with Shopify's single "Default Title" variant.
func mug() feed.Product {
	return feed.Product{
		ID:              "8002",
		GID:             "gid://shopify/Product/8002",
		Handle:          "enamel-mug",
		Title:           "Enamel Mug",
		DescriptionHTML: "A sturdy enamel mug.",
		Vendor:          "Acme Home",
		Category:        "Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs",
		Status:          "ACTIVE",
		URL:             "https://acme.example/products/enamel-mug",
		Images:          []feed.Image{{URL: "https://cdn.acme.example/mug.jpg"}},
		Variants: []feed.Variant{{
			ID:                "4010",
			Title:             "Default Title",
			SKU:               "MUG-1",
			PriceMinor:        1250,
			AvailableForSale:  true,
			InventoryQuantity: 40,
			InventoryPolicy:   "DENY",
			Tracked:           true,
			RequiresShipping:  true,
			WeightValue:       0.75,
			WeightUnit:        "POUNDS",
			Options:           []feed.Option{{Name: "Title", Value: "Default Title"}},
		}},
		Published: true,
	}
}

func loadSchema(t testing.TB, def string) *jsonschema.Schema {
	t.Helper()
	sch, err := acptest.Schema(acp.V20260417, "schema.feed.json", def, false)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func schemaValidate(t testing.TB, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func fieldMap(fs []feed.Field) map[string]string {
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f.Name] = f.Value
	}
	return m
}
