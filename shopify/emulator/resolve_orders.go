package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// registerOrderResolvers adds orderCreate, orders, order and the Order
// family to node and nodes. It must run after registerNodeResolvers, whose
// node and nodes it extends.
func registerOrderResolvers(r *registry) {
	r.addMutation("orderCreate", "write_orders", resolveOrderCreate)
	r.addQuery("orders", "read_orders", resolveOrders)
	r.addQuery("order", "read_orders", func(x *execution, _ *ast.Field, args map[string]any) (any, error) {
		return x.orderObject(stringArg(args, "id")), nil
	})
	node, nodes := r.query["node"], r.query["nodes"]
	r.addQuery("node", node.scope, func(x *execution, f *ast.Field, args map[string]any) (any, error) {
		if v, ok, err := x.orderFamilyNode(stringArg(args, "id")); ok {
			return v, err
		}
		return node.fn(x, f, args)
	})
	r.addQuery("nodes", nodes.scope, func(x *execution, f *ast.Field, args map[string]any) (any, error) {
		ids := stringsArg(args, "ids")
		out := make([]any, len(ids))
		for i, id := range ids {
			v, ok, err := x.orderFamilyNode(id)
			if !ok {
				v, err = x.nodeByID(id)
			}
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	})
}

// orderFamilyNode resolves a GID of an order or one of its parts; ok is
// false for any other kind. They need read_orders, as on Shopify.
func (x *execution) orderFamilyNode(id string) (any, bool, error) {
	kind := gidKind(id)
	if !slices.Contains([]string{"Order", "LineItem", "Fulfillment", "Refund", "OrderTransaction"}, kind) {
		return nil, false, nil
	}
	if !x.token.hasScope("read_orders") {
		required := "`read_orders` access scope."
		return nil, true, &apiError{msg: "Access denied for node field. Required access: " + required, ext: map[string]any{"code": "ACCESS_DENIED", "requiredAccess": required}}
	}
	n, ok := parseGID(id, kind)
	if !ok {
		return nil, true, nil
	}
	if kind == "Order" {
		return x.orderObject(id), true, nil
	}
	for _, o := range x.shop.orders.orders {
		switch kind {
		case "LineItem":
			if l := o.line(n); l != nil {
				return x.lineItemNode(o, l), true, nil
			}
		case "Fulfillment":
			for i := range o.Fulfillments {
				if o.Fulfillments[i].ID == n {
					return x.fulfillmentNode(o, &o.Fulfillments[i]), true, nil
				}
			}
		case "Refund":
			for i := range o.Refunds {
				if o.Refunds[i].ID == n {
					return x.refundNode(o, &o.Refunds[i]), true, nil
				}
			}
		case "OrderTransaction":
			for i := range o.Transactions {
				if o.Transactions[i].ID == n {
					return x.transactionNode(o, o.Transactions[i]), true, nil
				}
			}
		}
	}
	return nil, true, nil
}

// orderObject is order(id), null for an unknown id.
func (x *execution) orderObject(id string) any {
	n, ok := parseGID(id, "Order")
	if !ok {
		return nil
	}
	if o := x.shop.order(n); o != nil {
		return x.orderNode(o)
	}
	return nil
}

// resolveOrders is orders(first, after, last, before, query, sortKey,
// reverse). Orders younger than the shop's search lag are not found yet.
func resolveOrders(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	terms := parseSearch(stringArg(args, "query"))
	key := stringArg(args, "sortKey")
	now := x.e.now()
	var items []edgeItem
	for _, o := range x.shop.orders.orders {
		if lag := x.shop.orders.searchLag; lag > 0 && now.Before(o.CreatedAt.Add(lag)) {
			continue
		}
		if matchOrder(o, terms) {
			items = append(items, edgeItem{id: o.ID, value: orderSortValue(o, key), node: func() map[string]any { return x.orderNode(o) }})
		}
	}
	sortItems(items)
	return paginate(items, args, x.bulk)
}

// orderInput collects orderCreate's userErrors while reading its input.
type orderInput struct {
	errs []any
}

// fail adds a userError; the field path starts at the order argument.
func (oi *orderInput) fail(code, msg string, field ...string) {
	path := []any{"order"}
	for _, f := range field {
		path = append(path, f)
	}
	oi.errs = append(oi.errs, map[string]any{"field": path, "message": msg, "code": code})
}

// money reads a MoneyBagInput's shop amount in the shop's currency.
func (oi *orderInput) money(m any, field ...string) (int64, bool) {
	bag, _ := m.(map[string]any)
	shopMoney, _ := bag["shopMoney"].(map[string]any)
	if shopMoney == nil {
		oi.fail("INVALID", "Price set can't be blank", field...)
		return 0, false
	}
	cents, err := moneyInput(shopMoney)
	if err != nil {
		oi.fail("INVALID", err.Error(), append(field, "shopMoney")...)
		return 0, false
	}
	return cents, true
}

// taxLines reads [OrderCreateTaxLineInput!]; base is what a rate applies to
// when the tax line has no priceSet.
func (oi *orderInput) taxLines(raw any, base int64, field ...string) []OrderTaxLine {
	list, _ := raw.([]any)
	var out []OrderTaxLine
	for i, el := range list {
		m, _ := el.(map[string]any)
		f := append(slices.Clone(field), "taxLines", strconv.Itoa(i))
		rate, ok := decimalArg(m["rate"])
		if !ok || rate < 0 || rate > 1 {
			oi.fail("TAX_LINE_RATE_MISSING", "Tax line rate must be a decimal between 0 and 1", append(f, "rate")...)
			continue
		}
		t := OrderTaxLine{Title: strings.TrimSpace(stringArg(m, "title")), Rate: strconv.FormatFloat(rate, 'f', -1, 64), ChannelLiable: boolArg(m, "channelLiable")}
		if t.Title == "" {
			oi.fail("INVALID", "Tax line title can't be blank", append(f, "title")...)
			continue
		}
		if ps, given := m["priceSet"]; given && ps != nil {
			cents, ok := oi.money(ps, append(f, "priceSet")...)
			if !ok {
				continue
			}
			t.Cents = cents
		} else {
			t.Cents = int64(math.Round(float64(base) * rate))
		}
		out = append(out, t)
	}
	return out
}

// address reads a MailingAddressInput.
func address(raw any) *Address {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil
	}
	country, province := addressRegion(m)
	return &Address{
		FirstName: stringArg(m, "firstName"), LastName: stringArg(m, "lastName"), Company: stringArg(m, "company"),
		Address1: stringArg(m, "address1"), Address2: stringArg(m, "address2"), City: stringArg(m, "city"),
		Province: province, Country: country, Zip: stringArg(m, "zip"), Phone: stringArg(m, "phone"),
	}
}

// decimalArg reads a Decimal or Float value.
func decimalArg(v any) (float64, bool) {
	switch t := v.(type) {
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	}
	return 0, false
}

// validEmail is the emulator's (loose) email check.
func validEmail(s string) bool {
	return strings.Count(s, "@") == 1 && !strings.ContainsAny(s, " ,;") && !strings.HasPrefix(s, "@") && !strings.HasSuffix(s, "@")
}

// resolveOrderCreate is orderCreate(order, options): it checks the input as
// Shopify does (known variants, quantities, money in the shop's currency,
// one customer input, tax line rates, processedAt not in the future),
// claims inventory per options.inventoryBehaviour (BYPASS by default; with
// DECREMENT_OBEYING_POLICY a tracked DENY variant short of stock fails the
// whole order with INVENTORY_CLAIM_FAILED), and writes the order with the
// next number. Tax is never computed: only the given tax lines count.
func resolveOrderCreate(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	in, _ := args["order"].(map[string]any)
	opts, _ := args["options"].(map[string]any)
	s, now := x.shop, x.e.now()
	oi := &orderInput{}
	refused := func() (any, error) { return map[string]any{"order": nil, "userErrors": oi.errs}, nil }

	// The input is read whole, collecting every userError, in the order
	// Shopify reports them.
	email, processedAt := oi.orderFields(in, now)
	lines := oi.lineItems(s, in)
	shipping := oi.shippingLines(in)
	var linesTotal, shippingTotal int64
	for _, l := range lines {
		linesTotal += l.UnitCents * int64(l.Quantity)
	}
	for _, sl := range shipping {
		shippingTotal += sl.Cents
	}
	orderTax := oi.taxLines(in["taxLines"], linesTotal, "taxLines")
	discount := oi.discountCode(in, linesTotal, shippingTotal)
	txs := oi.transactions(in, processedAt)
	ci := oi.customer(in, email)
	cust := oi.knownCustomer(s, ci)
	if len(oi.errs) > 0 {
		return refused()
	}
	behaviour := orDefault(stringArg(opts, "inventoryBehaviour"), "BYPASS")
	if behaviour == "DECREMENT_OBEYING_POLICY" {
		if oi.checkInventory(s, lines); len(oi.errs) > 0 {
			return refused()
		}
	}

	// Everything checks out: write the order.
	if s.orders.nextNumber == 0 {
		s.orders.nextNumber = 1001
	}
	o := &Order{
		ID: s.newID(), Number: s.orders.nextNumber, Currency: shopCurrency, Email: email, Phone: stringArg(in, "phone"),
		BuyerAcceptsMarketing: boolArg(in, "buyerAcceptsMarketing"),
		ShippingAddress:       address(in["shippingAddress"]), BillingAddress: address(in["billingAddress"]),
		TaxLines: orderTax, TaxesIncluded: boolArg(in, "taxesIncluded"),
		DiscountCode: discount.code, DiscountKind: discount.kind, DiscountCents: discount.cents,
		SourceName: orDefault(stringArg(in, "sourceName"), "shopify_draft_order"), SourceIdentifier: stringArg(in, "sourceIdentifier"),
		SourceURL: stringArg(in, "sourceUrl"), Tags: cleanTags(stringsArg(in, "tags")), Note: stringArg(in, "note"),
		Test: boolArg(in, "test"), InventoryBehaviour: behaviour,
		SendReceipt: boolArg(opts, "sendReceipt"), SendFulfillmentReceipt: boolArg(opts, "sendFulfillmentReceipt"),
		ProcessedAt: processedAt, CreatedAt: now, UpdatedAt: now, token: randomHex(16),
	}
	s.orders.nextNumber++
	o.Name = "#" + strconv.Itoa(o.Number)
	o.StatusPageURL = fmt.Sprintf("https://%s/%d/orders/%s/authenticate?key=%s", s.domain, s.id, o.token, randomHex(16))
	for _, raw := range anyList(in["customAttributes"]) {
		m, _ := raw.(map[string]any)
		o.CustomAttributes = append(o.CustomAttributes, Attribute{Key: stringArg(m, "key"), Value: stringArg(m, "value")})
	}
	s.addOrderRows(o, lines, shipping, txs)
	setOrderTotals(o, linesTotal, shippingTotal, discount)
	o.FinancialStatus = stringArg(in, "financialStatus")
	if o.FinancialStatus == "" {
		o.FinancialStatus = derivedFinancialStatus(o)
	}
	if ci != nil {
		s.setOrderCustomer(o, ci, cust, now)
	}

	// Claim the stock and tell the app, once this request is answered.
	var hooks []webhook
	if behaviour != "BYPASS" {
		hooks = s.claimInventory(o, now)
	}
	s.orders.orders = append(s.orders.orders, o)
	x.e.notifyAfter(s.domain, hooks)
	return map[string]any{"order": x.orderNode(o), "userErrors": []any{}}, nil
}

// orderFields checks the order's currencies, its one customer input and
// its email, and returns the email and when the order was processed (now
// unless processedAt says so).
func (oi *orderInput) orderFields(in map[string]any, now time.Time) (email string, processedAt time.Time) {
	for _, name := range []string{"currency", "presentmentCurrency"} {
		if c := stringArg(in, name); c != "" && c != shopCurrency {
			oi.fail("INVALID", "Currency must be the shop currency "+shopCurrency, name)
		}
	}
	if in["customerId"] != nil && in["customer"] != nil {
		oi.fail("REDUNDANT_CUSTOMER_FIELDS", "Only one of customerId and customer can be given", "customer")
	}
	email = strings.TrimSpace(stringArg(in, "email"))
	if email != "" && !validEmail(email) {
		oi.fail("INVALID", "Email is invalid", "email")
	}
	processedAt = now
	if p := stringArg(in, "processedAt"); p != "" {
		t, err := time.Parse(time.RFC3339, p)
		switch {
		case err != nil:
			oi.fail("PROCESSED_AT_INVALID", "Processed at is invalid", "processedAt")
		case t.After(now):
			oi.fail("PROCESSED_AT_INVALID", "Processed at can't be in the future", "processedAt")
		default:
			processedAt = t
		}
	}
	return email, processedAt
}

// lineItems reads the order's lines, of a variant of the shop or custom
// (a title and a price); the lines in error are left out.
func (oi *orderInput) lineItems(s *shopState, in map[string]any) []OrderLine {
	items, _ := in["lineItems"].([]any)
	if len(items) == 0 {
		oi.fail("INVALID", "Line items must have at least one line item", "lineItems")
	}
	lines := make([]OrderLine, 0, len(items))
	for i, raw := range items {
		item, _ := raw.(map[string]any)
		if l, ok := oi.lineItem(s, item, strconv.Itoa(i)); ok {
			lines = append(lines, l)
		}
	}
	return lines
}

// lineItem reads the line at index idx.
func (oi *orderInput) lineItem(s *shopState, item map[string]any, idx string) (OrderLine, bool) {
	qty, _ := intArg(item, "quantity")
	if qty < 1 {
		oi.fail("INVALID", "Quantity must be greater than or equal to 1", "lineItems", idx, "quantity")
		return OrderLine{}, false
	}
	// requiresShipping and taxable are the input's, with the schema's
	// defaults (false and true), not the variant's: callers send both.
	l := OrderLine{Quantity: qty, Taxable: optBool(item, "taxable", true), RequiresShipping: boolArg(item, "requiresShipping")}
	if vid := stringArg(item, "variantId"); vid != "" {
		n, ok := parseGID(vid, "ProductVariant")
		var p *Product
		var v *Variant
		if ok {
			p, v = s.variant(n)
		}
		if v == nil {
			oi.fail("INVALID", "Variant "+strings.TrimPrefix(vid, "gid://shopify/ProductVariant/")+" does not exist", "lineItems", idx, "variantId")
			return OrderLine{}, false
		}
		l.VariantID, l.ProductID = v.ID, p.ID
		l.Title, l.VariantTitle, l.SKU, l.UnitCents = p.Title, v.Title, v.SKU, v.PriceCents
	} else {
		l.Title = strings.TrimSpace(stringArg(item, "title"))
		if l.Title == "" {
			oi.fail("INVALID", "Title can't be blank for a line item without a variant", "lineItems", idx, "title")
			return OrderLine{}, false
		}
		if item["priceSet"] == nil {
			oi.fail("INVALID", "Price set can't be blank for a line item without a variant", "lineItems", idx, "priceSet")
			return OrderLine{}, false
		}
	}
	if t := stringArg(item, "title"); t != "" {
		l.Title = t
	}
	if t := stringArg(item, "variantTitle"); t != "" {
		l.VariantTitle = t
	}
	if t := stringArg(item, "sku"); t != "" {
		l.SKU = t
	}
	if ps := item["priceSet"]; ps != nil {
		cents, ok := oi.money(ps, "lineItems", idx, "priceSet")
		if !ok {
			return OrderLine{}, false
		}
		l.UnitCents = cents
	}
	l.TaxLines = oi.taxLines(item["taxLines"], l.UnitCents*int64(l.Quantity), "lineItems", idx)
	return l, true
}

// shippingLines reads the order's shipping lines; those in error are left
// out.
func (oi *orderInput) shippingLines(in map[string]any) []OrderShippingLine {
	var shipping []OrderShippingLine
	for i, raw := range anyList(in["shippingLines"]) {
		m, _ := raw.(map[string]any)
		idx := strconv.Itoa(i)
		sl := OrderShippingLine{Title: strings.TrimSpace(stringArg(m, "title")), Code: stringArg(m, "code"), Source: stringArg(m, "source")}
		if sl.Title == "" {
			oi.fail("INVALID", "Shipping line title can't be blank", "shippingLines", idx, "title")
			continue
		}
		cents, ok := oi.money(m["priceSet"], "shippingLines", idx, "priceSet")
		if !ok {
			continue
		}
		sl.Cents = cents
		sl.TaxLines = oi.taxLines(m["taxLines"], cents, "shippingLines", idx)
		shipping = append(shipping, sl)
	}
	return shipping
}

// discountCodeInput is the order's discount code, of kind FIXED_AMOUNT,
// PERCENTAGE or FREE_SHIPPING, and the amount it takes off.
type discountCodeInput struct {
	code, kind string
	cents      int64
}

// discountCode reads the order's discount code, one of three kinds: a fixed
// amount or a percentage off the lines (at most their total), or the
// shipping.
func (oi *orderInput) discountCode(in map[string]any, linesTotal, shippingTotal int64) discountCodeInput {
	var d discountCodeInput
	dc, ok := in["discountCode"].(map[string]any)
	if !ok {
		return d
	}
	given := 0
	if m, ok := dc["itemFixedDiscountCode"].(map[string]any); ok {
		given++
		d.code, d.kind = stringArg(m, "code"), "FIXED_AMOUNT"
		if cents, ok := oi.money(m["amountSet"], "discountCode", "itemFixedDiscountCode", "amountSet"); ok {
			d.cents = min(cents, linesTotal)
		}
	}
	if m, ok := dc["itemPercentageDiscountCode"].(map[string]any); ok {
		given++
		d.code, d.kind = stringArg(m, "code"), "PERCENTAGE"
		pct, _ := floatArg(m, "percentage")
		if pct < 0 || pct > 100 {
			oi.fail("INVALID", "Percentage must be between 0 and 100", "discountCode", "itemPercentageDiscountCode", "percentage")
		}
		d.cents = min(int64(math.Round(float64(linesTotal)*pct/100)), linesTotal)
	}
	if m, ok := dc["freeShippingDiscountCode"].(map[string]any); ok {
		given++
		d.code, d.kind, d.cents = stringArg(m, "code"), "FREE_SHIPPING", shippingTotal
	}
	if given > 1 {
		oi.fail("INVALID", "Only one discount code can be applied to an order", "discountCode")
	}
	if strings.TrimSpace(d.code) == "" && given > 0 {
		oi.fail("INVALID", "Discount code can't be blank", "discountCode")
	}
	return d
}

// transactions reads the order's transactions (SALE, AUTHORIZATION or
// CAPTURE, of a positive amount); those in error are left out.
func (oi *orderInput) transactions(in map[string]any, processedAt time.Time) []OrderTransaction {
	var txs []OrderTransaction
	for i, raw := range anyList(in["transactions"]) {
		m, _ := raw.(map[string]any)
		idx := strconv.Itoa(i)
		cents, ok := oi.money(m["amountSet"], "transactions", idx, "amountSet")
		if !ok {
			continue
		}
		if cents <= 0 {
			oi.fail("INVALID", "Amount must be greater than 0", "transactions", idx, "amountSet")
			continue
		}
		t := OrderTransaction{
			Kind: orDefault(stringArg(m, "kind"), "SALE"), Status: orDefault(stringArg(m, "status"), "SUCCESS"),
			Gateway: orDefault(stringArg(m, "gateway"), "manual"), AuthorizationCode: stringArg(m, "authorizationCode"),
			AmountCents: cents, Test: boolArg(m, "test"), ProcessedAt: processedAt,
		}
		if p := stringArg(m, "processedAt"); p != "" {
			if pt, err := time.Parse(time.RFC3339, p); err == nil {
				t.ProcessedAt = pt
			}
		}
		if !slices.Contains([]string{"SALE", "AUTHORIZATION", "CAPTURE"}, t.Kind) {
			oi.fail("INVALID", "Transaction kind must be SALE, AUTHORIZATION or CAPTURE for a new order", "transactions", idx, "kind")
			continue
		}
		txs = append(txs, t)
	}
	return txs
}

// customerInput is who the order is for: a customer to associate (by ID or
// email) or one to upsert; context names the input it came from.
type customerInput struct {
	id                                 int64
	email, phone, first, last, context string
	associate                          bool
}

// customer reads who the order is for: customerId, customer.toAssociate
// or customer.toUpsert, else the order's email; nil when none is given.
func (oi *orderInput) customer(in map[string]any, email string) *customerInput {
	if cid := stringArg(in, "customerId"); cid != "" {
		n, _ := parseGID(cid, "Customer")
		return &customerInput{id: n, associate: true, context: "customerId"}
	}
	if c, ok := in["customer"].(map[string]any); ok {
		switch {
		case c["toAssociate"] != nil && c["toUpsert"] != nil:
			oi.fail("INVALID", "Only one of toAssociate and toUpsert can be given", "customer")
		case c["toAssociate"] != nil:
			m, _ := c["toAssociate"].(map[string]any)
			n, _ := parseGID(stringArg(m, "id"), "Customer")
			return &customerInput{id: n, email: stringArg(m, "email"), associate: true, context: "toAssociate"}
		case c["toUpsert"] != nil:
			m, _ := c["toUpsert"].(map[string]any)
			n, _ := parseGID(stringArg(m, "id"), "Customer")
			ci := &customerInput{id: n, email: strings.TrimSpace(stringArg(m, "email")), phone: stringArg(m, "phone"),
				first: stringArg(m, "firstName"), last: stringArg(m, "lastName"), context: "toUpsert"}
			if ci.email != "" && !validEmail(ci.email) {
				oi.fail("INVALID", "Email is invalid", "customer", "toUpsert", "email")
			}
			return ci
		}
		return nil
	}
	if email != "" {
		return &customerInput{email: email, phone: stringArg(in, "phone")}
	}
	return nil
}

// knownCustomer is the existing customer the input names (by ID, or by
// email when associating), refusing one that does not exist; nil when the
// input names none.
func (oi *orderInput) knownCustomer(s *shopState, ci *customerInput) *Customer {
	if ci == nil || (!ci.associate && ci.id == 0) {
		return nil
	}
	var cust *Customer
	if ci.id != 0 {
		cust = s.customerByID(ci.id)
	} else {
		cust = s.customerByEmail(ci.email)
	}
	if cust == nil {
		oi.fail("INVALID", "Customer does not exist", "customer", ci.context)
	}
	return cust
}

// checkInventory refuses, once per variant, the tracked DENY variants the
// lines need more of than is in stock (DECREMENT_OBEYING_POLICY).
func (oi *orderInput) checkInventory(s *shopState, lines []OrderLine) {
	need := map[int64]int{}
	for _, l := range lines {
		need[l.VariantID] += l.Quantity
	}
	for i, l := range lines {
		p, v := s.variant(l.VariantID)
		if v != nil && v.Tracked && v.InventoryPolicy == "DENY" && need[v.ID] > v.InventoryQuantity {
			oi.fail("INVENTORY_CLAIM_FAILED", fmt.Sprintf("Unable to reserve inventory: %d of %s available", max(v.InventoryQuantity, 0), p.Title+" - "+v.Title), "lineItems", strconv.Itoa(i), "quantity")
			need[v.ID] = -1 << 30 // one error per variant
		}
	}
}

// addOrderRows adds the lines, shipping lines and transactions to o, each
// with a new ID.
func (s *shopState) addOrderRows(o *Order, lines []OrderLine, shipping []OrderShippingLine, txs []OrderTransaction) {
	for _, l := range lines {
		l.ID = s.newID()
		o.Lines = append(o.Lines, l)
	}
	for _, sl := range shipping {
		sl.ID = s.newID()
		o.ShippingLines = append(o.ShippingLines, sl)
	}
	for _, t := range txs {
		t.ID = s.newID()
		o.Transactions = append(o.Transactions, t)
	}
}

// setOrderTotals sets o's tax (the lines' and shipping's tax lines, else
// the order's), subtotal, shipping and total, the discount taken off the
// shipping or the subtotal.
func setOrderTotals(o *Order, linesTotal, shippingTotal int64, d discountCodeInput) {
	var lineTax int64
	for _, l := range o.Lines {
		lineTax += l.TaxCents()
	}
	for _, sl := range o.ShippingLines {
		lineTax += sumTax(sl.TaxLines)
	}
	o.TaxCents = lineTax
	if lineTax == 0 {
		o.TaxCents = sumTax(o.TaxLines)
	}
	o.SubtotalCents = linesTotal
	o.ShippingCents = shippingTotal
	if d.kind == "FREE_SHIPPING" {
		o.ShippingCents -= d.cents
	} else {
		o.SubtotalCents -= d.cents
	}
	o.TotalCents = o.SubtotalCents + o.ShippingCents
	if !o.TaxesIncluded {
		o.TotalCents += o.TaxCents
	}
}

// setOrderCustomer gives o its customer: the known one, else the one with
// the input's email, else a new one when the input has an email or phone;
// the input's names and phone update it, and o takes a copy.
func (s *shopState) setOrderCustomer(o *Order, ci *customerInput, cust *Customer, now time.Time) {
	if cust == nil {
		cust = s.customerByEmail(ci.email)
	}
	if cust == nil && (ci.email != "" || ci.phone != "") {
		cust = &Customer{Email: ci.email, CreatedAt: now}
		cust.ID = customerID(ci.email)
		if ci.email == "" {
			cust.ID = s.newID()
		}
		s.orders.customers = append(s.orders.customers, cust)
	}
	if cust == nil {
		return
	}
	cust.FirstName = orDefault(ci.first, cust.FirstName)
	cust.LastName = orDefault(ci.last, cust.LastName)
	cust.Phone = orDefault(ci.phone, cust.Phone)
	if a := o.ShippingAddress; a != nil && cust.FirstName == "" && cust.LastName == "" {
		cust.FirstName, cust.LastName = a.FirstName, a.LastName
	}
	if o.BuyerAcceptsMarketing {
		cust.AcceptsEmailMarketing = true
	}
	cust.UpdatedAt = now
	c := *cust
	o.Customer = &c
	if o.Email == "" {
		o.Email = cust.Email
	}
}

// claimInventory takes o's lines out of the stock of their tracked
// variants and returns the inventory webhooks to send.
func (s *shopState) claimInventory(o *Order, now time.Time) []webhook {
	var hooks []webhook
	for _, l := range o.Lines {
		if p, v := s.variant(l.VariantID); v != nil && v.Tracked {
			v.InventoryQuantity -= l.Quantity
			v.UpdatedAt, p.UpdatedAt = now, now
			hooks = append(hooks, webhook{"inventory_levels/update", inventoryLevelPayload(s, v, now)})
		}
	}
	return hooks
}

// derivedFinancialStatus is the status Shopify derives from the
// transactions when orderCreate is given none.
func derivedFinancialStatus(o *Order) string {
	var authorized int64
	for _, t := range o.Transactions {
		if t.Status == "SUCCESS" && t.Kind == "AUTHORIZATION" {
			authorized += t.AmountCents
		}
	}
	switch received := o.ReceivedCents(); {
	case received > 0 && received >= o.TotalCents:
		return "PAID"
	case received > 0:
		return "PARTIALLY_PAID"
	case authorized > 0:
		return "AUTHORIZED"
	}
	return "PENDING"
}

// cleanTags trims tags and drops empty and repeated ones.
func cleanTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !slices.ContainsFunc(out, func(s string) bool { return strings.EqualFold(s, t) }) {
			out = append(out, t)
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

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
