package emulator

import (
	"strconv"
	"strings"
)

// REST-shaped webhook bodies for orders (orders/updated, orders/cancelled),
// fulfillments (fulfillments/create, fulfillments/update) and refunds
// (refunds/create): numeric ids with admin_graphql_api_id, snake_case keys,
// lower-case enums, money as "12.34" strings with *_set money bags.

// restMoneySet is a REST price set.
func restMoneySet(cents int64) map[string]any {
	m := map[string]any{"amount": formatMoney(cents), "currency_code": shopCurrency}
	return map[string]any{"shop_money": m, "presentment_money": m}
}

// restTaxLines are REST tax lines.
func restTaxLines(lines []OrderTaxLine) []any {
	out := make([]any, len(lines))
	for i, t := range lines {
		rate, _ := strconv.ParseFloat(t.Rate, 64)
		out[i] = map[string]any{
			"title": t.Title, "rate": rate, "price": formatMoney(t.Cents), "price_set": restMoneySet(t.Cents),
			"channel_liable": t.ChannelLiable,
		}
	}
	return out
}

// restAddress is a REST address, nil for none.
func restAddress(a *Address) any {
	if a == nil {
		return nil
	}
	name := strings.TrimSpace(a.FirstName + " " + a.LastName)
	return map[string]any{
		"first_name": nilIfEmpty(a.FirstName), "last_name": nilIfEmpty(a.LastName), "name": nilIfEmpty(name),
		"company": nilIfEmpty(a.Company), "address1": nilIfEmpty(a.Address1), "address2": nilIfEmpty(a.Address2),
		"city": nilIfEmpty(a.City), "province": nilIfEmpty(a.Province), "province_code": nilIfEmpty(a.Province),
		"country": nilIfEmpty(a.Country), "country_code": nilIfEmpty(a.Country), "zip": nilIfEmpty(a.Zip), "phone": nilIfEmpty(a.Phone),
	}
}

// restLineItem is a REST line item.
func restLineItem(o *Order, l *OrderLine) map[string]any {
	var variantID, productID, status any
	if l.VariantID != 0 {
		variantID, productID = l.VariantID, l.ProductID
	}
	current := l.Quantity - l.RemovedQuantity
	switch {
	case l.FulfilledQuantity > 0 && l.FulfilledQuantity >= current:
		status = "fulfilled"
	case l.FulfilledQuantity > 0:
		status = "partial"
	}
	name := l.Title
	if l.VariantTitle != "" && l.VariantTitle != "Default Title" {
		name += " - " + l.VariantTitle
	}
	return map[string]any{
		"id": l.ID, "admin_graphql_api_id": gid("LineItem", l.ID), "variant_id": variantID, "product_id": productID,
		"title": l.Title, "variant_title": nilIfEmpty(l.VariantTitle), "name": name, "sku": nilIfEmpty(l.SKU), "vendor": nil,
		"quantity": l.Quantity, "current_quantity": current, "fulfillable_quantity": max(current-l.FulfilledQuantity, 0),
		"fulfillment_status": status, "fulfillment_service": "manual", "price": formatMoney(l.UnitCents), "price_set": restMoneySet(l.UnitCents),
		"total_discount": "0.00", "total_discount_set": restMoneySet(0), "requires_shipping": l.RequiresShipping, "taxable": l.Taxable,
		"gift_card": false, "product_exists": l.VariantID != 0, "grams": 0, "properties": []any{}, "discount_allocations": []any{},
		"duties": []any{}, "tax_lines": restTaxLines(l.TaxLines),
	}
}

// restTransaction is a REST transaction.
func restTransaction(o *Order, t OrderTransaction) map[string]any {
	var parent any
	if t.ParentID != 0 {
		parent = t.ParentID
	}
	return map[string]any{
		"id": t.ID, "admin_graphql_api_id": gid("OrderTransaction", t.ID), "order_id": o.ID, "parent_id": parent,
		"kind": strings.ToLower(t.Kind), "status": strings.ToLower(t.Status), "gateway": t.Gateway,
		"amount": formatMoney(t.AmountCents), "currency": o.Currency, "authorization": nilIfEmpty(t.AuthorizationCode),
		"payment_id": nilIfEmpty(t.AuthorizationCode), "test": t.Test, "message": nil, "error_code": nil, "source_name": "external",
		"created_at": restTime(t.ProcessedAt), "processed_at": restTime(t.ProcessedAt), "location_id": nil, "user_id": nil, "device_id": nil,
		"receipt": map[string]any{},
	}
}

// orderPayload is the orders/updated, orders/cancelled, orders/create and
// orders/paid body: the REST
// order with its line items, shipping lines, fulfillments and refunds.
func orderPayload(s *shopState, o *Order) map[string]any {
	lines := make([]any, len(o.Lines))
	for i := range o.Lines {
		lines[i] = restLineItem(o, &o.Lines[i])
	}
	shipping := make([]any, len(o.ShippingLines))
	for i, sl := range o.ShippingLines {
		shipping[i] = map[string]any{
			"id": sl.ID, "title": sl.Title, "code": nilIfEmpty(sl.Code), "source": nilIfEmpty(sl.Source),
			"price": formatMoney(sl.Cents), "price_set": restMoneySet(sl.Cents), "discounted_price": formatMoney(sl.Cents),
			"discounted_price_set": restMoneySet(sl.Cents), "tax_lines": restTaxLines(sl.TaxLines), "discount_allocations": []any{},
		}
	}
	fulfillments := make([]any, len(o.Fulfillments))
	for i := range o.Fulfillments {
		fulfillments[i] = fulfillmentPayload(s, o, &o.Fulfillments[i])
	}
	refunds := make([]any, len(o.Refunds))
	for i := range o.Refunds {
		refunds[i] = refundPayload(s, o, &o.Refunds[i])
	}
	var cancelledAt, cancelReason, closedAt, fulfillmentStatus, customer any
	if !o.CancelledAt.IsZero() {
		cancelledAt, cancelReason = restTime(o.CancelledAt), strings.ToLower(o.CancelReason)
	}
	if !o.ClosedAt.IsZero() {
		closedAt = restTime(o.ClosedAt)
	}
	switch o.FulfillmentStatus() {
	case "FULFILLED":
		fulfillmentStatus = "fulfilled"
	case "PARTIALLY_FULFILLED":
		fulfillmentStatus = "partial"
	case "RESTOCKED":
		fulfillmentStatus = "restocked"
	}
	if c := o.Customer; c != nil {
		state := "not_subscribed"
		if c.AcceptsEmailMarketing {
			state = "subscribed"
		}
		customer = map[string]any{
			"id": c.ID, "admin_graphql_api_id": gid("Customer", c.ID), "email": nilIfEmpty(c.Email), "phone": nilIfEmpty(c.Phone),
			"first_name": nilIfEmpty(c.FirstName), "last_name": nilIfEmpty(c.LastName), "state": "disabled", "currency": shopCurrency,
			"email_marketing_consent": map[string]any{"state": state, "opt_in_level": "single_opt_in", "consent_updated_at": restTime(c.UpdatedAt)},
			"created_at":              restTime(c.CreatedAt), "updated_at": restTime(c.UpdatedAt), "tags": "",
		}
	}
	codes := []any{}
	if o.DiscountCode != "" {
		codes = append(codes, map[string]any{"code": o.DiscountCode, "amount": formatMoney(o.DiscountCents), "type": strings.ToLower(o.DiscountKind)})
	}
	gateways := []any{}
	for _, t := range o.Transactions {
		if !containsAny(gateways, t.Gateway) {
			gateways = append(gateways, t.Gateway)
		}
	}
	attrs := make([]any, len(o.CustomAttributes))
	for i, a := range o.CustomAttributes {
		attrs[i] = map[string]any{"name": a.Key, "value": a.Value}
	}
	refunded := o.RefundedCents()
	lineItemsTotal := o.SubtotalCents
	if o.DiscountKind != "FREE_SHIPPING" {
		lineItemsTotal += o.DiscountCents
	}
	return map[string]any{
		"id": o.ID, "admin_graphql_api_id": o.GID(), "name": o.Name, "number": o.Number - 1000, "order_number": o.Number,
		"token": o.token, "confirmation_number": strings.ToUpper(o.token[:9]), "confirmed": true, "test": o.Test,
		"email": nilIfEmpty(o.Email), "contact_email": nilIfEmpty(o.Email), "phone": nilIfEmpty(o.Phone),
		"created_at": restTime(o.CreatedAt), "updated_at": restTime(o.UpdatedAt), "processed_at": restTime(o.ProcessedAt),
		"cancelled_at": cancelledAt, "cancel_reason": cancelReason, "closed_at": closedAt,
		"currency": o.Currency, "presentment_currency": o.Currency, "taxes_included": o.TaxesIncluded,
		"financial_status": strings.ToLower(o.FinancialStatus), "fulfillment_status": fulfillmentStatus,
		"total_price": formatMoney(o.TotalCents), "total_price_set": restMoneySet(o.TotalCents),
		"current_total_price": formatMoney(o.TotalCents - refunded), "current_total_price_set": restMoneySet(o.TotalCents - refunded),
		"subtotal_price": formatMoney(o.SubtotalCents), "subtotal_price_set": restMoneySet(o.SubtotalCents),
		"current_subtotal_price": formatMoney(o.SubtotalCents), "current_subtotal_price_set": restMoneySet(o.SubtotalCents),
		"total_line_items_price": formatMoney(lineItemsTotal), "total_line_items_price_set": restMoneySet(lineItemsTotal),
		"total_tax": formatMoney(o.TaxCents), "total_tax_set": restMoneySet(o.TaxCents),
		"current_total_tax": formatMoney(o.TaxCents), "current_total_tax_set": restMoneySet(o.TaxCents),
		"total_discounts": formatMoney(o.DiscountCents), "total_discounts_set": restMoneySet(o.DiscountCents),
		"total_shipping_price_set": restMoneySet(o.ShippingCents),
		"total_outstanding":        formatMoney(max(o.TotalCents-o.ReceivedCents(), 0)),
		"tax_lines":                restTaxLines(combinedTaxLines(o)), "discount_codes": codes, "discount_applications": []any{},
		"line_items": lines, "shipping_lines": shipping, "fulfillments": fulfillments, "refunds": refunds,
		"shipping_address": restAddress(o.ShippingAddress), "billing_address": restAddress(o.BillingAddress), "customer": customer,
		"buyer_accepts_marketing": o.BuyerAcceptsMarketing, "payment_gateway_names": gateways,
		"source_name": nilIfEmpty(o.SourceName), "source_identifier": nilIfEmpty(o.SourceIdentifier), "source_url": nilIfEmpty(o.SourceURL),
		"tags": strings.Join(o.Tags, ", "), "note": nilIfEmpty(o.Note), "note_attributes": attrs,
		"order_status_url": o.StatusPageURL, "app_id": nil, "location_id": nil, "user_id": nil,
	}
}

// fulfillmentPayload is the fulfillments/create and fulfillments/update
// body (and an element of an order's fulfillments).
func fulfillmentPayload(s *shopState, o *Order, f *Fulfillment) map[string]any {
	lines := make([]any, 0, len(f.Lines))
	for _, fl := range f.Lines {
		if l := o.line(fl.LineID); l != nil {
			li := restLineItem(o, l)
			li["quantity"] = fl.Quantity
			lines = append(lines, li)
		}
	}
	var shipment, company, number, url any
	if f.ShipmentStatus != "" {
		shipment = strings.ToLower(f.ShipmentStatus)
	}
	numbers, urls := []any{}, []any{}
	if t := f.Tracking; t.Company != "" {
		company = t.Company
	}
	if t := f.Tracking; t.Number != "" {
		number, numbers = t.Number, []any{t.Number}
	}
	if t := f.Tracking; t.URL != "" {
		url, urls = t.URL, []any{t.URL}
	}
	return map[string]any{
		"id": f.ID, "admin_graphql_api_id": gid("Fulfillment", f.ID), "order_id": o.ID, "name": f.Name,
		"status": strings.ToLower(f.Status), "shipment_status": shipment, "service": "manual", "location_id": s.locationID,
		"tracking_company": company, "tracking_number": number, "tracking_numbers": numbers, "tracking_url": url, "tracking_urls": urls,
		"created_at": restTime(f.CreatedAt), "updated_at": restTime(f.UpdatedAt), "receipt": map[string]any{},
		"origin_address": map[string]any{}, "destination": restAddress(o.ShippingAddress), "email": nilIfEmpty(o.Email),
		"line_items": lines,
	}
}

// refundPayload is the refunds/create body (and an element of an order's
// refunds). An amount-only refund has no refund_line_items and one
// refund_discrepancy order adjustment, as Shopify records it.
func refundPayload(s *shopState, o *Order, r *Refund) map[string]any {
	txs := make([]any, len(r.Transactions))
	for i, t := range r.Transactions {
		txs[i] = restTransaction(o, t)
	}
	return map[string]any{
		"id": r.ID, "admin_graphql_api_id": gid("Refund", r.ID), "order_id": o.ID, "note": nilIfEmpty(r.Note),
		"created_at": restTime(r.CreatedAt), "processed_at": restTime(r.CreatedAt), "restock": false, "user_id": nil,
		"total_duties_set": restMoneySet(0), "duties": []any{}, "refund_line_items": []any{}, "refund_shipping_lines": []any{},
		"transactions": txs,
		"order_adjustments": []any{map[string]any{
			"id": r.ID + 1_000_000_000_000, "order_id": o.ID, "refund_id": r.ID, "kind": "refund_discrepancy", "reason": "Refund discrepancy",
			"amount": formatMoney(-r.AmountCents), "amount_set": restMoneySet(-r.AmountCents), "tax_amount": "0.00", "tax_amount_set": restMoneySet(0),
		}},
	}
}

func containsAny(list []any, v string) bool {
	for _, el := range list {
		if el == v {
			return true
		}
	}
	return false
}
