package shopify

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// OrderInput is a paid order for CreateOrder.
type OrderInput struct {
	// SourceIdentifier is the checkout session id, the key FindOrderBySource
	// finds the order by. It is required and limited to letters, digits
	// and _ - . : (at most 255), so it can be searched for exactly.
	SourceIdentifier string
	// SourceName is the order's channel, e.g. the handle of the app's order
	// attribution; "" leaves Shopify's default.
	SourceName string
	// SourceURL links the order to the checkout, "" for none.
	SourceURL string
	// Currency is the order's (the shop's) currency code, e.g. "USD".
	Currency string
	// Lines are the variants bought, at least one.
	Lines []OrderLineInput
	// Shipping is the chosen shipping line, nil when nothing ships.
	Shipping *OrderShippingInput
	// TaxLines are order-level taxes, for when they are not known per line;
	// give them or the lines' and shipping's TaxLines, not both.
	TaxLines []TaxLine
	// TaxesIncluded says the prices already include the taxes.
	TaxesIncluded bool
	// Discount is the discount code applied as quoted, nil for none.
	Discount *OrderDiscountInput
	// Email and Phone are the buyer's contact; Email is where Shopify
	// sends the receipt.
	Email, Phone string
	// ShippingAddress and BillingAddress are nil when not known.
	ShippingAddress, BillingAddress *MailingAddress
	// Customer creates or updates the shop's customer (found by email);
	// nil leaves Shopify to associate one from Email.
	Customer *OrderCustomer
	// BuyerAcceptsMarketing records the buyer's consent to email marketing
	// (orderCreate's buyerAcceptsMarketing: the 2026-10 customer input has
	// no consent field of its own).
	BuyerAcceptsMarketing bool
	// Payment is the captured payment, recorded as a successful SALE.
	Payment OrderPayment
	Tags    []string
	Note    string
	// Attributes are shown under "Additional details" on the order.
	Attributes []OrderAttribute
	// ProcessedAt is when the buyer paid; zero leaves Shopify's now.
	ProcessedAt time.Time
	// Test marks a test order.
	Test bool
	// QuietReceipts turns off Shopify's order confirmation and shipping
	// emails (sendReceipt and sendFulfillmentReceipt, on by default).
	QuietReceipts bool
}

// OrderLineInput is one line of an order.
type OrderLineInput struct {
	// VariantID is a ProductVariant GID.
	VariantID string
	Quantity  int
	// UnitPrice is the price of one unit before discounts, as quoted.
	UnitPrice string
	// RequiresShipping and Taxable are sent as given: orderCreate's
	// defaults (false and true) are not the variant's.
	RequiresShipping, Taxable bool
	// TaxLines are this line's taxes (for the whole quantity).
	TaxLines []TaxLine
}

// OrderShippingInput is the order's shipping line.
type OrderShippingInput struct {
	// Title is shown to the buyer; Code identifies the rate (e.g. the
	// quote's handle), Source its origin (e.g. "shopify"); both may be "".
	Title, Code, Source string
	// Price is before the taxes.
	Price    string
	TaxLines []TaxLine
}

// OrderDiscountInput is a discount code as quoted: Amount off the lines, or
// free shipping.
type OrderDiscountInput struct {
	Code string
	// Amount is the discount on the lines, as quoted; ignored with
	// FreeShipping.
	Amount       string
	FreeShipping bool
}

// OrderCustomer is the buyer as a shop customer.
type OrderCustomer struct {
	Email, Phone        string
	FirstName, LastName string
}

// OrderPayment is the payment taken elsewhere.
type OrderPayment struct {
	// Gateway names the payment provider, e.g. "acpbridge (Stripe)".
	Gateway string
	// Amount is what was charged: the order's total.
	Amount string
	// AuthorizationCode is the processor's reference, e.g. a Stripe
	// PaymentIntent id.
	AuthorizationCode string
}

// OrderAttribute is a custom attribute.
type OrderAttribute struct{ Key, Value string }

// Order creation errors.
var (
	// ErrInvalidOrder is input CreateOrder refuses before sending it.
	ErrInvalidOrder = errors.New("invalid order input")
)

// sourceIDRe is what a SourceIdentifier may hold: nothing that Shopify's
// search syntax would read as an operator.
var sourceIDRe = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,255}$`)

// IsOutOfStock reports whether err is orderCreate refusing to claim
// inventory (INVENTORY_CLAIM_FAILED): a tracked variant that does not
// oversell has too few units left.
func IsOutOfStock(err error) bool {
	var ue *UserErrorsError
	if !errors.As(err, &ue) {
		return false
	}
	for _, e := range ue.Errors {
		if e.Code == "INVENTORY_CLAIM_FAILED" {
			return true
		}
	}
	return false
}

// createOrderMutation is orderCreate with the summary of the new order.
const createOrderMutation = `mutation CreateOrder($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { ...OrderSummary }
    userErrors { field message code }
  }
}
` + orderSummary

// CreateOrder writes a paid order with orderCreate: the lines at their
// quoted prices, the quoted tax lines, shipping line and discount code,
// financial status PAID with one successful SALE transaction of the
// payment, inventory claimed obeying each variant's policy, and Shopify's
// receipts sent unless QuietReceipts. Refused input comes back as a
// *UserErrorsError (IsOutOfStock tells a stock shortage). A transport or
// server failure does not say whether the order was written: look it up
// with FindOrderBySource before trying again.
func CreateOrder(ctx context.Context, q Querier, shop string, in OrderInput) (*Order, error) {
	order, err := orderCreateInput(in)
	if err != nil {
		return nil, fmt.Errorf("create order: %w: %w", ErrInvalidOrder, err)
	}
	options := map[string]any{
		"inventoryBehaviour":     "DECREMENT_OBEYING_POLICY",
		"sendReceipt":            !in.QuietReceipts,
		"sendFulfillmentReceipt": !in.QuietReceipts,
	}
	var resp struct {
		OrderCreate *struct {
			Order      *orderJSON  `json:"order"`
			UserErrors []UserError `json:"userErrors"`
		} `json:"orderCreate"`
	}
	if err := q.Query(ctx, shop, createOrderMutation, map[string]any{"order": order, "options": options}, &resp); err != nil {
		return nil, fmt.Errorf("create order %s: %w", in.SourceIdentifier, err)
	}
	p := resp.OrderCreate
	if p == nil {
		return nil, errors.New("create order: no payload")
	}
	if err := UserErrorsErr("orderCreate", p.UserErrors); err != nil {
		return nil, err
	}
	if p.Order == nil {
		return nil, errors.New("create order: no order")
	}
	return p.Order.order()
}

// orderCreateInput builds OrderCreateOrderInput, checking what Shopify
// would only refuse later or not at all.
func orderCreateInput(in OrderInput) (map[string]any, error) {
	if err := checkOrderInput(in); err != nil {
		return nil, err
	}
	cur := orderCurrency(in.Currency)
	lines, itemTaxes, err := cur.lineItems(in.Lines)
	if err != nil {
		return nil, err
	}
	sale, err := cur.sale(in)
	if err != nil {
		return nil, err
	}
	order := map[string]any{
		"currency":              in.Currency,
		"lineItems":             lines,
		"financialStatus":       "PAID",
		"sourceIdentifier":      in.SourceIdentifier,
		"taxesIncluded":         in.TaxesIncluded,
		"buyerAcceptsMarketing": in.BuyerAcceptsMarketing,
		"test":                  in.Test,
		"transactions":          []any{sale},
	}
	if !in.ProcessedAt.IsZero() {
		at := in.ProcessedAt.UTC().Format(time.RFC3339)
		order["processedAt"], sale["processedAt"] = at, at
	}
	if sh := in.Shipping; sh != nil {
		line, taxed, err := cur.shippingLine(sh)
		if err != nil {
			return nil, err
		}
		itemTaxes = itemTaxes || taxed
		order["shippingLines"] = []any{line}
	}
	if len(in.TaxLines) > 0 {
		if itemTaxes {
			return nil, errors.New("order-level tax lines given with line or shipping tax lines")
		}
		tl, err := cur.taxes("order", in.TaxLines)
		if err != nil {
			return nil, err
		}
		order["taxLines"] = tl
	}
	if d := in.Discount; d != nil {
		dc, err := cur.discountCode(d)
		if err != nil {
			return nil, err
		}
		order["discountCode"] = dc
	}
	if err := setOrderBuyer(order, in); err != nil {
		return nil, err
	}
	if len(in.Tags) > 0 {
		order["tags"] = in.Tags
	}
	if len(in.Attributes) > 0 {
		attrs := make([]any, len(in.Attributes))
		for i, a := range in.Attributes {
			attrs[i] = map[string]any{"key": a.Key, "value": a.Value}
		}
		order["customAttributes"] = attrs
	}
	return order, nil
}

// checkOrderInput refuses an order input missing what every order needs:
// its source identifier, currency, lines and payment gateway.
func checkOrderInput(in OrderInput) error {
	if !sourceIDRe.MatchString(in.SourceIdentifier) {
		return fmt.Errorf("source identifier %q is empty, too long or has characters other than letters, digits and _ - . :", in.SourceIdentifier)
	}
	if len(in.Currency) != 3 || strings.ToUpper(in.Currency) != in.Currency {
		return fmt.Errorf("currency %q is not a currency code", in.Currency)
	}
	if len(in.Lines) == 0 {
		return errors.New("no lines")
	}
	if in.Payment.Gateway == "" {
		return errors.New("no payment gateway")
	}
	return nil
}

// orderCurrency is an order input's currency code; its methods build the
// parts of the input that carry amounts in it.
type orderCurrency string

// money is a MoneyBagInput of amount, refused unless it is a plain
// non-negative decimal (what names it in the error).
func (c orderCurrency) money(what, amount string) (map[string]any, error) {
	if _, ok := new(big.Rat).SetString(amount); !ok || strings.HasPrefix(strings.TrimSpace(amount), "-") || strings.ContainsAny(amount, "eE/") {
		return nil, fmt.Errorf("%s %q is not an amount", what, amount)
	}
	return map[string]any{"shopMoney": map[string]any{"amount": strings.TrimSpace(amount), "currencyCode": string(c)}}, nil
}

// taxes is a list of TaxLineInput (what names the lines in the errors).
func (c orderCurrency) taxes(what string, lines []TaxLine) ([]any, error) {
	out := make([]any, 0, len(lines))
	for i, t := range lines {
		ps, err := c.money(fmt.Sprintf("%s tax line %d", what, i), t.Amount)
		if err != nil {
			return nil, err
		}
		if t.Title == "" || t.RatePercentage < 0 || t.RatePercentage > 100 {
			return nil, fmt.Errorf("%s tax line %d: needs a title and a rate between 0 and 100 %%", what, i)
		}
		out = append(out, map[string]any{"title": t.Title, "rate": percentToRate(t.RatePercentage), "priceSet": ps})
	}
	return out, nil
}

// lineItems is the order's list of OrderCreateLineItemInput, and whether
// any line carries its own tax lines.
func (c orderCurrency) lineItems(in []OrderLineInput) (lines []any, taxed bool, err error) {
	lines = make([]any, len(in))
	for i, l := range in {
		if _, ok := VariantGID(l.VariantID); !ok || !strings.HasPrefix(l.VariantID, "gid://") {
			return nil, false, fmt.Errorf("line %d: %q is not a ProductVariant GID", i, l.VariantID)
		}
		if l.Quantity < 1 {
			return nil, false, fmt.Errorf("line %d: quantity %d", i, l.Quantity)
		}
		ps, err := c.money(fmt.Sprintf("line %d price", i), l.UnitPrice)
		if err != nil {
			return nil, false, err
		}
		tl, err := c.taxes(fmt.Sprintf("line %d", i), l.TaxLines)
		if err != nil {
			return nil, false, err
		}
		taxed = taxed || len(tl) > 0
		lines[i] = map[string]any{
			"variantId": l.VariantID, "quantity": l.Quantity, "priceSet": ps,
			"requiresShipping": l.RequiresShipping, "taxable": l.Taxable, "taxLines": tl,
		}
	}
	return lines, taxed, nil
}

// sale is the order's one transaction: the successful sale of the payment.
func (c orderCurrency) sale(in OrderInput) (map[string]any, error) {
	total, err := c.money("payment amount", in.Payment.Amount)
	if err != nil {
		return nil, err
	}
	sale := map[string]any{
		"kind": "SALE", "status": "SUCCESS", "gateway": in.Payment.Gateway, "amountSet": total, "test": in.Test,
	}
	if in.Payment.AuthorizationCode != "" {
		sale["authorizationCode"] = in.Payment.AuthorizationCode
	}
	return sale, nil
}

// shippingLine is an OrderCreateShippingLineInput, and whether it carries
// tax lines.
func (c orderCurrency) shippingLine(sh *OrderShippingInput) (map[string]any, bool, error) {
	if strings.TrimSpace(sh.Title) == "" {
		return nil, false, errors.New("shipping line has no title")
	}
	ps, err := c.money("shipping price", sh.Price)
	if err != nil {
		return nil, false, err
	}
	tl, err := c.taxes("shipping", sh.TaxLines)
	if err != nil {
		return nil, false, err
	}
	line := map[string]any{"title": sh.Title, "priceSet": ps, "taxLines": tl}
	if sh.Code != "" {
		line["code"] = sh.Code
	}
	if sh.Source != "" {
		line["source"] = sh.Source
	}
	return line, len(tl) > 0, nil
}

// discountCode is an OrderCreateDiscountCodeInput: free shipping, or a
// fixed amount off the items.
func (c orderCurrency) discountCode(d *OrderDiscountInput) (map[string]any, error) {
	switch {
	case strings.TrimSpace(d.Code) == "":
		return nil, errors.New("discount has no code")
	case d.FreeShipping:
		return map[string]any{"freeShippingDiscountCode": map[string]any{"code": d.Code}}, nil
	default:
		amount, err := c.money("discount amount", d.Amount)
		if err != nil {
			return nil, err
		}
		return map[string]any{"itemFixedDiscountCode": map[string]any{"code": d.Code, "amountSet": amount}}, nil
	}
}

// setOrderBuyer sets who bought and from where: the contact and source
// fields given, the addresses and the customer to upsert.
func setOrderBuyer(order map[string]any, in OrderInput) error {
	for k, v := range map[string]string{"email": in.Email, "phone": in.Phone, "sourceName": in.SourceName, "sourceUrl": in.SourceURL, "note": in.Note} {
		if v != "" {
			order[k] = v
		}
	}
	if in.ShippingAddress != nil {
		order["shippingAddress"] = addressInput(in.ShippingAddress)
	}
	if in.BillingAddress != nil {
		order["billingAddress"] = addressInput(in.BillingAddress)
	}
	if c := in.Customer; c != nil {
		if c.Email == "" && c.Phone == "" {
			return errors.New("customer has neither email nor phone")
		}
		up := map[string]any{}
		for k, v := range map[string]string{"email": c.Email, "phone": c.Phone, "firstName": c.FirstName, "lastName": c.LastName} {
			if v != "" {
				up[k] = v
			}
		}
		order["customer"] = map[string]any{"toUpsert": up}
	}
	return nil
}

// addressInput is a MailingAddressInput.
func addressInput(a *MailingAddress) map[string]any {
	addr := map[string]any{}
	for k, v := range map[string]string{
		"firstName": a.FirstName, "lastName": a.LastName, "company": a.Company,
		"address1": a.Address1, "address2": a.Address2, "city": a.City,
		"provinceCode": strings.ToUpper(a.Province), "countryCode": strings.ToUpper(a.Country),
		"zip": a.Zip, "phone": a.Phone,
	} {
		if v != "" {
			addr[k] = v
		}
	}
	return addr
}

// percentToRate turns a percentage (7.25) into the decimal fraction
// orderCreate's tax lines take ("0.0725"), exactly.
func percentToRate(p float64) string {
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(p, 'f', -1, 64))
	r.Quo(r, big.NewRat(100, 1))
	s := strings.TrimRight(r.FloatString(12), "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}
