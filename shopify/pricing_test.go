package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

const pricingShop = "demo-shop.myshopify.com"

// pricingEnv is a started emulator and a Querier that reaches it as the app
// does, through shopify.Admin.
type pricingEnv struct {
	emu      *emulator.Emulator
	q        shopify.TokenQuerier
	products []*emulator.Product
}

func newPricingEnv(t *testing.T) *pricingEnv {
	t.Helper()
	e, err := emulator.New(emulator.Config{APIKey: "pricing-key", APISecret: "pricing-secret", Seed: 42})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	admin := &shopify.Admin{HTTPClient: &http.Client{Transport: e.Transport(nil)}, Limiter: &shopify.Limiter{}}
	return &pricingEnv{emu: e, q: shopify.TokenQuerier{Admin: admin, Token: e.StaffToken(pricingShop)}, products: e.Products(pricingShop)}
}

// The seeded catalog's special products (emulator.seedCatalog).
func (env *pricingEnv) shirt(size int) *emulator.Variant { return &env.products[0].Variants[size] } // S M L XL
func (env *pricingEnv) jacket() *emulator.Variant        { return &env.products[1].Variants[0] }
func (env *pricingEnv) ebook() *emulator.Variant         { return &env.products[2].Variants[0] }
func (env *pricingEnv) draft() *emulator.Variant         { return &env.products[3].Variants[0] }

// cents reads a quote amount.
func cents(t *testing.T, s string) int64 {
	t.Helper()
	n, err := shopify.MinorUnits(s, 2)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

// tax is amount × ppm / 10⁶ rounded half-up, the emulator's rule.
func tax(amount, ppm int64) int64 { return (amount*ppm + 500_000) / 1_000_000 }

func TestLookupVariants(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	s, l, xl := env.shirt(0), env.shirt(2), env.shirt(3)
	jacket, ebook, draft := env.jacket(), env.ebook(), env.draft()

	got, err := shopify.LookupVariants(ctx, env.q, pricingShop, []string{
		s.GID(), "gid://shopify/ProductVariant/999", env.products[0].GID(), "junk", "",
		strconv.FormatInt(l.ID, 10), xl.GID(), jacket.GID(), ebook.GID(), draft.GID(), s.GID(),
	})
	if err != nil {
		t.Fatalf("LookupVariants: %v", err)
	}
	var ids []string
	for _, v := range got {
		ids = append(ids, v.ID)
	}
	if want := []string{s.GID(), l.GID(), xl.GID(), jacket.GID(), ebook.GID(), draft.GID()}; !slices.Equal(ids, want) {
		t.Fatalf("ids = %v, want %v (known ones, in order, once)", ids, want)
	}
	byID := map[string]shopify.Variant{}
	for _, v := range got {
		byID[v.ID] = v
	}

	first := byID[s.GID()]
	p0 := env.products[0]
	if first.ProductID != p0.GID() || first.Title != p0.Title || first.VariantTitle != "S" || first.SKU != s.SKU ||
		first.Barcode != s.Barcode || first.Currency != "USD" || first.ProductHandle != p0.Handle || first.ProductStatus != "ACTIVE" ||
		first.OnlineStoreURL == "" || first.ImageURL == "" || !first.RequiresShipping || !first.Taxable || first.InventoryPolicy != "DENY" {
		t.Errorf("shirt S = %+v", first)
	}
	if cents(t, first.Price) != s.PriceCents || first.CompareAtPrice != "" {
		t.Errorf("shirt S price %q compare-at %q, want %d cents and none", first.Price, first.CompareAtPrice, s.PriceCents)
	}

	tests := []struct {
		name      string
		id        string
		available bool
		tracked   bool
		qty       int
		canSell   map[int]bool
		ships     bool
		status    string
	}{
		{name: "in stock", id: s.GID(), available: true, tracked: true, qty: s.InventoryQuantity, canSell: map[int]bool{1: true, 0: false}, ships: true, status: "ACTIVE"},
		{name: "low stock", id: l.GID(), available: true, tracked: true, qty: 2, canSell: map[int]bool{2: true, 3: false}, ships: true, status: "ACTIVE"},
		{name: "sold out", id: xl.GID(), available: false, tracked: true, qty: 0, canSell: map[int]bool{1: false}, ships: true, status: "ACTIVE"},
		{name: "digital, untracked", id: ebook.GID(), available: true, tracked: false, canSell: map[int]bool{1: true, 500: true}, ships: false, status: "ACTIVE"},
		{name: "draft product", id: draft.GID(), available: draft.AvailableForSale(), tracked: draft.Tracked, qty: draft.InventoryQuantity, canSell: map[int]bool{1: false}, ships: draft.RequiresShipping, status: "DRAFT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := byID[tt.id]
			if v.AvailableForSale != tt.available || v.Tracked != tt.tracked || v.RequiresShipping != tt.ships || v.ProductStatus != tt.status {
				t.Errorf("got available=%v tracked=%v ships=%v status=%s, want %v %v %v %s", v.AvailableForSale, v.Tracked, v.RequiresShipping, v.ProductStatus, tt.available, tt.tracked, tt.ships, tt.status)
			}
			if tt.tracked && v.InventoryQuantity != tt.qty {
				t.Errorf("quantity = %d, want %d", v.InventoryQuantity, tt.qty)
			}
			for qty, want := range tt.canSell {
				if v.CanSell(qty) != want {
					t.Errorf("CanSell(%d) = %v, want %v", qty, !want, want)
				}
			}
		})
	}
	if j := byID[jacket.GID()]; cents(t, j.CompareAtPrice) != jacket.CompareAtPriceCents || jacket.CompareAtPriceCents <= jacket.PriceCents {
		t.Errorf("jacket compare-at %q, want %d cents above the price", j.CompareAtPrice, jacket.CompareAtPriceCents)
	}
	if d := byID[draft.GID()]; d.OnlineStoreURL != "" {
		t.Errorf("draft product has an online store URL %q", d.OnlineStoreURL)
	}

	// A change in the shop shows at once: the lookup is live.
	if err := env.emu.SetRequiresShipping(pricingShop, s.GID(), false); err != nil {
		t.Fatal(err)
	}
	if err := env.emu.SetInventory(pricingShop, s.GID(), 1); err != nil {
		t.Fatal(err)
	}
	again, err := shopify.LookupVariants(ctx, env.q, pricingShop, []string{s.GID()})
	if err != nil || len(again) != 1 {
		t.Fatalf("LookupVariants again: %v, %d variants", err, len(again))
	}
	if again[0].RequiresShipping || again[0].InventoryQuantity != 1 || again[0].CanSell(2) {
		t.Errorf("after changes: %+v", again[0])
	}
}

func TestLookupVariantsChunks(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	var ids []string
	known := 0
	for _, p := range env.products {
		for _, v := range p.Variants {
			ids = append(ids, v.GID())
			known++
		}
	}
	for i := range 150 {
		ids = append(ids, fmt.Sprintf("gid://shopify/ProductVariant/%d", 900_000+i))
	}
	before := env.emu.Stats(pricingShop).GraphQLCalls
	got, err := shopify.LookupVariants(context.Background(), env.q, pricingShop, ids)
	if err != nil {
		t.Fatalf("LookupVariants: %v", err)
	}
	if len(got) != known {
		t.Errorf("got %d variants, want %d", len(got), known)
	}
	wantCalls := (len(ids) + 99) / 100
	if calls := env.emu.Stats(pricingShop).GraphQLCalls - before; calls != wantCalls {
		t.Errorf("%d ids took %d queries, want %d", len(ids), calls, wantCalls)
	}
	if got, err := shopify.LookupVariants(context.Background(), env.q, pricingShop, nil); err != nil || len(got) != 0 {
		t.Errorf("no ids: %v, %v", got, err)
	}
}

func TestCalculateDraftOrder(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	s, jacket, ebook := env.shirt(0), env.jacket(), env.ebook()
	sp, jp, ep := s.PriceCents, jacket.PriceCents, ebook.PriceCents
	line := func(v *emulator.Variant, qty int) shopify.DraftLine {
		return shopify.DraftLine{VariantID: v.GID(), Quantity: qty}
	}
	addr := func(country, province string) *shopify.MailingAddress {
		return &shopify.MailingAddress{FirstName: "Ada", LastName: "Buyer", Address1: "1 Test Street", City: "Town", Province: province, Country: country, Zip: "12345"}
	}
	domestic := []string{"shopify-Standard", "shopify-Express"}
	international := []string{"shopify-International-Standard", "shopify-International-Express"}
	const noCheck = -1

	tests := []struct {
		name     string
		in       shopify.DraftOrderInput
		subtotal int64
		shipping int64
		tax      int64 // noCheck: only the invariants
		rates    []string
		selected string // the selected rate's handle, "" for none
		applied  []string
		rejected []string
	}{
		{
			name:     "California taxes items, not shipping; no rate chosen",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 2), line(ebook, 1)}, Email: "ada@example.com", ShippingAddress: addr("US", "CA")},
			subtotal: 2*sp + ep, tax: tax(2*sp, 72_500) + tax(ep, 72_500), rates: domestic,
		},
		{
			name:     "New York taxes the chosen Express shipping too",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 2), line(ebook, 1)}, ShippingAddress: addr("us", "ny"), ShippingRateHandle: "shopify-Express"},
			subtotal: 2*sp + ep, shipping: 1500, tax: tax(2*sp, 88_750) + tax(ep, 88_750) + tax(1500, 88_750), rates: domestic, selected: "shopify-Express",
		},
		{
			name:     "Standard shipping is free from $75, other states 5 %",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(jacket, 1)}, ShippingAddress: addr("US", "TX"), ShippingRateHandle: "shopify-Standard"},
			subtotal: jp, shipping: 0, tax: tax(jp, 50_000), rates: domestic, selected: "shopify-Standard",
		},
		{
			name:     "Oregon has no sales tax",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}, ShippingAddress: addr("US", "OR"), ShippingRateHandle: "shopify-Standard"},
			subtotal: sp, shipping: 500, tax: 0, rates: domestic, selected: "shopify-Standard",
		},
		{
			name:     "Canada: international rates, HST on shipping",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}, ShippingAddress: addr("CA", "ON"), ShippingRateHandle: "shopify-International-Standard"},
			subtotal: sp, shipping: 2000, tax: tax(sp, 130_000) + tax(2000, 130_000), rates: international, selected: "shopify-International-Standard",
		},
		{
			name:     "Great Britain: 20 % VAT",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 3)}, ShippingAddress: addr("GB", ""), ShippingRateHandle: "shopify-International-Express"},
			subtotal: 3 * sp, shipping: 4000, tax: tax(3*sp, 200_000) + tax(4000, 200_000), rates: international, selected: "shopify-International-Express",
		},
		{
			name:     "Japan is not served: no rates, the handle selects nothing",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}, ShippingAddress: addr("JP", ""), ShippingRateHandle: "shopify-Standard"},
			subtotal: sp, tax: 0,
		},
		{
			name:     "a handle the address does not offer selects nothing",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}, ShippingAddress: addr("US", "CA"), ShippingRateHandle: "shopify-International-Express"},
			subtotal: sp, tax: tax(sp, 72_500), rates: domestic,
		},
		{
			name:     "a digital-only cart needs no shipping",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(ebook, 2)}, ShippingAddress: addr("US", "TX"), ShippingRateHandle: "shopify-Standard"},
			subtotal: 2 * ep, tax: tax(2*ep, 50_000),
		},
		{
			name:     "no address: no rates, no tax",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}},
			subtotal: sp, tax: 0,
		},
		{
			name:     "a percentage code applies, an unknown one is rejected",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 2), line(ebook, 1)}, ShippingAddress: addr("US", "CA"), DiscountCodes: []string{"welcome10", "NOPE"}},
			subtotal: 2*sp + ep - (2*sp+ep+5)/10, tax: noCheck, rates: domestic, applied: []string{"WELCOME10"}, rejected: []string{"NOPE"},
		},
		{
			name:     "a fixed-amount code",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}, ShippingAddress: addr("US", "TX"), DiscountCodes: []string{"SAVE5"}},
			subtotal: sp - 500, tax: tax(sp-500, 50_000), rates: domestic, applied: []string{"SAVE5"},
		},
		{
			name:     "an expired code and one under its minimum subtotal",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(s, 1)}, ShippingAddress: addr("US", "TX"), DiscountCodes: []string{"SUMMER15", "BIG20"}},
			subtotal: sp, tax: tax(sp, 50_000), rates: domestic, rejected: []string{"SUMMER15", "BIG20"},
		},
		{
			name:     "a code over its minimum subtotal; a second code does not combine",
			in:       shopify.DraftOrderInput{Lines: []shopify.DraftLine{line(jacket, 2)}, ShippingAddress: addr("US", "TX"), DiscountCodes: []string{"BIG20", "SAVE5"}},
			subtotal: 2*jp - (2*jp*2000+5000)/10000, tax: noCheck, rates: domestic, applied: []string{"BIG20"}, rejected: []string{"SAVE5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := shopify.CalculateDraftOrder(context.Background(), env.q, pricingShop, tt.in)
			if err != nil {
				t.Fatalf("CalculateDraftOrder: %v", err)
			}
			checkQuote(t, tt.in, q)
			if got := cents(t, q.Subtotal); got != tt.subtotal {
				t.Errorf("subtotal = %d, want %d", got, tt.subtotal)
			}
			if got := cents(t, q.TotalShipping); got != tt.shipping {
				t.Errorf("shipping = %d, want %d", got, tt.shipping)
			}
			if got := cents(t, q.TotalTax); tt.tax != noCheck && got != tt.tax {
				t.Errorf("tax = %d, want %d", got, tt.tax)
			}
			var handles []string
			for _, r := range q.ShippingRates {
				handles = append(handles, r.Handle)
			}
			if !slices.Equal(handles, tt.rates) {
				t.Errorf("rates = %v, want %v", handles, tt.rates)
			}
			selected := ""
			if q.Shipping != nil {
				selected = q.Shipping.Handle
			}
			if selected != tt.selected {
				t.Errorf("selected rate = %q, want %q", selected, tt.selected)
			}
			if !slices.Equal(q.DiscountCodes, tt.applied) || !slices.Equal(q.RejectedDiscountCodes, tt.rejected) {
				t.Errorf("codes applied %v rejected %v, want %v and %v (warnings %+v)", q.DiscountCodes, q.RejectedDiscountCodes, tt.applied, tt.rejected, q.Warnings)
			}
		})
	}
}

// checkQuote checks what holds for every quote: the lines come back as sent,
// and the amounts add up.
func checkQuote(t *testing.T, in shopify.DraftOrderInput, q *shopify.DraftQuote) {
	t.Helper()
	if q.Currency != "USD" || q.TaxesIncluded {
		t.Errorf("currency %q, taxes included %v", q.Currency, q.TaxesIncluded)
	}
	if len(q.Lines) != len(in.Lines) {
		t.Fatalf("%d lines, want %d", len(q.Lines), len(in.Lines))
	}
	var orderDiscounts int64
	for i, l := range q.Lines {
		if l.VariantID != in.Lines[i].VariantID || l.Quantity != in.Lines[i].Quantity || l.UUID == "" {
			t.Errorf("line %d = %+v, want %+v", i, l, in.Lines[i])
		}
		if cents(t, l.UnitPrice)*int64(l.Quantity) != cents(t, l.OriginalTotal) {
			t.Errorf("line %d: %s × %d != %s", i, l.UnitPrice, l.Quantity, l.OriginalTotal)
		}
		orderDiscounts += cents(t, l.OrderDiscount)
	}
	var discounts int64
	for _, d := range q.Discounts {
		discounts += cents(t, d.Amount)
	}
	if orderDiscounts != discounts {
		t.Errorf("lines' order discounts add up to %d, discounts to %d", orderDiscounts, discounts)
	}
	if cents(t, q.TotalLineItems)-cents(t, q.TotalDiscounts) != cents(t, q.Subtotal) {
		t.Errorf("line items %s - discounts %s != subtotal %s", q.TotalLineItems, q.TotalDiscounts, q.Subtotal)
	}
	if cents(t, q.Subtotal)+cents(t, q.TotalShipping)+cents(t, q.TotalTax) != cents(t, q.TotalPrice) {
		t.Errorf("subtotal %s + shipping %s + tax %s != total %s", q.Subtotal, q.TotalShipping, q.TotalTax, q.TotalPrice)
	}
	var taxLines int64
	for _, tl := range q.TaxLines {
		taxLines += cents(t, tl.Amount)
		if tl.Title == "" || tl.RatePercentage <= 0 {
			t.Errorf("tax line %+v", tl)
		}
	}
	if taxLines != cents(t, q.TotalTax) {
		t.Errorf("tax lines add up to %d, total tax %s", taxLines, q.TotalTax)
	}
	shares, err := q.LineTaxes(2)
	if err != nil {
		t.Fatalf("LineTaxes: %v", err)
	}
	var sum int64
	for _, s := range shares {
		sum += s
	}
	if q.Shipping != nil {
		sum += cents(t, q.Shipping.Tax)
	}
	if sum != cents(t, q.TotalTax) {
		t.Errorf("line taxes %v + shipping tax add up to %d, want %s", shares, sum, q.TotalTax)
	}
}

func TestCalculateDraftOrderEmulatorSettings(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	s, ebook := env.shirt(0), env.ebook()
	sp := s.PriceCents
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.emu.SetTaxRate(pricingShop, emulator.TaxRate{Country: "JP", Title: "JCT", PPM: 100_000, Shipping: true}))
	must(env.emu.SetShippingZone(pricingShop, emulator.ShippingZone{Name: "Asia", Countries: []string{"jp"}, Rates: []emulator.ShippingRate{{Title: "Asia Post", PriceCents: 2500}}}))
	must(env.emu.AddDiscountCode(pricingShop, emulator.DiscountCode{Code: "HALF", PercentBP: 5000}))
	must(env.emu.SetRequiresShipping(pricingShop, ebook.GID(), true))

	q, err := shopify.CalculateDraftOrder(context.Background(), env.q, pricingShop, shopify.DraftOrderInput{
		Lines:              []shopify.DraftLine{{VariantID: s.GID(), Quantity: 2}, {VariantID: ebook.GID(), Quantity: 1}},
		ShippingAddress:    &shopify.MailingAddress{Country: "JP", City: "Tokyo"},
		DiscountCodes:      []string{"half"},
		ShippingRateHandle: "shopify-Asia-Post",
	})
	if err != nil {
		t.Fatalf("CalculateDraftOrder: %v", err)
	}
	in := shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 2}, {VariantID: ebook.GID(), Quantity: 1}}}
	checkQuote(t, in, q)
	if len(q.ShippingRates) != 1 || q.Shipping == nil || cents(t, q.Shipping.Price) != 2500 || cents(t, q.Shipping.Tax) != 250 {
		t.Errorf("shipping: rates %+v, selected %+v", q.ShippingRates, q.Shipping)
	}
	if !q.Lines[1].RequiresShipping {
		t.Errorf("the e-book should require shipping now")
	}
	sub := 2*sp + ebook.PriceCents
	if got, want := cents(t, q.Subtotal), sub-(sub*5000+5000)/10000; got != want {
		t.Errorf("subtotal = %d, want %d", got, want)
	}
	if q.TaxLines[0].Title != "JCT" || q.TaxLines[0].RatePercentage != 10 {
		t.Errorf("tax lines %+v", q.TaxLines)
	}
}

func TestCalculateDraftOrderErrors(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	s := env.shirt(0)
	us := &shopify.MailingAddress{Country: "US", Province: "CA"}

	var ue *shopify.UserErrorsError
	_, err := shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{
		Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 1}, {VariantID: "gid://shopify/ProductVariant/12345", Quantity: 1}},
	})
	if !errors.As(err, &ue) || ue.Op != "draftOrderCalculate" || !slices.Equal(ue.Errors[0].Field, []string{"lineItems", "1", "variantId"}) {
		t.Errorf("unknown variant: %v", err)
	}
	_, err = shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 0}}})
	if !errors.As(err, &ue) || !slices.Equal(ue.Errors[0].Field, []string{"lineItems", "0", "quantity"}) {
		t.Errorf("quantity 0: %v", err)
	}
	_, err = shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 1}}, Email: "not an email"})
	if !errors.As(err, &ue) || !slices.Equal(ue.Errors[0].Field, []string{"email"}) {
		t.Errorf("bad email: %v", err)
	}
	if _, err := shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{}); err == nil {
		t.Error("no lines: no error")
	}

	// An unknown country code fails the whole document, as Shopify's enum
	// validation does.
	var ge *shopify.GraphQLError
	_, err = shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 1}}, ShippingAddress: &shopify.MailingAddress{Country: "XX"}})
	if !errors.As(err, &ge) {
		t.Errorf("country XX: %v, want a GraphQL error", err)
	}

	// Injected faults reach both operations.
	env.emu.FailNext(1, http.StatusServiceUnavailable)
	_, err = shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 1}}, ShippingAddress: us})
	if !errors.Is(err, shopify.ErrUnavailable) || !shopify.IsRetryable(err) {
		t.Errorf("503: %v", err)
	}
	env.emu.FailNext(1, http.StatusInternalServerError)
	if _, err := shopify.LookupVariants(ctx, env.q, pricingShop, []string{s.GID()}); !errors.Is(err, shopify.ErrUnavailable) {
		t.Errorf("lookup 500: %v", err)
	}

	// A slow Shopify runs into the caller's time budget.
	env.emu.SlowNext(1, 2*time.Second)
	short, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = shopify.CalculateDraftOrder(short, env.q, pricingShop, shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 1}}, ShippingAddress: us})
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("slow call: err %v after %v, want a timeout near 150ms", err, time.Since(start))
	}
	// Only the next call was slow.
	start = time.Now()
	if _, err := shopify.CalculateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderInput{Lines: []shopify.DraftLine{{VariantID: s.GID(), Quantity: 1}}, ShippingAddress: us}); err != nil || time.Since(start) > time.Second {
		t.Errorf("call after the slow one: %v after %v", err, time.Since(start))
	}
}

func TestMinorUnits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		exp  int
		want int64
		ok   bool
	}{
		{"19.99", 2, 1999, true},
		{"20.0", 2, 2000, true},
		{"5", 2, 500, true},
		{"0.0", 2, 0, true},
		{"-1.5", 2, -150, true},
		{"1000", 0, 1000, true},
		{"1000.0", 0, 1000, true},
		{"1.234", 3, 1234, true},
		{"1.999", 2, 0, false},
		{"1.5", 0, 0, false},
		{"", 2, 0, false},
		{"1,00", 2, 0, false},
		{"1e3", 2, 0, false},
		{"abc", 2, 0, false},
	}
	for _, tt := range tests {
		got, err := shopify.MinorUnits(tt.in, tt.exp)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("MinorUnits(%q, %d) = %d, %v; want %d, ok=%v", tt.in, tt.exp, got, err, tt.want, tt.ok)
		}
	}
}

func TestVariantGID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"gid://shopify/ProductVariant/44000000000003": "gid://shopify/ProductVariant/44000000000003",
		"44000000000003":                   "gid://shopify/ProductVariant/44000000000003",
		"gid://shopify/Product/8000000001": "",
		"gid://shopify/ProductVariant/x1":  "",
		"0":                                "",
		"":                                 "",
		"-5":                               "",
	} {
		got, ok := shopify.VariantGID(in)
		if got != want || ok != (want != "") {
			t.Errorf("VariantGID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestCheckVariants: the purchase-time check reads the same price and stock
// as LookupVariants, at 3 cost points a variant (LookupVariants: 6 a
// variant and 1 for the shop).
func TestCheckVariants(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	ids := []string{env.shirt(0).GID(), env.jacket().GID(), env.draft().GID(), "gid://shopify/ProductVariant/999999"}
	full, err := shopify.LookupVariants(ctx, env.q, pricingShop, ids)
	if err != nil {
		t.Fatal(err)
	}
	before := env.emu.Stats(pricingShop).Cost
	got, err := shopify.CheckVariants(ctx, env.q, pricingShop, ids)
	if err != nil {
		t.Fatal(err)
	}
	if cost := env.emu.Stats(pricingShop).Cost - before; cost != 3*len(got) {
		t.Errorf("CheckVariants of %d variants cost %d points, want %d", len(got), cost, 3*len(got))
	}
	if len(got) != len(full) || len(got) != 3 {
		t.Fatalf("got %d variants, LookupVariants %d, want 3", len(got), len(full))
	}
	for i, v := range got {
		w := full[i]
		if v.ID != w.ID || v.ProductID != w.ProductID || v.Price != w.Price || v.AvailableForSale != w.AvailableForSale ||
			v.InventoryQuantity != w.InventoryQuantity || v.InventoryPolicy != w.InventoryPolicy || v.Tracked != w.Tracked ||
			v.RequiresShipping != w.RequiresShipping || v.ProductStatus != w.ProductStatus {
			t.Errorf("CheckVariants %+v\ndiffers from LookupVariants %+v", v, w)
		}
	}
}

// TestCalculateDraftOrderDiscountKinds: product, order and free-shipping
// discounts come back as Shopify reports them (presentation level,
// automatic, allocations to lines or the shipping line); an automatic
// discount applies only when the input accepts them; a second code is
// refused with Shopify's reason unless both combine.
func TestCalculateDraftOrderDiscountKinds(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	s, jacket := env.shirt(0), env.jacket()
	for _, d := range []emulator.DiscountCode{
		{Code: "EACH10", Title: "10% off each item", PercentBP: 1000, EachItem: true, Combines: true},
		{Code: "TWO", Title: "$2.00 off", AmountCents: 200, Combines: true},
		{Code: "SHIPFREE", Title: "Free shipping", Automatic: true, FreeShipping: true, Combines: true},
	} {
		if err := env.emu.AddDiscountCode(pricingShop, d); err != nil {
			t.Fatal(err)
		}
	}
	in := shopify.DraftOrderInput{
		Lines:              []shopify.DraftLine{{VariantID: s.GID(), Quantity: 2}, {VariantID: jacket.GID(), Quantity: 1}},
		ShippingAddress:    &shopify.MailingAddress{Address1: "1 Test Street", City: "Austin", Province: "TX", Country: "US", Zip: "73301"},
		DiscountCodes:      []string{"EACH10", "TWO", "SAVE5"},
		ShippingRateHandle: "shopify-Express",
	}
	type got struct {
		Code, Level string
		Automatic   bool
		Amount      int64
		Lines       []int64 // per line uuid in order; -1 entries for shipping
	}
	calc := func(accept bool) ([]got, *shopify.DraftQuote) {
		in.AcceptAutomaticDiscounts = accept
		q, err := shopify.CalculateDraftOrder(context.Background(), env.q, pricingShop, in)
		if err != nil {
			t.Fatal(err)
		}
		var out []got
		for _, d := range q.Discounts {
			g := got{Code: d.Code, Level: d.Level, Automatic: d.Automatic, Amount: cents(t, d.Amount)}
			for _, a := range d.Allocations {
				switch {
				case a.Shipping:
					g.Lines = append(g.Lines, -cents(t, a.Amount))
				case a.LineUUID == q.Lines[0].UUID || a.LineUUID == q.Lines[1].UUID:
					g.Lines = append(g.Lines, cents(t, a.Amount))
				default:
					t.Errorf("allocation to unknown line %q", a.LineUUID)
				}
			}
			out = append(out, g)
		}
		return out, q
	}
	each0, each1 := (2*s.PriceCents*1000+5000)/10_000, (jacket.PriceCents*1000+5000)/10_000
	left0, left1 := 2*s.PriceCents-each0, jacket.PriceCents-each1
	two0 := (200*left0*2 + left0 + left1) / (2 * (left0 + left1)) // largest remainder: at most a cent off
	want := []got{
		{Code: "EACH10", Level: "line", Amount: each0 + each1, Lines: []int64{each0, each1}},
		{Code: "TWO", Level: "order", Amount: 200},
	}
	gotNo, q := calc(false)
	if len(gotNo) != 2 || !reflect.DeepEqual(gotNo[0], want[0]) || gotNo[1].Code != "TWO" || gotNo[1].Amount != 200 ||
		len(gotNo[1].Lines) != 2 || gotNo[1].Lines[0]+gotNo[1].Lines[1] != 200 || gotNo[1].Lines[0]-two0 > 1 || two0-gotNo[1].Lines[0] > 1 {
		t.Errorf("without automatic discounts: %+v, want %+v", gotNo, want)
	}
	if len(q.Warnings) != 1 || q.Warnings[0].DiscountCode != "SAVE5" || q.Warnings[0].Code != "DISCOUNT_NOT_COMBINABLE" {
		t.Errorf("warnings %+v, want SAVE5 not combinable", q.Warnings)
	}
	if cents(t, q.Lines[0].LineDiscount) != each0 || cents(t, q.Lines[0].DiscountedTotal) != 2*s.PriceCents-each0 {
		t.Errorf("line 0: a product discount is the line's own: %+v", q.Lines[0])
	}
	gotYes, q := calc(true)
	if len(gotYes) != 3 || !reflect.DeepEqual(gotYes[2], got{Level: "shipping", Automatic: true, Amount: 1500, Lines: []int64{-1500}}) {
		t.Errorf("with automatic discounts: %+v", gotYes)
	}
	if q.Shipping == nil || cents(t, q.Shipping.Price) != 1500 || cents(t, q.Shipping.DiscountedPrice) != 0 || cents(t, q.TotalShipping) != 0 {
		t.Errorf("free shipping: %+v, total shipping %s", q.Shipping, q.TotalShipping)
	}
}
