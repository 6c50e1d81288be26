package feed_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/feed"
)

func TestToACP(t *testing.T) {
	t.Parallel()
	sch := loadSchema(t, "Product")
	upsert := loadSchema(t, "UpsertProductsRequest")

	fourVariants := func() feed.Product {
		p := tee()
		v := p.Variants[0]
		v.ID, v.Title, v.Barcode = "4004", "Green / L", "036000291453" // bad check digit: still digits, still a GTIN
		v.Options = []feed.Option{{Name: "Color", Value: "Green"}, {Name: "Size", Value: "L"}}
		v.PriceMinor, v.CompareAtMinor = 1500, 2500
		v.AvailableForSale, v.InventoryQuantity, v.InventoryPolicy = true, 0, "CONTINUE"
		p.Variants = append(p.Variants, v)
		p.Variants[1].AvailableForSale, p.Variants[1].InventoryQuantity = false, 0
		return p
	}

	tests := []struct {
		name     string
		product  func() feed.Product
		settings func(*feed.Settings)
		shop     func(*feed.Shop)
		check    func(t *testing.T, fp acp.FeedProduct)
	}{
		{
			name:    "product with four variants",
			product: fourVariants,
			check: func(t *testing.T, fp acp.FeedProduct) {
				if fp.ID != "8001" || fp.Title != "Classic Tee" || fp.URL != "https://acme.example/products/classic-tee" {
					t.Errorf("product = %q %q %q", fp.ID, fp.Title, fp.URL)
				}
				if fp.Description == nil || fp.Description.Plain != "Soft organic cotton. Regular fit Machine wash" || fp.Description.HTML != "" {
					t.Errorf("description = %+v", fp.Description)
				}
				if len(fp.Media) != 3 || fp.Media[0] != (acp.FeedMedia{Type: "image", URL: "https://cdn.acme.example/tee-front.jpg", AltText: "Front", Width: 1200, Height: 1600}) {
					t.Errorf("media = %+v", fp.Media)
				}
				if len(fp.Variants) != 4 {
					t.Fatalf("%d variants", len(fp.Variants))
				}
				v0 := fp.Variants[0]
				if v0.ID != "4001" || v0.Title != "Classic Tee - Red / S" || v0.URL != "https://acme.example/products/classic-tee?variant=4001" {
					t.Errorf("variant 0 = %q %q %q", v0.ID, v0.Title, v0.URL)
				}
				if *v0.Price != (acp.FeedPrice{Amount: 1999, Currency: "USD"}) || v0.ListPrice != nil {
					t.Errorf("variant 0 price = %+v list = %+v", v0.Price, v0.ListPrice)
				}
				if !slices.Equal(v0.Barcodes, []acp.FeedBarcode{{Type: "GTIN", Value: "036000291452"}}) {
					t.Errorf("variant 0 barcodes = %+v", v0.Barcodes)
				}
				if !slices.Equal(v0.Categories, []acp.FeedCategory{{Value: "Apparel & Accessories > Clothing > Shirts & Tops", Taxonomy: "shopify"}}) {
					t.Errorf("categories = %+v", v0.Categories)
				}
				if !slices.Equal(v0.VariantOptions, []acp.FeedVariantOption{{Name: "Color", Value: "Red"}, {Name: "Size", Value: "S"}}) {
					t.Errorf("options = %+v", v0.VariantOptions)
				}
				if !slices.Equal(v0.Condition, []string{"new"}) {
					t.Errorf("condition = %v", v0.Condition)
				}
				if v0.Seller == nil || v0.Seller.Name != "Acme Goods" || len(v0.Seller.Links) != 3 ||
					v0.Seller.Links[0].Type != "privacy_policy" || v0.Seller.Links[1].Type != "terms_of_service" ||
					v0.Seller.Links[2].Type != "refund_policy" || v0.Seller.Links[2].URL != "https://acme.example/policies/refund-policy" {
					t.Errorf("seller = %+v", v0.Seller)
				}
				wantAvail := []struct {
					available bool
					status    string
				}{{true, "in_stock"}, {false, "out_of_stock"}, {true, "in_stock"}, {true, "backorder"}}
				for i, w := range wantAvail {
					a := fp.Variants[i].Availability
					if a == nil || a.Available == nil || *a.Available != w.available || a.Status != w.status {
						t.Errorf("variant %d availability = %+v, want %+v", i, a, w)
					}
				}
				// Variant 2 has its own image.
				if m := fp.Variants[2].Media; len(m) != 1 || m[0].URL != "https://cdn.acme.example/tee-blue.jpg" || m[0].AltText != "Blue" {
					t.Errorf("variant 2 media = %+v", m)
				}
				// ACP keeps Shopify's semantics: price is what the buyer pays.
				v3 := fp.Variants[3]
				if *v3.Price != (acp.FeedPrice{Amount: 1500, Currency: "USD"}) || v3.ListPrice == nil || *v3.ListPrice != (acp.FeedPrice{Amount: 2500, Currency: "USD"}) {
					t.Errorf("sale variant price = %+v list = %+v", v3.Price, v3.ListPrice)
				}
			},
		},
		{
			name: "lower-case shop currency, JPY",
			product: func() feed.Product {
				p := mug()
				p.Variants[0].PriceMinor = 1500
				return p
			},
			shop: func(s *feed.Shop) { s.Currency = "jpy" },
			check: func(t *testing.T, fp acp.FeedProduct) {
				if p := fp.Variants[0].Price; p == nil || *p != (acp.FeedPrice{Amount: 1500, Currency: "JPY"}) {
					t.Errorf("price = %+v", p)
				}
				if fp.Variants[0].Title != "Enamel Mug" || fp.Variants[0].VariantOptions != nil {
					t.Errorf("default variant = %q %+v", fp.Variants[0].Title, fp.Variants[0].VariantOptions)
				}
			},
		},
		{
			name: "overrides and merchant taxonomy",
			product: func() feed.Product {
				p := tee()
				p.Override.Title = ptr("Organic Tee")
				p.Override.Category = ptr("Tops")
				p.Override.GTIN = ptr("4006381333931")
				return p
			},
			check: func(t *testing.T, fp acp.FeedProduct) {
				v := fp.Variants[0]
				if fp.Title != "Organic Tee" || v.Title != "Organic Tee - Red / S" {
					t.Errorf("titles = %q %q", fp.Title, v.Title)
				}
				if !slices.Equal(v.Categories, []acp.FeedCategory{{Value: "Tops", Taxonomy: "merchant"}}) {
					t.Errorf("categories = %+v", v.Categories)
				}
				if !slices.Equal(v.Barcodes, []acp.FeedBarcode{{Type: "GTIN", Value: "4006381333931"}}) {
					t.Errorf("barcodes = %+v", v.Barcodes)
				}
			},
		},
		{
			name: "sparse product stays schema-valid",
			product: func() feed.Product {
				p := mug()
				p.DescriptionHTML, p.Images, p.Category, p.URL, p.Handle = "", nil, "", "", ""
				p.Variants[0].Currency = "not-a-currency"
				return p
			},
			settings: func(s *feed.Settings) {
				*s = feed.Settings{PrivacyPolicyURL: "not a url"}
			},
			shop: func(s *feed.Shop) { *s = feed.Shop{} },
			check: func(t *testing.T, fp acp.FeedProduct) {
				v := fp.Variants[0]
				if fp.Description != nil || fp.URL != "" || fp.Media != nil || v.Price != nil || v.Seller != nil || v.Categories != nil {
					t.Errorf("empty values were not left out: %+v", fp)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, shop := testSettings(), testShop()
			if tt.settings != nil {
				tt.settings(&s)
			}
			if tt.shop != nil {
				tt.shop(&shop)
			}
			fp := feed.ToACP(tt.product(), s, shop)
			tt.check(t, fp)
			b, err := json.Marshal(fp)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaValidate(t, sch, b); err != nil {
				t.Errorf("does not validate against $defs/Product: %v\n%s", err, b)
			}
			req, err := json.Marshal(acp.UpsertProductsRequest{Products: []acp.FeedProduct{fp}})
			if err != nil {
				t.Fatal(err)
			}
			if err := schemaValidate(t, upsert, req); err != nil {
				t.Errorf("does not validate against $defs/UpsertProductsRequest: %v", err)
			}
		})
	}
}

// TestToACPMatchesMap checks that the two feeds agree on ids, titles, URLs
// and availability for the same product.
func TestToACPMatchesMap(t *testing.T) {
	t.Parallel()
	p := tee()
	p.Variants[1].AvailableForSale = false
	s, shop := testSettings(), testShop()
	items, fp := feed.Map(p, s, shop), feed.ToACP(p, s, shop)
	if len(items) != len(fp.Variants) {
		t.Fatalf("%d items, %d variants", len(items), len(fp.Variants))
	}
	for i, it := range items {
		v := fp.Variants[i]
		if v.ID != it.ItemID || v.Title != it.Title || v.URL != it.URL || fp.ID != it.GroupID ||
			v.Availability.Status != string(it.Availability) {
			t.Errorf("variant %d: acp {%s %q %s %s} vs item {%s %q %s %s}", i,
				v.ID, v.Title, v.URL, v.Availability.Status, it.ItemID, it.Title, it.URL, it.Availability)
		}
	}
}
