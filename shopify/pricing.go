package shopify

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file prices a cart live for the ACP checkout: LookupVariants reads the
// variants as they are now, and CalculateDraftOrder has Shopify compute
// discounts, shipping rates and tax with draftOrderCalculate, which creates
// nothing.
//
// Money stays as Shopify sends it: decimal strings in the shop's currency
// ("19.99", or "20.0" for a Decimal), never floats. Convert them with
// MinorUnits (or the app's ParseMoney) given the currency's exponent.

// DraftOrderInput is a cart to price with CalculateDraftOrder.
type DraftOrderInput struct {
	Lines []DraftLine
	// Email is the buyer's; "" for none.
	Email string
	// ShippingAddress decides tax and the shipping rates; nil for none
	// (then Shopify offers no rates).
	ShippingAddress *MailingAddress
	// DiscountCodes are applied as Shopify's discount engine decides;
	// refused ones come back in DraftQuote.RejectedDiscountCodes.
	DiscountCodes []string
	// AcceptAutomaticDiscounts lets the shop's automatic discounts apply
	// too, as at its own checkout (they come back in DraftQuote.Discounts
	// with Automatic set).
	AcceptAutomaticDiscounts bool
	// ShippingRateHandle selects one of a previous quote's
	// ShippingRates; "" for none. A handle the cart no longer offers
	// leaves DraftQuote.Shipping nil.
	ShippingRateHandle string
	// CustomShipping, when ShippingRateHandle is "", is a shipping line
	// of its own title and price, which Shopify taxes as it would a rate
	// of that price (its tax lines come back in DraftQuote.Shipping).
	CustomShipping *CustomShipping
}

// CustomShipping is a shipping line that is not one of Shopify's rates.
type CustomShipping struct {
	Title string
	// Price is a decimal string in Currency, e.g. "100.00".
	Price, Currency string
}

// DraftLine is a variant and a quantity (at least 1).
type DraftLine struct {
	// VariantID is a ProductVariant GID.
	VariantID string
	Quantity  int
}

// MailingAddress is a buyer's address. Country is an ISO 3166-1 alpha-2
// code (Shopify's CountryCode enum: an unknown one fails the whole query),
// Province a province or state code such as "CA".
type MailingAddress struct {
	FirstName, LastName string
	Company             string
	Address1, Address2  string
	City                string
	Province            string
	Country             string
	Zip                 string
	Phone               string
}

// DraftQuote is Shopify's pricing of a cart. Amounts are decimal strings in
// Currency, as Shopify sends them.
type DraftQuote struct {
	Currency string
	// TaxesIncluded says whether prices include tax (then TotalTax is
	// part of them, not added).
	TaxesIncluded bool
	// Lines are the cart's lines in the order sent.
	Lines []QuoteLine
	// ShippingRates are the rates Shopify offers for the address; none
	// when no line needs shipping, there is no address, or the shop does
	// not ship there.
	ShippingRates []ShippingRate
	// Shipping is the selected shipping line, nil when none.
	Shipping *QuoteShipping
	// TotalLineItems is the lines before any discount.
	TotalLineItems string
	// LineItemsSubtotal is the lines after their own discounts, before
	// order discounts.
	LineItemsSubtotal string
	// Subtotal is the lines after every discount, before shipping and tax.
	Subtotal string
	// TotalDiscounts is every discount (lines, order and shipping).
	TotalDiscounts string
	TotalShipping  string
	// TotalTax is item and shipping tax together.
	TotalTax string
	// TotalPrice is what the buyer pays.
	TotalPrice string
	// TaxLines are the order's taxes by jurisdiction (items and shipping).
	TaxLines []TaxLine
	// Discounts are the discounts Shopify applied (codes and automatic).
	Discounts []AppliedDiscount
	// DiscountCodes are the codes applied; RejectedDiscountCodes those
	// Shopify refused, with its reasons in Warnings.
	DiscountCodes, RejectedDiscountCodes []string
	// Warnings are Shopify's calculation warnings.
	Warnings []Warning
	// Alerts are the titles of Shopify's alerts, e.g. about inventory.
	Alerts []string
}

// QuoteLine is one priced line. Shopify's calculation gives no per-line
// tax: DraftQuote.LineTaxes spreads it.
type QuoteLine struct {
	// UUID identifies the line across calculations.
	UUID      string
	VariantID string
	// Title is the product's, VariantTitle the variant's.
	Title, VariantTitle, SKU string
	Quantity                 int
	// UnitPrice is the price of one unit before discounts, OriginalTotal
	// UnitPrice × Quantity.
	UnitPrice, OriginalTotal string
	// LineDiscount is the line's own discount, DiscountedTotal
	// OriginalTotal minus it.
	LineDiscount, DiscountedTotal string
	// OrderDiscount is the line's share of order-level discounts (a
	// discount code), "0" when none.
	OrderDiscount    string
	RequiresShipping bool
	Taxable          bool
}

// ShippingRate is a shipping option Shopify offers. The 2026-10
// ShippingRate type has only a handle, a title and a price: no carrier or
// delivery estimate.
type ShippingRate struct {
	Handle, Title, Price string
}

// QuoteShipping is the selected shipping line.
type QuoteShipping struct {
	Handle, Title string
	// Code and Source are Shopify's (e.g. the rate's title, "shopify"),
	// Carrier the carrier identifier; each may be "".
	Code, Source, Carrier string
	// Custom is a shipping line with its own title and price, not a rate.
	Custom bool
	// Price is before discounts, DiscountedPrice after.
	Price, DiscountedPrice string
	// Tax is the sum of TaxLines.
	Tax      string
	TaxLines []TaxLine
}

// TaxLine is a tax by jurisdiction.
type TaxLine struct {
	Title string
	// RatePercentage is the rate in percent, e.g. 7.25; informational
	// only (amounts come from Shopify).
	RatePercentage float64
	Amount         string
	Source         string
}

// AppliedDiscount is a discount Shopify applied.
type AppliedDiscount struct {
	// ID is the discount's GID ("" when Shopify gives none, as for a
	// custom discount).
	ID string
	// Code is "" for an automatic discount.
	Code, Title string
	// Summary is Shopify's short summary of its terms, e.g. "10% off
	// entire order".
	Summary   string
	Automatic bool
	// Level is Shopify's presentationLevel: "line", "order" or "shipping".
	Level  string
	Amount string
	// Allocations are where the amount went, as Shopify split it.
	Allocations []DiscountAllocation
}

// DiscountAllocation is the part of a discount on one line or on the
// shipping line.
type DiscountAllocation struct {
	// LineUUID is the line's uuid; "" for the shipping line (Shipping).
	LineUUID string
	Shipping bool
	Amount   string
}

// Warning is one of Shopify's calculation warnings, e.g. a discount code
// that did not apply (Type DraftOrderDiscountNotAppliedWarning).
type Warning struct {
	Type, Code, Field, Message string
	// DiscountCode is the refused code, for a discount warning.
	DiscountCode string
}

// calculateDraftOrderMutation asks for everything DraftQuote carries.
const calculateDraftOrderMutation = `mutation CalculateDraftOrder($input: DraftOrderInput!) {
  draftOrderCalculate(input: $input) {
    calculatedDraftOrder {
      currencyCode taxesIncluded
      lineItems {
        uuid quantity custom requiresShipping taxable sku title variantTitle
        variant { id }
        originalUnitPriceSet { ...M } originalTotalSet { ...M }
        discountedTotalSet { ...M } totalDiscountSet { ...M }
      }
      availableShippingRates { handle title price { amount currencyCode } }
      shippingLine {
        title code source carrierIdentifier shippingRateHandle custom
        originalPriceSet { ...M } discountedPriceSet { ...M }
        taxLines { title ratePercentage source priceSet { ...M } }
      }
      taxLines { title ratePercentage source priceSet { ...M } }
      discountCodes
      platformDiscounts {
        id code title shortSummary automaticDiscount presentationLevel totalAmountPriceSet { ...M }
        allocations {
          reductionAmountSet { ...M }
          target { __typename ... on CalculatedDraftOrderLineItem { uuid } }
        }
      }
      warnings {
        __typename errorCode field message
        ... on DraftOrderDiscountNotAppliedWarning { discountCode }
      }
      alerts { title }
      totalLineItemsPriceSet { ...M } lineItemsSubtotalPrice { ...M } subtotalPriceSet { ...M }
      totalDiscountsSet { ...M } totalShippingPriceSet { ...M } totalTaxSet { ...M } totalPriceSet { ...M }
    }
    userErrors { field message }
  }
}
fragment M on MoneyBag { shopMoney { amount currencyCode } }`

// moneyBag decodes a MoneyBag's shop amount.
type moneyBag struct {
	ShopMoney struct {
		Amount       string `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	} `json:"shopMoney"`
}

type taxLineJSON struct {
	Title          string   `json:"title"`
	RatePercentage *float64 `json:"ratePercentage"`
	Source         *string  `json:"source"`
	PriceSet       moneyBag `json:"priceSet"`
}

type calculatedDraftOrder struct {
	CurrencyCode  string `json:"currencyCode"`
	TaxesIncluded bool   `json:"taxesIncluded"`
	LineItems     []struct {
		UUID             string  `json:"uuid"`
		Quantity         int     `json:"quantity"`
		Custom           bool    `json:"custom"`
		RequiresShipping bool    `json:"requiresShipping"`
		Taxable          bool    `json:"taxable"`
		SKU              *string `json:"sku"`
		Title            string  `json:"title"`
		VariantTitle     *string `json:"variantTitle"`
		Variant          *struct {
			ID string `json:"id"`
		} `json:"variant"`
		OriginalUnitPriceSet moneyBag `json:"originalUnitPriceSet"`
		OriginalTotalSet     moneyBag `json:"originalTotalSet"`
		DiscountedTotalSet   moneyBag `json:"discountedTotalSet"`
		TotalDiscountSet     moneyBag `json:"totalDiscountSet"`
	} `json:"lineItems"`
	AvailableShippingRates []struct {
		Handle string `json:"handle"`
		Title  string `json:"title"`
		Price  struct {
			Amount string `json:"amount"`
		} `json:"price"`
	} `json:"availableShippingRates"`
	ShippingLine *struct {
		Title              string        `json:"title"`
		Code               *string       `json:"code"`
		Source             *string       `json:"source"`
		CarrierIdentifier  *string       `json:"carrierIdentifier"`
		ShippingRateHandle *string       `json:"shippingRateHandle"`
		Custom             bool          `json:"custom"`
		OriginalPriceSet   moneyBag      `json:"originalPriceSet"`
		DiscountedPriceSet moneyBag      `json:"discountedPriceSet"`
		TaxLines           []taxLineJSON `json:"taxLines"`
	} `json:"shippingLine"`
	TaxLines          []taxLineJSON `json:"taxLines"`
	DiscountCodes     []string      `json:"discountCodes"`
	PlatformDiscounts []struct {
		ID                  *string  `json:"id"`
		ShortSummary        string   `json:"shortSummary"`
		Code                *string  `json:"code"`
		Title               string   `json:"title"`
		AutomaticDiscount   bool     `json:"automaticDiscount"`
		PresentationLevel   string   `json:"presentationLevel"`
		TotalAmountPriceSet moneyBag `json:"totalAmountPriceSet"`
		Allocations         []struct {
			ReductionAmountSet moneyBag `json:"reductionAmountSet"`
			Target             *struct {
				Typename string `json:"__typename"`
				UUID     string `json:"uuid"`
			} `json:"target"`
		} `json:"allocations"`
	} `json:"platformDiscounts"`
	Warnings []struct {
		Typename     string  `json:"__typename"`
		ErrorCode    string  `json:"errorCode"`
		Field        string  `json:"field"`
		Message      string  `json:"message"`
		DiscountCode *string `json:"discountCode"`
	} `json:"warnings"`
	Alerts []struct {
		Title string `json:"title"`
	} `json:"alerts"`
	TotalLineItemsPriceSet moneyBag `json:"totalLineItemsPriceSet"`
	LineItemsSubtotalPrice moneyBag `json:"lineItemsSubtotalPrice"`
	SubtotalPriceSet       moneyBag `json:"subtotalPriceSet"`
	TotalDiscountsSet      moneyBag `json:"totalDiscountsSet"`
	TotalShippingPriceSet  moneyBag `json:"totalShippingPriceSet"`
	TotalTaxSet            moneyBag `json:"totalTaxSet"`
	TotalPriceSet          moneyBag `json:"totalPriceSet"`
}

// lineUUID is a stable UUID-shaped id for the i-th line of a variant, so
// lines can be matched in Shopify's answer (and stay the same across
// calculations of the same cart).
func lineUUID(i int, variantID string) string {
	h := sha256.Sum256([]byte(strconv.Itoa(i) + "\x00" + variantID))
	h[6] = h[6]&0x0f | 0x40 // version 4 layout, variant 10
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// CalculateDraftOrder asks Shopify to price a cart with draftOrderCalculate:
// discounts, shipping rates (and the selected one) and tax. Nothing is
// created. Input Shopify refuses comes back as a *UserErrorsError; a
// refused discount code is not an error but is listed in
// RejectedDiscountCodes.
func CalculateDraftOrder(ctx context.Context, q Querier, shop string, in DraftOrderInput) (*DraftQuote, error) {
	if len(in.Lines) == 0 {
		return nil, errors.New("calculate draft order: no lines")
	}
	input := draftOrderInput(in)
	if in.ShippingRateHandle != "" {
		input["shippingLine"] = map[string]any{"shippingRateHandle": in.ShippingRateHandle}
	} else if c := in.CustomShipping; c != nil {
		input["shippingLine"] = map[string]any{"title": c.Title,
			"priceWithCurrency": map[string]any{"amount": c.Price, "currencyCode": c.Currency}}
	}
	var resp struct {
		DraftOrderCalculate *struct {
			CalculatedDraftOrder *calculatedDraftOrder `json:"calculatedDraftOrder"`
			UserErrors           []UserError           `json:"userErrors"`
		} `json:"draftOrderCalculate"`
	}
	if err := q.Query(ctx, shop, calculateDraftOrderMutation, map[string]any{"input": input}, &resp); err != nil {
		return nil, fmt.Errorf("calculate draft order: %w", err)
	}
	p := resp.DraftOrderCalculate
	if p == nil {
		return nil, errors.New("calculate draft order: no payload")
	}
	if err := UserErrorsErr("draftOrderCalculate", p.UserErrors); err != nil {
		return nil, err
	}
	if p.CalculatedDraftOrder == nil {
		return nil, errors.New("calculate draft order: no calculated draft order")
	}
	return p.CalculatedDraftOrder.quote()
}

// draftOrderInput is the DraftOrderInput of a cart's lines, email, address
// and discount codes (not its shipping line).
func draftOrderInput(in DraftOrderInput) map[string]any {
	lines := make([]any, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = map[string]any{"variantId": l.VariantID, "quantity": l.Quantity, "uuid": lineUUID(i, l.VariantID)}
	}
	input := map[string]any{"lineItems": lines}
	if in.Email != "" {
		input["email"] = in.Email
	}
	if a := in.ShippingAddress; a != nil {
		addr := map[string]any{}
		for k, v := range map[string]string{
			"firstName": a.FirstName, "lastName": a.LastName, "company": a.Company,
			"address1": a.Address1, "address2": a.Address2, "city": a.City,
			"provinceCode": strings.ToUpper(a.Province), "countryCode": strings.ToUpper(a.Country),
			"zip": a.Zip, "phone": a.Phone,
		} {
			if v != "" {
				addr[k] = v
			}
		}
		input["shippingAddress"] = addr
	}
	if len(in.DiscountCodes) > 0 {
		input["discountCodes"] = in.DiscountCodes
	}
	if in.AcceptAutomaticDiscounts {
		input["acceptAutomaticDiscounts"] = true
	}
	return input
}

// quote converts the decoded answer.
func (c *calculatedDraftOrder) quote() (*DraftQuote, error) {
	q := &DraftQuote{
		Currency:          c.CurrencyCode,
		TaxesIncluded:     c.TaxesIncluded,
		TotalLineItems:    c.TotalLineItemsPriceSet.ShopMoney.Amount,
		LineItemsSubtotal: c.LineItemsSubtotalPrice.ShopMoney.Amount,
		Subtotal:          c.SubtotalPriceSet.ShopMoney.Amount,
		TotalDiscounts:    c.TotalDiscountsSet.ShopMoney.Amount,
		TotalShipping:     c.TotalShippingPriceSet.ShopMoney.Amount,
		TotalTax:          c.TotalTaxSet.ShopMoney.Amount,
		TotalPrice:        c.TotalPriceSet.ShopMoney.Amount,
		TaxLines:          taxLines(c.TaxLines),
	}
	// Order-level discounts reach the lines through their allocations.
	orderShare := map[string][]string{}
	for _, d := range c.PlatformDiscounts {
		ad := AppliedDiscount{
			ID: deref(d.ID), Code: deref(d.Code), Title: d.Title, Summary: d.ShortSummary, Automatic: d.AutomaticDiscount,
			Level: d.PresentationLevel, Amount: d.TotalAmountPriceSet.ShopMoney.Amount,
		}
		for _, a := range d.Allocations {
			if a.Target == nil {
				continue
			}
			switch a.Target.Typename {
			case "CalculatedDraftOrderLineItem", "DraftOrderLineItem":
				ad.Allocations = append(ad.Allocations, DiscountAllocation{LineUUID: a.Target.UUID, Amount: a.ReductionAmountSet.ShopMoney.Amount})
				if d.PresentationLevel != "line" { // a line-level one is in the line's own discount already
					orderShare[a.Target.UUID] = append(orderShare[a.Target.UUID], a.ReductionAmountSet.ShopMoney.Amount)
				}
			case "ShippingLine":
				ad.Allocations = append(ad.Allocations, DiscountAllocation{Shipping: true, Amount: a.ReductionAmountSet.ShopMoney.Amount})
			}
		}
		q.Discounts = append(q.Discounts, ad)
	}
	for _, l := range c.LineItems {
		ql := QuoteLine{
			UUID: l.UUID, Title: l.Title, VariantTitle: deref(l.VariantTitle), SKU: deref(l.SKU),
			Quantity: l.Quantity, RequiresShipping: l.RequiresShipping, Taxable: l.Taxable,
			UnitPrice: l.OriginalUnitPriceSet.ShopMoney.Amount, OriginalTotal: l.OriginalTotalSet.ShopMoney.Amount,
			LineDiscount: l.TotalDiscountSet.ShopMoney.Amount, DiscountedTotal: l.DiscountedTotalSet.ShopMoney.Amount,
		}
		if l.Variant != nil {
			ql.VariantID = l.Variant.ID
		}
		share, err := sumDecimals(orderShare[l.UUID])
		if err != nil {
			return nil, fmt.Errorf("calculate draft order: discount allocation: %w", err)
		}
		ql.OrderDiscount = share
		q.Lines = append(q.Lines, ql)
	}
	for _, r := range c.AvailableShippingRates {
		q.ShippingRates = append(q.ShippingRates, ShippingRate{Handle: r.Handle, Title: r.Title, Price: r.Price.Amount})
	}
	if s := c.ShippingLine; s != nil {
		qs := &QuoteShipping{
			Handle: deref(s.ShippingRateHandle), Title: s.Title, Code: deref(s.Code), Source: deref(s.Source),
			Carrier: deref(s.CarrierIdentifier), Custom: s.Custom,
			Price: s.OriginalPriceSet.ShopMoney.Amount, DiscountedPrice: s.DiscountedPriceSet.ShopMoney.Amount,
			TaxLines: taxLines(s.TaxLines),
		}
		amounts := make([]string, len(qs.TaxLines))
		for i, t := range qs.TaxLines {
			amounts[i] = t.Amount
		}
		tax, err := sumDecimals(amounts)
		if err != nil {
			return nil, fmt.Errorf("calculate draft order: shipping tax: %w", err)
		}
		qs.Tax = tax
		q.Shipping = qs
	}
	rejected := map[string]bool{}
	for _, w := range c.Warnings {
		qw := Warning{Type: w.Typename, Code: w.ErrorCode, Field: w.Field, Message: w.Message, DiscountCode: deref(w.DiscountCode)}
		q.Warnings = append(q.Warnings, qw)
		if qw.DiscountCode != "" && !rejected[strings.ToUpper(qw.DiscountCode)] {
			rejected[strings.ToUpper(qw.DiscountCode)] = true
			q.RejectedDiscountCodes = append(q.RejectedDiscountCodes, qw.DiscountCode)
		}
	}
	applied := map[string]bool{}
	addCode := func(code string) {
		if code != "" && !rejected[strings.ToUpper(code)] && !applied[strings.ToUpper(code)] {
			applied[strings.ToUpper(code)] = true
			q.DiscountCodes = append(q.DiscountCodes, code)
		}
	}
	for _, code := range c.DiscountCodes {
		addCode(code)
	}
	for _, d := range q.Discounts {
		addCode(d.Code)
	}
	for _, a := range c.Alerts {
		q.Alerts = append(q.Alerts, a.Title)
	}
	return q, nil
}

func taxLines(in []taxLineJSON) []TaxLine {
	var out []TaxLine
	for _, t := range in {
		tl := TaxLine{Title: t.Title, Amount: t.PriceSet.ShopMoney.Amount, Source: deref(t.Source)}
		if t.RatePercentage != nil {
			tl.RatePercentage = *t.RatePercentage
		}
		out = append(out, tl)
	}
	return out
}
