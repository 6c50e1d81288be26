package checkout

import "github.com/acpbridge/acpbridge/acp"

// One draft-order calculation prices every shipping option of a cart state.
// Shopify's calculation offers the address's rates (availableShippingRates)
// but taxes only the shipping line it was given, so a quote used to
// calculate twice (rates, then the chosen rate) and once more per choice.
// Instead the first calculation carries a probe: a custom shipping line of
// a known price. Shopify taxes it as it would any rate of that price to
// that address, and its tax lines give the rates, from which each option's
// tax follows as Shopify computes it: per tax line, the price times the
// rate, rounded half up to the minor unit, summed (docs/shopify.md §4.7;
// the emulator does the same). Choosing an option then needs no call.
//
// That holds only when Shopify's answer shows that it does: the probe came
// back as sent (custom, undiscounted: no shipping discount from a code,
// which could treat rates differently), prices exclude tax (with
// taxesIncluded the tax is inside the price and Shopify's split is not
// the same arithmetic), every tax line has a rate, and the rates
// reproduce the probe's own tax to the unit. Otherwise the quote falls
// back to calculating the chosen rate, as before.

// probePrice is the probe's price in minor units: large enough that every
// tax line of a real rate shows on it (a rate of 0.0001 % still taxes it 0,
// and the self-check below refuses what it cannot reproduce).
const probePrice = 10_000

// probeTitle names the probe in Shopify's calculation.
const probeTitle = "Shipping tax probe"

// optionTaxes returns the tax of shipping at a price, as Shopify's
// calculation res taxes its probe, and whether res allows it.
func optionTaxes(res *DraftResult, probe int64) (func(price int64) int64, bool) {
	if res == nil || !res.ShippingCustom || res.ShippingHandle != "" || res.TaxesIncluded ||
		res.ShippingOriginal != probe || res.ShippingPrice != probe {
		return nil, false
	}
	lines := res.ShippingTaxLines
	var sum int64
	for _, t := range lines {
		if t.RatePPM <= 0 && t.Amount != 0 {
			return nil, false
		}
		sum += t.Amount
	}
	if sum != res.ShippingTax {
		return nil, false
	}
	tax := func(price int64) int64 {
		var total int64
		for _, t := range lines {
			total += roundHalfUp(price*t.RatePPM, 1_000_000)
		}
		return total
	}
	if tax(probe) != res.ShippingTax {
		return nil, false // not Shopify's arithmetic: do not guess
	}
	return tax, true
}

// roundHalfUp is n/d rounded half away from zero (d > 0).
func roundHalfUp(n, d int64) int64 {
	if n < 0 {
		return -roundHalfUp(-n, d)
	}
	return (n + d/2) / d
}

// taxedOptions are the rates as fulfillment options, each with its price
// and the tax Shopify would charge on it.
func taxedOptions(rates []ShippingRate, tax func(int64) int64) []QuotedOption {
	var options []QuotedOption
	for _, r := range rates {
		options = append(options, QuotedOption{ID: r.Handle, Type: acp.FulfillmentShipping, Title: r.Title, Carrier: r.Carrier,
			Subtotal: r.Price, Tax: tax(r.Price), Earliest: r.Earliest, Latest: r.Latest})
	}
	return options
}
