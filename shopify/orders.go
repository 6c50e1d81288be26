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

// This file writes a paid agent order into Shopify with orderCreate and
// reads it back. orderCreate has no idempotency key (docs/shopify.md §4.6),
// so the order carries the checkout session id as its sourceIdentifier:
// before any retry, FindOrderBySource looks for an order already written by
// an attempt whose answer was lost, and only then is CreateOrder called
// again.
//
// orderCreate computes nothing: the lines' prices, the tax lines, the
// shipping line and the discount are written as quoted, and the order's
// total is their sum. Money is decimal strings in the order's currency.

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

// Order is a Shopify order. CreateOrder and FindOrderBySource fill the
// summary; GetOrder adds LineItems, Fulfillments, Refunds and
// Transactions.
type Order struct {
	// ID is the GID, LegacyID the number in it, Name e.g. "#1001".
	ID, LegacyID, Name string
	// StatusPageURL is the buyer's order status page.
	StatusPageURL    string
	SourceIdentifier string
	SourceName       string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Currency         string
	// Total is what the order came to, CurrentTotal after refunds and
	// removals; TotalReceived, TotalRefunded and TotalOutstanding are the
	// money taken, given back and still owed.
	Total, CurrentTotal                            string
	TotalReceived, TotalRefunded, TotalOutstanding string
	// DisplayFinancialStatus is PAID, PARTIALLY_REFUNDED, REFUNDED, …
	DisplayFinancialStatus string
	// DisplayFulfillmentStatus is UNFULFILLED, PARTIALLY_FULFILLED,
	// FULFILLED, RESTOCKED, …
	DisplayFulfillmentStatus string
	// CancelledAt is nil unless cancelled; CancelReason is then CUSTOMER,
	// DECLINED, FRAUD, INVENTORY, OTHER or STAFF.
	CancelledAt  *time.Time
	CancelReason string
	Closed       bool
	Test         bool
	Tags         []string

	// LineItems (the first 50; MoreLineItems when there are more).
	LineItems     []OrderLineItem
	MoreLineItems bool
	Fulfillments  []Fulfillment
	Refunds       []Refund
	// Transactions are the order's payment transactions (sale, refunds).
	Transactions []OrderTransaction
}

// OrderLineItem is a line of an order.
type OrderLineItem struct {
	ID, VariantID            string
	Title, VariantTitle, SKU string
	// Quantity is what was bought, CurrentQuantity after removals,
	// UnfulfilledQuantity what is left to ship.
	Quantity, CurrentQuantity, UnfulfilledQuantity int
	UnitPrice                                      string
}

// Fulfillment is a shipment.
type Fulfillment struct {
	ID, Name string
	// Status is SUCCESS, CANCELLED, ERROR or FAILURE; DisplayStatus the
	// carrier's view (FULFILLED, IN_TRANSIT, DELIVERED, …), "" when none.
	Status, DisplayStatus string
	CreatedAt, UpdatedAt  time.Time
	// DeliveredAt and InTransitAt are nil until the carrier says so.
	DeliveredAt, InTransitAt *time.Time
	Tracking                 []Tracking
	// Lines are the line item ids and quantities shipped.
	Lines []FulfillmentLine
}

// Tracking is a shipment's tracking information; any field may be "".
type Tracking struct {
	Company, Number, URL string
}

// FulfillmentLine is a quantity of a line item.
type FulfillmentLine struct {
	LineItemID string
	Quantity   int
}

// Refund is money given back.
type Refund struct {
	ID        string
	CreatedAt time.Time
	Note      string
	// Total is the amount refunded.
	Total        string
	Transactions []OrderTransaction
	// Lines are the line items refunded (none for an amount-only refund).
	Lines []RefundLine
}

// RefundLine is a refunded quantity of a line item.
type RefundLine struct {
	LineItemID string
	Quantity   int
	Subtotal   string
}

// OrderTransaction is a payment transaction.
type OrderTransaction struct {
	ID string
	// Kind is SALE, CAPTURE, AUTHORIZATION, REFUND, …; Status SUCCESS,
	// PENDING, FAILURE, ERROR, ….
	Kind, Status, Gateway string
	Amount                string
	ProcessedAt           time.Time
}

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

// orderSummary is the fragment every order query selects.
const orderSummary = `fragment OrderSummary on Order {
  id legacyResourceId name statusPageUrl sourceIdentifier sourceName createdAt updatedAt
  currencyCode displayFinancialStatus displayFulfillmentStatus cancelledAt cancelReason closed test tags
  totalPriceSet { shopMoney { amount } } currentTotalPriceSet { shopMoney { amount } }
  totalReceivedSet { shopMoney { amount } } totalRefundedSet { shopMoney { amount } }
  totalOutstandingSet { shopMoney { amount } }
}`

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

// findOrderQuery searches orders by source identifier.
const findOrderQuery = `query FindOrderBySource($query: String!) {
  orders(first: 5, query: $query, sortKey: CREATED_AT) { nodes { ...OrderSummary } }
}
` + orderSummary

// FindOrderBySource returns the order whose sourceIdentifier is id, or nil
// and no error when there is none. It searches orders
// (source_identifier:"id") and keeps only an exact match. Shopify's search
// index trails writes by a few seconds, so an order written moments ago may
// not be found yet: a caller deciding whether to create again should wait
// that long after a failed attempt.
func FindOrderBySource(ctx context.Context, q Querier, shop, id string) (*Order, error) {
	if !sourceIDRe.MatchString(id) {
		return nil, fmt.Errorf("find order: %w: source identifier %q", ErrInvalidOrder, id)
	}
	var resp struct {
		Orders struct {
			Nodes []*orderJSON `json:"nodes"`
		} `json:"orders"`
	}
	vars := map[string]any{"query": `source_identifier:"` + id + `"`}
	if err := q.Query(ctx, shop, findOrderQuery, vars, &resp); err != nil {
		return nil, fmt.Errorf("find order %s: %w", id, err)
	}
	for _, n := range resp.Orders.Nodes {
		if n != nil && n.SourceIdentifier != nil && *n.SourceIdentifier == id {
			return n.order()
		}
	}
	return nil, nil
}

// getOrderQuery reads an order with what an ACP order update needs.
const getOrderQuery = `query GetOrder($id: ID!) {
  order(id: $id) {
    ...OrderSummary
    lineItems(first: 50) {
      nodes {
        id title variantTitle sku quantity currentQuantity unfulfilledQuantity
        variant { id } originalUnitPriceSet { shopMoney { amount } }
      }
      pageInfo { hasNextPage }
    }
    fulfillments(first: 10) {
      id name status displayStatus createdAt updatedAt deliveredAt inTransitAt
      trackingInfo(first: 5) { company number url }
      fulfillmentLineItems(first: 20) { nodes { quantity lineItem { id } } }
    }
    refunds(first: 10) {
      id createdAt note totalRefundedSet { shopMoney { amount } }
      transactions(first: 5) { nodes { ...Tx } }
      refundLineItems(first: 20) { nodes { quantity lineItem { id } subtotalSet { shopMoney { amount } } } }
    }
    transactions(first: 10) { ...Tx }
  }
}
fragment Tx on OrderTransaction { id kind status gateway processedAt amountSet { shopMoney { amount } } }
` + orderSummary

// GetOrder reads an order (a GID) with its line items, fulfillments and
// their tracking, refunds and transactions; nil and no error when the
// order does not exist.
func GetOrder(ctx context.Context, q Querier, shop, id string) (*Order, error) {
	if !strings.HasPrefix(id, "gid://shopify/Order/") {
		return nil, fmt.Errorf("get order: %q is not an Order GID", id)
	}
	var resp struct {
		Order *orderJSON `json:"order"`
	}
	if err := q.Query(ctx, shop, getOrderQuery, map[string]any{"id": id}, &resp); err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, err)
	}
	if resp.Order == nil {
		return nil, nil
	}
	return resp.Order.order()
}

type amountJSON struct {
	ShopMoney struct {
		Amount string `json:"amount"`
	} `json:"shopMoney"`
}

type txJSON struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Gateway     *string    `json:"gateway"`
	ProcessedAt *time.Time `json:"processedAt"`
	AmountSet   amountJSON `json:"amountSet"`
}

func (t txJSON) tx() OrderTransaction {
	out := OrderTransaction{ID: t.ID, Kind: t.Kind, Status: t.Status, Gateway: deref(t.Gateway), Amount: t.AmountSet.ShopMoney.Amount}
	if t.ProcessedAt != nil {
		out.ProcessedAt = *t.ProcessedAt
	}
	return out
}

// orderJSON decodes an order as the queries above select it.
type orderJSON struct {
	ID                       string     `json:"id"`
	LegacyResourceID         string     `json:"legacyResourceId"`
	Name                     string     `json:"name"`
	StatusPageURL            string     `json:"statusPageUrl"`
	SourceIdentifier         *string    `json:"sourceIdentifier"`
	SourceName               *string    `json:"sourceName"`
	CreatedAt                time.Time  `json:"createdAt"`
	UpdatedAt                time.Time  `json:"updatedAt"`
	CurrencyCode             string     `json:"currencyCode"`
	DisplayFinancialStatus   *string    `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string     `json:"displayFulfillmentStatus"`
	CancelledAt              *time.Time `json:"cancelledAt"`
	CancelReason             *string    `json:"cancelReason"`
	Closed                   bool       `json:"closed"`
	Test                     bool       `json:"test"`
	Tags                     []string   `json:"tags"`
	TotalPriceSet            amountJSON `json:"totalPriceSet"`
	CurrentTotalPriceSet     amountJSON `json:"currentTotalPriceSet"`
	TotalReceivedSet         amountJSON `json:"totalReceivedSet"`
	TotalRefundedSet         amountJSON `json:"totalRefundedSet"`
	TotalOutstandingSet      amountJSON `json:"totalOutstandingSet"`
	LineItems                *struct {
		Nodes []struct {
			ID                  string  `json:"id"`
			Title               string  `json:"title"`
			VariantTitle        *string `json:"variantTitle"`
			SKU                 *string `json:"sku"`
			Quantity            int     `json:"quantity"`
			CurrentQuantity     int     `json:"currentQuantity"`
			UnfulfilledQuantity int     `json:"unfulfilledQuantity"`
			Variant             *struct {
				ID string `json:"id"`
			} `json:"variant"`
			OriginalUnitPriceSet amountJSON `json:"originalUnitPriceSet"`
		} `json:"nodes"`
		PageInfo struct {
			HasNextPage bool `json:"hasNextPage"`
		} `json:"pageInfo"`
	} `json:"lineItems"`
	Fulfillments []struct {
		ID            string     `json:"id"`
		Name          string     `json:"name"`
		Status        string     `json:"status"`
		DisplayStatus *string    `json:"displayStatus"`
		CreatedAt     time.Time  `json:"createdAt"`
		UpdatedAt     time.Time  `json:"updatedAt"`
		DeliveredAt   *time.Time `json:"deliveredAt"`
		InTransitAt   *time.Time `json:"inTransitAt"`
		TrackingInfo  []struct {
			Company *string `json:"company"`
			Number  *string `json:"number"`
			URL     *string `json:"url"`
		} `json:"trackingInfo"`
		FulfillmentLineItems struct {
			Nodes []struct {
				Quantity *int `json:"quantity"`
				LineItem struct {
					ID string `json:"id"`
				} `json:"lineItem"`
			} `json:"nodes"`
		} `json:"fulfillmentLineItems"`
	} `json:"fulfillments"`
	Refunds []struct {
		ID               string     `json:"id"`
		CreatedAt        *time.Time `json:"createdAt"`
		Note             *string    `json:"note"`
		TotalRefundedSet amountJSON `json:"totalRefundedSet"`
		Transactions     struct {
			Nodes []txJSON `json:"nodes"`
		} `json:"transactions"`
		RefundLineItems struct {
			Nodes []struct {
				Quantity int `json:"quantity"`
				LineItem struct {
					ID string `json:"id"`
				} `json:"lineItem"`
				SubtotalSet amountJSON `json:"subtotalSet"`
			} `json:"nodes"`
		} `json:"refundLineItems"`
	} `json:"refunds"`
	Transactions []txJSON `json:"transactions"`
}

// order converts the decoded order.
func (o *orderJSON) order() (*Order, error) {
	if !strings.HasPrefix(o.ID, "gid://shopify/Order/") {
		return nil, fmt.Errorf("order has id %q", o.ID)
	}
	out := &Order{
		ID: o.ID, LegacyID: o.LegacyResourceID, Name: o.Name, StatusPageURL: o.StatusPageURL,
		SourceIdentifier: deref(o.SourceIdentifier), SourceName: deref(o.SourceName),
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Currency: o.CurrencyCode,
		Total: o.TotalPriceSet.ShopMoney.Amount, CurrentTotal: o.CurrentTotalPriceSet.ShopMoney.Amount,
		TotalReceived: o.TotalReceivedSet.ShopMoney.Amount, TotalRefunded: o.TotalRefundedSet.ShopMoney.Amount,
		TotalOutstanding:         o.TotalOutstandingSet.ShopMoney.Amount,
		DisplayFinancialStatus:   deref(o.DisplayFinancialStatus),
		DisplayFulfillmentStatus: o.DisplayFulfillmentStatus,
		CancelledAt:              o.CancelledAt, CancelReason: deref(o.CancelReason),
		Closed: o.Closed, Test: o.Test, Tags: o.Tags,
	}
	if li := o.LineItems; li != nil {
		out.MoreLineItems = li.PageInfo.HasNextPage
		for _, n := range li.Nodes {
			l := OrderLineItem{
				ID: n.ID, Title: n.Title, VariantTitle: deref(n.VariantTitle), SKU: deref(n.SKU),
				Quantity: n.Quantity, CurrentQuantity: n.CurrentQuantity, UnfulfilledQuantity: n.UnfulfilledQuantity,
				UnitPrice: n.OriginalUnitPriceSet.ShopMoney.Amount,
			}
			if n.Variant != nil {
				l.VariantID = n.Variant.ID
			}
			out.LineItems = append(out.LineItems, l)
		}
	}
	for _, f := range o.Fulfillments {
		ff := Fulfillment{
			ID: f.ID, Name: f.Name, Status: f.Status, DisplayStatus: deref(f.DisplayStatus),
			CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, DeliveredAt: f.DeliveredAt, InTransitAt: f.InTransitAt,
		}
		for _, t := range f.TrackingInfo {
			ff.Tracking = append(ff.Tracking, Tracking{Company: deref(t.Company), Number: deref(t.Number), URL: deref(t.URL)})
		}
		for _, n := range f.FulfillmentLineItems.Nodes {
			fl := FulfillmentLine{LineItemID: n.LineItem.ID}
			if n.Quantity != nil {
				fl.Quantity = *n.Quantity
			}
			ff.Lines = append(ff.Lines, fl)
		}
		out.Fulfillments = append(out.Fulfillments, ff)
	}
	for _, r := range o.Refunds {
		rr := Refund{ID: r.ID, Note: deref(r.Note), Total: r.TotalRefundedSet.ShopMoney.Amount}
		if r.CreatedAt != nil {
			rr.CreatedAt = *r.CreatedAt
		}
		for _, t := range r.Transactions.Nodes {
			rr.Transactions = append(rr.Transactions, t.tx())
		}
		for _, n := range r.RefundLineItems.Nodes {
			rr.Lines = append(rr.Lines, RefundLine{LineItemID: n.LineItem.ID, Quantity: n.Quantity, Subtotal: n.SubtotalSet.ShopMoney.Amount})
		}
		out.Refunds = append(out.Refunds, rr)
	}
	for _, t := range o.Transactions {
		out.Transactions = append(out.Transactions, t.tx())
	}
	return out, nil
}
