package checkout

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// ShopifyPricing is ShopPricing through the Admin API, with the shop's own
// token (shops.Shopify refreshes it as needed).
type ShopifyPricing struct {
	Shopify shopify.Querier
}

func variantGID(id int64) string { return "gid://shopify/ProductVariant/" + strconv.FormatInt(id, 10) }

// LiveVariants reads the variants' price and stock in Shopify now, with
// the cheapest query that has them (shopify.CheckVariants: 3 points a
// variant); titles, SKU and image stay the catalog's.
func (p *ShopifyPricing) LiveVariants(ctx context.Context, shop, currency string, ids []int64) (map[int64]LiveVariant, error) {
	gids := make([]string, len(ids))
	for i, id := range ids {
		gids[i] = variantGID(id)
	}
	vs, err := shopify.CheckVariants(ctx, p.Shopify, shop, gids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]LiveVariant, len(vs))
	for _, v := range vs {
		_, id, err := app.ParseGID(v.ID)
		if err != nil {
			return nil, fmt.Errorf("live variant: %w", err)
		}
		_, pid, _ := app.ParseGID(v.ProductID)
		price, err := app.ParseMoney(v.Price, currency)
		if err != nil {
			return nil, fmt.Errorf("live variant %d price: %w", id, err)
		}
		out[id] = LiveVariant{
			VariantID: id, ProductID: pid, Title: v.Title, VariantTitle: v.VariantTitle, SKU: v.SKU, ImageURL: v.ImageURL,
			PriceMinor: price, AvailableForSale: v.AvailableForSale, Tracked: v.Tracked,
			InventoryQuantity: int64(v.InventoryQuantity), InventoryPolicy: v.InventoryPolicy,
			RequiresShipping: v.RequiresShipping, ProductStatus: v.ProductStatus,
		}
	}
	return out, nil
}

// CalculateDraft prices the cart with Shopify's draftOrderCalculate.
func (p *ShopifyPricing) CalculateDraft(ctx context.Context, shop string, in DraftRequest) (*DraftResult, error) {
	q, err := shopify.CalculateDraftOrder(ctx, p.Shopify, shop, draftOrderInput(in))
	if err != nil {
		return nil, err
	}
	exp := app.CurrencyExponent(q.Currency)
	money := func(what, s string) (int64, error) {
		if s == "" {
			return 0, nil
		}
		n, err := shopify.MinorUnits(s, exp)
		if err != nil {
			return 0, fmt.Errorf("draft order %s: %w", what, err)
		}
		return n, nil
	}
	res := &DraftResult{Currency: q.Currency, RejectedCodes: q.RejectedDiscountCodes, Alerts: len(q.Alerts)}
	taxes, err := q.LineTaxes(exp)
	if err != nil {
		return nil, err
	}
	for i, l := range q.Lines {
		_, vid, _ := app.ParseGID(l.VariantID)
		unit, err := money("unit price", l.UnitPrice)
		if err != nil {
			return nil, err
		}
		lineDisc, err := money("line discount", l.LineDiscount)
		if err != nil {
			return nil, err
		}
		orderDisc, err := money("order discount", l.OrderDiscount)
		if err != nil {
			return nil, err
		}
		res.Lines = append(res.Lines, DraftLineResult{VariantID: vid, UnitAmount: unit, Discount: lineDisc + orderDisc, Tax: taxes[i]})
	}
	if err := draftDiscounts(res, q, money); err != nil {
		return nil, err
	}
	for _, r := range q.ShippingRates {
		price, err := money("shipping rate", r.Price)
		if err != nil {
			return nil, err
		}
		res.Rates = append(res.Rates, ShippingRate{Handle: r.Handle, Title: r.Title, Price: price})
	}
	res.TaxesIncluded = q.TaxesIncluded
	if s := q.Shipping; s != nil {
		if res.ShippingTax, err = money("shipping tax", s.Tax); err != nil {
			return nil, err
		}
		if res.ShippingPrice, err = money("shipping price", s.DiscountedPrice); err != nil {
			return nil, err
		}
		if res.ShippingOriginal, err = money("shipping price", s.Price); err != nil {
			return nil, err
		}
		res.ShippingHandle, res.ShippingCustom = s.Handle, s.Custom
		for _, t := range s.TaxLines {
			amount, err := money("shipping tax line", t.Amount)
			if err != nil {
				return nil, err
			}
			res.ShippingTaxLines = append(res.ShippingTaxLines, RateTax{RatePPM: int64(math.Round(t.RatePercentage * 10_000)), Amount: amount})
		}
	}
	if res.TotalDiscount, err = money("total discounts", q.TotalDiscounts); err != nil {
		return nil, err
	}
	if res.TotalTax, err = money("total tax", q.TotalTax); err != nil {
		return nil, err
	}
	if res.TotalPrice, err = money("total price", q.TotalPrice); err != nil {
		return nil, err
	}
	return res, nil
}

// splitName splits "Ada King Lovelace" into "Ada King" and "Lovelace", as
// Shopify's addresses have first and last names.
func splitName(full string) (first, last string) {
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] == ' ' {
			return full[:i], full[i+1:]
		}
	}
	return "", full
}

// draftOrderInput is the cart in Shopify's terms, for the calculation and
// for a handoff session's draft order alike (so the draft holds exactly
// what was priced).
func draftOrderInput(in DraftRequest) shopify.DraftOrderInput {
	// Automatic discounts apply as at the shop's own checkout: an agent's
	// buyer pays what a storefront buyer would (the discount extension
	// reports them as automatic).
	req := shopify.DraftOrderInput{Email: in.Email, DiscountCodes: in.DiscountCodes, ShippingRateHandle: in.ShippingRateHandle,
		AcceptAutomaticDiscounts: true}
	if p := in.Probe; p != nil && in.ShippingRateHandle == "" {
		req.CustomShipping = &shopify.CustomShipping{Title: probeTitle, Price: FormatMinor(p.Price, p.Currency), Currency: p.Currency}
	}
	for _, l := range in.Lines {
		req.Lines = append(req.Lines, shopify.DraftLine{VariantID: variantGID(l.VariantID), Quantity: l.Quantity})
	}
	if a := in.Address; a != nil {
		first, last := splitName(a.Name)
		req.ShippingAddress = &shopify.MailingAddress{
			FirstName: first, LastName: last, Company: a.Company, Address1: a.LineOne, Address2: a.LineTwo,
			City: a.City, Province: a.State, Country: a.Country, Zip: a.PostalCode, Phone: in.Phone,
		}
	}
	return req
}

// draftDiscounts takes Shopify's applied discounts, their allocations
// mapped to the request's lines by uuid, and its reasons for the codes it
// refused.
func draftDiscounts(res *DraftResult, q *shopify.DraftQuote, money func(what, s string) (int64, error)) error {
	lineOf := make(map[string]int, len(q.Lines))
	for i, l := range q.Lines {
		lineOf[l.UUID] = i
	}
	for _, d := range q.Discounts {
		amount, err := money("discount", d.Amount)
		if err != nil {
			return err
		}
		dd := DraftDiscount{ID: d.ID, Code: d.Code, Title: d.Title, Summary: d.Summary, Automatic: d.Automatic, Level: d.Level, Amount: amount}
		for _, a := range d.Allocations {
			n, err := money("discount allocation", a.Amount)
			if err != nil {
				return err
			}
			line, ok := lineOf[a.LineUUID]
			switch {
			case a.Shipping:
				line = ShippingAllocation
			case !ok:
				continue // a line we did not send: nothing to point at
			}
			dd.Allocations = append(dd.Allocations, DraftAllocation{Line: line, Amount: n})
		}
		res.Discounts = append(res.Discounts, dd)
	}
	seen := map[string]bool{}
	for _, w := range q.Warnings {
		if w.DiscountCode == "" || seen[strings.ToUpper(w.DiscountCode)] {
			continue
		}
		seen[strings.ToUpper(w.DiscountCode)] = true
		res.Rejections = append(res.Rejections, DraftRejection{Code: w.DiscountCode, ErrorCode: w.Code, Message: w.Message})
	}
	return nil
}
