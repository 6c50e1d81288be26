package emulator

import (
	"slices"
	"strings"
	"time"
)

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
