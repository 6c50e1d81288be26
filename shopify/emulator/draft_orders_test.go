package emulator_test

import (
	"net/http"
	"testing"

	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// calcDoc asks draftOrderCalculate for the raw shapes the tests check.
const calcDoc = `mutation Calc($input: DraftOrderInput!) {
  draftOrderCalculate(input: $input) {
    calculatedDraftOrder {
      currencyCode taxesIncluded totalQuantityOfLineItems discountCodes
      lineItems {
        uuid name custom quantity requiresShipping taxable
        variant { id inventoryItem { requiresShipping } }
        originalUnitPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
        discountedTotalSet { shopMoney { amount } } totalDiscountSet { shopMoney { amount } }
        appliedDiscount { value valueType amountSet { shopMoney { amount } } }
      }
      availableShippingRates { handle title price { amount currencyCode } }
      shippingLine { title custom shippingRateHandle source originalPriceSet { shopMoney { amount } } taxLines { title rate ratePercentage priceSet { shopMoney { amount } } } }
      taxLines { title rate ratePercentage priceSet { shopMoney { amount } } }
      platformDiscounts {
        code title presentationLevel totalAmountPriceSet { shopMoney { amount } }
        allocations { reductionAmountSet { shopMoney { amount } } target { __typename ... on CalculatedDraftOrderLineItem { uuid } } }
      }
      warnings { __typename errorCode field message ... on DraftOrderDiscountNotAppliedWarning { discountCode discountTitle } }
      alerts { title content severity }
      lineItemsSubtotalPrice { shopMoney { amount } }
      subtotalPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalPriceSet { shopMoney { amount } }
      totalPrice
    }
    userErrors { field message }
  }
}`

// calc runs calcDoc with the staff token and returns the payload.
func (b *bundle) calc(t *testing.T, input map[string]any) map[string]any {
	t.Helper()
	data := b.mustData(t, testShop, b.emu.StaffToken(testShop), calcDoc, map[string]any{"input": input})
	p, _ := data["draftOrderCalculate"].(map[string]any)
	return p
}

func shop(v any, path ...any) any { return dig(v, append(path, "shopMoney", "amount")...) }

func TestDraftOrderCalculateShapes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	shirt := b.emu.Products(testShop)[0].Variants[0] // S, in stock
	p := b.calc(t, map[string]any{
		"lineItems": []any{
			map[string]any{"variantId": shirt.GID(), "quantity": 2, "uuid": "line-a"},
			// A custom line with its own price and a 10 % line discount.
			map[string]any{"title": "Gift wrap", "quantity": 1, "requiresShipping": false, "taxable": false,
				"originalUnitPriceWithCurrency": map[string]any{"amount": "4.00", "currencyCode": "USD"},
				"appliedDiscount":               map[string]any{"value": 10, "valueType": "PERCENTAGE"}},
		},
		"email":           "buyer@example.com",
		"shippingAddress": map[string]any{"countryCode": "US", "provinceCode": "CA", "zip": "94103"},
		"discountCodes":   []any{"SAVE5", "nope", "summer15"},
		"shippingLine":    map[string]any{"title": "Courier", "priceWithCurrency": map[string]any{"amount": "7.5", "currencyCode": "USD"}},
	})
	if errs := p["userErrors"].([]any); len(errs) != 0 {
		t.Fatalf("userErrors %v", errs)
	}
	c := p["calculatedDraftOrder"]
	if dig(c, "currencyCode") != "USD" || dig(c, "taxesIncluded") != false || dig(c, "totalQuantityOfLineItems") != 3.0 {
		t.Errorf("header %v", c)
	}
	// Decimal amounts look like Shopify's: "4.0", not "4.00".
	if got := shop(c, "lineItems", 1, "originalUnitPriceSet"); got != "4.0" {
		t.Errorf("custom unit price %v, want 4.0", got)
	}
	if dig(c, "lineItems", 0, "uuid") != "line-a" || dig(c, "lineItems", 0, "variant", "id") != shirt.GID() || dig(c, "lineItems", 1, "custom") != true {
		t.Errorf("lines %v", dig(c, "lineItems"))
	}
	if shop(c, "lineItems", 1, "totalDiscountSet") != "0.4" || shop(c, "lineItems", 1, "discountedTotalSet") != "3.6" || dig(c, "lineItems", 1, "appliedDiscount", "valueType") != "PERCENTAGE" {
		t.Errorf("line discount %v", dig(c, "lineItems", 1))
	}
	// The line's own discount fields leave out the order's code.
	if shop(c, "lineItems", 0, "totalDiscountSet") != "0.0" {
		t.Errorf("order discount leaked into the line: %v", dig(c, "lineItems", 0))
	}

	// SAVE5 applies; the unknown and the expired code are reported.
	if codes := dig(c, "discountCodes").([]any); len(codes) != 1 || codes[0] != "SAVE5" {
		t.Errorf("discountCodes %v", codes)
	}
	w := dig(c, "warnings").([]any)
	if len(w) != 2 || dig(w, 0, "__typename") != "DraftOrderDiscountNotAppliedWarning" || dig(w, 0, "discountCode") != "nope" ||
		dig(w, 0, "errorCode") != "DISCOUNT_NOT_FOUND" || dig(w, 1, "errorCode") != "DISCOUNT_EXPIRED" || dig(w, 1, "discountTitle") == nil {
		t.Errorf("warnings %v", w)
	}
	if dig(c, "platformDiscounts", 0, "code") != "SAVE5" || shop(c, "platformDiscounts", 0, "totalAmountPriceSet") != "5.0" {
		t.Errorf("platformDiscounts %v", dig(c, "platformDiscounts"))
	}
	allocs := dig(c, "platformDiscounts", 0, "allocations").([]any)
	var allocated int64
	for _, a := range allocs {
		if dig(a, "target", "__typename") != "CalculatedDraftOrderLineItem" {
			t.Errorf("allocation target %v", a)
		}
		allocated += moneyCents(t, shop(a, "reductionAmountSet"))
	}
	if allocated != 500 {
		t.Errorf("allocations add up to %d, want 500", allocated)
	}

	// Custom shipping replaces the rates' choice; CA does not tax shipping.
	if dig(c, "shippingLine", "custom") != true || dig(c, "shippingLine", "shippingRateHandle") != nil || shop(c, "shippingLine", "originalPriceSet") != "7.5" {
		t.Errorf("shippingLine %v", dig(c, "shippingLine"))
	}
	if n := len(dig(c, "shippingLine", "taxLines").([]any)); n != 0 {
		t.Errorf("CA shipping taxed: %v", dig(c, "shippingLine"))
	}
	if dig(c, "availableShippingRates", 0, "handle") != "shopify-Standard" || dig(c, "availableShippingRates", 0, "price", "amount") != "5.0" {
		t.Errorf("rates %v", dig(c, "availableShippingRates"))
	}

	// Tax: only the shirt is taxable, after its share of SAVE5.
	sub := 2*shirt.PriceCents + 360 - 500
	if got := moneyCents(t, shop(c, "subtotalPriceSet")); got != sub {
		t.Errorf("subtotal %d, want %d", got, sub)
	}
	shirtShare := moneyCents(t, shop(allocs[0], "reductionAmountSet"))
	wantTax := ((2*shirt.PriceCents-shirtShare)*72_500 + 500_000) / 1_000_000
	if got := moneyCents(t, shop(c, "totalTaxSet")); got != wantTax {
		t.Errorf("tax %d, want %d", got, wantTax)
	}
	if dig(c, "taxLines", 0, "title") != "CA State Tax" || dig(c, "taxLines", 0, "rate") != 0.0725 || dig(c, "taxLines", 0, "ratePercentage") != 7.25 {
		t.Errorf("taxLines %v", dig(c, "taxLines"))
	}
	total := sub + 750 + wantTax
	if got := moneyCents(t, shop(c, "totalPriceSet")); got != total || dig(c, "totalPrice") != moneyOf(total) {
		t.Errorf("total %d (%v), want %d", got, dig(c, "totalPrice"), total)
	}
	if got := moneyCents(t, shop(c, "totalDiscountsSet")); got != 540 {
		t.Errorf("total discounts %d, want 540", got)
	}
}

func TestDraftOrderCalculateAlertsAndExempt(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	low := b.emu.Products(testShop)[0].Variants[2] // L, 2 left, DENY
	p := b.calc(t, map[string]any{
		"lineItems":       []any{map[string]any{"variantId": low.GID(), "quantity": 5}},
		"shippingAddress": map[string]any{"countryCode": "GB"},
		"taxExempt":       true,
		"shippingLine":    map[string]any{"shippingRateHandle": "shopify-International-Standard"},
	})
	c := p["calculatedDraftOrder"]
	if dig(c, "alerts", 0, "severity") != "WARNING" || !contains(dig(c, "alerts", 0, "content").(string), "Only 2") {
		t.Errorf("alerts %v", dig(c, "alerts"))
	}
	if shop(c, "totalTaxSet") != "0.0" || len(dig(c, "taxLines").([]any)) != 0 {
		t.Errorf("tax-exempt order taxed: %v", c)
	}
	if dig(c, "shippingLine", "shippingRateHandle") != "shopify-International-Standard" || dig(c, "shippingLine", "source") != "shopify" {
		t.Errorf("shippingLine %v", dig(c, "shippingLine"))
	}
}

func TestDraftOrderCalculateUserErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	shirt := b.emu.Products(testShop)[0].Variants[0]
	tests := []struct {
		name  string
		input map[string]any
		field []any
	}{
		{"unknown variant", map[string]any{"lineItems": []any{map[string]any{"variantId": "gid://shopify/ProductVariant/7", "quantity": 1}}}, []any{"lineItems", "0", "variantId"}},
		{"zero quantity", map[string]any{"lineItems": []any{map[string]any{"variantId": shirt.GID(), "quantity": 0}}}, []any{"lineItems", "0", "quantity"}},
		{"custom line without title", map[string]any{"lineItems": []any{map[string]any{"quantity": 1, "originalUnitPriceWithCurrency": map[string]any{"amount": "1", "currencyCode": "USD"}}}}, []any{"lineItems", "0", "title"}},
		{"price in another currency", map[string]any{"lineItems": []any{map[string]any{"title": "X", "quantity": 1, "originalUnitPriceWithCurrency": map[string]any{"amount": "1", "currencyCode": "EUR"}}}}, []any{"lineItems", "0", "originalUnitPriceWithCurrency"}},
		{"bad email", map[string]any{"email": "nobody", "lineItems": []any{map[string]any{"variantId": shirt.GID(), "quantity": 1}}}, []any{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.calc(t, tt.input)
			if p["calculatedDraftOrder"] != nil {
				t.Errorf("calculated despite errors: %v", p)
			}
			got, _ := dig(p, "userErrors", 0, "field").([]any)
			if len(got) != len(tt.field) {
				t.Fatalf("userErrors %v, want field %v", p["userErrors"], tt.field)
			}
			for i := range got {
				if got[i] != tt.field[i] {
					t.Errorf("field %v, want %v", got, tt.field)
				}
			}
			if dig(p, "userErrors", 0, "message") == "" {
				t.Errorf("no message: %v", p["userErrors"])
			}
		})
	}
}

func TestDraftOrderCalculateScopeAndFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *emulator.Config) { c.Scopes = []string{"read_products", "read_draft_orders"} })
	tok := b.install(t, testShop, false)["access_token"].(string)
	shirt := b.emu.Products(testShop)[0].Variants[0]
	vars := map[string]any{"input": map[string]any{"lineItems": []any{map[string]any{"variantId": shirt.GID(), "quantity": 1}}}}

	_, body := b.gql(t, testShop, tok, calcDoc, vars)
	if errorCode(body) != "ACCESS_DENIED" || !contains(errorMessage(body), "write_draft_orders") {
		t.Errorf("without write_draft_orders: %v", body)
	}

	staff := b.emu.StaffToken(testShop)
	b.emu.FailNext(1, http.StatusBadGateway)
	if status, _ := b.gql(t, testShop, staff, calcDoc, vars); status != http.StatusBadGateway {
		t.Errorf("FailNext: status %d", status)
	}
	b.emu.SetThrottle(15, 1) // one mutation (10 points), then THROTTLED
	if _, body := b.gql(t, testShop, staff, calcDoc, vars); body["errors"] != nil {
		t.Fatalf("first mutation: %v", body)
	}
	if _, body := b.gql(t, testShop, staff, calcDoc, vars); errorCode(body) != "THROTTLED" {
		t.Errorf("second mutation: %v, want THROTTLED", body)
	}
}

func TestPricingSetters(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	p0 := b.emu.Products(testShop)[0]
	if err := b.emu.SetTaxRate("nope.myshopify.com", emulator.TaxRate{Country: "US", PPM: 1}); err == nil {
		t.Error("SetTaxRate on an unknown shop: no error")
	}
	if err := b.emu.AddDiscountCode(testShop, emulator.DiscountCode{Code: "BOTH", PercentBP: 100, AmountCents: 100}); err == nil {
		t.Error("a discount with both a percentage and an amount: no error")
	}
	if err := b.emu.SetRequiresShipping(testShop, "gid://shopify/ProductVariant/1", false); err == nil {
		t.Error("SetRequiresShipping on an unknown variant: no error")
	}
	// Removing the domestic zone and the US rate: no rates, no tax.
	if err := b.emu.SetShippingZone(testShop, emulator.ShippingZone{Name: "Domestic"}); err != nil {
		t.Fatal(err)
	}
	if err := b.emu.SetTaxRate(testShop, emulator.TaxRate{Country: "us"}); err != nil {
		t.Fatal(err)
	}
	if err := b.emu.RemoveDiscountCode(testShop, "welcome10"); err != nil {
		t.Fatal(err)
	}
	c := b.calc(t, map[string]any{
		"lineItems":       []any{map[string]any{"variantId": p0.Variants[0].GID(), "quantity": 1}},
		"shippingAddress": map[string]any{"countryCode": "US", "provinceCode": "TX"},
		"discountCodes":   []any{"WELCOME10"},
	})["calculatedDraftOrder"]
	if n := len(dig(c, "availableShippingRates").([]any)); n != 0 {
		t.Errorf("%d rates after removing the zone", n)
	}
	if shop(c, "totalTaxSet") != "0.0" || dig(c, "warnings", 0, "discountCode") != "WELCOME10" {
		t.Errorf("after changes: %v", c)
	}
	// SetRequiresShipping shows through the variant's inventory item.
	if err := b.emu.SetRequiresShipping(testShop, p0.Variants[0].GID(), false); err != nil {
		t.Fatal(err)
	}
	data := b.mustData(t, testShop, b.emu.StaffToken(testShop), `query($ids: [ID!]!) { nodes(ids: $ids) { ... on ProductVariant { inventoryItem { requiresShipping } } } }`,
		map[string]any{"ids": []any{p0.Variants[0].GID()}})
	if dig(data, "nodes", 0, "inventoryItem", "requiresShipping") != false {
		t.Errorf("requiresShipping %v", data)
	}
}

// moneyCents reads a Decimal amount such as "12.5" as cents.
func moneyCents(t *testing.T, v any) int64 {
	t.Helper()
	s, _ := v.(string)
	var whole, frac int64
	var digits int
	seenDot := false
	for _, r := range s {
		switch {
		case r == '.' && !seenDot:
			seenDot = true
		case r >= '0' && r <= '9' && !seenDot:
			whole = whole*10 + int64(r-'0')
		case r >= '0' && r <= '9' && digits < 2:
			frac = frac*10 + int64(r-'0')
			digits++
		default:
			t.Fatalf("amount %q", s)
		}
	}
	for ; digits < 2; digits++ {
		frac *= 10
	}
	return whole*100 + frac
}
