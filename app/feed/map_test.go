package feed_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app/feed"
)

func TestMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		product  func() feed.Product
		settings func(*feed.Settings)
		check    func(t *testing.T, items []feed.Item)
	}{
		{
			name:    "multi-variant product",
			product: tee,
			check: func(t *testing.T, items []feed.Item) {
				if len(items) != 3 {
					t.Fatalf("got %d items, want 3", len(items))
				}
				want := []struct{ id, title, url, color, size string }{
					{"4001", "Classic Tee - Red / S", "https://acme.example/products/classic-tee?variant=4001", "Red", "S"},
					{"4002", "Classic Tee - Red / M", "https://acme.example/products/classic-tee?variant=4002", "Red", "M"},
					{"4003", "Classic Tee - Blue / S", "https://acme.example/products/classic-tee?variant=4003", "Blue", "S"},
				}
				for i, w := range want {
					it := items[i]
					if it.ItemID != w.id || it.Title != w.title || it.URL != w.url || it.Color != w.color || it.Size != w.size {
						t.Errorf("item %d = {%q %q %q %q %q}, want %+v", i, it.ItemID, it.Title, it.URL, it.Color, it.Size, w)
					}
					if it.GroupID != "8001" || !it.ListingHasVariations {
						t.Errorf("item %d group = %q/%v, want 8001/true", i, it.GroupID, it.ListingHasVariations)
					}
					if len(it.VariantDict) != 2 || it.VariantDict[0] != (feed.Option{Name: "Color", Value: w.color}) {
						t.Errorf("item %d variant_dict = %v", i, it.VariantDict)
					}
				}
				it := items[0]
				if it.Description != "Soft organic cotton. Regular fit Machine wash" {
					t.Errorf("description = %q", it.Description)
				}
				if it.Brand != "Acme Apparel" || it.ProductCategory != "Apparel & Accessories > Clothing > Shirts & Tops" || it.Condition != "new" {
					t.Errorf("brand/category/condition = %q %q %q", it.Brand, it.ProductCategory, it.Condition)
				}
				if it.ImageURL != "https://cdn.acme.example/tee-front.jpg" ||
					!slices.Equal(it.AdditionalImageURLs, []string{"https://cdn.acme.example/tee-back.jpg", "https://cdn.acme.example/tee-blue.jpg"}) {
					t.Errorf("images = %q %q", it.ImageURL, it.AdditionalImageURLs)
				}
				// The blue variant has its own image: it leads, the featured one follows.
				if b := items[2]; b.ImageURL != "https://cdn.acme.example/tee-blue.jpg" ||
					!slices.Equal(b.AdditionalImageURLs, []string{"https://cdn.acme.example/tee-front.jpg", "https://cdn.acme.example/tee-back.jpg"}) {
					t.Errorf("variant image = %q %q", b.ImageURL, b.AdditionalImageURLs)
				}
				if it.Price != (feed.Money{Minor: 1999, Currency: "USD"}) || !it.SalePrice.IsZero() {
					t.Errorf("price = %+v sale = %+v", it.Price, it.SalePrice)
				}
				if it.Weight != 180 || it.WeightUnit != "g" || it.IsDigital {
					t.Errorf("weight = %v %q digital=%v", it.Weight, it.WeightUnit, it.IsDigital)
				}
				if it.SellerName != "Acme Goods" || it.SellerURL != "https://acme.example" ||
					it.SellerPrivacyPolicy != "https://acme.example/policies/privacy-policy" ||
					it.SellerTOS != "https://acme.example/policies/terms-of-service" ||
					it.ReturnPolicy != "https://acme.example/policies/refund-policy" ||
					it.ReturnDeadlineInDays != 30 || !it.AcceptsReturns {
					t.Errorf("seller/returns = %+v", it)
				}
				if !slices.Equal(it.TargetCountries, []string{"US", "CA"}) || it.StoreCountry != "US" {
					t.Errorf("geo = %v %q", it.TargetCountries, it.StoreCountry)
				}
				if !it.IsEligibleSearch || !it.IsEligibleCheckout || it.Availability != feed.InStock || it.InventoryQuantity != 12 {
					t.Errorf("flags = %v %v %q %d", it.IsEligibleSearch, it.IsEligibleCheckout, it.Availability, it.InventoryQuantity)
				}
				for _, it := range items {
					if p := feed.Validate(it, feed.NamesCurrent); p != nil {
						t.Errorf("item %s: unexpected problems %+v", it.ItemID, p)
					}
				}
			},
		},
		{
			name:    "single default variant",
			product: mug,
			check: func(t *testing.T, items []feed.Item) {
				if len(items) != 1 {
					t.Fatalf("got %d items", len(items))
				}
				it := items[0]
				if it.Title != "Enamel Mug" {
					t.Errorf("title = %q, want no variant suffix", it.Title)
				}
				if it.URL != "https://acme.example/products/enamel-mug" {
					t.Errorf("url = %q, want no ?variant=", it.URL)
				}
				if it.ListingHasVariations || it.VariantDict != nil || it.Color != "" || it.Size != "" {
					t.Errorf("variation fields set: %v %v %q %q", it.ListingHasVariations, it.VariantDict, it.Color, it.Size)
				}
				if it.GroupID != "8002" || it.ItemID != "4010" {
					t.Errorf("ids = %q %q", it.ItemID, it.GroupID)
				}
				// Currency falls back to the shop's; pounds become lb.
				if it.Price != (feed.Money{Minor: 1250, Currency: "USD"}) || it.Weight != 0.75 || it.WeightUnit != "lb" {
					t.Errorf("price/weight = %+v %v %q", it.Price, it.Weight, it.WeightUnit)
				}
				if it.MPN != "MUG-1" || it.GTIN != "" {
					t.Errorf("identifiers = gtin %q mpn %q", it.GTIN, it.MPN)
				}
			},
		},
		{
			name: "ids from GIDs, URL fallback to primary domain",
			product: func() feed.Product {
				p := tee()
				p.ID, p.URL, p.Handle = "", "", "t-shirt été"
				for i := range p.Variants {
					p.Variants[i].ID = ""
				}
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				it := items[1]
				if it.ItemID != "4002" || it.GroupID != "8001" {
					t.Errorf("ids = %q %q", it.ItemID, it.GroupID)
				}
				if want := "https://acme.example/products/t-shirt%20%C3%A9t%C3%A9?variant=4002"; it.URL != want {
					t.Errorf("url = %q, want %q", it.URL, want)
				}
			},
		},
		{
			name: "compare-at above price gives sale fields",
			product: func() feed.Product {
				p := tee()
				p.Variants[0].PriceMinor, p.Variants[0].CompareAtMinor = 1500, 2000
				p.Variants[1].PriceMinor, p.Variants[1].CompareAtMinor = 1500, 1500 // equal: no sale
				p.Variants[2].PriceMinor, p.Variants[2].CompareAtMinor = 1500, 1000 // below: ignored
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				if items[0].Price != (feed.Money{Minor: 2000, Currency: "USD"}) || items[0].SalePrice != (feed.Money{Minor: 1500, Currency: "USD"}) {
					t.Errorf("on sale: price %+v sale %+v, want 20.00 / 15.00", items[0].Price, items[0].SalePrice)
				}
				for _, it := range items[1:] {
					if it.Price != (feed.Money{Minor: 1500, Currency: "USD"}) || !it.SalePrice.IsZero() {
						t.Errorf("item %s: price %+v sale %+v, want 15.00 and no sale", it.ItemID, it.Price, it.SalePrice)
					}
				}
			},
		},
		{
			name: "digital product",
			product: func() feed.Product {
				p := mug()
				p.Variants[0].RequiresShipping = false
				p.Variants[0].Tracked = false
				p.Variants[0].WeightValue = 0
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				it := items[0]
				if !it.IsDigital || it.Weight != 0 || it.WeightUnit != "" {
					t.Errorf("digital = %v weight = %v %q", it.IsDigital, it.Weight, it.WeightUnit)
				}
				for _, names := range []feed.FieldNames{feed.NamesCurrent, feed.Names2025} {
					for _, p := range feed.Validate(it, names) {
						if strings.Contains(p.Field, "weight") {
							t.Errorf("%s: weight problem for a digital product: %+v", names, p)
						}
					}
				}
			},
		},
		{
			name: "barcodes",
			product: func() feed.Product {
				p := tee()
				p.Variants[0].Barcode = "0-36000-29145-2" // valid UPC-A with separators
				p.Variants[1].Barcode = "036000291453"    // 12 digits, wrong check digit
				p.Variants[2].Barcode = "ABC-123"         // not a GTIN: SKU becomes mpn
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				if items[0].GTIN != "036000291452" || items[0].MPN != "" {
					t.Errorf("valid barcode: gtin %q mpn %q", items[0].GTIN, items[0].MPN)
				}
				if items[1].GTIN != "036000291453" {
					t.Errorf("bad check digit: gtin %q (kept, flagged by Validate)", items[1].GTIN)
				}
				probs := feed.Validate(items[1], feed.NamesCurrent)
				if len(probs) != 1 || probs[0].Field != "gtin" || probs[0].Severity != feed.SeverityWarning || !strings.Contains(probs[0].Hint, "Barcode") {
					t.Errorf("bad check digit problems = %+v", probs)
				}
				if items[2].GTIN != "" || items[2].MPN != "TEE-BS" {
					t.Errorf("non-GTIN barcode: gtin %q mpn %q", items[2].GTIN, items[2].MPN)
				}
			},
		},
		{
			name: "missing image",
			product: func() feed.Product {
				p := mug()
				p.Images = nil
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				assertProblem(t, feed.Validate(items[0], feed.NamesCurrent), "image_url", feed.SeverityError, "Add a product image in Shopify admin")
				assertProblem(t, feed.Validate(items[0], feed.Names2025), "image_link", feed.SeverityError, "Add a product image in Shopify admin")
			},
		},
		{
			name: "no price",
			product: func() feed.Product {
				p := mug()
				p.Variants[0].PriceMinor = 0
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				assertProblem(t, feed.Validate(items[0], feed.NamesCurrent), "price", feed.SeverityError, "Pricing")
			},
		},
		{
			name: "HTML with script and style",
			product: func() feed.Product {
				p := mug()
				p.DescriptionHTML = `<style>.x{color:red}</style><p>Keeps&nbsp;coffee <em>hot</em> &amp; tea &lt;warm&gt;.</p>` +
					`<script type="text/javascript">document.write("<p>evil</p>")</script><!-- note --><br/>Dishwasher safe.`
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				if want := "Keeps coffee hot & tea <warm>. Dishwasher safe."; items[0].Description != want {
					t.Errorf("description = %q, want %q", items[0].Description, want)
				}
			},
		},
		{
			name: "emoji, Arabic and Hebrew preserved",
			product: func() feed.Product {
				p := mug()
				p.Title = "كوب مينا ☕ ספל"
				p.DescriptionHTML = "<p>قميص قطني 👩‍👩‍👧‍👦 🇯🇵</p><p>\u200Fחולצת כותנה 👍🏽</p>"
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				it := items[0]
				if it.Title != "كوب مينا ☕ ספל" {
					t.Errorf("title = %q", it.Title)
				}
				if want := "قميص قطني 👩‍👩‍👧‍👦 🇯🇵 \u200Fחולצת כותנה 👍🏽"; it.Description != want {
					t.Errorf("description = %q, want %q", it.Description, want)
				}
			},
		},
		{
			name: "6000-character description cut to 5000",
			product: func() feed.Product {
				p := mug()
				p.DescriptionHTML = "<p>" + strings.Repeat("é", 6000) + "</p>"
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				d := items[0].Description
				if n := utf8.RuneCountInString(d); n != 5000 || !utf8.ValidString(d) || d != strings.Repeat("é", 5000) {
					t.Errorf("description has %d runes (valid UTF-8: %v), want exactly 5000 é", n, utf8.ValidString(d))
				}
				if p := feed.Validate(items[0], feed.NamesCurrent); p != nil {
					t.Errorf("problems: %+v", p)
				}
			},
		},
		{
			name: "JPY and KWD prices",
			product: func() feed.Product {
				p := tee()
				p.Variants[0].Currency, p.Variants[0].PriceMinor = "JPY", 1500
				p.Variants[1].Currency, p.Variants[1].PriceMinor, p.Variants[1].CompareAtMinor = "kwd", 12345, 20000
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				f0, f1 := fieldMap(items[0].Fields(feed.NamesCurrent)), fieldMap(items[1].Fields(feed.NamesCurrent))
				if f0["price"] != "1500 JPY" {
					t.Errorf("JPY price = %q", f0["price"])
				}
				if f1["price"] != "20.000 KWD" || f1["sale_price"] != "12.345 KWD" {
					t.Errorf("KWD price = %q sale = %q", f1["price"], f1["sale_price"])
				}
			},
		},
		{
			name: "overrides",
			product: func() feed.Product {
				p := tee()
				p.Override = feed.Override{
					CheckoutEligible: ptr(false),
					Title:            ptr("  Organic   Tee "),
					Description:      ptr("Hand-written <b>copy</b>."),
					Category:         ptr("Apparel > Tops"),
					GTIN:             ptr("4006381333931"),
					MPN:              ptr("MPN-77"),
				}
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				it := items[0]
				if it.Title != "Organic Tee - Red / S" || it.Description != "Hand-written copy." || it.ProductCategory != "Apparel > Tops" ||
					it.GTIN != "4006381333931" || it.MPN != "MPN-77" {
					t.Errorf("overrides not applied: %q %q %q %q %q", it.Title, it.Description, it.ProductCategory, it.GTIN, it.MPN)
				}
				if it.IsEligibleCheckout || !it.IsEligibleSearch {
					t.Errorf("checkout override: checkout=%v search=%v", it.IsEligibleCheckout, it.IsEligibleSearch)
				}
			},
		},
		{
			name:    "checkout off in settings",
			product: tee,
			settings: func(s *feed.Settings) {
				s.EligibleCheckout = false
			},
			check: func(t *testing.T, items []feed.Item) {
				for _, it := range items {
					if it.IsEligibleCheckout || !it.IsEligibleSearch {
						t.Errorf("item %s: checkout=%v search=%v", it.ItemID, it.IsEligibleCheckout, it.IsEligibleSearch)
					}
				}
			},
		},
		{
			name:    "search off disables checkout",
			product: tee,
			settings: func(s *feed.Settings) {
				s.EligibleSearch = false
			},
			check: func(t *testing.T, items []feed.Item) {
				for _, it := range items {
					if it.IsEligibleCheckout || it.IsEligibleSearch {
						t.Errorf("item %s: checkout=%v search=%v", it.ItemID, it.IsEligibleCheckout, it.IsEligibleSearch)
					}
				}
			},
		},
		{
			name: "defaults from the shop",
			product: func() feed.Product {
				p := mug()
				p.Vendor = ""
				return p
			},
			settings: func(s *feed.Settings) {
				s.SellerName, s.SellerURL, s.StoreCountry, s.TargetCountries = "", "", "", nil
			},
			check: func(t *testing.T, items []feed.Item) {
				it := items[0]
				if it.Brand != "Acme" || it.SellerName != "Acme Store" || it.SellerURL != "https://acme.example" ||
					it.StoreCountry != "US" || !slices.Equal(it.TargetCountries, []string{"US"}) {
					t.Errorf("defaults = %q %q %q %q %v", it.Brand, it.SellerName, it.SellerURL, it.StoreCountry, it.TargetCountries)
				}
			},
		},
		{
			name: "long title keeps the variant suffix",
			product: func() feed.Product {
				p := tee()
				p.Title = strings.Repeat("Very long title ", 12)
				return p
			},
			check: func(t *testing.T, items []feed.Item) {
				for _, it := range items {
					if n := utf8.RuneCountInString(it.Title); n > feed.MaxTitle {
						t.Errorf("title has %d runes", n)
					}
				}
				if !strings.HasSuffix(items[0].Title, " - Red / S") || !strings.HasSuffix(items[2].Title, " - Blue / S") {
					t.Errorf("titles lost their variant: %q / %q", items[0].Title, items[2].Title)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testSettings()
			if tt.settings != nil {
				tt.settings(&s)
			}
			tt.check(t, feed.Map(tt.product(), s, testShop()))
		})
	}
}

func TestMapAvailability(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		available bool
		qty       int
		policy    string
		tracked   bool
		want      feed.Availability
		wantQty   int
		checkout  bool
	}{
		{"in stock", true, 12, "DENY", true, feed.InStock, 12, true},
		{"one left", true, 1, "DENY", true, feed.InStock, 1, true},
		{"two left", true, 2, "DENY", true, feed.InStock, 2, true},
		{"three left", true, 3, "DENY", true, feed.InStock, 3, true},
		{"out of stock, deny", false, 0, "DENY", true, feed.OutOfStock, 0, false},
		{"stale availableForSale, deny, zero", true, 0, "DENY", true, feed.OutOfStock, 0, false},
		{"continue, tracked, zero", true, 0, "CONTINUE", true, feed.Backorder, 0, true},
		{"continue, tracked, oversold", true, -4, "CONTINUE", true, feed.Backorder, 0, true},
		{"untracked", true, 0, "DENY", false, feed.InStock, -1, true},
		{"untracked but not for sale", false, 0, "DENY", false, feed.OutOfStock, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mug()
			v := &p.Variants[0]
			v.AvailableForSale, v.InventoryQuantity, v.InventoryPolicy, v.Tracked = tt.available, tt.qty, tt.policy, tt.tracked
			it := feed.Map(p, testSettings(), testShop())[0]
			if it.Availability != tt.want || it.InventoryQuantity != tt.wantQty || it.IsEligibleCheckout != tt.checkout {
				t.Errorf("got %q qty %d checkout %v, want %q qty %d checkout %v",
					it.Availability, it.InventoryQuantity, it.IsEligibleCheckout, tt.want, tt.wantQty, tt.checkout)
			}
			if !it.IsEligibleSearch {
				t.Error("out-of-stock items stay searchable")
			}
		})
	}
}

func TestEligibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*feed.Product)
		ok     bool
		reason string
	}{
		{"active and published", func(*feed.Product) {}, true, ""},
		{"excluded", func(p *feed.Product) { p.Override.Exclude = true }, false, feed.ReasonExcluded},
		{"draft", func(p *feed.Product) { p.Status = "DRAFT" }, false, feed.ReasonDraft},
		{"archived", func(p *feed.Product) { p.Status = "ARCHIVED" }, false, feed.ReasonArchived},
		{"unlisted", func(p *feed.Product) { p.Status = "UNLISTED" }, false, "status UNLISTED is not ACTIVE"},
		{"unpublished", func(p *feed.Product) { p.Published, p.URL = false, "" }, false, feed.ReasonUnpublished},
		{"no variants", func(p *feed.Product) { p.Variants = nil }, false, feed.ReasonNoVariants},
		{"excluded wins over draft", func(p *feed.Product) { p.Status, p.Override.Exclude = "DRAFT", true }, false, feed.ReasonExcluded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tee()
			tt.mutate(&p)
			ok, reason := feed.Eligibility(p)
			if ok != tt.ok || reason != tt.reason {
				t.Errorf("Eligibility = %v %q, want %v %q", ok, reason, tt.ok, tt.reason)
			}
			items := feed.Map(p, testSettings(), testShop())
			if tt.ok && len(items) != len(p.Variants) || !tt.ok && items != nil {
				t.Errorf("Map gave %d items", len(items))
			}
		})
	}
}

func TestFieldNames(t *testing.T) {
	t.Parallel()
	p := tee()
	p.Variants[0].InventoryQuantity, p.Variants[0].InventoryPolicy = 0, "CONTINUE" // backorder
	p.Variants[0].Options = append(p.Variants[0].Options, feed.Option{Name: "Material", Value: "Linen"})
	items := feed.Map(p, testSettings(), testShop())
	it := items[0]

	tests := []struct {
		names   feed.FieldNames
		want    map[string]string
		missing []string
	}{
		{feed.NamesCurrent, map[string]string{
			"item_id":                 "4001",
			"url":                     "https://acme.example/products/classic-tee?variant=4001",
			"image_url":               "https://cdn.acme.example/tee-front.jpg",
			"additional_image_urls":   "https://cdn.acme.example/tee-back.jpg,https://cdn.acme.example/tee-blue.jpg",
			"group_id":                "8001",
			"listing_has_variations":  "true",
			"availability":            "backorder",
			"variant_dict":            `{"Color":"Red","Size":"S","Material":"Linen"}`,
			"weight":                  "180",
			"item_weight_unit":        "g",
			"is_digital":              "false",
			"price":                   "19.99 USD",
			"sale_price":              "",
			"return_deadline_in_days": "30",
			"accepts_returns":         "true",
			"target_countries":        "US,CA",
			"store_country":           "US",
			"is_eligible_search":      "true",
			"is_eligible_checkout":    "true",
		}, []string{"id", "link", "image_link", "item_group_id", "enable_search", "enable_checkout", "return_window", "additional_image_link", "inventory_quantity", "custom_variant1_category"}},
		{feed.Names2025, map[string]string{
			"id":                       "4001",
			"link":                     "https://acme.example/products/classic-tee?variant=4001",
			"image_link":               "https://cdn.acme.example/tee-front.jpg",
			"additional_image_link":    "https://cdn.acme.example/tee-back.jpg,https://cdn.acme.example/tee-blue.jpg",
			"item_group_id":            "8001",
			"availability":             "in_stock", // the 2025 spec has no backorder
			"inventory_quantity":       "0",
			"weight":                   "180 g",
			"custom_variant1_category": "Material",
			"custom_variant1_option":   "Linen",
			"custom_variant2_category": "",
			"return_window":            "30",
			"enable_search":            "true",
			"enable_checkout":          "true",
		}, []string{"item_id", "url", "image_url", "group_id", "is_eligible_search", "is_eligible_checkout", "return_deadline_in_days", "additional_image_urls", "variant_dict", "target_countries", "listing_has_variations"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.names), func(t *testing.T) {
			t.Parallel()
			fields := it.Fields(tt.names)
			cols := feed.Columns(tt.names)
			if len(fields) != len(cols) {
				t.Fatalf("%d fields for %d columns", len(fields), len(cols))
			}
			for i := range fields {
				if fields[i].Name != cols[i] {
					t.Fatalf("field %d is %q, column is %q", i, fields[i].Name, cols[i])
				}
			}
			got := fieldMap(fields)
			for k, want := range tt.want {
				if v, ok := got[k]; !ok || v != want {
					t.Errorf("%s = %q (present %v), want %q", k, v, ok, want)
				}
			}
			for _, k := range tt.missing {
				if _, ok := got[k]; ok {
					t.Errorf("%s present in %s naming", k, tt.names)
				}
			}
		})
	}
}

func TestFieldNamesValid(t *testing.T) {
	t.Parallel()
	for names, want := range map[feed.FieldNames]bool{"": true, "current": true, "2025": true, "2024": false, "Current": false} {
		if names.Valid() != want {
			t.Errorf("%q.Valid() = %v", names, !want)
		}
	}
	// "" is the current naming.
	if !slices.Equal(feed.Columns(""), feed.Columns(feed.NamesCurrent)) {
		t.Error(`Columns("") differs from Columns("current")`)
	}
}

func assertProblem(t *testing.T, probs []feed.Problem, field string, sev feed.Severity, hint string) {
	t.Helper()
	for _, p := range probs {
		if p.Field == field && p.Severity == sev {
			if !strings.Contains(p.Hint, hint) {
				t.Errorf("%s problem hint = %q, want it to mention %q", field, p.Hint, hint)
			}
			if p.Message == "" {
				t.Errorf("%s problem lacks a message: %+v", field, p)
			}
			return
		}
	}
	t.Errorf("no %s %s problem in %+v", sev, field, probs)
}
