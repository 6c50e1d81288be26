package acp_test

import (
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

func TestLineItemAmounts(t *testing.T) {
	t.Parallel()
	l := acp.LineItem{ID: "l", ItemID: "i", Quantity: 3, UnitAmount: 1250, Discount: 500, Tax: 260}
	if l.BaseAmount() != 3750 || l.Subtotal() != 3250 || l.Total() != 3510 {
		t.Errorf("base %d subtotal %d total %d", l.BaseAmount(), l.Subtotal(), l.Total())
	}
	if err := l.Validate(); err != nil {
		t.Error(err)
	}
	o := acp.FulfillmentOption{Type: acp.FulfillmentShipping, ID: "s", Title: "S", Subtotal: 500, Tax: 40}
	if o.Total() != 540 {
		t.Errorf("option total %d", o.Total())
	}
}

func TestComputeTotals(t *testing.T) {
	t.Parallel()
	ls := lines() // bases 3998 + 4500, discount 200, tax 300 + 360
	opt := shippingOptions()[1]
	tests := []struct {
		name     string
		selected []acp.FulfillmentOption
		discount int64
		fees     []acp.Fee
		want     map[acp.TotalType]int64
		types    string
	}{
		{"no fulfillment", nil, 0, nil,
			map[acp.TotalType]int64{"items_base_amount": 8498, "items_discount": 200, "subtotal": 8298, "tax": 660, "total": 8958},
			"items_base_amount,items_discount,subtotal,tax,total"},
		{"shipping, order discount, two fees", []acp.FulfillmentOption{opt}, 298, []acp.Fee{{Amount: 100}, {DisplayText: "Gift wrap", Amount: 250}},
			map[acp.TotalType]int64{"subtotal": 8298, "discount": 298, "fulfillment": 1500, "tax": 780, "fee": 350, "total": 8298 - 298 + 1500 + 780 + 350},
			"items_base_amount,items_discount,subtotal,discount,fulfillment,tax,fee,fee,total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := acp.ComputeTotals(ls, tt.selected, tt.discount, tt.fees, map[acp.TotalType]string{acp.TotalFulfillment: "Shipping"})
			if err != nil {
				t.Fatal(err)
			}
			sums := map[acp.TotalType]int64{}
			var types []string
			for _, x := range got {
				sums[x.Type] += x.Amount
				types = append(types, string(x.Type))
				if x.DisplayText == "" {
					t.Errorf("%s has no display text", x.Type)
				}
				if x.Type == acp.TotalFulfillment && x.DisplayText != "Shipping" {
					t.Errorf("label override ignored: %q", x.DisplayText)
				}
			}
			for k, v := range tt.want {
				if sums[k] != v {
					t.Errorf("%s = %d, want %d", k, sums[k], v)
				}
			}
			if strings.Join(types, ",") != tt.types {
				t.Errorf("types %v, want %s", types, tt.types)
			}
			if err := acp.CheckTotals(got); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCheckTotals(t *testing.T) {
	t.Parallel()
	tot := func(typ acp.TotalType, a int64) acp.Total {
		return acp.Total{Type: typ, DisplayText: string(typ), Amount: a}
	}
	tests := []struct {
		name   string
		totals []acp.Total
		want   string // "" = valid
	}{
		{"official 2025-09-29 example", []acp.Total{tot("items_base_amount", 300), tot("subtotal", 300), tot("tax", 30), tot("fulfillment", 100), tot("total", 430)}, ""},
		{"official 2026-04-17 example with fee", []acp.Total{tot("items_base_amount", 300), tot("subtotal", 300), tot("tax", 30), tot("fulfillment", 100), tot("fee", 50), tot("total", 480)}, ""},
		{"order-level discount", []acp.Total{tot("subtotal", 5000), tot("discount", 1000), tot("fulfillment", 599), tot("total", 4599)}, ""},
		{"total off by one", []acp.Total{tot("subtotal", 300), tot("tax", 30), tot("total", 331)}, "total 331"},
		{"subtotal ignores items discount", []acp.Total{tot("items_base_amount", 300), tot("items_discount", 50), tot("subtotal", 300), tot("total", 300)}, "subtotal 300"},
		{"no total", []acp.Total{tot("subtotal", 300)}, "exactly one"},
		{"two totals", []acp.Total{tot("total", 0), tot("total", 0)}, "exactly one"},
		{"negative", []acp.Total{tot("tax", -1), tot("total", -1)}, "outside"},
		{"unknown type", []acp.Total{tot("tip", 1), tot("total", 1)}, "unknown type"},
		{"no display text", []acp.Total{{Type: acp.TotalTotal}}, "display text"},
	}
	for _, tt := range tests {
		err := acp.CheckTotals(tt.totals)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	// An order's totals are checked on encode.
	s := completed()
	s.Order.Totals[len(s.Order.Totals)-1].Amount++
	if _, err := acp.EncodeSession(acp.V20260417, s); err == nil || !strings.Contains(err.Error(), "order") {
		t.Errorf("order with wrong totals encoded: %v", err)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"US", "US", true}, {"us", "US", true}, {"gB", "GB", true}, {"XK", "XK", true},
		{"ZZ", "", false}, {"USA", "", false}, {"U", "", false}, {"", "", false}, {"1A", "", false}, {"ÜS", "", false},
	} {
		if got, ok := acp.NormalizeCountry(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeCountry(%q) = %q, %v", tt.in, got, ok)
		}
	}
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"usd", "usd", true}, {"USD", "usd", true}, {"Jpy", "jpy", true}, {"xcg", "xcg", true},
		{"xxx", "", false}, {"us", "", false}, {"usdt", "", false}, {"u$d", "", false},
	} {
		if got, ok := acp.NormalizeCurrency(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeCurrency(%q) = %q, %v", tt.in, got, ok)
		}
	}
	for in, ok := range map[string]bool{
		"jane@example.com": true, "jane.doe+tag@mail.example.co.uk": true, "j@x-y.io": true,
		"jane": false, "jane@": false, "@example.com": false, "jane@localhost": false, "Jane <jane@example.com>": false,
		"jane@exa mple.com": false, "jane@-example.com": false, "jane@example..com": false, "jane@example.com.": false,
		strings.Repeat("a", 65) + "@example.com": false,
	} {
		if got := acp.ValidEmail(in); got != ok {
			t.Errorf("ValidEmail(%q) = %v", in, got)
		}
	}
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"+14155550100", "+14155550100", true}, {"15551234567", "15551234567", true}, {"+1 (415) 555-0100", "+14155550100", true},
		{"020 7946.0958", "02079460958", true}, {"12345", "", false}, {"+1234567890123456", "", false}, {"1+2345678", "", false},
		{"555-CALL-NOW", "", false}, {"", "", false},
	} {
		if got, ok := acp.NormalizePhone(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("NormalizePhone(%q) = %q, %v", tt.in, got, ok)
		}
	}
}

func TestMarkdownRawHTML(t *testing.T) {
	t.Parallel()
	for content, ok := range map[string]bool{
		"**bold** and _em_":                  true,
		"see <https://shop.example/returns>": true,
		"mail <help@shop.example>":           true,
		"a < b and c > d":                    true,
		"x <3":                               true,
		"<div>hi</div>":                      false,
		"hi <br/>":                           false,
		"hi <img src=x onerror=alert(1)>":    false,
		"</p>":                               false,
		"<!-- c -->":                         false,
		"<?php ?>":                           false,
		"<a\nhref=x>":                        false,
	} {
		m := acp.Message{Type: acp.MessageInfo, ContentType: acp.ContentMarkdown, Content: content}
		if err := m.Validate(); (err == nil) != ok {
			t.Errorf("markdown %q: %v, want ok=%v", content, err, ok)
		}
		m.ContentType = acp.ContentPlain
		if err := m.Validate(); err != nil {
			t.Errorf("plain %q: %v", content, err)
		}
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	for _, s := range []acp.Status{acp.StatusCompleted, acp.StatusCanceled, acp.StatusExpired} {
		if !s.Terminal() || !s.Valid() {
			t.Errorf("%s: terminal %v valid %v", s, s.Terminal(), s.Valid())
		}
	}
	for _, s := range []acp.Status{acp.StatusReadyForPayment, acp.StatusAuthenticationRequired, acp.StatusInProgress} {
		if s.Terminal() {
			t.Errorf("%s is terminal", s)
		}
	}
	if acp.Status("paid").Valid() {
		t.Error("unknown status is valid")
	}
}

func TestStripeSPTHandler(t *testing.T) {
	t.Parallel()
	s := digitalOnly()
	s.PaymentHandlers = []acp.PaymentHandler{acp.StripeSPTHandler("acct_9")}
	b, err := acp.EncodeSession(acp.V20260417, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaValidate(t, checkoutSchema(t, acp.V20260417, "PaymentHandler"),
		mustJSON(t, decodeMap(t, b)["capabilities"].(map[string]any)["payment"].(map[string]any)["handlers"].([]any)[0])); err != nil {
		t.Error(err)
	}
}
