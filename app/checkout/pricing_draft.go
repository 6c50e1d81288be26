package checkout

import (
	"context"
	"time"

	"github.com/acpbridge/acpbridge/acp"
)

// What pricing asks of Shopify and what it gets back: the live variants
// of the check at the committing step, and the draft-order calculation
// (request, result, rates and their tax lines). ShopifyPricing
// (pricing_shopify.go) speaks it to Shopify; CachedPricing
// (pricing_cache.go) keeps calculations per cart state.

// LiveVariant is a variant as Shopify has it at this moment.
type LiveVariant struct {
	VariantID        int64
	ProductID        int64
	Title            string // the product's
	VariantTitle     string
	SKU              string
	ImageURL         string
	PriceMinor       int64
	AvailableForSale bool
	Tracked          bool
	// InventoryQuantity is the available stock when Tracked.
	InventoryQuantity int64
	InventoryPolicy   string // DENY or CONTINUE
	RequiresShipping  bool
	ProductStatus     string // ACTIVE, DRAFT, ARCHIVED
}

// DraftRequest asks Shopify to price a cart as a draft order would.
type DraftRequest struct {
	Lines         []DraftLine
	Email         string
	Address       *acp.Address
	Phone         string
	DiscountCodes []string
	// ShippingRateHandle is the chosen rate ("" for none yet).
	ShippingRateHandle string
	// Probe, when set and no rate is chosen, is a custom shipping line
	// Shopify taxes, so that every rate's tax follows from its tax lines
	// (optionTaxes). Calculations only; never on a draft order.
	Probe *ShippingProbe `json:",omitempty"`
}

// ShippingProbe is a custom shipping line of Price (minor units of
// Currency) sent to learn how Shopify taxes shipping to an address.
type ShippingProbe struct {
	Price    int64
	Currency string
}

// DraftLine is a variant and a quantity.
type DraftLine struct {
	VariantID int64
	Quantity  int
	// UnitPrice is the price the line was quoted at (catalog or live). It
	// is not sent to Shopify, which prices the variant itself, but it is
	// part of a cached calculation's key (CachedPricing), so a changed
	// price is calculated afresh.
	UnitPrice int64 `json:",omitempty"`
}

// DraftResult is Shopify's calculation, in minor units of Currency.
type DraftResult struct {
	Currency string
	Lines    []DraftLineResult // in request order
	Rates    []ShippingRate
	// ShippingHandle is the rate Shopify applied ("" for none), at
	// ShippingPrice (after shipping discounts) plus ShippingTax.
	ShippingHandle string
	ShippingPrice  int64
	ShippingTax    int64
	// ShippingCustom: the shipping line is a custom one (a probe), at
	// ShippingOriginal before discounts, taxed by ShippingTaxLines.
	ShippingCustom   bool
	ShippingOriginal int64
	ShippingTaxLines []RateTax
	// TaxesIncluded: prices include tax.
	TaxesIncluded bool
	TotalDiscount int64
	TotalTax      int64
	TotalPrice    int64
	// RejectedCodes are discount codes Shopify did not apply, and
	// Rejections why (one per code, in the order Shopify gave them).
	RejectedCodes []string
	Rejections    []DraftRejection
	// Discounts are the discounts Shopify applied (codes and automatic),
	// each with its allocations to the lines and the shipping.
	Discounts []DraftDiscount
	// Alerts counts Shopify's alerts on the calculation (e.g. not enough
	// inventory for a line).
	Alerts int
	// Cached: the result is an earlier calculation's (CachedPricing), not
	// Shopify's answer now.
	Cached bool
}

// DraftDiscount is a discount Shopify applied to the calculation.
type DraftDiscount struct {
	// ID is Shopify's id of the discount ("" when it gave none).
	ID string `json:"id,omitempty"`
	// Code is "" for an automatic discount.
	Code      string `json:"code,omitempty"`
	Title     string `json:"title"`
	Summary   string `json:"summary,omitempty"`
	Automatic bool   `json:"automatic,omitempty"`
	// Level is Shopify's presentation level: line, order or shipping.
	Level  string `json:"level,omitempty"`
	Amount int64  `json:"amount"`
	// Allocations are the amounts per line (Line is the request line's
	// index) and on the shipping (Line -1), as Shopify split them.
	Allocations []DraftAllocation `json:"allocations,omitempty"`
}

// DraftAllocation is the part of a discount on one line (Line ≥ 0) or on
// the shipping (Line = ShippingAllocation).
type DraftAllocation struct {
	Line   int   `json:"line"`
	Amount int64 `json:"amount"`
}

// ShippingAllocation is DraftAllocation.Line of a shipping discount.
const ShippingAllocation = -1

// DraftRejection is a discount code Shopify did not apply: its warning's
// errorCode (an undocumented string, e.g. "DISCOUNT_EXPIRED") and message.
type DraftRejection struct {
	Code      string `json:"code"`
	ErrorCode string `json:"error_code,omitempty"`
	Message   string `json:"message,omitempty"`
}

// RateTax is one tax line of a shipping line: its rate in parts per
// million (0 when Shopify gave none) and its amount.
type RateTax struct {
	RatePPM int64
	Amount  int64
}

// DraftLineResult is one priced line of a draft order.
type DraftLineResult struct {
	VariantID  int64
	UnitAmount int64
	Discount   int64
	Tax        int64
}

// ShippingRate is a rate Shopify offers for the address.
type ShippingRate struct {
	Handle   string     `json:"handle"`
	Title    string     `json:"title"`
	Carrier  string     `json:"carrier,omitempty"`
	Price    int64      `json:"price"`
	Earliest *time.Time `json:"earliest,omitempty"`
	Latest   *time.Time `json:"latest,omitempty"`
}

// ShopPricing is Shopify's side of pricing, per shop.
type ShopPricing interface {
	// LiveVariants reads the variants' price (in currency, the shop's)
	// and stock now.
	LiveVariants(ctx context.Context, shop, currency string, ids []int64) (map[int64]LiveVariant, error)
	CalculateDraft(ctx context.Context, shop string, in DraftRequest) (*DraftResult, error)
}

// draftRequest is what Shopify's draft-order calculation needs of the
// session: its lines, address, buyer and discount codes.
func draftRequest(st *State, addr *acp.Address, lines []QuotedLine) DraftRequest {
	req := DraftRequest{DiscountCodes: st.DiscountCodes, Address: addr}
	req.Email = st.ContactEmail()
	if st.Buyer != nil {
		req.Phone = st.Buyer.PhoneNumber
	}
	for _, l := range lines {
		req.Lines = append(req.Lines, DraftLine{VariantID: l.VariantID, Quantity: l.Quantity, UnitPrice: l.UnitAmount})
	}
	return req
}

// calculationRequest is what a quote asks Shopify to calculate: the cart
// with only the address's region (country, province, city, postal code:
// what tax and shipping rates depend on) and the buyer only when discount
// codes may depend on who buys. So one calculation (cached by
// CachedPricing) serves every session with the same lines, region and
// codes, and the buyer's street, name and phone never reach a
// calculation (the order and the draft order get them).
func calculationRequest(req DraftRequest) DraftRequest {
	out := DraftRequest{Lines: req.Lines, DiscountCodes: req.DiscountCodes, ShippingRateHandle: req.ShippingRateHandle}
	if len(req.DiscountCodes) > 0 {
		out.Email = req.Email
	}
	if a := req.Address; a != nil {
		out.Address = &acp.Address{Country: a.Country, State: a.State, City: a.City, PostalCode: a.PostalCode}
	}
	return out
}

// wholeRequest is calc with the session's whole address and no probe:
// how a quote asks when the region alone brought no shipping rates.
func wholeRequest(req, calc DraftRequest) DraftRequest {
	out := calc
	out.Address, out.Probe = req.Address, nil
	return out
}
