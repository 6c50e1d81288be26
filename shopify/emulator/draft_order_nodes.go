package emulator

import (
	"fmt"
	"html"
)

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
	shipNode := c.shippingLineNode()
	platform, orderApplied := c.platformDiscounts(lineNodes, shipNode)
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
		"shippingLine":                         shipNode,
		"subtotalPrice":                        formatMoney(c.subtotal),
		"subtotalPriceSet":                     moneyBag(c.subtotal),
		"taxLines":                             taxLines,
		"taxesIncluded":                        false,
		"totalDiscountsSet":                    moneyBag(c.lineDiscounts + c.orderDiscounts + c.shippingDiscount),
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
	shipping, original := c.shipping, c.shipping+c.shippingDiscount
	return map[string]any{
		"__typename": "ShippingLine", "id": nil, "title": c.ship.Title, "code": code, "source": source,
		"shippingRateHandle": handle, "custom": c.custom, "carrierIdentifier": nil, "deliveryCategory": nil,
		"isRemoved": false, "phone": nil, "discountAllocations": []any{},
		"originalPriceSet": moneyBag(original), "discountedPriceSet": moneyBag(shipping), "currentDiscountedPriceSet": moneyBag(shipping),
		"originalPrice": moneyV2(original), "discountedPrice": moneyV2(shipping), "price": formatMoney(original),
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

// platformDiscounts are the DraftOrderPlatformDiscounts of the codes and
// automatic discounts applied, with their allocations to lineNodes or to
// shipNode, and the custom order discount's DraftOrderAppliedDiscount (nil
// without one).
func (c *draftCalc) platformDiscounts(lineNodes []any, shipNode any) (platform []any, orderApplied any) {
	platform = []any{}
	for _, d := range c.discounts {
		if d.code == nil {
			orderApplied = d.custom
			continue
		}
		allocations := make([]any, 0, len(c.lines))
		allocation := func(amount, qty int64, target any) map[string]any {
			return map[string]any{"id": nil, "quantity": qty, "reductionAmount": moneyV2(amount), "reductionAmountSet": moneyBag(amount),
				"target": target}
		}
		for i, share := range d.shares {
			if share != 0 {
				allocations = append(allocations, allocation(share, c.lines[i].qty, lineNodes[i]))
			}
		}
		class, node := "ORDER", "DiscountCodeNode"
		switch d.level {
		case "line":
			class = "PRODUCT"
		case "shipping":
			class = "SHIPPING"
			allocations = append(allocations, allocation(d.amount, 1, shipNode))
		}
		var code any = d.code.Code
		if d.code.Automatic {
			code, node = nil, "DiscountAutomaticNode"
		}
		summary := d.code.Title
		platform = append(platform, map[string]any{
			"__typename": "DraftOrderPlatformDiscount",
			"id":         gid(node, c.x.shop.id*100+int64(c.pr.index(d.code))+1), "code": code, "title": d.code.Title,
			"automaticDiscount": d.code.Automatic, "bxgyDiscount": false, "discountNode": nil,
			"discountClass": class, "discountClasses": []any{class}, "presentationLevel": d.level,
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
