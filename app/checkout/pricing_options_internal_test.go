package checkout

import (
	"context"
	"net/http"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// probed is a calculation's answer for the probe with tax lines lines.
func probed(lines ...RateTax) *DraftResult {
	r := &DraftResult{ShippingCustom: true, ShippingOriginal: probePrice, ShippingPrice: probePrice, ShippingTaxLines: lines}
	for _, l := range lines {
		r.ShippingTax += l.Amount
	}
	return r
}

// TestOptionTaxes: each option's tax follows from the probe's tax lines
// when Shopify's answer shows how it taxes shipping, and nothing is
// derived when it does not.
func TestOptionTaxes(t *testing.T) {
	discounted := probed(RateTax{RatePPM: 88_750, Amount: 799})
	discounted.ShippingPrice = 0 // a free-shipping code
	included := probed(RateTax{RatePPM: 200_000, Amount: 1667})
	included.TaxesIncluded = true
	rated := probed(RateTax{RatePPM: 130_000, Amount: 1300})
	rated.ShippingHandle = "shopify-Standard" // a rate, not the probe
	tests := []struct {
		name string
		res  *DraftResult
		ok   bool
		// want is the tax of each price in prices.
		prices, want []int64
	}{
		{"untaxed shipping", probed(), true, []int64{500, 1500, 0}, []int64{0, 0, 0}},
		{"one tax line", probed(RateTax{RatePPM: 88_750, Amount: 888}), true, []int64{500, 1500, 0}, []int64{44, 133, 0}},
		// Half up per line: 1_234 × 7.25 % = 89.465 → 89; × 2.5 % = 30.85 → 31.
		{"two tax lines, rounded each", probed(RateTax{RatePPM: 72_500, Amount: 725}, RateTax{RatePPM: 25_000, Amount: 250}), true,
			[]int64{1234, 2000}, []int64{89 + 31, 145 + 50}},
		{"a rate of 0", probed(RateTax{RatePPM: 0, Amount: 0}), true, []int64{999}, []int64{0}},
		{"taxes included in prices", included, false, nil, nil},
		{"shipping discounted by a code", discounted, false, nil, nil},
		{"not the probe", rated, false, nil, nil},
		{"a tax line without a rate", probed(RateTax{RatePPM: 0, Amount: 500}), false, nil, nil},
		{"rates that do not reproduce the probe's tax", probed(RateTax{RatePPM: 88_750, Amount: 900}), false, nil, nil},
		{"no shipping line", &DraftResult{}, false, nil, nil},
		{"no answer", nil, false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tax, ok := optionTaxes(tt.res, probePrice)
			if ok != tt.ok {
				t.Fatalf("derivable = %v, want %v", ok, tt.ok)
			}
			for i, p := range tt.prices {
				if got := tax(p); got != tt.want[i] {
					t.Errorf("tax of %d = %d, want %d", p, got, tt.want[i])
				}
			}
		})
	}
}

// TestOptionTaxesMatchShopify: against the emulated shop, the tax derived
// for every offered rate from one probed calculation is what a calculation
// with that rate charges, for addresses whose shipping is untaxed, taxed
// and taxed at other rates.
func TestOptionTaxesMatchShopify(t *testing.T) {
	const shop = "demo-shop.myshopify.com"
	emu, err := emulator.New(emulator.Config{APIKey: "k", APISecret: "s", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	admin := &shopify.Admin{HTTPClient: &http.Client{Transport: emu.Transport(nil)}, Limiter: &shopify.Limiter{}}
	sp := &ShopifyPricing{Shopify: shopify.TokenQuerier{Admin: admin, Token: emu.StaffToken(shop)}}
	var lines []DraftLine
	for _, p := range emu.Products(shop) {
		for _, v := range p.Variants {
			if p.Status == "ACTIVE" && v.RequiresShipping && len(lines) < 2 {
				lines = append(lines, DraftLine{VariantID: v.ID, Quantity: 1})
			}
		}
	}
	ctx := context.Background()
	for _, addr := range []acp.Address{
		{Country: "US", State: "CA", City: "San Francisco", PostalCode: "94105"}, // shipping untaxed
		{Country: "US", State: "NY", City: "New York", PostalCode: "10001"},      // shipping taxed, 8.875 %
		{Country: "US", State: "TX", City: "Austin", PostalCode: "73301"},        // country rate, untaxed
		{Country: "CA", State: "ON", City: "Toronto", PostalCode: "M5V 2T6"},     // HST on shipping
		{Country: "GB", City: "London", PostalCode: "SW1A 1AA"},                  // VAT on shipping
	} {
		t.Run(addr.Country+"-"+addr.State, func(t *testing.T) {
			req := DraftRequest{Lines: lines, Address: &addr, Probe: &ShippingProbe{Price: probePrice, Currency: "USD"}}
			res, err := sp.CalculateDraft(ctx, shop, req)
			if err != nil {
				t.Fatal(err)
			}
			tax, ok := optionTaxes(res, probePrice)
			if !ok || len(res.Rates) == 0 {
				t.Fatalf("not derivable from %+v", res)
			}
			for _, r := range res.Rates {
				withRate, err := sp.CalculateDraft(ctx, shop, DraftRequest{Lines: lines, Address: &addr, ShippingRateHandle: r.Handle})
				if err != nil {
					t.Fatal(err)
				}
				if withRate.ShippingHandle != r.Handle || tax(r.Price) != withRate.ShippingTax || r.Price != withRate.ShippingPrice {
					t.Errorf("%s at %d: derived tax %d, Shopify's calculation %d at %d", r.Handle, r.Price, tax(r.Price), withRate.ShippingTax, withRate.ShippingPrice)
				}
				// The lines are taxed the same with the probe as with the rate.
				for i := range res.Lines {
					if res.Lines[i].Tax != withRate.Lines[i].Tax {
						t.Errorf("line %d tax %d with the probe, %d with %s", i, res.Lines[i].Tax, withRate.Lines[i].Tax, r.Handle)
					}
				}
			}
		})
	}
}

// regionlessShop is a ShopPricing whose rates need the street (as
// carrier-calculated rates may): a calculation without it, or with a
// custom shipping line, offers none.
type regionlessShop struct{ calcs []DraftRequest }

func (s *regionlessShop) LiveVariants(context.Context, string, string, []int64) (map[int64]LiveVariant, error) {
	return nil, nil
}

func (s *regionlessShop) CalculateDraft(_ context.Context, _ string, in DraftRequest) (*DraftResult, error) {
	s.calcs = append(s.calcs, in)
	res := &DraftResult{Currency: "USD", Lines: []DraftLineResult{{VariantID: 7, UnitAmount: 1000, Tax: 73}}, TotalTax: 73}
	if in.Address == nil || in.Address.LineOne == "" || in.Probe != nil {
		return res, nil
	}
	res.Rates = []ShippingRate{{Handle: "ups-ground", Title: "UPS Ground", Price: 900}}
	if in.ShippingRateHandle == "ups-ground" {
		res.ShippingHandle, res.ShippingPrice, res.ShippingTax = "ups-ground", 900, 65
	}
	res.TotalPrice = 1000 + 73 + res.ShippingPrice + res.ShippingTax
	return res, nil
}

type oneItem struct{}

func (oneItem) CheckoutItems(context.Context, *app.Shop, []int64) (map[int64]app.CheckoutItem, error) {
	return map[int64]app.CheckoutItem{7: {Sellable: true, Item: feed.Item{Title: "Kettle"}, Variant: app.CatalogVariant{
		VariantID: 7, PriceMinor: 1000, AvailableForSale: true, RequiresShipping: true, Taxable: true}}}, nil
}

// TestQuoteWholeAddressWhenRegionHasNoRates: when the region alone (and the
// probe) bring no shipping rates, the quote asks again with the whole
// address before saying the shop does not ship there, and keeps doing so.
func TestQuoteWholeAddressWhenRegionHasNoRates(t *testing.T) {
	shop := &regionlessShop{}
	p := &Pricing{Feeds: oneItem{}, Shopify: shop}
	sh := &app.Shop{ID: 1, Domain: "s.myshopify.com", CurrencyCode: "USD"}
	st := &State{Items: []CartItem{{ItemID: "7", Quantity: 1}}, Buyer: &acp.Buyer{Email: "a@example.com"},
		Fulfillment: &acp.FulfillmentDetails{Address: &acp.Address{Name: "A B", LineOne: "1 Main St", City: "Austin", State: "TX", Country: "US", PostalCode: "73301"}}}
	q, err := p.Quote(context.Background(), sh, acp.V20260417, st)
	if err != nil {
		t.Fatal(err)
	}
	if hasError(q.Messages) || !q.Complete || !q.WholeAddress || len(q.Options) != 1 || q.Options[0].Tax != 65 {
		t.Fatalf("quote %+v", q)
	}
	last := shop.calcs[len(shop.calcs)-1]
	if len(shop.calcs) != 3 || last.ShippingRateHandle != "ups-ground" || last.Address.LineOne == "" {
		t.Errorf("calculations %+v: want region with probe, whole address, then the chosen rate with the whole address", shop.calcs)
	}
}
