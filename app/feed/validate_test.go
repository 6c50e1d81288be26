package feed_test

import (
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/feed"
)

func validItem(t *testing.T) feed.Item {
	t.Helper()
	it := feed.Map(tee(), testSettings(), testShop())[0]
	if p := feed.Validate(it, feed.NamesCurrent); p != nil {
		t.Fatalf("fixture item has problems: %+v", p)
	}
	return it
}

func TestValidate(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("é", n) }
	tests := []struct {
		name   string
		names  feed.FieldNames
		mutate func(*feed.Item)
		field  string
		sev    feed.Severity
		hint   string // a part of the hint
	}{
		{"missing item id", "", func(it *feed.Item) { it.ItemID = "" }, "item_id", feed.SeverityError, "sync"},
		{"item id too long", "", func(it *feed.Item) { it.ItemID = strings.Repeat("9", 101) }, "item_id", feed.SeverityError, "sync"},
		{"missing title", "", func(it *feed.Item) { it.Title = "" }, "title", feed.SeverityError, "Shopify admin › Products"},
		{"title too long", "", func(it *feed.Item) { it.Title = long(151) }, "title", feed.SeverityError, "title override"},
		{"all-caps title", "", func(it *feed.Item) { it.Title = "CLASSIC COTTON TEE" }, "title", feed.SeverityWarning, "normal case"},
		{"missing description", "", func(it *feed.Item) { it.Description = "" }, "description", feed.SeverityError, "Add a description"},
		{"description too long", "", func(it *feed.Item) { it.Description = long(5001) }, "description", feed.SeverityError, "description"},
		{"missing url", "", func(it *feed.Item) { it.URL = "" }, "url", feed.SeverityError, "Online Store"},
		{"http url", "", func(it *feed.Item) { it.URL = "http://acme.example/products/x" }, "url", feed.SeverityError, "HTTPS"},
		{"relative url", "", func(it *feed.Item) { it.URL = "/products/x" }, "url", feed.SeverityError, "HTTPS"},
		{"url without host", "", func(it *feed.Item) { it.URL = "https:///products/x" }, "url", feed.SeverityError, "HTTPS"},
		{"url with space", "", func(it *feed.Item) { it.URL = "https://acme.example/a b" }, "url", feed.SeverityError, "HTTPS"},
		{"missing brand", "", func(it *feed.Item) { it.Brand = "" }, "brand", feed.SeverityError, "Vendor"},
		{"brand too long", "", func(it *feed.Item) { it.Brand = long(71) }, "brand", feed.SeverityError, "Vendor"},
		{"gtin with letters", "", func(it *feed.Item) { it.GTIN = "12AB5678" }, "gtin", feed.SeverityError, "Barcode"},
		{"gtin too short", "", func(it *feed.Item) { it.GTIN = "1234567" }, "gtin", feed.SeverityError, "Barcode"},
		{"gtin bad check digit", "", func(it *feed.Item) { it.GTIN = "4006381333932" }, "gtin", feed.SeverityWarning, "Barcode"},
		{"gtin odd length", "", func(it *feed.Item) { it.GTIN = "1234567890" }, "gtin", feed.SeverityWarning, "Barcode"},
		{"no identifiers", "", func(it *feed.Item) { it.GTIN, it.MPN = "", "" }, "gtin", feed.SeverityWarning, "SKU"},
		{"mpn too long", "", func(it *feed.Item) { it.GTIN, it.MPN = "", long(71) }, "mpn", feed.SeverityError, "SKU"},
		{"missing category", "", func(it *feed.Item) { it.ProductCategory = "" }, "product_category", feed.SeverityWarning, "category"},
		{"bad condition", "", func(it *feed.Item) { it.Condition = "mint" }, "condition", feed.SeverityError, "sync"},
		{"missing image", "", func(it *feed.Item) { it.ImageURL = "" }, "image_url", feed.SeverityError, "Add a product image in Shopify admin › Products"},
		{"http image", "", func(it *feed.Item) { it.ImageURL = "http://cdn.acme.example/a.jpg" }, "image_url", feed.SeverityError, "HTTPS"},
		{"http additional image", "", func(it *feed.Item) { it.AdditionalImageURLs = []string{"http://x.example/a.jpg"} }, "additional_image_urls", feed.SeverityWarning, "HTTPS"},
		{"no price", "", func(it *feed.Item) { it.Price = feed.Money{} }, "price", feed.SeverityError, "price above 0"},
		{"zero price", "", func(it *feed.Item) { it.Price.Minor = 0 }, "price", feed.SeverityError, "price above 0"},
		{"bad currency", "", func(it *feed.Item) { it.Price.Currency = "US$" }, "price", feed.SeverityError, "currency"},
		{"sale above price", "", func(it *feed.Item) { it.SalePrice = feed.Money{Minor: 2500, Currency: "USD"} }, "sale_price", feed.SeverityError, "compare-at"},
		{"sale in other currency", "", func(it *feed.Item) { it.SalePrice = feed.Money{Minor: 100, Currency: "EUR"} }, "sale_price", feed.SeverityError, "currency"},
		{"missing availability", "", func(it *feed.Item) { it.Availability = "" }, "availability", feed.SeverityError, "sync"},
		{"unknown availability", "", func(it *feed.Item) { it.Availability = "maybe" }, "availability", feed.SeverityError, "sync"},
		{"missing group id", "", func(it *feed.Item) { it.GroupID = "" }, "group_id", feed.SeverityError, "sync"},
		{"group id too long", "", func(it *feed.Item) { it.GroupID = strings.Repeat("1", 71) }, "group_id", feed.SeverityError, "sync"},
		{"color too long", "", func(it *feed.Item) { it.Color = long(41) }, "color", feed.SeverityWarning, "option value"},
		{"size too long", "", func(it *feed.Item) { it.Size = long(21) }, "size", feed.SeverityWarning, "option value"},
		{"missing seller name", "", func(it *feed.Item) { it.SellerName = "" }, "seller_name", feed.SeverityError, "Settings › Feed"},
		{"seller name too long", "", func(it *feed.Item) { it.SellerName = long(71) }, "seller_name", feed.SeverityError, "Settings › Feed"},
		{"missing seller url", "", func(it *feed.Item) { it.SellerURL = "" }, "seller_url", feed.SeverityWarning, "Settings › Feed"},
		{"checkout without privacy policy", "", func(it *feed.Item) { it.SellerPrivacyPolicy = "" }, "seller_privacy_policy", feed.SeverityError, "Settings › Policies"},
		{"checkout without terms", "", func(it *feed.Item) { it.SellerTOS = "" }, "seller_tos", feed.SeverityError, "Settings › Policies"},
		{"checkout without return policy", "", func(it *feed.Item) { it.ReturnPolicy = "" }, "return_policy", feed.SeverityError, "Settings › Policies"},
		{"checkout without return window", "", func(it *feed.Item) { it.ReturnDeadlineInDays = 0 }, "return_deadline_in_days", feed.SeverityError, "return window"},
		{"search only without return policy", "", func(it *feed.Item) { it.IsEligibleCheckout, it.ReturnPolicy = false, "" }, "return_policy", feed.SeverityWarning, "Settings › Policies"},
		{"search only with malformed terms", "", func(it *feed.Item) { it.IsEligibleCheckout, it.SellerTOS = false, "terms" }, "seller_tos", feed.SeverityWarning, "Settings › Policies"},
		{"checkout with malformed terms", "", func(it *feed.Item) { it.SellerTOS = "terms" }, "seller_tos", feed.SeverityError, "Settings › Policies"},
		{"missing target countries", "", func(it *feed.Item) { it.TargetCountries = nil }, "target_countries", feed.SeverityError, "countries"},
		{"alpha-3 target country", "", func(it *feed.Item) { it.TargetCountries = []string{"US", "USA"} }, "target_countries", feed.SeverityError, "ISO 3166-1"},
		{"unassigned target country", "", func(it *feed.Item) { it.TargetCountries = []string{"ZZ"} }, "target_countries", feed.SeverityError, "ISO 3166-1"},
		{"missing store country", "", func(it *feed.Item) { it.StoreCountry = "" }, "store_country", feed.SeverityError, "store country"},
		{"lower-case store country", "", func(it *feed.Item) { it.StoreCountry = "us" }, "store_country", feed.SeverityError, "ISO 3166-1"},
		{"checkout without search", "", func(it *feed.Item) { it.IsEligibleSearch = false }, "is_eligible_checkout", feed.SeverityError, "search"},
		// 2025 naming: same rules, 2025 field names.
		{"2025 missing image", feed.Names2025, func(it *feed.Item) { it.ImageURL = "" }, "image_link", feed.SeverityError, "Add a product image"},
		{"2025 missing link", feed.Names2025, func(it *feed.Item) { it.URL = "" }, "link", feed.SeverityError, "Online Store"},
		{"2025 missing item id", feed.Names2025, func(it *feed.Item) { it.ItemID = "" }, "id", feed.SeverityError, "sync"},
		{"2025 missing group id", feed.Names2025, func(it *feed.Item) { it.GroupID = "" }, "item_group_id", feed.SeverityError, "sync"},
		{"2025 checkout without return window", feed.Names2025, func(it *feed.Item) { it.ReturnDeadlineInDays = 0 }, "return_window", feed.SeverityError, "return window"},
		{"2025 checkout without search", feed.Names2025, func(it *feed.Item) { it.IsEligibleSearch = false }, "enable_checkout", feed.SeverityError, "search"},
		{"2025 missing weight", feed.Names2025, func(it *feed.Item) { it.Weight, it.WeightUnit = 0, "" }, "weight", feed.SeverityWarning, "weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			it := validItem(t)
			tt.mutate(&it)
			probs := feed.Validate(it, tt.names)
			assertProblem(t, probs, tt.field, tt.sev, tt.hint)
			if got, want := feed.HasErrors(probs), tt.sev == feed.SeverityError; got != want {
				t.Errorf("HasErrors = %v, want %v (%+v)", got, want, probs)
			}
			for _, p := range probs {
				if p.ItemID != it.ItemID {
					t.Errorf("problem for item %q, want %q", p.ItemID, it.ItemID)
				}
				if p.Hint == "" || !strings.HasPrefix(p.Message, p.Field) {
					t.Errorf("problem without hint or with a message not naming its field: %+v", p)
				}
			}
		})
	}
}

func TestValidateNamingSpecificFields(t *testing.T) {
	t.Parallel()
	it := validItem(t)
	it.TargetCountries, it.StoreCountry = nil, ""
	// target_countries and store_country do not exist in the 2025 spec.
	if p := feed.Validate(it, feed.Names2025); p != nil {
		t.Errorf("2025: unexpected problems %+v", p)
	}
	if p := feed.Validate(it, feed.NamesCurrent); len(p) != 2 {
		t.Errorf("current: want 2 problems, got %+v", p)
	}
	// A weightless physical item is fine in the current spec (weight is optional).
	it = validItem(t)
	it.Weight, it.WeightUnit = 0, ""
	if p := feed.Validate(it, feed.NamesCurrent); p != nil {
		t.Errorf("current: unexpected problems %+v", p)
	}
}

func TestValidGTIN(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"036000291452":    true,  // UPC-A
		"4006381333931":   true,  // EAN-13
		"96385074":        true,  // GTIN-8
		"10012345678902":  true,  // GTIN-14
		"036000291453":    false, // wrong check digit
		"4006381333930":   false,
		"1234567":         false, // too short
		"123456789012345": false, // too long
		"03600029145X":    false,
		"":                false,
	}
	for in, want := range tests {
		if got := feed.ValidGTIN(in); got != want {
			t.Errorf("ValidGTIN(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidCountry(t *testing.T) {
	t.Parallel()
	for c, want := range map[string]bool{"US": true, "GB": true, "DE": true, "SS": true, "XK": true, "UK": false, "EU": false, "us": false, "USA": false, "": false, "ZZ": false} {
		if got := feed.ValidCountry(c); got != want {
			t.Errorf("ValidCountry(%q) = %v, want %v", c, got, want)
		}
	}
	n := 0
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			if feed.ValidCountry(string([]rune{a, b})) {
				n++
			}
		}
	}
	if n != 249+1 { // 249 assigned codes plus XK
		t.Errorf("%d valid codes, want 250", n)
	}
}
