package service_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// discountExample is one of the official discount-extension examples
// (acp/testdata/examples/2026-04-17/discount-extension, copied unchanged).
type discountExample struct {
	Request  map[string]any `json:"request"`
	Response map[string]any `json:"response"`
}

func loadDiscountExample(t *testing.T, name string) discountExample {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "acp", "testdata", "examples", "2026-04-17", "discount-extension", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex discountExample
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

// discountShop gives the emulated shop the discounts the examples use,
// next to its defaults (SAVE5: $5 off the order; SUMMER15: expired): a
// product discount and an order discount that combine, and a Standard
// rate that is never free by itself, so that a free-shipping discount
// shows. It returns the examples' codes mapped to the shop's.
func discountShop(t *testing.T, e *checkoutEnv) map[string]string {
	t.Helper()
	for _, d := range []emulator.DiscountCode{
		{Code: "EACH20", Title: "20% off each item", PercentBP: 2000, EachItem: true, Combines: true},
		{Code: "LOYAL5", Title: "$5.00 loyalty reward", AmountCents: 500, Combines: true},
	} {
		if err := e.emu.AddDiscountCode(testShop, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.emu.SetShippingZone(testShop, emulator.ShippingZone{Name: "Domestic", Countries: []string{"US"}, Rates: []emulator.ShippingRate{
		{Handle: "shopify-Standard", Title: "Standard", PriceCents: 599},
		{Handle: "shopify-Express", Title: "Express", PriceCents: 1500},
	}}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"SAVE10": "SAVE5", "EXPIRED50": "SUMMER15", "SUMMER20": "EACH20", "LOYALTY5": "LOYAL5"}
}

// exampleRequest is the example's create request with the shop's items and
// codes, plus what the example's response shows the session has (a buyer,
// and an address to ship to) and the capabilities a create requires.
func exampleRequest(t *testing.T, ex discountExample, items map[string]emulator.Variant, codes map[string]string) map[string]any {
	t.Helper()
	req := map[string]any{"currency": "usd", "capabilities": map[string]any{}}
	var lines []any
	for _, x := range ex.Request["line_items"].([]any) {
		l := x.(map[string]any)
		v, ok := items[l["id"].(string)]
		if !ok {
			t.Fatalf("no item for the example's %s", l["id"])
		}
		lines = append(lines, map[string]any{"id": strconv.FormatInt(v.ID, 10), "quantity": l["quantity"]})
	}
	req["line_items"] = lines
	if d, ok := ex.Request["discounts"].(map[string]any); ok {
		var cs []string
		for _, c := range d["codes"].([]any) {
			cs = append(cs, codes[c.(string)])
		}
		req["discounts"] = map[string]any{"codes": cs}
	}
	req["buyer"] = map[string]any{"email": ex.Response["buyer"].(map[string]any)["email"]}
	req["fulfillment_details"] = map[string]any{"name": "Ada Lovelace", "address": californiaAddress()}
	return req
}

// wantDiscount is what the shop's Shopify must have applied.
type wantDiscount struct {
	amount int64
	// lines are the allocations to line items, by index (nil: not checked
	// beyond adding up).
	lines map[int]int64
	// fulfillment is the allocation to the shipping.
	fulfillment int64
}

// TestDiscountExtensionExamples replays the five official discount
// examples, ids and codes substituted, through the real service and the
// Shopify emulator: each answer is valid for the 2026-04-17 schema and the
// discount schema, advertises the extension, and has the example's
// discounts (codes, each applied discount's code, automatic, method,
// priority and allocation targets, the rejected codes with their reason and
// warning), with the amounts Shopify calculated. A GET answers the same
// discounts; a 2025-09-29 GET has none.
func TestDiscountExtensionExamples(t *testing.T) {
	t.Parallel()
	for _, kind := range []app.DatabaseKind{app.DatabaseSQLite, app.DatabasePostgres} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e := newCheckoutEnv(t, kind)
			codes := discountShop(t, e)
			a := e.agent(t, acp.V20260417)
			old := e.agent(t, acp.V20250929)
			in, low := e.items.inStock, e.items.lowStock
			pct := func(cents int64) int64 { return (cents*2000 + 5000) / 10_000 }
			loyalty := func(v ...emulator.Variant) int64 { // LOYAL5 after EACH20, at most what is left
				var left int64
				for _, x := range v {
					left += x.PriceCents - pct(x.PriceCents)
				}
				return min(500, left)
			}
			cases := []struct {
				name  string
				items map[string]emulator.Variant
				// before runs before the example (the automatic discount).
				before func()
				want   []wantDiscount
			}{
				{name: "order-level-discount", items: map[string]emulator.Variant{"item_123": in},
					want: []wantDiscount{{amount: min(500, in.PriceCents), lines: map[int]int64{0: min(500, in.PriceCents)}}}},
				{name: "percentage-discount-with-allocations", items: map[string]emulator.Variant{"item_shirt": in, "item_pants": low},
					want: []wantDiscount{{amount: pct(2*in.PriceCents) + pct(low.PriceCents),
						lines: map[int]int64{0: pct(2 * in.PriceCents), 1: pct(low.PriceCents)}}}},
				{name: "rejected-discount-code", items: map[string]emulator.Variant{"item_123": in},
					want: []wantDiscount{{amount: min(500, in.PriceCents)}}},
				{name: "stacked-discounts", items: map[string]emulator.Variant{"item_laptop": in, "item_mouse": low},
					want: []wantDiscount{
						{amount: pct(in.PriceCents) + pct(low.PriceCents), lines: map[int]int64{0: pct(in.PriceCents), 1: pct(low.PriceCents)}},
						{amount: loyalty(in, low)},
					}},
				{name: "automatic-discount", items: map[string]emulator.Variant{"item_123": in},
					before: func() {
						if err := e.emu.AddDiscountCode(testShop, emulator.DiscountCode{Code: "AUTOSHIP", Title: "Free standard shipping",
							FreeShipping: true, Automatic: true}); err != nil {
							t.Fatal(err)
						}
					},
					want: []wantDiscount{{amount: 599, fulfillment: 599}}},
			}
			discountSchema, err := acptest.Schema(acp.V20260417, "schema.discount.json", "checkout_with_discount", false)
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range cases {
				ex := loadDiscountExample(t, tc.name)
				if tc.before != nil {
					tc.before()
				}
				r := a.do("POST", "/checkout_sessions", exampleRequest(t, ex, tc.items, codes))
				if r.status != http.StatusCreated {
					t.Fatalf("%s: create: %d %s", tc.name, r.status, r.body)
				}
				if err := acptest.ValidateWith(discountSchema, r.body); err != nil {
					t.Errorf("%s: not a checkout_with_discount: %v\n%s", tc.name, err, r.body)
				}
				if got, want := r.str("status"), ex.Response["status"]; got != want {
					t.Errorf("%s: status %s, want %s: %s", tc.name, got, want, r.body)
				}
				checkExtension(t, tc.name, r, ex)
				checkDiscounts(t, tc.name, r, ex, codes, tc.want)

				// The session keeps them: a GET answers the same.
				id := r.str("id")
				g := a.do("GET", "/checkout_sessions/"+id, nil)
				if !reflect.DeepEqual(g.m["discounts"], r.m["discounts"]) {
					t.Errorf("%s: GET discounts %s, want %s", tc.name, g.str("discounts"), r.str("discounts"))
				}
				// 2025-09-29 has no discounts object.
				if o := old.do("GET", "/checkout_sessions/"+id, nil); o.status != 200 || o.m["discounts"] != nil {
					t.Errorf("%s: 2025-09-29 GET: %d %s", tc.name, o.status, o.body)
				}
			}
		})
	}
}

// checkExtension: the answer declares the example's extension.
func checkExtension(t *testing.T, name string, r response, ex discountExample) {
	t.Helper()
	want := ex.Response["capabilities"].(map[string]any)["extensions"].([]any)[0].(map[string]any)
	got, _ := r.m["capabilities"].(map[string]any)["extensions"].([]any)
	if len(got) != 1 {
		t.Errorf("%s: capabilities.extensions %v, want the discount extension", name, got)
		return
	}
	g := got[0].(map[string]any)
	if g["name"] != want["name"] || !reflect.DeepEqual(g["extends"], want["extends"]) {
		t.Errorf("%s: extension %v, want %v", name, g, want)
	}
}

// checkDiscounts compares the answer's discounts with the example's
// (codes substituted) and with the amounts Shopify must have calculated.
func checkDiscounts(t *testing.T, name string, r response, ex discountExample, codes map[string]string, want []wantDiscount) {
	t.Helper()
	wd := ex.Response["discounts"].(map[string]any)
	gd, ok := r.m["discounts"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no discounts: %s", name, r.body)
	}
	sub := func(x any) []any {
		var out []any
		for _, c := range x.([]any) {
			out = append(out, codes[c.(string)])
		}
		return out
	}
	if got, wantCodes := gd["codes"].([]any), sub(wd["codes"]); !reflect.DeepEqual(got, wantCodes) && len(got)+len(wantCodes) > 0 {
		t.Errorf("%s: codes %v, want %v", name, got, wantCodes)
	}
	wApplied, _ := wd["applied"].([]any)
	gApplied, _ := gd["applied"].([]any)
	if len(gApplied) != len(wApplied) {
		t.Fatalf("%s: %d applied, want %d: %s", name, len(gApplied), len(wApplied), r.str("discounts"))
	}
	var toLines int64
	for i, x := range wApplied {
		w, g := x.(map[string]any), gApplied[i].(map[string]any)
		if wc, ok := w["code"]; ok && g["code"] != codes[wc.(string)] || !ok && g["code"] != nil {
			t.Errorf("%s: applied[%d] code %v, want %v", name, i, g["code"], w["code"])
		}
		for _, k := range []string{"automatic", "method"} {
			if wv, ok := w[k]; ok && g[k] != wv {
				t.Errorf("%s: applied[%d].%s %v, want %v", name, i, k, g[k], wv)
			}
		}
		if (w["priority"] == nil) != (g["priority"] == nil) || w["priority"] != nil && g["priority"] != w["priority"] {
			t.Errorf("%s: applied[%d] priority %v, want %v", name, i, g["priority"], w["priority"])
		}
		amount := int64(g["amount"].(float64))
		if amount != want[i].amount {
			t.Errorf("%s: applied[%d] amount %d, Shopify calculated %d", name, i, amount, want[i].amount)
		}
		var sum int64
		gotAlloc := map[string]int64{}
		for _, y := range asList(g["allocations"]) {
			al := y.(map[string]any)
			n := int64(al["amount"].(float64))
			sum += n
			gotAlloc[al["path"].(string)] = n
		}
		if len(gotAlloc) > 0 && sum != amount {
			t.Errorf("%s: applied[%d] allocations add up to %d, not %d", name, i, sum, amount)
		}
		for _, y := range asList(w["allocations"]) { // every target of the example
			if p := y.(map[string]any)["path"].(string); !hasKey(gotAlloc, p) {
				t.Errorf("%s: applied[%d] has no allocation to %s: %v", name, i, p, gotAlloc)
			}
		}
		for line, n := range want[i].lines {
			if p := "$.line_items[" + strconv.Itoa(line) + "]"; gotAlloc[p] != n {
				t.Errorf("%s: applied[%d] allocates %d to %s, want %d", name, i, gotAlloc[p], p, n)
			}
		}
		if want[i].fulfillment != 0 && gotAlloc["$.totals.fulfillment"] != want[i].fulfillment {
			t.Errorf("%s: applied[%d] allocates %d to the fulfillment, want %d", name, i, gotAlloc["$.totals.fulfillment"], want[i].fulfillment)
		}
		toLines += sum - gotAlloc["$.totals.fulfillment"]
	}
	if got := totals(t, r)["items_discount"]; got != toLines {
		t.Errorf("%s: items_discount %d, the line allocations add up to %d", name, got, toLines)
	}
	wRejected, _ := wd["rejected"].([]any)
	gRejected, _ := gd["rejected"].([]any)
	if len(gRejected) != len(wRejected) {
		t.Fatalf("%s: rejected %v, want %v", name, gRejected, wRejected)
	}
	for i, x := range wRejected {
		w, g := x.(map[string]any), gRejected[i].(map[string]any)
		if g["code"] != codes[w["code"].(string)] || g["reason"] != w["reason"] || g["message"] == "" {
			t.Errorf("%s: rejected[%d] %v, want %v", name, i, g, w)
		}
	}
	// Each rejected code is a warning, as the example's messages say.
	for _, x := range asList(ex.Response["messages"]) {
		w := x.(map[string]any)
		if w["type"] != "warning" {
			continue
		}
		found := false
		for _, y := range asList(r.m["messages"]) {
			g := y.(map[string]any)
			found = found || g["type"] == "warning" && g["code"] == w["code"] && g["param"] == w["param"] && g["resolution"] == w["resolution"]
		}
		if !found {
			t.Errorf("%s: no warning like %v: %v", name, w, messages(r))
		}
	}
}

func asList(x any) []any {
	l, _ := x.([]any)
	return l
}

func hasKey[K comparable, V any](m map[K]V, k K) bool {
	_, ok := m[k]
	return ok
}

// TestDiscountCodesValidAndExpired: a valid and an expired code together
// → one applied, one rejected with its reason (and the warning names the
// code's index); clearing the codes clears both; a Shopify-checkout
// session's draft order (its continue_url) carries the code that applied.
func TestDiscountCodesValidAndExpired(t *testing.T) {
	t.Parallel()
	for _, kind := range []app.DatabaseKind{app.DatabaseSQLite, app.DatabasePostgres} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			e := newHandoffEnv(t, kind)
			a := e.agent(t, acp.V20260417)
			body := a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress())
			body["discounts"] = map[string]any{"codes": []string{"summer15", "save5"}}
			r := a.do("POST", "/checkout_sessions", body)
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			cont := checkHandoff(t, a, r)
			if got := r.str("discounts", "codes"); got != `["summer15","save5"]` {
				t.Errorf("codes %s, want them as sent", got)
			}
			if r.str("discounts", "applied", "0", "code") != "SAVE5" || r.str("discounts", "applied", "1") != "" {
				t.Errorf("applied %s, want SAVE5 alone", r.str("discounts", "applied"))
			}
			if r.str("discounts", "rejected", "0", "code") != "SUMMER15" || r.str("discounts", "rejected", "0", "reason") != "discount_code_expired" {
				t.Errorf("rejected %s, want SUMMER15 expired", r.str("discounts", "rejected"))
			}
			found := false
			for _, x := range asList(r.m["messages"]) {
				m := x.(map[string]any)
				found = found || m["code"] == "discount_code_expired" && m["param"] == "$.discounts.codes[0]" && m["type"] == "warning"
			}
			if !found {
				t.Errorf("no expired warning at $.discounts.codes[0]: %v", messages(r))
			}
			if got, want := totals(t, r)["items_discount"], min(500, e.items.inStock.PriceCents); got != want {
				t.Errorf("items_discount %d, want %d", got, want)
			}

			// The buyer follows continue_url: the draft order has the code.
			follow(t, cont)
			d := e.draftOf(t, r.str("id"))
			if d == nil || d.DiscountCode != "SAVE5" || d.DiscountCents != min(500, e.items.inStock.PriceCents) {
				t.Fatalf("draft %+v, want SAVE5 applied", d)
			}
			if d.TotalCents != totals(t, r)["total"] {
				t.Errorf("draft total %d, session total %d", d.TotalCents, totals(t, r)["total"])
			}

			// Clearing the codes clears applied and rejected.
			u := a.do("POST", "/checkout_sessions/"+r.str("id"), map[string]any{"discounts": map[string]any{"codes": []string{}}})
			if u.status != 200 || u.str("discounts") != `{"applied":[],"codes":[]}` || hasMessage(u, "warning/discount_code") {
				t.Errorf("cleared: %d %s %v", u.status, u.str("discounts"), messages(u))
			}
		})
	}
}

// TestDiscountCodeOnTheOrder: a session completed with a code that applied
// (and one that did not) writes the Shopify order with the quoted discount,
// named by the applied code, and the charge is the discounted total.
func TestDiscountCodeOnTheOrder(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.agent(t, acp.V20260417)
	body := a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress())
	body["discounts"] = map[string]any{"codes": []string{"save5", "NOPE"}}
	r := a.do("POST", "/checkout_sessions", body)
	if r.status != http.StatusCreated || r.str("status") != "ready_for_payment" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r.str("discounts", "rejected", "0", "reason") != "discount_code_invalid" {
		t.Errorf("NOPE: %s", r.str("discounts"))
	}
	id, total := r.str("id"), totals(t, r)["total"]
	c := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove)))
	if c.status != 200 || c.str("status") != "completed" {
		t.Fatalf("complete: %d %s", c.status, c.body)
	}
	e.checkOnce(t, id, total)
	for _, o := range e.emu.Orders(testShop) {
		if o.SourceIdentifier == id && (o.DiscountCode != "SAVE5" || o.DiscountCents != min(500, e.items.inStock.PriceCents)) {
			t.Errorf("order discount %q %d, want SAVE5 %d", o.DiscountCode, o.DiscountCents, min(500, e.items.inStock.PriceCents))
		}
	}
}
