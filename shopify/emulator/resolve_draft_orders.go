package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
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

// applyOrderDiscounts applies the order-level discounts: the input's custom
// one, then the first discount code that applies; every other code gets a
// warning. Each is allocated to the lines in proportion to what is left of
// them. It is false when the custom discount is refused.
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
		c.discounts = append(c.discounts, &calcDiscount{custom: node, amount: amount})
	}
	now := c.x.e.now()
	codeApplied := false
	for _, raw := range stringsArg(c.in, "discountCodes") {
		code := strings.TrimSpace(raw)
		if code == "" {
			continue
		}
		d := c.pr.discount(code)
		if w := c.codeNotApplied(code, d, now, codeApplied); w != nil {
			c.warnings = append(c.warnings, w)
			continue
		}
		amount := d.AmountCents
		if d.PercentBP > 0 {
			amount = roundDiv(c.itemsSubtotal*d.PercentBP, 10_000)
		}
		amount = min(amount, remaining)
		remaining -= amount
		codeApplied = true
		c.appliedCodes = append(c.appliedCodes, d.Code)
		c.discounts = append(c.discounts, &calcDiscount{code: d, amount: amount})
	}
	weights := make([]int64, len(c.lines))
	for i, l := range c.lines {
		weights[i] = l.discounted()
	}
	for _, d := range c.discounts {
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

// codeNotApplied is the DraftOrderDiscountNotAppliedWarning of a discount
// code (d, nil when unknown) that does not apply now, or nil when it does.
func (c *draftCalc) codeNotApplied(code string, d *DiscountCode, now time.Time, codeApplied bool) map[string]any {
	reason, msg := "", ""
	switch {
	case d == nil:
		reason, msg = "DISCOUNT_NOT_FOUND", "Discount code "+code+" couldn't be found."
	case !d.StartsAt.IsZero() && now.Before(d.StartsAt):
		reason, msg = "DISCOUNT_NOT_ACTIVE", "Discount code "+code+" isn't active yet."
	case !d.EndsAt.IsZero() && !now.Before(d.EndsAt):
		reason, msg = "DISCOUNT_EXPIRED", "Discount code "+code+" has expired."
	case d.MinSubtotalCents > 0 && c.itemsSubtotal < d.MinSubtotalCents:
		reason, msg = "MINIMUM_SUBTOTAL_NOT_MET", fmt.Sprintf("Discount code %s requires a minimum subtotal of %s.", code, formatMoney(d.MinSubtotalCents))
	case codeApplied:
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

// node is the CalculatedDraftOrder.
func (c *draftCalc) node() map[string]any {
	taxLines := []any{}
	if c.totalTax > 0 {
		taxLines = append(taxLines, taxLine(c.rate, c.totalTax))
	}
	rates := make([]any, len(c.offered))
	for i, r := range c.offered {
		rates[i] = map[string]any{"__typename": "ShippingRate", "handle": r.Handle, "title": r.Title, "price": moneyV2(r.PriceCents)}
	}
	lineNodes, alerts := c.lineNodes()
	platform, orderApplied := c.platformDiscounts(lineNodes)
	total := c.subtotal + c.shipping + c.totalTax
	phone := nilIfEmpty(stringArg(c.in, "phone"))
	var accept any
	if v, ok := c.in["acceptAutomaticDiscounts"].(bool); ok {
		accept = v
	}
	_, hasBilling := c.in["billingAddress"].(map[string]any)
	return map[string]any{
		"__typename":                           "CalculatedDraftOrder",
		"acceptAutomaticDiscounts":             accept,
		"alerts":                               nonNilList(alerts),
		"allVariantPricesOverridden":           false,
		"anyVariantPricesOverridden":           false,
		"amountDueLaterSet":                    moneyBag(0),
		"amountDueNowSet":                      moneyBag(total),
		"appliedDiscount":                      orderApplied,
		"availableShippingRates":               rates,
		"billingAddressMatchesShippingAddress": !hasBilling,
		"currencyCode":                         shopCurrency,
		"presentmentCurrencyCode":              shopCurrency,
		"customer":                             nil,
		"deposit":                              nil,
		"discountCodes":                        nonNilList(c.appliedCodes),
		"lineItems":                            lineNodes,
		"lineItemsSubtotalPrice":               moneyBag(c.itemsSubtotal),
		"marketName":                           "United States",
		"marketRegionCountryCode":              "US",
		"phone":                                phone,
		"platformDiscounts":                    platform,
		"purchasingEntity":                     nil,
		"shippingLine":                         c.shippingLineNode(),
		"subtotalPrice":                        formatMoney(c.subtotal),
		"subtotalPriceSet":                     moneyBag(c.subtotal),
		"taxLines":                             taxLines,
		"taxesIncluded":                        false,
		"totalDiscountsSet":                    moneyBag(c.lineDiscounts + c.orderDiscounts),
		"totalLineItemsPriceSet":               moneyBag(c.totalLines),
		"totalPrice":                           formatMoney(total),
		"totalPriceSet":                        moneyBag(total),
		"totalQuantityOfLineItems":             c.qtyTotal,
		"totalShippingPrice":                   formatMoney(c.shipping),
		"totalShippingPriceSet":                moneyBag(c.shipping),
		"totalTax":                             formatMoney(c.totalTax),
		"totalTaxSet":                          moneyBag(c.totalTax),
		"transformerFingerprint":               nil,
		"warnings":                             nonNilList(c.warnings),
	}
}

// shippingLineNode is the chosen ShippingLine, or nil.
func (c *draftCalc) shippingLineNode() any {
	if c.ship == nil {
		return nil
	}
	shipTaxLines := []any{}
	if c.shipTax > 0 {
		shipTaxLines = append(shipTaxLines, taxLine(c.rate, c.shipTax))
	}
	var handle, source, code any = c.ship.Handle, "shopify", c.ship.Title
	if c.custom {
		handle, source, code = nil, nil, nil
	}
	shipping := c.shipping
	return map[string]any{
		"__typename": "ShippingLine", "id": nil, "title": c.ship.Title, "code": code, "source": source,
		"shippingRateHandle": handle, "custom": c.custom, "carrierIdentifier": nil, "deliveryCategory": nil,
		"isRemoved": false, "phone": nil, "discountAllocations": []any{},
		"originalPriceSet": moneyBag(shipping), "discountedPriceSet": moneyBag(shipping), "currentDiscountedPriceSet": moneyBag(shipping),
		"originalPrice": moneyV2(shipping), "discountedPrice": moneyV2(shipping), "price": formatMoney(shipping),
		"taxLines": shipTaxLines,
	}
}

// lineNodes are the CalculatedDraftOrderLineItems, and an alert for each
// tracked DENY variant short of stock.
func (c *draftCalc) lineNodes() (nodes, alerts []any) {
	nodes = make([]any, len(c.lines))
	for i, l := range c.lines {
		nodes[i] = c.x.calculatedLineNode(l)
		if v := l.v; v != nil && v.Tracked && v.InventoryPolicy == "DENY" && l.qty > int64(v.InventoryQuantity) {
			alerts = append(alerts, map[string]any{
				"title":    "Not enough inventory",
				"content":  fmt.Sprintf("<p>Only %d of %s are available.</p>", max(v.InventoryQuantity, 0), html.EscapeString(l.title+" - "+l.variantTitle)),
				"severity": "WARNING", "icon": nil, "dismissibleHandle": nil, "actions": []any{},
			})
		}
	}
	return nodes, alerts
}

// platformDiscounts are the DraftOrderPlatformDiscounts of the codes
// applied, with their allocations to lineNodes, and the custom order
// discount's DraftOrderAppliedDiscount (nil without one).
func (c *draftCalc) platformDiscounts(lineNodes []any) (platform []any, orderApplied any) {
	platform = []any{}
	for n, d := range c.discounts {
		if d.code == nil {
			orderApplied = d.custom
			continue
		}
		allocations := make([]any, 0, len(c.lines))
		for i, share := range d.shares {
			if share == 0 {
				continue
			}
			allocations = append(allocations, map[string]any{
				"id": nil, "quantity": c.lines[i].qty, "reductionAmount": moneyV2(share), "reductionAmountSet": moneyBag(share),
				"target": lineNodes[i],
			})
		}
		summary := d.code.Title
		platform = append(platform, map[string]any{
			"__typename": "DraftOrderPlatformDiscount",
			"id":         gid("DiscountCodeNode", c.x.shop.id*100+int64(n)+1), "code": d.code.Code, "title": d.code.Title,
			"automaticDiscount": false, "bxgyDiscount": false, "discountNode": nil,
			"discountClass": "ORDER", "discountClasses": []any{"ORDER"}, "presentationLevel": "order",
			"shortSummary": summary, "summary": summary,
			"totalAmount": moneyV2(d.amount), "totalAmountPriceSet": moneyBag(d.amount),
			"allocations": allocations,
		})
	}
	return platform, orderApplied
}

// calculatedLineNode is a CalculatedDraftOrderLineItem. Its discount fields
// cover the line's own appliedDiscount only: an order-level discount shows
// in platformDiscounts' allocations, as on Shopify.
func (x *execution) calculatedLineNode(l *calcLine) map[string]any {
	discounted := l.discounted()
	var variant, product, image, vendor, weight any
	name := l.title
	if l.v != nil {
		p, v := l.p, l.v
		variant = lazy(func(map[string]any) (any, error) { return x.variantNode(p, v), nil })
		product = lazy(func(map[string]any) (any, error) { return x.productNode(p), nil })
		if img := p.image(v.ImageID); img != nil {
			image = imageNode(*img)
		} else if len(p.Images) > 0 {
			image = imageNode(p.Images[0])
		}
		vendor = p.Vendor
		weight = map[string]any{"unit": "GRAMS", "value": v.WeightGrams}
		if l.variantTitle != "" && l.variantTitle != "Default Title" {
			name += " - " + l.variantTitle
		}
	}
	unitAfter := discounted / l.qty
	return map[string]any{
		"__typename":                        "CalculatedDraftOrderLineItem",
		"uuid":                              l.uuid,
		"name":                              name,
		"title":                             l.title,
		"variantTitle":                      nilIfEmpty(l.variantTitle),
		"sku":                               nilIfEmpty(l.sku),
		"vendor":                            vendor,
		"quantity":                          l.qty,
		"custom":                            l.v == nil,
		"isGiftCard":                        false,
		"requiresShipping":                  l.requiresShipping,
		"taxable":                           l.taxable,
		"variant":                           variant,
		"product":                           product,
		"image":                             image,
		"weight":                            weight,
		"fulfillmentService":                nil,
		"appliedDiscount":                   l.applied,
		"priceOverride":                     nil,
		"originalUnitPriceWithCurrency":     nil,
		"originalUnitPrice":                 moneyV2(l.unit),
		"originalUnitPriceSet":              moneyBag(l.unit),
		"originalTotal":                     moneyV2(l.original),
		"originalTotalSet":                  moneyBag(l.original),
		"discountedTotal":                   moneyV2(discounted),
		"discountedTotalSet":                moneyBag(discounted),
		"discountedUnitPrice":               moneyV2(unitAfter),
		"discountedUnitPriceSet":            moneyBag(unitAfter),
		"approximateDiscountedUnitPriceSet": moneyBag(unitAfter),
		"totalDiscount":                     moneyV2(l.lineDiscount),
		"totalDiscountSet":                  moneyBag(l.lineDiscount),
		"components":                        []any{},
		"bundleComponents":                  []any{},
		"customAttributes":                  []any{},
		"customAttributesV2":                []any{},
	}
}

// taxLine is a TaxLine of the given amount.
func taxLine(r TaxRate, amount int64) map[string]any {
	return map[string]any{
		"title": r.Title, "source": "Shopify", "channelLiable": false,
		"rate": float64(r.PPM) / 1e6, "ratePercentage": float64(r.PPM) / 1e4,
		"priceSet": moneyBag(amount), "price": formatMoney(amount),
	}
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

// moneyInput reads a MoneyInput in the shop's currency.
func moneyInput(m map[string]any) (int64, error) {
	if c := stringArg(m, "currencyCode"); c != shopCurrency {
		return 0, fmt.Errorf("Currency code must be the shop currency %s", shopCurrency)
	}
	return parseCents(m["amount"])
}

// parseCents reads a Decimal or Money value (a string, or a JSON number
// from a variable) into cents, exactly; more than two decimals or a sign is
// refused.
func parseCents(v any) (int64, error) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case json.Number:
		s = t.String()
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	case int64:
		s = strconv.FormatInt(t, 10)
	case int:
		s = strconv.Itoa(t)
	}
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	frac = strings.TrimRight(frac, "0")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("Amount %q is invalid", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	return strconv.ParseInt(whole+frac, 10, 64)
}

// floatArg reads a Float argument.
func floatArg(args map[string]any, name string) (float64, bool) {
	switch v := args[name].(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// optBool reads an optional Boolean, def when absent or null.
func optBool(args map[string]any, name string, def bool) bool {
	if b, ok := args[name].(bool); ok {
		return b
	}
	return def
}

// roundDiv is num/den rounded half-up, for num >= 0 and den > 0.
func roundDiv(num, den int64) int64 {
	if num <= 0 {
		return 0
	}
	return (num + den/2) / den
}

// allocate splits total over weights in proportion, by the largest
// remainder method (ties to the earlier index), so the shares add up to
// total exactly. With total at most the weights' sum, no share exceeds its
// weight.
func allocate(total int64, weights []int64) []int64 {
	shares := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += max(w, 0)
	}
	if total <= 0 || sum <= 0 {
		return shares
	}
	rems := make([]int64, len(weights))
	var given int64
	for i, w := range weights {
		w = max(w, 0)
		shares[i] = total * w / sum
		rems[i] = total * w % sum
		given += shares[i]
	}
	for ; given < total; given++ {
		best := -1
		for i := range rems {
			if rems[i] >= 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		shares[best]++
		rems[best] = -1
	}
	return shares
}

// decimalAmount renders cents as Shopify's Decimal scalar does: at least
// one decimal, no trailing zero beyond it ("30.0", "29.9", "29.99").
func decimalAmount(cents int64) string {
	s := formatMoney(cents)
	return strings.TrimSuffix(s, "0")
}

// moneyV2 is a MoneyV2 in the shop's currency.
func moneyV2(cents int64) map[string]any {
	return map[string]any{"amount": decimalAmount(cents), "currencyCode": shopCurrency}
}

// moneyBag is a MoneyBag whose shop and presentment amounts are the same.
func moneyBag(cents int64) map[string]any {
	m := moneyV2(cents)
	return map[string]any{"shopMoney": m, "presentmentMoney": m}
}

// nonNilList turns a nil list into an empty one, for non-null list fields.
func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}
