package emulator

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// registerDraftOrderWriteResolvers adds draftOrderCreate, draftOrderUpdate,
// draftOrderDelete and draftOrder(id).
func registerDraftOrderWriteResolvers(r *registry) {
	r.addMutation("draftOrderCreate", "write_draft_orders", resolveDraftOrderCreate)
	r.addMutation("draftOrderUpdate", "write_draft_orders", resolveDraftOrderUpdate)
	r.addMutation("draftOrderDelete", "write_draft_orders", resolveDraftOrderDelete)
	r.addQuery("draftOrder", "read_draft_orders", func(x *execution, _ *ast.Field, args map[string]any) (any, error) {
		id, ok := parseGID(stringArg(args, "id"), "DraftOrder")
		if !ok || x.shop.draft(id) == nil {
			return nil, nil
		}
		return x.draftOrderNode(x.shop.draft(id)), nil
	})
}

// draftUserError is a DraftOrder mutation's UserError.
func draftUserError(msg string, field ...string) map[string]any {
	path := make([]any, len(field))
	for i, f := range field {
		path[i] = f
	}
	return map[string]any{"field": path, "message": msg}
}

// priceDraft prices a DraftOrderInput as draftOrderCalculate does and
// writes the result on d; it returns the userErrors instead when the input
// is refused.
func (x *execution) priceDraft(d *DraftOrder, in map[string]any) []any {
	c := &draftCalc{x: x, in: in, pr: x.shop.pricing}
	c.readLines()
	if len(c.userErrors) == 0 && len(c.lines) == 0 {
		c.fail("Add at least 1 product", "lineItems")
	}
	email := strings.TrimSpace(stringArg(in, "email"))
	if email != "" && !validEmail(email) {
		c.fail("Email is invalid", "email")
	}
	reserve := time.Time{}
	if raw := stringArg(in, "reserveInventoryUntil"); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			c.fail("Reserve inventory until is invalid", "reserveInventoryUntil")
		}
		reserve = t
	}
	if len(c.userErrors) > 0 {
		return c.userErrors
	}
	c.sumLines()
	if !c.applyOrderDiscounts() || !c.chooseShipping() {
		return c.userErrors
	}
	c.computeTax()

	d.Email, d.ShippingAddress, d.ReserveInventoryUntil = email, address(in["shippingAddress"]), reserve
	d.Lines = d.Lines[:0]
	for _, l := range c.lines {
		ol := OrderLine{
			ID: x.shop.newID(), Title: l.title, VariantTitle: l.variantTitle, SKU: l.sku, Quantity: int(l.qty),
			UnitCents: l.unit, RequiresShipping: l.requiresShipping, Taxable: l.taxable,
		}
		if l.v != nil {
			ol.VariantID, ol.ProductID = l.v.ID, l.p.ID
		}
		if l.tax > 0 {
			ol.TaxLines = []OrderTaxLine{{Title: c.rate.Title, Rate: rateString(c.rate), Cents: l.tax}}
		}
		d.Lines = append(d.Lines, ol)
	}
	d.Shipping = nil
	if c.ship != nil {
		sl := &OrderShippingLine{ID: x.shop.newID(), Title: c.ship.Title, Cents: c.shipping}
		if !c.custom {
			sl.Code, sl.Source = c.ship.Handle, "shopify"
		}
		if c.shipTax > 0 {
			sl.TaxLines = []OrderTaxLine{{Title: c.rate.Title, Rate: rateString(c.rate), Cents: c.shipTax}}
		}
		d.Shipping = sl
	}
	d.DiscountCode = ""
	if len(c.appliedCodes) > 0 {
		d.DiscountCode, _ = c.appliedCodes[0].(string)
	}
	d.DiscountCents = c.lineDiscounts + c.orderDiscounts + c.shippingDiscount
	d.SubtotalCents, d.ShippingCents, d.TaxCents = c.subtotal, c.shipping, c.totalTax
	d.TotalCents = c.subtotal + c.shipping + c.totalTax
	d.CustomAttributes = nil
	for _, raw := range anyList(in["customAttributes"]) {
		m, _ := raw.(map[string]any)
		d.CustomAttributes = append(d.CustomAttributes, Attribute{Key: stringArg(m, "key"), Value: stringArg(m, "value")})
	}
	d.Tags, d.SourceName = cleanTags(stringsArg(in, "tags")), stringArg(in, "sourceName")
	return nil
}

// rateString is a tax rate as a decimal fraction, e.g. "0.0725".
func rateString(r TaxRate) string {
	return strconv.FormatFloat(float64(r.PPM)/1e6, 'f', -1, 64)
}

// resolveDraftOrderCreate is draftOrderCreate(input): a draft OPEN, priced,
// holding its stock until reserveInventoryUntil, with an invoice URL on the
// emulator's checkout page.
func resolveDraftOrderCreate(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	in, _ := args["input"].(map[string]any)
	s, now := x.shop, x.e.now()
	d := &DraftOrder{Status: "OPEN", CreatedAt: now, UpdatedAt: now, input: in}
	if errs := x.priceDraft(d, in); errs != nil {
		return map[string]any{"draftOrder": nil, "userErrors": errs}, nil
	}
	s.drafts.nextNumber++
	d.ID, d.Number = s.newID(), s.drafts.nextNumber
	d.Name = "#D" + strconv.Itoa(d.Number)
	d.token = randomHex(16)
	d.InvoiceURL = x.e.checkoutURL(s.domain, d.token)
	s.reserve(d, now)
	s.drafts.drafts = append(s.drafts.drafts, d)
	return map[string]any{"draftOrder": x.draftOrderNode(d), "userErrors": []any{}}, nil
}

// resolveDraftOrderUpdate is draftOrderUpdate(id, input): the fields given
// replace the draft's (null clears one, lineItems replaces every line), the
// others stay; the draft is priced again and its reservation replaced. A
// completed draft cannot change.
func resolveDraftOrderUpdate(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	in, _ := args["input"].(map[string]any)
	s, now := x.shop, x.e.now()
	id, ok := parseGID(stringArg(args, "id"), "DraftOrder")
	d := s.draft(id)
	switch {
	case !ok || d == nil:
		return map[string]any{"draftOrder": nil, "userErrors": []any{draftUserError("Draft order does not exist", "id")}}, nil
	case d.Status == "COMPLETED":
		return map[string]any{"draftOrder": nil, "userErrors": []any{draftUserError("This order has been paid. It can no longer be edited.", "id")}}, nil
	}
	next := d.clone()
	merged := maps.Clone(d.input)
	if merged == nil {
		merged = map[string]any{}
	}
	for k, v := range in {
		if v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	next.input = merged
	if errs := x.priceDraft(&next, merged); errs != nil {
		return map[string]any{"draftOrder": nil, "userErrors": errs}, nil
	}
	s.release(d, now)
	next.UpdatedAt = now
	*d = next
	s.reserve(d, now)
	return map[string]any{"draftOrder": x.draftOrderNode(d), "userErrors": []any{}}, nil
}

// resolveDraftOrderDelete is draftOrderDelete(input: {id}): the draft is
// gone and its stock released.
func resolveDraftOrderDelete(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	in, _ := args["input"].(map[string]any)
	s := x.shop
	id, ok := parseGID(stringArg(in, "id"), "DraftOrder")
	d := s.draft(id)
	if !ok || d == nil {
		return map[string]any{"deletedId": nil, "userErrors": []any{draftUserError("Draft order does not exist", "id")}}, nil
	}
	s.release(d, x.e.now())
	s.drafts.drafts = deleteDraft(s.drafts.drafts, d)
	return map[string]any{"deletedId": d.GID(), "userErrors": []any{}}, nil
}

func deleteDraft(list []*DraftOrder, d *DraftOrder) []*DraftOrder {
	out := list[:0]
	for _, el := range list {
		if el != d {
			out = append(out, el)
		}
	}
	return out
}

// draftOrderNode is the DraftOrder object.
func (x *execution) draftOrderNode(d *DraftOrder) map[string]any {
	var order, completedAt, reserve, shippingLine any
	if d.OrderID != 0 {
		if o := x.shop.order(d.OrderID); o != nil {
			order = x.orderNode(o)
		}
	}
	if !d.CompletedAt.IsZero() {
		completedAt = dateTime(d.CompletedAt)
	}
	if !d.ReserveInventoryUntil.IsZero() {
		reserve = dateTime(d.ReserveInventoryUntil)
	}
	if d.Shipping != nil {
		shippingLine = shippingLineNode(*d.Shipping)
	}
	attrs := make([]any, len(d.CustomAttributes))
	for i, a := range d.CustomAttributes {
		attrs[i] = map[string]any{"key": a.Key, "value": a.Value}
	}
	codes := []any{}
	if d.DiscountCode != "" {
		codes = append(codes, d.DiscountCode)
	}
	tags := make([]any, len(d.Tags))
	for i, t := range d.Tags {
		tags[i] = t
	}
	var qty int
	for _, l := range d.Lines {
		qty += l.Quantity
	}
	lineItemsSubtotal := d.SubtotalCents
	return map[string]any{
		"__typename": "DraftOrder", "id": d.GID(), "legacyResourceId": strconv.FormatInt(d.ID, 10), "name": d.Name,
		"status": d.Status, "invoiceUrl": d.InvoiceURL, "ready": true, "order": order, "completedAt": completedAt,
		"email": nilIfEmpty(d.Email), "currencyCode": shopCurrency, "presentmentCurrencyCode": shopCurrency,
		"reserveInventoryUntil": reserve, "customAttributes": attrs, "tags": tags, "discountCodes": codes,
		"taxesIncluded": false, "taxExempt": false, "totalQuantityOfLineItems": qty, "shippingLine": shippingLine,
		"shippingAddress": x.addressNode(d.ShippingAddress, d.ID+1), "billingAddress": x.addressNode(d.ShippingAddress, d.ID+2),
		"subtotalPriceSet": moneyBag(d.SubtotalCents), "lineItemsSubtotalPrice": moneyBag(lineItemsSubtotal),
		"totalShippingPriceSet": moneyBag(d.ShippingCents), "totalTaxSet": moneyBag(d.TaxCents),
		"totalDiscountsSet": moneyBag(d.DiscountCents), "totalPriceSet": moneyBag(d.TotalCents),
		"totalPrice": formatMoney(d.TotalCents), "subtotalPrice": formatMoney(d.SubtotalCents),
		"totalTax": formatMoney(d.TaxCents), "totalShippingPrice": formatMoney(d.ShippingCents),
		"amountDueNowSet": moneyBag(d.TotalCents), "amountDueLaterSet": moneyBag(0),
		"createdAt": dateTime(d.CreatedAt), "updatedAt": dateTime(d.UpdatedAt),
		"invoiceSentAt": nil, "note2": nil, "phone": nil, "poNumber": nil, "warnings": []any{}, "platformDiscounts": []any{},
		"allowDiscountCodesInCheckout": true, "allVariantPricesOverridden": false, "anyVariantPricesOverridden": false,
		"billingAddressMatchesShippingAddress": true, "hasTimelineComment": false, "visibleToCustomer": false,
		"invoiceEmailTemplateSubject": "Complete your purchase", "marketName": "United States", "marketRegionCountryCode": "US",
		"totalWeight": "0", "taxLines": draftTaxLines(d),
		"lineItems": lazy(func(args map[string]any) (any, error) { return paginate(x.draftLineEdges(d), args, x.bulk) }),
	}
}

// draftLineEdges are the draft's DraftOrderLineItems.
func (x *execution) draftLineEdges(d *DraftOrder) []edgeItem {
	items := make([]edgeItem, len(d.Lines))
	for i := range d.Lines {
		l := d.Lines[i]
		items[i] = edgeItem{id: l.ID, node: func() map[string]any { return x.draftLineNode(l) }}
	}
	return items
}

// draftLineNode is a DraftOrderLineItem. Discounts show at the draft's
// level only.
func (x *execution) draftLineNode(l OrderLine) map[string]any {
	var variant, product, vendor any
	name := l.Title
	if p, v := x.shop.variant(l.VariantID); v != nil {
		variant = lazy(func(map[string]any) (any, error) { return x.variantNode(p, v), nil })
		product = lazy(func(map[string]any) (any, error) { return x.productNode(p), nil })
		vendor = p.Vendor
	}
	if l.VariantTitle != "" && l.VariantTitle != "Default Title" {
		name += " - " + l.VariantTitle
	}
	total := l.UnitCents * int64(l.Quantity)
	taxLines := taxLineNodes(l.TaxLines)
	return map[string]any{
		"__typename": "DraftOrderLineItem", "id": gid("DraftOrderLineItem", l.ID), "uuid": fmt.Sprintf("00000000-0000-4000-8000-%012d", l.ID%1_000_000_000_000),
		"name": name, "title": l.Title, "variantTitle": nilIfEmpty(l.VariantTitle), "sku": nilIfEmpty(l.SKU), "vendor": vendor,
		"quantity": l.Quantity, "custom": l.VariantID == 0, "isGiftCard": false, "requiresShipping": l.RequiresShipping, "taxable": l.Taxable,
		"variant": variant, "product": product, "image": nil, "weight": nil, "fulfillmentService": nil, "appliedDiscount": nil,
		"priceOverride": nil, "originalUnitPriceWithCurrency": nil,
		"originalUnitPriceSet": moneyBag(l.UnitCents), "originalTotalSet": moneyBag(total), "discountedTotalSet": moneyBag(total),
		"approximateDiscountedUnitPriceSet": moneyBag(l.UnitCents), "totalDiscountSet": moneyBag(0),
		"taxLines": taxLines, "components": []any{}, "customAttributes": []any{}, "customAttributesV2": []any{},
	}
}

// draftTaxLines are the draft's taxes as one line per rate title.
func draftTaxLines(d *DraftOrder) []any {
	var all []OrderTaxLine
	for _, l := range d.Lines {
		all = append(all, l.TaxLines...)
	}
	if d.Shipping != nil {
		all = append(all, d.Shipping.TaxLines...)
	}
	if len(all) == 0 {
		return []any{}
	}
	t := all[0] // the emulator taxes a draft at one rate
	t.Cents = d.TaxCents
	return taxLineNodes([]OrderTaxLine{t})
}
