package emulator

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// firstN applies a list field's first argument.
func firstN(list []any, args map[string]any) []any {
	if n, ok := intArg(args, "first"); ok && n >= 0 && n < len(list) {
		return list[:n]
	}
	return list
}

// taxLineNodes are TaxLine objects.
func taxLineNodes(lines []OrderTaxLine) []any {
	out := make([]any, len(lines))
	for i, t := range lines {
		rate, _ := strconv.ParseFloat(t.Rate, 64)
		out[i] = map[string]any{
			"title": t.Title, "rate": rate, "ratePercentage": math.Round(rate*1e6) / 1e4, "channelLiable": t.ChannelLiable,
			"source": "Shopify", "priceSet": moneyBag(t.Cents), "price": formatMoney(t.Cents),
		}
	}
	return out
}

// addressNode is a MailingAddress, nil for none.
func (x *execution) addressNode(a *Address, id int64) any {
	if a == nil {
		return nil
	}
	name := strings.TrimSpace(a.FirstName + " " + a.LastName)
	return map[string]any{
		"id": gid("MailingAddress", id) + "?model_name=Address", "firstName": nilIfEmpty(a.FirstName), "lastName": nilIfEmpty(a.LastName),
		"name": nilIfEmpty(name), "company": nilIfEmpty(a.Company), "address1": nilIfEmpty(a.Address1), "address2": nilIfEmpty(a.Address2),
		"city": nilIfEmpty(a.City), "province": nilIfEmpty(a.Province), "provinceCode": nilIfEmpty(a.Province),
		"country": nilIfEmpty(a.Country), "countryCodeV2": nilIfEmpty(a.Country), "zip": nilIfEmpty(a.Zip), "phone": nilIfEmpty(a.Phone),
		"coordinatesValidated": false,
	}
}

// orderNode is an Order object.
func (x *execution) orderNode(o *Order) map[string]any {
	var cancelledAt, closedAt, cancelReason, cancellation, customer, shippingLine, discountCode any
	if !o.CancelledAt.IsZero() {
		cancelledAt, cancelReason = dateTime(o.CancelledAt), o.CancelReason
		cancellation = map[string]any{"staffNote": nil}
	}
	if !o.ClosedAt.IsZero() {
		closedAt = dateTime(o.ClosedAt)
	}
	if c := o.Customer; c != nil {
		customer = customerNode(c)
	}
	if len(o.ShippingLines) > 0 {
		shippingLine = shippingLineNode(o.ShippingLines[0])
	}
	codes := []any{}
	if o.DiscountCode != "" {
		discountCode = o.DiscountCode
		codes = append(codes, o.DiscountCode)
	}
	shippingItems := make([]edgeItem, len(o.ShippingLines))
	for i, sl := range o.ShippingLines {
		shippingItems[i] = edgeItem{id: sl.ID, node: func() map[string]any { return shippingLineNode(sl) }}
	}
	lineItems, qty, currentQty, requiresShipping := x.lineItemEdges(o)
	gateways := []any{}
	for _, t := range o.Transactions {
		if !slices.Contains(gateways, any(t.Gateway)) {
			gateways = append(gateways, t.Gateway)
		}
	}
	received, refunded := o.ReceivedCents(), o.RefundedCents()
	outstanding := max(o.TotalCents-received, 0)
	if !o.CancelledAt.IsZero() {
		outstanding = 0
	}
	current := o.TotalCents - refunded
	attrs := make([]any, len(o.CustomAttributes))
	for i, a := range o.CustomAttributes {
		attrs[i] = map[string]any{"key": a.Key, "value": a.Value}
	}
	return map[string]any{
		"__typename":                           "Order",
		"id":                                   o.GID(),
		"legacyResourceId":                     strconv.FormatInt(o.ID, 10),
		"name":                                 o.Name,
		"number":                               o.Number - 1000,
		"confirmationNumber":                   strings.ToUpper(o.token[:9]),
		"email":                                nilIfEmpty(o.Email),
		"phone":                                nilIfEmpty(o.Phone),
		"createdAt":                            dateTime(o.CreatedAt),
		"updatedAt":                            dateTime(o.UpdatedAt),
		"processedAt":                          dateTime(o.ProcessedAt),
		"cancelledAt":                          cancelledAt,
		"cancelReason":                         cancelReason,
		"cancellation":                         cancellation,
		"closed":                               !o.ClosedAt.IsZero(),
		"closedAt":                             closedAt,
		"confirmed":                            true,
		"test":                                 o.Test,
		"currencyCode":                         o.Currency,
		"presentmentCurrencyCode":              o.Currency,
		"taxesIncluded":                        o.TaxesIncluded,
		"taxExempt":                            false,
		"sourceName":                           nilIfEmpty(o.SourceName),
		"sourceIdentifier":                     nilIfEmpty(o.SourceIdentifier),
		"registeredSourceUrl":                  nilIfEmpty(o.SourceURL),
		"tags":                                 nonNilStrings(o.Tags),
		"note":                                 nilIfEmpty(o.Note),
		"customAttributes":                     attrs,
		"statusPageUrl":                        lazy(func(map[string]any) (any, error) { return o.StatusPageURL, nil }),
		"displayFinancialStatus":               o.FinancialStatus,
		"displayFulfillmentStatus":             o.FulfillmentStatus(),
		"fullyPaid":                            received >= o.TotalCents,
		"unpaid":                               received == 0,
		"refundable":                           received > refunded,
		"fulfillable":                          o.CancelledAt.IsZero() && o.FulfillmentStatus() != "FULFILLED",
		"requiresShipping":                     requiresShipping,
		"customerAcceptsMarketing":             o.BuyerAcceptsMarketing,
		"customer":                             customer,
		"shippingAddress":                      x.addressNode(o.ShippingAddress, o.ID*10+1),
		"billingAddress":                       x.addressNode(o.BillingAddress, o.ID*10+2),
		"billingAddressMatchesShippingAddress": o.BillingAddress == nil || (o.ShippingAddress != nil && *o.BillingAddress == *o.ShippingAddress),
		"discountCode":                         discountCode,
		"discountCodes":                        codes,
		"paymentGatewayNames":                  gateways,
		"subtotalLineItemsQuantity":            qty,
		"currentSubtotalLineItemsQuantity":     currentQty,
		"taxLines":                             taxLineNodes(combinedTaxLines(o)),
		"currentTaxLines":                      taxLineNodes(combinedTaxLines(o)),
		"shippingLine":                         shippingLine,
		"shippingLines":                        lazy(func(args map[string]any) (any, error) { return paginate(shippingItems, args, x.bulk) }),
		"lineItems":                            lazy(func(args map[string]any) (any, error) { return paginate(lineItems, args, x.bulk) }),
		"fulfillments":                         x.orderFulfillments(o),
		"fulfillmentsCount":                    map[string]any{"count": len(o.Fulfillments), "precision": "EXACT"},
		"refunds":                              x.orderRefunds(o),
		"transactions":                         x.orderTransactions(o),
		"transactionsCount":                    map[string]any{"count": len(o.Transactions), "precision": "EXACT"},
		"subtotalPriceSet":                     moneyBag(o.SubtotalCents),
		"currentSubtotalPriceSet":              moneyBag(o.SubtotalCents),
		"totalDiscountsSet":                    moneyBag(o.DiscountCents),
		"currentTotalDiscountsSet":             moneyBag(o.DiscountCents),
		"cartDiscountAmountSet":                moneyBag(o.DiscountCents),
		"totalShippingPriceSet":                moneyBag(o.ShippingCents),
		"currentShippingPriceSet":              moneyBag(o.ShippingCents),
		"totalTaxSet":                          moneyBag(o.TaxCents),
		"currentTotalTaxSet":                   moneyBag(o.TaxCents),
		"totalPriceSet":                        moneyBag(o.TotalCents),
		"originalTotalPriceSet":                moneyBag(o.TotalCents),
		"currentTotalPriceSet":                 moneyBag(current),
		"totalReceivedSet":                     moneyBag(received),
		"totalRefundedSet":                     moneyBag(refunded),
		"totalRefundedShippingSet":             moneyBag(0),
		"netPaymentSet":                        moneyBag(received - refunded),
		"totalOutstandingSet":                  moneyBag(outstanding),
		"totalCapturableSet":                   moneyBag(0),
		"totalTipReceivedSet":                  moneyBag(0),
		"refundDiscrepancySet":                 moneyBag(0),
	}
}

// lineItemEdges are the order's lines as connection items, with the
// quantity ordered, the quantity still on the order, and whether a line
// requires shipping.
func (x *execution) lineItemEdges(o *Order) (items []edgeItem, qty, currentQty int, requiresShipping bool) {
	items = make([]edgeItem, len(o.Lines))
	for i := range o.Lines {
		l := &o.Lines[i]
		items[i] = edgeItem{id: l.ID, node: func() map[string]any { return x.lineItemNode(o, l) }}
		qty += l.Quantity
		currentQty += l.Quantity - l.RemovedQuantity
		requiresShipping = requiresShipping || l.RequiresShipping
	}
	return items, qty, currentQty, requiresShipping
}

// orderFulfillments resolves Order.fulfillments(first).
func (x *execution) orderFulfillments(o *Order) lazy {
	return func(args map[string]any) (any, error) {
		out := make([]any, len(o.Fulfillments))
		for i := range o.Fulfillments {
			out[i] = x.fulfillmentNode(o, &o.Fulfillments[i])
		}
		return firstN(out, args), nil
	}
}

// orderRefunds resolves Order.refunds(first).
func (x *execution) orderRefunds(o *Order) lazy {
	return func(args map[string]any) (any, error) {
		out := make([]any, len(o.Refunds))
		for i := range o.Refunds {
			out[i] = x.refundNode(o, &o.Refunds[i])
		}
		return firstN(out, args), nil
	}
}

// orderTransactions resolves Order.transactions(first).
func (x *execution) orderTransactions(o *Order) lazy {
	return func(args map[string]any) (any, error) {
		out := make([]any, len(o.Transactions))
		for i, t := range o.Transactions {
			out[i] = x.transactionNode(o, t)
		}
		return firstN(out, args), nil
	}
}

// combinedTaxLines are the line and shipping tax lines merged by title and
// rate, as Order.taxLines shows them; with none, the order-level ones.
func combinedTaxLines(o *Order) []OrderTaxLine {
	var out []OrderTaxLine
	add := func(t OrderTaxLine) {
		for i := range out {
			if out[i].Title == t.Title && out[i].Rate == t.Rate {
				out[i].Cents += t.Cents
				return
			}
		}
		out = append(out, t)
	}
	for _, l := range o.Lines {
		for _, t := range l.TaxLines {
			add(t)
		}
	}
	for _, sl := range o.ShippingLines {
		for _, t := range sl.TaxLines {
			add(t)
		}
	}
	if len(out) == 0 {
		return slices.Clone(o.TaxLines)
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// customerNode is a Customer.
func customerNode(c *Customer) map[string]any {
	state := "NOT_SUBSCRIBED"
	if c.AcceptsEmailMarketing {
		state = "SUBSCRIBED"
	}
	var email any
	if c.Email != "" {
		email = map[string]any{"emailAddress": c.Email, "marketingState": state, "marketingOptInLevel": "SINGLE_OPT_IN", "openTrackingLevel": "UNKNOWN"}
	}
	return map[string]any{
		"__typename": "Customer", "id": gid("Customer", c.ID), "legacyResourceId": strconv.FormatInt(c.ID, 10),
		"email": nilIfEmpty(c.Email), "phone": nilIfEmpty(c.Phone), "firstName": nilIfEmpty(c.FirstName), "lastName": nilIfEmpty(c.LastName),
		"displayName": strings.TrimSpace(c.FirstName + " " + c.LastName), "defaultEmailAddress": email,
		"emailMarketingConsent": map[string]any{"marketingState": state, "marketingOptInLevel": "SINGLE_OPT_IN", "consentUpdatedAt": dateTime(c.UpdatedAt)},
		"createdAt":             dateTime(c.CreatedAt), "updatedAt": dateTime(c.UpdatedAt), "tags": []string{},
	}
}

// shippingLineNode is a ShippingLine.
func shippingLineNode(sl OrderShippingLine) map[string]any {
	return map[string]any{
		"__typename": "ShippingLine", "id": gid("ShippingLine", sl.ID), "title": sl.Title, "code": nilIfEmpty(sl.Code),
		"source": nilIfEmpty(sl.Source), "custom": sl.Code == "", "carrierIdentifier": nil, "shippingRateHandle": nil,
		"deliveryCategory": nil, "isRemoved": false, "phone": nil, "discountAllocations": []any{},
		"originalPriceSet": moneyBag(sl.Cents), "discountedPriceSet": moneyBag(sl.Cents), "currentDiscountedPriceSet": moneyBag(sl.Cents),
		"taxLines": taxLineNodes(sl.TaxLines),
	}
}

// lineItemNode is a LineItem.
func (x *execution) lineItemNode(o *Order, l *OrderLine) map[string]any {
	var variant, product any
	name := l.Title
	if p, v := x.shop.variant(l.VariantID); v != nil {
		variant = lazy(func(map[string]any) (any, error) { return x.variantNode(p, v), nil })
		product = lazy(func(map[string]any) (any, error) { return x.productNode(p), nil })
	}
	if l.VariantTitle != "" && l.VariantTitle != "Default Title" {
		name += " - " + l.VariantTitle
	}
	total := l.UnitCents * int64(l.Quantity)
	current := l.Quantity - l.RemovedQuantity
	unfulfilled := max(current-l.FulfilledQuantity, 0)
	taxes := taxLineNodes(l.TaxLines)
	return map[string]any{
		"__typename": "LineItem", "id": gid("LineItem", l.ID), "name": name, "title": l.Title,
		"variantTitle": nilIfEmpty(l.VariantTitle), "sku": nilIfEmpty(l.SKU), "vendor": nil,
		"quantity": l.Quantity, "currentQuantity": current, "unfulfilledQuantity": unfulfilled,
		"refundableQuantity": current, "nonFulfillableQuantity": l.RemovedQuantity,
		"requiresShipping": l.RequiresShipping, "taxable": l.Taxable, "isGiftCard": false, "merchantEditable": true,
		"restockable": true, "variant": variant, "product": product, "customAttributes": []any{}, "discountAllocations": []any{},
		"originalUnitPriceSet": moneyBag(l.UnitCents), "discountedUnitPriceSet": moneyBag(l.UnitCents),
		"discountedUnitPriceAfterAllDiscountsSet": moneyBag(l.UnitCents),
		"originalTotalSet":                        moneyBag(total),
		"discountedTotalSet":                      lazy(func(map[string]any) (any, error) { return moneyBag(total), nil }),
		"totalDiscountSet":                        moneyBag(0),
		"unfulfilledOriginalTotalSet":             moneyBag(l.UnitCents * int64(unfulfilled)),
		"unfulfilledDiscountedTotalSet":           moneyBag(l.UnitCents * int64(unfulfilled)),
		"priceAfterAllDiscountsBeforeTaxesSet":    moneyBag(total),
		"taxLines":                                lazy(func(args map[string]any) (any, error) { return firstN(taxes, args), nil }),
	}
}

// fulfillmentNode is a Fulfillment.
func (x *execution) fulfillmentNode(o *Order, f *Fulfillment) map[string]any {
	display := "FULFILLED"
	switch {
	case f.Status == "CANCELLED":
		display = "CANCELED"
	case f.ShipmentStatus != "":
		display = f.ShipmentStatus
	}
	var deliveredAt, inTransitAt any
	if f.ShipmentStatus == "DELIVERED" {
		deliveredAt = dateTime(f.UpdatedAt)
	}
	if f.ShipmentStatus == "IN_TRANSIT" {
		inTransitAt = dateTime(f.UpdatedAt)
	}
	var tracking []any
	if f.Tracking != (Tracking{}) {
		tracking = append(tracking, map[string]any{"company": nilIfEmpty(f.Tracking.Company), "number": nilIfEmpty(f.Tracking.Number), "url": nilIfEmpty(f.Tracking.URL)})
	}
	items := make([]edgeItem, len(f.Lines))
	total, requires := 0, false
	for i, fl := range f.Lines {
		l := o.line(fl.LineID)
		total += fl.Quantity
		requires = requires || (l != nil && l.RequiresShipping)
		items[i] = edgeItem{id: fl.ID, node: func() map[string]any {
			var line any
			var amount int64
			if l != nil {
				line, amount = x.lineItemNode(o, l), l.UnitCents*int64(fl.Quantity)
			}
			return map[string]any{"id": gid("FulfillmentLineItem", fl.ID), "quantity": fl.Quantity, "lineItem": line,
				"originalTotalSet": moneyBag(amount), "discountedTotalSet": moneyBag(amount)}
		}}
	}
	return map[string]any{
		"__typename": "Fulfillment", "id": gid("Fulfillment", f.ID), "legacyResourceId": strconv.FormatInt(f.ID, 10),
		"name": f.Name, "status": f.Status, "displayStatus": display, "createdAt": dateTime(f.CreatedAt), "updatedAt": dateTime(f.UpdatedAt),
		"deliveredAt": deliveredAt, "inTransitAt": inTransitAt, "estimatedDeliveryAt": nil, "requiresShipping": requires,
		"totalQuantity": total, "location": map[string]any{"id": gid("Location", x.shop.locationID), "name": "Shop location"},
		"trackingInfo":         lazy(func(args map[string]any) (any, error) { return firstN(nonNilList(tracking), args), nil }),
		"fulfillmentLineItems": lazy(func(args map[string]any) (any, error) { return paginate(items, args, x.bulk) }),
		"order":                lazy(func(map[string]any) (any, error) { return x.orderNode(o), nil }),
	}
}

// refundNode is a Refund.
func (x *execution) refundNode(o *Order, r *Refund) map[string]any {
	txs := make([]edgeItem, len(r.Transactions))
	for i, t := range r.Transactions {
		txs[i] = edgeItem{id: t.ID, node: func() map[string]any { return x.transactionNode(o, t) }}
	}
	empty := lazy(func(args map[string]any) (any, error) { return paginate(nil, args, x.bulk) })
	return map[string]any{
		"__typename": "Refund", "id": gid("Refund", r.ID), "legacyResourceId": strconv.FormatInt(r.ID, 10),
		"note": nilIfEmpty(r.Note), "createdAt": dateTime(r.CreatedAt), "processedAt": dateTime(r.CreatedAt), "updatedAt": dateTime(r.CreatedAt),
		"totalRefundedSet": moneyBag(r.AmountCents),
		"transactions":     lazy(func(args map[string]any) (any, error) { return paginate(txs, args, x.bulk) }),
		"refundLineItems":  empty, "refundShippingLines": empty, "orderAdjustments": empty, "duties": []any{},
		"order": lazy(func(map[string]any) (any, error) { return x.orderNode(o), nil }),
	}
}

// transactionNode is an OrderTransaction.
func (x *execution) transactionNode(o *Order, t OrderTransaction) map[string]any {
	var parent any
	if t.ParentID != 0 {
		for _, p := range o.Transactions {
			if p.ID == t.ParentID {
				parent = lazy(func(map[string]any) (any, error) { return x.transactionNode(o, p), nil })
			}
		}
	}
	return map[string]any{
		"__typename": "OrderTransaction", "id": gid("OrderTransaction", t.ID), "kind": t.Kind, "status": t.Status,
		"gateway": t.Gateway, "formattedGateway": t.Gateway, "manualPaymentGateway": t.Gateway == "manual",
		"amountSet": moneyBag(t.AmountCents), "createdAt": dateTime(t.ProcessedAt), "processedAt": dateTime(t.ProcessedAt),
		"authorizationCode": nilIfEmpty(t.AuthorizationCode), "paymentId": nilIfEmpty(t.AuthorizationCode),
		"test": t.Test, "errorCode": nil, "parentTransaction": parent, "fees": []any{}, "manuallyCapturable": false, "multiCapturable": false,
		"order": lazy(func(map[string]any) (any, error) { return x.orderNode(o), nil }),
	}
}
