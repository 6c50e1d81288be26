package emulator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file holds what draftOrderCalculate prices with: each shop's tax
// rates, shipping zones and discount codes, their defaults, and the setters
// tests and the demo use. Amounts are in the shop's currency (USD) minor
// units, like Variant.PriceCents.
//
// Rounding: every computed amount (a percentage discount, a line's or the
// shipping's tax) is rounded half-up to the cent, per line, and the order's
// tax is the sum of the rounded line and shipping taxes, as Shopify's
// line-level tax rounding does. An order-level discount is spread over the
// lines in proportion to their discounted totals by the largest-remainder
// method (ties to the earlier line), so the allocations add up exactly.

// TaxRate is the sales tax, VAT or GST of a country or one of its provinces
// (states). A province rate replaces its country's rate.
type TaxRate struct {
	// Country is an ISO 3166-1 alpha-2 code, e.g. "US".
	Country string
	// Province is a province or state code, e.g. "CA", or "" for the whole
	// country.
	Province string
	// Title is the tax line's title, e.g. "CA State Tax" or "VAT".
	Title string
	// PPM is the rate in parts per million: 72_500 is 7.25 %, 88_750 is
	// 8.875 %.
	PPM int64
	// Shipping says whether shipping charges are taxed too.
	Shipping bool
}

// ShippingZone is a set of countries served with the same rates.
type ShippingZone struct {
	// Name identifies the zone, e.g. "Domestic"; SetShippingZone replaces
	// the zone of the same name.
	Name string
	// Countries are ISO 3166-1 alpha-2 codes.
	Countries []string
	// Rates are offered in this order.
	Rates []ShippingRate
}

// ShippingRate is a flat shipping rate of a zone.
type ShippingRate struct {
	// Handle is what draftOrderCalculate returns as availableShippingRates
	// handle and accepts as shippingLine.shippingRateHandle; it stays the
	// same whatever the cart, e.g. "shopify-Standard".
	Handle string
	// Title is shown to the buyer, e.g. "Standard".
	Title string
	// PriceCents is the rate's price.
	PriceCents int64
	// FreeAboveCents, when positive, makes the rate free once the order's
	// subtotal (after discounts, before tax) reaches it.
	FreeAboveCents int64
}

// DiscountCode is a discount: by default a code-based order discount.
// Exactly one of Percent and AmountCents is set, except for FreeShipping.
type DiscountCode struct {
	// Code is matched case-insensitively. An Automatic discount has none
	// to enter (its Code only names it in the setters).
	Code string
	// Title is the discount's name, e.g. "10% off your order".
	Title string
	// PercentBP is a percentage off the order in basis points: 1000 is 10 %.
	PercentBP int64
	// AmountCents is a fixed amount off the order, at most its subtotal.
	AmountCents int64
	// MinSubtotalCents, when positive, is the subtotal the order must reach.
	MinSubtotalCents int64
	// StartsAt and EndsAt bound when the code works; zero means unbounded.
	StartsAt, EndsAt time.Time

	// EachItem makes it a product discount (presentationLevel "line"):
	// PercentBP off each line, or AmountCents off each unit, in the
	// lines' own discount.
	EachItem bool
	// FreeShipping makes it a shipping discount: the shipping line's
	// price off (presentationLevel "shipping").
	FreeShipping bool
	// Automatic discounts apply without a code when the draft order
	// accepts them (acceptAutomaticDiscounts) and their conditions hold.
	Automatic bool
	// Combines lets it stack with other discounts (Shopify's
	// combinesWith, for every class at once); otherwise a second code is
	// refused as not combinable.
	Combines bool
}

// pricing is one shop's pricing setup, guarded by Emulator.mu.
type pricing struct {
	taxes     []TaxRate
	zones     []ShippingZone
	discounts []DiscountCode
}

// defaultPricing is a small but realistic setup: US sales tax (CA 7.25 %,
// NY 8.875 % with shipping taxed, none in OR, 5 % elsewhere), Canada's 13 % HST, VAT in
// GB, DE and FR, Australia's GST; domestic and international shipping; four
// discount codes, one expired and one with a minimum subtotal.
func defaultPricing(now time.Time) *pricing {
	return &pricing{
		taxes: []TaxRate{
			{Country: "US", Title: "State Tax", PPM: 50_000},
			{Country: "US", Province: "CA", Title: "CA State Tax", PPM: 72_500},
			{Country: "US", Province: "NY", Title: "NY State Tax", PPM: 88_750, Shipping: true},
			{Country: "US", Province: "OR", Title: "OR State Tax", PPM: 0}, // no sales tax
			{Country: "CA", Title: "HST", PPM: 130_000, Shipping: true},
			{Country: "GB", Title: "VAT", PPM: 200_000, Shipping: true},
			{Country: "DE", Title: "VAT", PPM: 190_000, Shipping: true},
			{Country: "FR", Title: "VAT", PPM: 200_000, Shipping: true},
			{Country: "AU", Title: "GST", PPM: 100_000, Shipping: true},
		},
		zones: []ShippingZone{
			{Name: "Domestic", Countries: []string{"US"}, Rates: []ShippingRate{
				{Handle: "shopify-Standard", Title: "Standard", PriceCents: 500, FreeAboveCents: 7500},
				{Handle: "shopify-Express", Title: "Express", PriceCents: 1500},
			}},
			{Name: "International", Countries: []string{"CA", "GB", "DE", "FR", "AU", "NL", "IE"}, Rates: []ShippingRate{
				{Handle: "shopify-International-Standard", Title: "International Standard", PriceCents: 2000},
				{Handle: "shopify-International-Express", Title: "International Express", PriceCents: 4000},
			}},
		},
		discounts: []DiscountCode{
			{Code: "WELCOME10", Title: "10% off your order", PercentBP: 1000},
			{Code: "SAVE5", Title: "$5.00 off your order", AmountCents: 500},
			{Code: "BIG20", Title: "20% off orders of $100.00 or more", PercentBP: 2000, MinSubtotalCents: 10000},
			{Code: "SUMMER15", Title: "Summer sale: 15% off", PercentBP: 1500, EndsAt: now.Add(-24 * time.Hour)},
		},
	}
}

// taxRate finds the rate for an address; ok is false when none applies.
func (p *pricing) taxRate(country, province string) (TaxRate, bool) {
	country, province = strings.ToUpper(country), strings.ToUpper(province)
	var found TaxRate
	ok := false
	for _, r := range p.taxes {
		switch {
		case r.Country != country:
		case r.Province != "" && r.Province == province:
			return r, r.PPM > 0
		case r.Province == "":
			found, ok = r, r.PPM > 0
		}
	}
	return found, ok
}

// zone finds the shipping zone serving a country.
func (p *pricing) zone(country string) *ShippingZone {
	country = strings.ToUpper(country)
	for i := range p.zones {
		if slices.Contains(p.zones[i].Countries, country) {
			return &p.zones[i]
		}
	}
	return nil
}

// discount finds a code, case-insensitively.
func (p *pricing) discount(code string) *DiscountCode {
	for i := range p.discounts {
		if strings.EqualFold(p.discounts[i].Code, strings.TrimSpace(code)) {
			return &p.discounts[i]
		}
	}
	return nil
}

// index is d's place among the shop's discounts (-1 when not there): the
// discount's stable id.
func (p *pricing) index(d *DiscountCode) int {
	for i := range p.discounts {
		if &p.discounts[i] == d {
			return i
		}
	}
	return -1
}

// withShop runs fn on a shop's pricing under the lock.
func (e *Emulator) withShop(shop string, what string, fn func(*shopState)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil {
		return fmt.Errorf("%s in %s: %w", what, shop, ErrNotFound)
	}
	fn(s)
	return nil
}

// SetTaxRate adds or replaces the shop's rate for (r.Country, r.Province);
// a zero PPM removes tax there. Codes are upper-cased.
func (e *Emulator) SetTaxRate(shop string, r TaxRate) error {
	r.Country, r.Province = strings.ToUpper(r.Country), strings.ToUpper(r.Province)
	if r.Title == "" {
		r.Title = "Tax"
	}
	return e.withShop(shop, "set tax rate", func(s *shopState) {
		p := s.pricing
		for i, old := range p.taxes {
			if old.Country == r.Country && old.Province == r.Province {
				p.taxes[i] = r
				return
			}
		}
		p.taxes = append(p.taxes, r)
	})
}

// SetShippingZone adds or replaces the zone of the same name; a zone with
// no countries removes it. A country belongs to the first zone listing it.
func (e *Emulator) SetShippingZone(shop string, z ShippingZone) error {
	z.Countries = slices.Clone(z.Countries)
	for i, c := range z.Countries {
		z.Countries[i] = strings.ToUpper(c)
	}
	z.Rates = slices.Clone(z.Rates)
	for i, r := range z.Rates {
		if r.Handle == "" {
			z.Rates[i].Handle = "shopify-" + strings.ReplaceAll(r.Title, " ", "-")
		}
	}
	return e.withShop(shop, "set shipping zone", func(s *shopState) {
		p := s.pricing
		p.zones = slices.DeleteFunc(p.zones, func(old ShippingZone) bool { return old.Name == z.Name })
		if len(z.Countries) > 0 {
			p.zones = append(p.zones, z)
		}
	})
}

// AddDiscountCode adds or replaces a discount code.
func (e *Emulator) AddDiscountCode(shop string, d DiscountCode) error {
	if !d.FreeShipping && (d.PercentBP > 0) == (d.AmountCents > 0) {
		return fmt.Errorf("emulator: discount %q needs exactly one of PercentBP and AmountCents", d.Code)
	}
	if d.Title == "" {
		d.Title = d.Code
	}
	return e.withShop(shop, "add discount code", func(s *shopState) {
		p := s.pricing
		p.discounts = slices.DeleteFunc(p.discounts, func(old DiscountCode) bool { return strings.EqualFold(old.Code, d.Code) })
		p.discounts = append(p.discounts, d)
	})
}

// RemoveDiscountCode deletes a discount code; unknown codes are ignored.
func (e *Emulator) RemoveDiscountCode(shop, code string) error {
	return e.withShop(shop, "remove discount code", func(s *shopState) {
		s.pricing.discounts = slices.DeleteFunc(s.pricing.discounts, func(old DiscountCode) bool { return strings.EqualFold(old.Code, code) })
	})
}

// SetRequiresShipping sets whether a variant (GID or number) needs shipping,
// as its inventory item's requiresShipping, and sends products/update.
func (e *Emulator) SetRequiresShipping(shop, variantID string, requires bool) error {
	e.mu.Lock()
	var productID string
	if s := e.shop(shop); s != nil {
		if vid, ok := parseGID(variantID, "ProductVariant"); ok {
			if p, _ := s.variant(vid); p != nil {
				productID = p.GID()
			}
		}
	}
	e.mu.Unlock()
	if productID == "" {
		return fmt.Errorf("set requires shipping of %s in %s: %w", variantID, shop, ErrNotFound)
	}
	vid, _ := parseGID(variantID, "ProductVariant")
	return e.UpdateProduct(shop, productID, func(p *Product) {
		for i := range p.Variants {
			if p.Variants[i].ID == vid {
				p.Variants[i].RequiresShipping = requires
			}
		}
	})
}
