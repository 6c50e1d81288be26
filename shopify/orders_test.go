package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// decimal writes cents as "12.34".
func decimal(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// orderFromQuote turns a draftOrderCalculate quote into the order the app
// writes after the payment: the quoted unit prices, each line's share of
// the item tax, the shipping line with its tax, the discount code's amount
// and a payment of the quoted total.
func orderFromQuote(t *testing.T, q *shopify.DraftQuote, sourceID string) shopify.OrderInput {
	t.Helper()
	shares, err := q.LineTaxes(2)
	if err != nil {
		t.Fatalf("LineTaxes: %v", err)
	}
	in := shopify.OrderInput{
		SourceIdentifier: sourceID, SourceName: "acpbridge", Currency: q.Currency, TaxesIncluded: q.TaxesIncluded,
		Payment: shopify.OrderPayment{Gateway: "acpbridge (Stripe)", Amount: q.TotalPrice, AuthorizationCode: "pi_" + sourceID},
	}
	for i, l := range q.Lines {
		ol := shopify.OrderLineInput{VariantID: l.VariantID, Quantity: l.Quantity, UnitPrice: l.UnitPrice, RequiresShipping: l.RequiresShipping, Taxable: l.Taxable}
		if shares[i] > 0 {
			tl := q.TaxLines[0]
			ol.TaxLines = []shopify.TaxLine{{Title: tl.Title, RatePercentage: tl.RatePercentage, Amount: decimal(shares[i])}}
		}
		in.Lines = append(in.Lines, ol)
	}
	if s := q.Shipping; s != nil {
		in.Shipping = &shopify.OrderShippingInput{Title: s.Title, Code: s.Handle, Source: "shopify", Price: s.DiscountedPrice, TaxLines: s.TaxLines}
	}
	for _, d := range q.Discounts {
		if d.Code != "" {
			in.Discount = &shopify.OrderDiscountInput{Code: d.Code, Amount: d.Amount}
		}
	}
	return in
}

// quoteFor prices a cart in California with SAVE5 and Standard shipping.
func (env *pricingEnv) quoteFor(t *testing.T, lines ...shopify.DraftLine) *shopify.DraftQuote {
	t.Helper()
	ctx := context.Background()
	in := shopify.DraftOrderInput{
		Lines:           lines,
		Email:           "buyer@example.com",
		ShippingAddress: &shopify.MailingAddress{FirstName: "Ada", LastName: "Buyer", Address1: "1 Market St", City: "San Francisco", Province: "CA", Country: "US", Zip: "94105"},
		DiscountCodes:   []string{"SAVE5"},
	}
	q, err := shopify.CalculateDraftOrder(ctx, env.q, pricingShop, in)
	if err != nil {
		t.Fatalf("CalculateDraftOrder: %v", err)
	}
	if len(q.ShippingRates) > 0 {
		in.ShippingRateHandle = q.ShippingRates[0].Handle
		if q, err = shopify.CalculateDraftOrder(ctx, env.q, pricingShop, in); err != nil {
			t.Fatalf("CalculateDraftOrder: %v", err)
		}
	}
	return q
}

func TestCreateOrderFromQuote(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	shirt, ebook := env.shirt(0), env.ebook()
	q := env.quoteFor(t, shopify.DraftLine{VariantID: shirt.GID(), Quantity: 2}, shopify.DraftLine{VariantID: ebook.GID(), Quantity: 1})
	if q.Shipping == nil || len(q.Discounts) == 0 || cents(t, q.TotalTax) == 0 {
		t.Fatalf("quote has no shipping, discount or tax: %+v", q)
	}
	in := orderFromQuote(t, q, "cs_quote_1")
	in.Email, in.Phone = "buyer@example.com", "+14155550100"
	in.ShippingAddress = &shopify.MailingAddress{FirstName: "Ada", LastName: "Buyer", Address1: "1 Market St", City: "San Francisco", Province: "CA", Country: "US", Zip: "94105"}
	in.Customer = &shopify.OrderCustomer{Email: "buyer@example.com", FirstName: "Ada", LastName: "Buyer"}
	in.BuyerAcceptsMarketing = true
	in.Tags = []string{"acp", "agent:chatgpt"}
	in.Note = "Ordered through ChatGPT"
	in.Attributes = []shopify.OrderAttribute{{Key: "acp_checkout_session", Value: "cs_quote_1"}}
	in.SourceURL = "https://acpbridge.example.com/checkouts/cs_quote_1"

	o, err := shopify.CreateOrder(ctx, env.q, pricingShop, in)
	if err != nil {
		t.Fatalf("CreateOrder: %v", err)
	}
	if !strings.HasPrefix(o.ID, "gid://shopify/Order/") || o.LegacyID == "" || !strings.HasSuffix(o.ID, "/"+o.LegacyID) || o.Name != "#1001" {
		t.Errorf("ids: %q %q %q", o.ID, o.LegacyID, o.Name)
	}
	if !strings.HasPrefix(o.StatusPageURL, "https://"+pricingShop+"/") || !strings.Contains(o.StatusPageURL, "/orders/") || !strings.Contains(o.StatusPageURL, "authenticate?key=") {
		t.Errorf("status page %q", o.StatusPageURL)
	}
	// Shopify's total is the quote's: prices, discount, shipping and tax
	// written as quoted add up to what the buyer paid.
	if cents(t, o.Total) != cents(t, q.TotalPrice) || cents(t, o.TotalReceived) != cents(t, q.TotalPrice) || cents(t, o.TotalOutstanding) != 0 {
		t.Errorf("total %s received %s outstanding %s, quote %s", o.Total, o.TotalReceived, o.TotalOutstanding, q.TotalPrice)
	}
	if o.DisplayFinancialStatus != "PAID" || o.DisplayFulfillmentStatus != "UNFULFILLED" || o.Currency != "USD" ||
		o.SourceIdentifier != "cs_quote_1" || o.SourceName != "acpbridge" || o.CancelledAt != nil || o.CreatedAt.IsZero() {
		t.Errorf("order %+v", o)
	}

	got := env.emu.Orders(pricingShop)
	if len(got) != 1 {
		t.Fatalf("%d orders in the shop, want 1", len(got))
	}
	eo := got[0]
	if len(eo.Transactions) != 1 {
		t.Fatalf("transactions %+v", eo.Transactions)
	}
	tx := eo.Transactions[0]
	if tx.Kind != "SALE" || tx.Status != "SUCCESS" || tx.Gateway != "acpbridge (Stripe)" || tx.AuthorizationCode != "pi_cs_quote_1" || tx.AmountCents != cents(t, q.TotalPrice) {
		t.Errorf("transaction %+v", tx)
	}
	if eo.InventoryBehaviour != "DECREMENT_OBEYING_POLICY" || !eo.SendReceipt || !eo.SendFulfillmentReceipt {
		t.Errorf("options %s %v %v", eo.InventoryBehaviour, eo.SendReceipt, eo.SendFulfillmentReceipt)
	}
	if eo.DiscountCode != "SAVE5" || eo.DiscountCents != 500 || eo.ShippingLines[0].Code != q.Shipping.Handle || eo.TaxCents != cents(t, q.TotalTax) {
		t.Errorf("discount %s %d, shipping %+v, tax %d", eo.DiscountCode, eo.DiscountCents, eo.ShippingLines, eo.TaxCents)
	}
	if l := eo.Lines[0]; l.Quantity != 2 || l.UnitCents != shirt.PriceCents || !l.RequiresShipping || len(l.TaxLines) != 1 || l.TaxLines[0].Rate != "0.0725" {
		t.Errorf("line 0 %+v", l)
	}
	if l := eo.Lines[1]; l.RequiresShipping || !l.Taxable {
		t.Errorf("e-book line %+v", l)
	}
	if c := eo.Customer; c == nil || c.Email != "buyer@example.com" || c.FirstName != "Ada" || !c.AcceptsEmailMarketing {
		t.Errorf("customer %+v", c)
	}
	if eo.ShippingAddress == nil || eo.ShippingAddress.Province != "CA" || eo.Note != in.Note || len(eo.Tags) != 2 ||
		eo.SourceURL != in.SourceURL || len(eo.CustomAttributes) != 1 {
		t.Errorf("order details %+v", eo)
	}
	// Stock was claimed for the tracked shirt only.
	after := env.emu.Products(pricingShop)
	if got, want := after[0].Variants[0].InventoryQuantity, shirt.InventoryQuantity-2; got != want {
		t.Errorf("shirt stock %d, want %d", got, want)
	}
}

func TestCreateOrderOutOfStock(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	l := env.shirt(2) // 2 left, DENY
	in := shopify.OrderInput{
		SourceIdentifier: "cs_short", Currency: "USD",
		Lines:   []shopify.OrderLineInput{{VariantID: l.GID(), Quantity: 3, UnitPrice: decimal(l.PriceCents), RequiresShipping: true, Taxable: true}},
		Payment: shopify.OrderPayment{Gateway: "acpbridge (Stripe)", Amount: decimal(3 * l.PriceCents)},
	}
	_, err := shopify.CreateOrder(ctx, env.q, pricingShop, in)
	var ue *shopify.UserErrorsError
	if !shopify.IsOutOfStock(err) || !errors.As(err, &ue) || ue.Op != "orderCreate" {
		t.Fatalf("err = %v, want an out-of-stock user error", err)
	}
	if n := len(env.emu.Orders(pricingShop)); n != 0 {
		t.Errorf("%d orders written", n)
	}
	if got := env.emu.Products(pricingShop)[0].Variants[2].InventoryQuantity; got != 2 {
		t.Errorf("stock %d, want 2 (untouched)", got)
	}
	// Two fit.
	in.Lines[0].Quantity, in.Payment.Amount = 2, decimal(2*l.PriceCents)
	if _, err := shopify.CreateOrder(ctx, env.q, pricingShop, in); err != nil {
		t.Fatalf("CreateOrder of what is left: %v", err)
	}
	if shopify.IsOutOfStock(errors.New("other")) || shopify.IsOutOfStock(nil) {
		t.Error("IsOutOfStock of other errors")
	}
}

func TestCreateOrderRefused(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	s := env.shirt(0)
	valid := func() shopify.OrderInput {
		return shopify.OrderInput{
			SourceIdentifier: "cs_refused", Currency: "USD",
			Lines:   []shopify.OrderLineInput{{VariantID: s.GID(), Quantity: 1, UnitPrice: decimal(s.PriceCents), RequiresShipping: true, Taxable: true}},
			Payment: shopify.OrderPayment{Gateway: "acpbridge (Stripe)", Amount: decimal(s.PriceCents)},
		}
	}
	tax := []shopify.TaxLine{{Title: "Tax", RatePercentage: 5, Amount: "1.00"}}
	tests := []struct {
		name  string
		edit  func(*shopify.OrderInput)
		local bool // refused before sending
	}{
		{"no source identifier", func(in *shopify.OrderInput) { in.SourceIdentifier = "" }, true},
		{"source identifier with a quote", func(in *shopify.OrderInput) { in.SourceIdentifier = `cs_"x` }, true},
		{"no lines", func(in *shopify.OrderInput) { in.Lines = nil }, true},
		{"bare variant id", func(in *shopify.OrderInput) { in.Lines[0].VariantID = "123" }, true},
		{"zero quantity", func(in *shopify.OrderInput) { in.Lines[0].Quantity = 0 }, true},
		{"bad price", func(in *shopify.OrderInput) { in.Lines[0].UnitPrice = "1e3" }, true},
		{"negative payment", func(in *shopify.OrderInput) { in.Payment.Amount = "-1.00" }, true},
		{"no gateway", func(in *shopify.OrderInput) { in.Payment.Gateway = "" }, true},
		{"lower-case currency", func(in *shopify.OrderInput) { in.Currency = "usd" }, true},
		{"order and line taxes", func(in *shopify.OrderInput) { in.Lines[0].TaxLines, in.TaxLines = tax, tax }, true},
		{"discount without code", func(in *shopify.OrderInput) { in.Discount = &shopify.OrderDiscountInput{Amount: "1.00"} }, true},
		{"customer without contact", func(in *shopify.OrderInput) { in.Customer = &shopify.OrderCustomer{FirstName: "A"} }, true},
		{"unknown variant", func(in *shopify.OrderInput) { in.Lines[0].VariantID = "gid://shopify/ProductVariant/999" }, false},
		{"foreign currency", func(in *shopify.OrderInput) { in.Currency = "EUR" }, false},
		{"bad email", func(in *shopify.OrderInput) { in.Email = "not an email" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			_, err := shopify.CreateOrder(ctx, env.q, pricingShop, in)
			var ue *shopify.UserErrorsError
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tt.local && !errors.Is(err, shopify.ErrInvalidOrder):
				t.Errorf("err = %v, want ErrInvalidOrder", err)
			case !tt.local && !errors.As(err, &ue):
				t.Errorf("err = %v, want Shopify's user errors", err)
			case shopify.IsOutOfStock(err) || shopify.IsRetryable(err):
				t.Errorf("err = %v classified as out of stock or retryable", err)
			}
		})
	}
	if n := len(env.emu.Orders(pricingShop)); n != 0 {
		t.Errorf("%d orders written", n)
	}
}

// paidOrder is a one-line paid order of a shirt.
func (env *pricingEnv) paidOrder(sourceID string, qty int) shopify.OrderInput {
	s := env.shirt(1)
	return shopify.OrderInput{
		SourceIdentifier: sourceID, Currency: "USD", Email: "buyer@example.com",
		Lines:   []shopify.OrderLineInput{{VariantID: s.GID(), Quantity: qty, UnitPrice: decimal(s.PriceCents), RequiresShipping: true, Taxable: true}},
		Payment: shopify.OrderPayment{Gateway: "acpbridge (Stripe)", Amount: decimal(int64(qty) * s.PriceCents), AuthorizationCode: "pi_" + sourceID},
	}
}

func TestFindOrderBySource(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	if o, err := shopify.FindOrderBySource(ctx, env.q, pricingShop, "cs_1"); o != nil || err != nil {
		t.Fatalf("before any order: %v, %v", o, err)
	}
	first, err := shopify.CreateOrder(ctx, env.q, pricingShop, env.paidOrder("cs_10", 1))
	if err != nil {
		t.Fatal(err)
	}
	second, err := shopify.CreateOrder(ctx, env.q, pricingShop, env.paidOrder("cs_1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "#1001" || second.Name != "#1002" {
		t.Errorf("names %s %s", first.Name, second.Name)
	}
	for id, want := range map[string]string{"cs_1": second.ID, "cs_10": first.ID, "cs_100": ""} {
		o, err := shopify.FindOrderBySource(ctx, env.q, pricingShop, id)
		if err != nil {
			t.Fatalf("FindOrderBySource(%s): %v", id, err)
		}
		if got := ""; o != nil {
			got = o.ID
			if got != want || o.SourceIdentifier != id || o.Total == "" {
				t.Errorf("FindOrderBySource(%s) = %+v, want %s", id, o, want)
			}
		} else if want != "" {
			t.Errorf("FindOrderBySource(%s) = nil, want %s", id, want)
		}
	}
	if _, err := shopify.FindOrderBySource(ctx, env.q, pricingShop, "x y"); !errors.Is(err, shopify.ErrInvalidOrder) {
		t.Errorf("a source identifier with a space: %v", err)
	}

	// The search index lags: a fresh order is not found yet.
	if err := env.emu.SetOrderSearchLag(pricingShop, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := shopify.CreateOrder(ctx, env.q, pricingShop, env.paidOrder("cs_fresh", 1)); err != nil {
		t.Fatal(err)
	}
	if o, err := shopify.FindOrderBySource(ctx, env.q, pricingShop, "cs_fresh"); o != nil || err != nil {
		t.Errorf("found an order younger than the search lag: %v, %v", o, err)
	}
}

// TestCreateOrderExactlyOnce is the retry discipline: look the order up,
// create it only if it is not there, and start over on a retryable failure.
// Whether orderCreate fails before it runs or after it wrote the order,
// exactly one order exists and stock is claimed once.
func TestCreateOrderExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		fault func(*emulator.Emulator)
	}{
		{"5xx before the write", func(e *emulator.Emulator) { e.FailNext(1, http.StatusServiceUnavailable) }},
		{"response lost after the write", func(e *emulator.Emulator) { e.LoseNextResponse() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newPricingEnv(t)
			in := env.paidOrder("cs_once", 2)
			stock := env.shirt(1).InventoryQuantity
			q := &armingQuerier{Querier: env.q, arm: func() { tt.fault(env.emu) }}
			o, attempts, err := createOnce(ctx, q, in)
			if err != nil {
				t.Fatalf("create once: %v (attempts %d)", err, attempts)
			}
			if attempts != 2 || q.creates != 1 && tt.name == "response lost after the write" || q.creates != 2 && tt.name == "5xx before the write" {
				t.Errorf("attempts = %d, orderCreate calls = %d", attempts, q.creates)
			}
			orders := env.emu.Orders(pricingShop)
			if len(orders) != 1 || orders[0].GID() != o.ID {
				t.Fatalf("%d orders in the shop, want exactly the one returned", len(orders))
			}
			if got := env.emu.Products(pricingShop)[0].Variants[1].InventoryQuantity; got != stock-2 {
				t.Errorf("stock %d, want %d: claimed once", got, stock-2)
			}
		})
	}
}

// armingQuerier calls arm just before the first orderCreate it sends, and
// counts them.
type armingQuerier struct {
	shopify.Querier
	arm     func()
	creates int
}

func (a *armingQuerier) Query(ctx context.Context, shop, query string, vars map[string]any, out any) error {
	if strings.Contains(query, "orderCreate(") {
		if a.creates++; a.creates == 1 {
			a.arm()
		}
	}
	return a.Querier.Query(ctx, shop, query, vars, out)
}

// createOnce is the app's discipline: look up, create, and on a retryable
// failure start over.
func createOnce(ctx context.Context, q shopify.Querier, in shopify.OrderInput) (*shopify.Order, int, error) {
	for attempts := 1; ; attempts++ {
		if o, err := shopify.FindOrderBySource(ctx, q, pricingShop, in.SourceIdentifier); err != nil || o != nil {
			return o, attempts, err
		}
		o, err := shopify.CreateOrder(ctx, q, pricingShop, in)
		if err == nil || !shopify.IsRetryable(err) || attempts == 3 {
			return o, attempts, err
		}
	}
}

func TestGetOrderAfterMerchantActions(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	created, err := shopify.CreateOrder(ctx, env.q, pricingShop, env.paidOrder("cs_ship", 2))
	if err != nil {
		t.Fatal(err)
	}
	o, err := shopify.GetOrder(ctx, env.q, pricingShop, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.LineItems) != 1 || o.LineItems[0].Quantity != 2 || o.LineItems[0].UnfulfilledQuantity != 2 || o.LineItems[0].VariantID != env.shirt(1).GID() ||
		len(o.Transactions) != 1 || o.Transactions[0].Kind != "SALE" || len(o.Fulfillments) != 0 || len(o.Refunds) != 0 || o.MoreLineItems {
		t.Fatalf("new order %+v", o)
	}

	track := emulator.Tracking{Company: "UPS", Number: "1Z999", URL: "https://ups.example/1Z999"}
	if err := env.emu.FulfillOrder(pricingShop, created.ID, track); err != nil {
		t.Fatal(err)
	}
	o, _ = shopify.GetOrder(ctx, env.q, pricingShop, created.ID)
	if o.DisplayFulfillmentStatus != "FULFILLED" || len(o.Fulfillments) != 1 {
		t.Fatalf("after fulfilment %+v", o)
	}
	f := o.Fulfillments[0]
	if f.Status != "SUCCESS" || f.DisplayStatus != "FULFILLED" || f.Name != "#1001.1" || len(f.Tracking) != 1 ||
		f.Tracking[0] != (shopify.Tracking{Company: "UPS", Number: "1Z999", URL: "https://ups.example/1Z999"}) ||
		len(f.Lines) != 1 || f.Lines[0].Quantity != 2 || f.Lines[0].LineItemID != o.LineItems[0].ID || o.LineItems[0].UnfulfilledQuantity != 0 {
		t.Errorf("fulfillment %+v", f)
	}
	if err := env.emu.UpdateFulfillment(pricingShop, created.ID, f.ID, emulator.FulfillmentUpdate{ShipmentStatus: "delivered"}); err != nil {
		t.Fatal(err)
	}
	o, _ = shopify.GetOrder(ctx, env.q, pricingShop, created.ID)
	if f := o.Fulfillments[0]; f.DisplayStatus != "DELIVERED" || f.DeliveredAt == nil {
		t.Errorf("delivered fulfillment %+v", f)
	}

	if err := env.emu.RefundOrder(pricingShop, created.ID, 500, "damaged box"); err != nil {
		t.Fatal(err)
	}
	o, _ = shopify.GetOrder(ctx, env.q, pricingShop, created.ID)
	if o.DisplayFinancialStatus != "PARTIALLY_REFUNDED" || cents(t, o.TotalRefunded) != 500 || len(o.Refunds) != 1 {
		t.Fatalf("after refund %+v", o)
	}
	r := o.Refunds[0]
	if r.Note != "damaged box" || cents(t, r.Total) != 500 || len(r.Transactions) != 1 || r.Transactions[0].Kind != "REFUND" ||
		r.Transactions[0].Status != "SUCCESS" || r.Transactions[0].Gateway != "acpbridge (Stripe)" || len(o.Transactions) != 2 {
		t.Errorf("refund %+v, transactions %+v", r, o.Transactions)
	}

	// Another order is cancelled before shipping: restocked.
	other, err := shopify.CreateOrder(ctx, env.q, pricingShop, env.paidOrder("cs_cancel", 1))
	if err != nil {
		t.Fatal(err)
	}
	before := env.emu.Products(pricingShop)[0].Variants[1].InventoryQuantity
	if err := env.emu.CancelOrder(pricingShop, other.ID, "customer"); err != nil {
		t.Fatal(err)
	}
	o, _ = shopify.GetOrder(ctx, env.q, pricingShop, other.ID)
	if o.CancelledAt == nil || o.CancelReason != "CUSTOMER" || !o.Closed || o.DisplayFulfillmentStatus != "RESTOCKED" || o.LineItems[0].CurrentQuantity != 0 {
		t.Errorf("cancelled order %+v", o)
	}
	if got := env.emu.Products(pricingShop)[0].Variants[1].InventoryQuantity; got != before+1 {
		t.Errorf("stock %d after cancel, want %d", got, before+1)
	}

	if o, err := shopify.GetOrder(ctx, env.q, pricingShop, "gid://shopify/Order/1"); o != nil || err != nil {
		t.Errorf("unknown order: %v, %v", o, err)
	}
	if _, err := shopify.GetOrder(ctx, env.q, pricingShop, "1"); err == nil {
		t.Error("GetOrder accepted a bare id")
	}
}
