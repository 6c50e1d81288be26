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
	if ci != nil && ci.context == "toUpsert" && !x.token.hasScope(scopeWriteCustomers) {
		// Writing a customer takes the customers scope (scopes.go).
		return nil, accessDenied("orderCreate", scopeWriteCustomers)
	}
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

	// Claim the stock and tell the app, once this request is answered:
	// as Shopify does for every order however it was made, orders/create,
	// and orders/paid when it was created paid.
	var hooks []webhook
	if behaviour != "BYPASS" {
		hooks = s.claimInventory(o, now)
	}
	s.orders.orders = append(s.orders.orders, o)
	hooks = append(hooks, webhook{"orders/create", orderPayload(s, o)})
	if o.FinancialStatus == "PAID" {
		hooks = append(hooks, webhook{"orders/paid", orderPayload(s, o)})
	}
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
