package emulator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// registerDraftOrderResolvers adds draftOrderCalculate, which prices a cart
// without creating anything: the app's tax and shipping quotes.
func registerDraftOrderResolvers(r *registry) {
	r.addMutation("draftOrderCalculate", "write_draft_orders", resolveDraftOrderCalculate)
}

// shopCurrency is every emulated shop's currency.
const shopCurrency = "USD"

// calcLine is one line of a draft order being calculated, in cents.
type calcLine struct {
	uuid             string
	p                *Product // nil for a custom line
	v                *Variant
	title            string
	variantTitle     string
	sku              string
	qty              int64
	unit             int64
	original         int64          // unit × qty
	lineDiscount     int64          // the line's own appliedDiscount
	applied          map[string]any // DraftOrderAppliedDiscount, or nil
	orderDiscount    int64          // its share of order-level discounts
	requiresShipping bool
	taxable          bool
	tax              int64
}

// discounted is the line after its own discount, before order discounts.
func (l *calcLine) discounted() int64 { return l.original - l.lineDiscount }

// calcDiscount is an order-level discount with its allocation to lines.
type calcDiscount struct {
	code   *DiscountCode  // nil for the input's custom appliedDiscount
	custom map[string]any // DraftOrderAppliedDiscount of a custom one
	amount int64
	shares []int64 // per line
	// level is Shopify's presentationLevel: line (a product discount, in
	// the lines' own discount), order (allocated to the lines) or shipping
	// (off the shipping line).
	level string
}

// resolveDraftOrderCalculate is draftOrderCalculate(input): it prices line
// items (variant prices or custom prices), applies discount codes and a
// custom order discount, offers the shipping rates of the address's zone,
// and computes tax for the address. See pricing.go for the rules and
// rounding. Input it cannot accept comes back as userErrors.
func resolveDraftOrderCalculate(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	in, _ := args["input"].(map[string]any)
	c := &draftCalc{x: x, in: in, pr: x.shop.pricing}
	refused := func() (any, error) {
		return map[string]any{"calculatedDraftOrder": nil, "userErrors": c.userErrors}, nil
	}
	c.readLines()
	email := strings.TrimSpace(stringArg(in, "email"))
	if email != "" && (!strings.Contains(email, "@") || strings.ContainsAny(email, " ,;")) {
		c.fail("Email is invalid", "email")
	}
	if len(c.userErrors) > 0 {
		return refused()
	}
	c.sumLines()
	if !c.applyOrderDiscounts() {
		return refused()
	}
	if !c.chooseShipping() {
		return refused()
	}
	c.computeTax()
	return map[string]any{"calculatedDraftOrder": c.node(), "userErrors": []any{}}, nil
}

// draftCalc is one draftOrderCalculate, its steps filling the fields in
// turn. Amounts are in cents.
type draftCalc struct {
	x          *execution
	in         map[string]any // the DraftOrderInput
	pr         *pricing
	userErrors []any

	lines []*calcLine
	// The lines' sums: after their own discounts (itemsSubtotal), before
	// (totalLines), those discounts, and the quantity.
	itemsSubtotal, totalLines, lineDiscounts, qtyTotal int64

	discounts      []*calcDiscount // order-level, allocated to lines
	warnings       []any           // DraftOrderWarning of the codes not applied
	appliedCodes   []any           // the codes applied
	orderDiscounts int64
	subtotal       int64 // itemsSubtotal less the order discounts
	// shipDiscount is the free-shipping discount to take off the
	// shipping line, shippingDiscount what it took.
	shipDiscount     *DiscountCode
	shippingDiscount int64

	country, province string
	offered           []ShippingRate // the address zone's rates
	ship              *ShippingRate  // the one chosen, or nil
	custom            bool           // ship is the input's custom line
	shipping          int64          // ship's price

	rate                       TaxRate
	itemTax, shipTax, totalTax int64
}

// fail adds a userError at field's path.
func (c *draftCalc) fail(msg string, field ...string) {
	path := make([]any, len(field))
	for i, f := range field {
		path[i] = f
	}
	c.userErrors = append(c.userErrors, map[string]any{"field": path, "message": msg})
}

// readLines reads the input's lines; those in error are left out.
func (c *draftCalc) readLines() {
	items, _ := c.in["lineItems"].([]any)
	c.lines = make([]*calcLine, 0, len(items))
	for i, raw := range items {
		item, _ := raw.(map[string]any)
		if l := c.readLine(item, i); l != nil {
			c.lines = append(c.lines, l)
		}
	}
}

// readLine reads the line at index i: a variant of the shop, maybe at an
// overridden price, or a custom line; then its own applied discount.
func (c *draftCalc) readLine(item map[string]any, i int) *calcLine {
	idx := strconv.Itoa(i)
	l := &calcLine{uuid: stringArg(item, "uuid")}
	if l.uuid == "" {
		l.uuid = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	qty, _ := intArg(item, "quantity")
	if qty < 1 {
		c.fail("Quantity must be greater than or equal to 1", "lineItems", idx, "quantity")
		return nil
	}
	l.qty = int64(qty)
	if vid := stringArg(item, "variantId"); vid != "" {
		id, ok := parseGID(vid, "ProductVariant")
		var p *Product
		var v *Variant
		if ok {
			p, v = c.x.shop.variant(id)
		}
		if v == nil {
			c.fail("Product with ID "+strings.TrimPrefix(vid, "gid://shopify/ProductVariant/")+" is no longer available.", "lineItems", idx, "variantId")
			return nil
		}
		l.p, l.v = p, v
		l.title, l.variantTitle, l.sku = p.Title, v.Title, v.SKU
		l.unit, l.requiresShipping, l.taxable = v.PriceCents, v.RequiresShipping, v.Taxable
		if over, ok := item["priceOverride"].(map[string]any); ok {
			cents, err := moneyInput(over)
			if err != nil {
				c.fail(err.Error(), "lineItems", idx, "priceOverride")
				return nil
			}
			l.unit = cents
		}
	} else {
		l.title, l.sku = strings.TrimSpace(stringArg(item, "title")), stringArg(item, "sku")
		if l.title == "" {
			c.fail("Title can't be blank", "lineItems", idx, "title")
			return nil
		}
		price, err := customPrice(item)
		if err != nil {
			c.fail(err.Error(), "lineItems", idx, "originalUnitPriceWithCurrency")
			return nil
		}
		l.unit = price
		l.requiresShipping, l.taxable = optBool(item, "requiresShipping", true), optBool(item, "taxable", true)
	}
	l.original = l.unit * l.qty
	if ad, ok := item["appliedDiscount"].(map[string]any); ok {
		amount, node, err := appliedDiscount(ad, l.original, l.qty)
		if err != nil {
			c.fail(err.Error(), "lineItems", idx, "appliedDiscount")
			return nil
		}
		l.lineDiscount, l.applied = amount, node
	}
	return l
}

// sumLines sums up the lines.
func (c *draftCalc) sumLines() {
	for _, l := range c.lines {
		c.itemsSubtotal += l.discounted()
		c.totalLines += l.original
		c.lineDiscounts += l.lineDiscount
		c.qtyTotal += l.qty
	}
}

// applyOrderDiscounts applies the discounts Shopify would: the input's
// custom order discount, then the discount codes in the order given and,
// when the input accepts them (acceptAutomaticDiscounts), the shop's
// automatic discounts. A code that is unknown, not active, expired, short
// of its minimum or not combinable with a discount already applied gets a
// warning instead (an automatic one is just not applied). Product
// discounts (EachItem) come off each line first, then order discounts are
// allocated to the lines in proportion to what is left of them; free
// shipping waits for the shipping line (applyShippingDiscount). It is
// false when the custom discount is refused.
func (c *draftCalc) applyOrderDiscounts() bool {
	remaining := c.itemsSubtotal
	if ad, ok := c.in["appliedDiscount"].(map[string]any); ok {
		amount, node, err := appliedDiscount(ad, c.itemsSubtotal, 1)
		if err != nil {
			c.fail(err.Error(), "appliedDiscount")
			return false
		}
		amount = min(amount, remaining)
		remaining -= amount
		c.discounts = append(c.discounts, &calcDiscount{custom: node, amount: amount, level: "order"})
	}
	now := c.x.e.now()
	var chosen []*DiscountCode
	for _, raw := range stringsArg(c.in, "discountCodes") {
		code := strings.TrimSpace(raw)
		if code == "" {
			continue
		}
		d := c.pr.discount(code)
		if d != nil && d.Automatic {
			d = nil // an automatic discount has no code to enter
		}
		if w := c.codeNotApplied(code, d, now, chosen); w != nil {
			c.warnings = append(c.warnings, w)
			continue
		}
		chosen = append(chosen, d)
		c.appliedCodes = append(c.appliedCodes, d.Code)
	}
	if accept, _ := c.in["acceptAutomaticDiscounts"].(bool); accept {
		for i := range c.pr.discounts {
			if d := &c.pr.discounts[i]; d.Automatic && c.codeNotApplied(d.Title, d, now, chosen) == nil {
				chosen = append(chosen, d)
			}
		}
	}
	// Product discounts, on each line's own amount.
	for _, d := range chosen {
		if !d.EachItem {
			continue
		}
		cd := &calcDiscount{code: d, level: "line", shares: make([]int64, len(c.lines))}
		for i, l := range c.lines {
			off := min(d.AmountCents*l.qty, l.discounted())
			if d.PercentBP > 0 {
				off = roundDiv(l.discounted()*d.PercentBP, 10_000)
			}
			l.lineDiscount += off
			cd.shares[i] = off
			cd.amount += off
		}
		c.itemsSubtotal -= cd.amount
		c.lineDiscounts += cd.amount
		remaining -= cd.amount
		c.discounts = append(c.discounts, cd)
	}
	// Order discounts, split over the lines.
	for _, d := range chosen {
		if d.EachItem || d.FreeShipping {
			continue
		}
		amount := d.AmountCents
		if d.PercentBP > 0 {
			amount = roundDiv(c.itemsSubtotal*d.PercentBP, 10_000)
		}
		amount = min(amount, remaining)
		remaining -= amount
		c.discounts = append(c.discounts, &calcDiscount{code: d, amount: amount, level: "order"})
	}
	for _, d := range chosen {
		if d.FreeShipping {
			c.shipDiscount = d
		}
	}
	weights := make([]int64, len(c.lines))
	for i, l := range c.lines {
		weights[i] = l.discounted()
	}
	for _, d := range c.discounts {
		if d.level != "order" {
			continue
		}
		d.shares = allocate(d.amount, weights)
		for i, share := range d.shares {
			c.lines[i].orderDiscount += share
			weights[i] -= share
		}
		c.orderDiscounts += d.amount
	}
	c.subtotal = c.itemsSubtotal - c.orderDiscounts
	return true
}

// applyShippingDiscount takes a free-shipping discount off the shipping
// line, when there is one to take it off.
func (c *draftCalc) applyShippingDiscount() {
	d := c.shipDiscount
	if d == nil || c.ship == nil || c.shipping == 0 {
		return
	}
	c.discounts = append(c.discounts, &calcDiscount{code: d, amount: c.shipping, level: "shipping"})
	c.shippingDiscount, c.shipping = c.shipping, 0
}

// codeNotApplied is the DraftOrderDiscountNotAppliedWarning of a discount
// code (d, nil when unknown) that does not apply now, or nil when it does.
// With chosen already applied, it must combine with each of them.
func (c *draftCalc) codeNotApplied(code string, d *DiscountCode, now time.Time, chosen []*DiscountCode) map[string]any {
	reason, msg := "", ""
	combines := func() bool {
		for _, o := range chosen {
			if o == d || !o.Combines || !d.Combines {
				return false
			}
		}
		return true
	}
	switch {
	case d == nil:
		reason, msg = "DISCOUNT_NOT_FOUND", "Discount code "+code+" couldn't be found."
	case !d.StartsAt.IsZero() && now.Before(d.StartsAt):
		reason, msg = "DISCOUNT_NOT_ACTIVE", "Discount code "+code+" isn't active yet."
	case !d.EndsAt.IsZero() && !now.Before(d.EndsAt):
		reason, msg = "DISCOUNT_EXPIRED", "Discount code "+code+" has expired."
	case d.MinSubtotalCents > 0 && c.itemsSubtotal < d.MinSubtotalCents:
		reason, msg = "MINIMUM_SUBTOTAL_NOT_MET", fmt.Sprintf("Discount code %s requires a minimum subtotal of %s.", code, formatMoney(d.MinSubtotalCents))
	case !combines():
		reason, msg = "DISCOUNT_NOT_COMBINABLE", "Discount code "+code+" can't be combined with the discount already applied."
	}
	if reason == "" {
		return nil
	}
	w := map[string]any{
		"__typename":   "DraftOrderDiscountNotAppliedWarning",
		"discountCode": code, "discountTitle": nil,
		"errorCode": reason, "field": "discountCodes", "message": msg,
	}
	if d != nil {
		w["discountTitle"] = d.Title
	}
	return w
}

// chooseShipping offers the address zone's rates when a line needs
// shipping (free above their threshold); the input's shippingLine picks
// one by handle, or is custom. It is false when the custom line's price is
// refused.
func (c *draftCalc) chooseShipping() bool {
	addr, _ := c.in["shippingAddress"].(map[string]any)
	c.country, c.province = addressRegion(addr)
	needsShipping := false
	for _, l := range c.lines {
		needsShipping = needsShipping || l.requiresShipping
	}
	c.offered = []ShippingRate{}
	if z := c.pr.zone(c.country); needsShipping && z != nil {
		for _, r := range z.Rates {
			if r.FreeAboveCents > 0 && c.subtotal >= r.FreeAboveCents {
				r.PriceCents = 0
			}
			c.offered = append(c.offered, r)
		}
	}
	if sl, ok := c.in["shippingLine"].(map[string]any); ok {
		if h := stringArg(sl, "shippingRateHandle"); h != "" {
			for i := range c.offered {
				if c.offered[i].Handle == h {
					c.ship = &c.offered[i]
				}
			}
		} else if title := strings.TrimSpace(stringArg(sl, "title")); title != "" {
			price, err := customShippingPrice(sl)
			if err != nil {
				c.fail(err.Error(), "shippingLine", "priceWithCurrency")
				return false
			}
			c.ship, c.custom = &ShippingRate{Title: title, PriceCents: price}, true
		}
	}
	if c.ship != nil {
		c.shipping = c.ship.PriceCents
	}
	c.applyShippingDiscount()
	return true
}

// computeTax taxes each taxable line, and the shipping where the rate
// covers it, on the discounted amounts, unless the input is tax exempt or
// the address has no country.
func (c *draftCalc) computeTax() {
	rate, taxed := c.pr.taxRate(c.country, c.province)
	c.rate = rate
	taxed = taxed && c.country != "" && !boolArg(c.in, "taxExempt")
	if taxed {
		for _, l := range c.lines {
			if l.taxable {
				l.tax = roundDiv((l.discounted()-l.orderDiscount)*rate.PPM, 1_000_000)
				c.itemTax += l.tax
			}
		}
		if rate.Shipping && c.ship != nil {
			c.shipTax = roundDiv(c.shipping*rate.PPM, 1_000_000)
		}
	}
	c.totalTax = c.itemTax + c.shipTax
}

// addressRegion reads a MailingAddressInput's country and province codes,
// from countryCode/provinceCode or the deprecated country/province.
func addressRegion(addr map[string]any) (country, province string) {
	country = stringArg(addr, "countryCode")
	if c := stringArg(addr, "country"); country == "" && len(c) == 2 {
		country = c
	}
	province = stringArg(addr, "provinceCode")
	if p := stringArg(addr, "province"); province == "" && len(p) <= 3 {
		province = p
	}
	return strings.ToUpper(country), strings.ToUpper(province)
}

// appliedDiscount computes a DraftOrderAppliedDiscountInput against an
// amount (a line's original total, or the order's subtotal): PERCENTAGE of
// it, or FIXED_AMOUNT per unit; never more than the amount.
func appliedDiscount(in map[string]any, amount, units int64) (int64, map[string]any, error) {
	value, ok := floatArg(in, "value")
	if !ok || value < 0 {
		return 0, nil, errors.New("Value must be greater than or equal to 0")
	}
	kind := stringArg(in, "valueType")
	var off int64
	switch kind {
	case "PERCENTAGE":
		if value > 100 {
			return 0, nil, errors.New("Value must be less than or equal to 100")
		}
		off = roundDiv(amount*int64(value*10_000+0.5), 1_000_000)
	case "FIXED_AMOUNT":
		off = int64(value*100+0.5) * units
	}
	off = min(off, amount)
	title := stringArg(in, "title")
	return off, map[string]any{
		"title": nilIfEmpty(title), "description": stringArg(in, "description"), "value": value, "valueType": kind,
		"amount": formatMoney(off), "amountV2": moneyV2(off), "amountSet": moneyBag(off),
	}, nil
}

// customPrice reads a custom line's unit price.
func customPrice(item map[string]any) (int64, error) {
	if m, ok := item["originalUnitPriceWithCurrency"].(map[string]any); ok {
		return moneyInput(m)
	}
	if v, ok := item["originalUnitPrice"]; ok && v != nil {
		return parseCents(v)
	}
	return 0, errors.New("Original unit price can't be blank")
}

// customShippingPrice reads a custom shipping line's price.
func customShippingPrice(sl map[string]any) (int64, error) {
	if m, ok := sl["priceWithCurrency"].(map[string]any); ok {
		return moneyInput(m)
	}
	if v, ok := sl["price"]; ok && v != nil {
		return parseCents(v)
	}
	return 0, errors.New("Price can't be blank")
}
