package acp_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

func TestDecodeCartRequests(t *testing.T) {
	t.Parallel()
	v := acp.V20260417
	in, err := acp.DecodeCreateCart(v, []byte(`{"line_items":[{"id":"item_123","quantity":2},{"id":"item_456"}],
		"buyer":{"email":"buyer@example.com"},"locale":"en-US"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &acp.CreateCartInput{Items: []acp.ItemInput{{ID: "item_123", Quantity: 2}, {ID: "item_456", Quantity: 1}},
		Buyer: &acp.Buyer{Email: "buyer@example.com"}, Locale: "en-US"}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("create = %s; want %s", dump(in), dump(want))
	}
	up, err := acp.DecodeUpdateCart(v, []byte(`{"line_items":[{"id":"item_789","quantity":3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if wantUp := (&acp.UpdateCartInput{Items: []acp.ItemInput{{ID: "item_789", Quantity: 3}}}); !reflect.DeepEqual(up, wantUp) {
		t.Errorf("update = %s; want %s", dump(up), dump(wantUp))
	}
	for _, body := range []string{"", " ", "{}", `{"reason":"anything"}`} {
		if err := acp.DecodeCancelCart(v, []byte(body)); err != nil {
			t.Errorf("cancel %q: %v", body, err)
		}
	}
}

// The spec's own request examples read as they mean. They carry
// quantities, which the released Item schema lacks (acp.md §10.1): the
// schema refuses its own examples, and we accept them, as for sessions.
// Without the quantities both agree.
func TestDecodeCartSchemaAgreement(t *testing.T) {
	t.Parallel()
	noQty := strings.NewReplacer(`,"quantity":2`, "", `,"quantity":3`, "", `,"quantity":1`, "")
	for _, tc := range []struct {
		def, body string
		decode    func([]byte) error
	}{
		{"CartCreateRequest", `{"line_items":[{"id":"item_123","quantity":2},{"id":"item_456","quantity":1}],"buyer":{"email":"buyer@example.com"}}`,
			func(b []byte) error { _, err := acp.DecodeCreateCart(acp.V20260417, b); return err }},
		{"CartUpdateRequest", `{"line_items":[{"id":"item_123","quantity":3},{"id":"item_789","quantity":1}]}`,
			func(b []byte) error { _, err := acp.DecodeUpdateCart(acp.V20260417, b); return err }},
	} {
		if err := acptest.ValidateCart(tc.def, []byte(tc.body)); err == nil || !strings.Contains(err.Error(), "quantity") {
			t.Errorf("%s: want the schema to refuse the quantities (§10.1), got %v", tc.def, err)
		}
		if err := tc.decode([]byte(tc.body)); err != nil {
			t.Errorf("%s: %v", tc.def, err)
		}
		bare := noQty.Replace(tc.body)
		if err := acptest.ValidateCart(tc.def, []byte(bare)); err != nil {
			t.Errorf("%s without quantities: schema: %v", tc.def, err)
		}
		if err := tc.decode([]byte(bare)); err != nil {
			t.Errorf("%s without quantities: %v", tc.def, err)
		}
	}
}

func TestDecodeCartErrors(t *testing.T) {
	t.Parallel()
	v := acp.V20260417
	create := func(b string) error { _, err := acp.DecodeCreateCart(v, []byte(b)); return err }
	update := func(b string) error { _, err := acp.DecodeUpdateCart(v, []byte(b)); return err }
	tests := []struct {
		name, body  string
		fn          func(string) error
		code, param string
		// schemaToo: the official schema refuses the body as well.
		schemaDef string
	}{
		{"create without line_items", `{}`, create, acp.CodeMissing, "$.line_items", "CartCreateRequest"},
		{"create empty line_items", `{"line_items":[]}`, create, acp.CodeInvalid, "$.line_items", "CartCreateRequest"},
		{"create bad quantity", `{"line_items":[{"id":"a","quantity":0}]}`, create, acp.CodeInvalid, "$.line_items[0].quantity", ""},
		{"create bad email", `{"line_items":[{"id":"a"}],"buyer":{"email":"nope"}}`, create, acp.CodeInvalid, "$.buyer.email", ""},
		{"update without line_items", `{"buyer":{"email":"a@b.example"}}`, update, acp.CodeMissing, "$.line_items", "CartUpdateRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.fn(tc.body), tc.code, tc.param)
			if tc.schemaDef != "" && acptest.ValidateCart(tc.schemaDef, []byte(tc.body)) == nil {
				t.Errorf("the schema accepts %s", tc.body)
			}
		})
	}
	err := acp.DecodeCancelCart(v, []byte(`[1]`))
	if err == nil {
		t.Error("cancel accepted a non-object body")
	}
}

func TestCartsRefused20250929(t *testing.T) {
	t.Parallel()
	v := acp.V20250929
	_, err := acp.DecodeCreateCart(v, []byte(`{"line_items":[{"id":"a"}]}`))
	checkErr(t, err, acp.CodeUnsupportedAPIVersion, "")
	_, err = acp.DecodeUpdateCart(v, []byte(`{"line_items":[{"id":"a"}]}`))
	checkErr(t, err, acp.CodeUnsupportedAPIVersion, "")
	checkErr(t, acp.DecodeCancelCart(v, nil), acp.CodeUnsupportedAPIVersion, "")
	if _, err := acp.EncodeCart(v, sampleCart(true)); err == nil {
		t.Error("EncodeCart encoded a 2025-09-29 cart")
	}
}

func sampleCart(tax bool) *acp.Cart {
	ls := lines()
	if !tax {
		for i := range ls {
			ls[i].Tax = 0
		}
	}
	return &acp.Cart{ID: "cart_abc", Currency: "USD", LineItems: ls, TaxEstimated: tax,
		Buyer:       &acp.Buyer{Email: "buyer@example.com"},
		Messages:    []acp.Message{{Type: acp.MessageInfo, ContentType: acp.ContentPlain, Content: "Totals are estimates."}},
		ContinueURL: "https://shop.example/invoices/1", ExpiresAt: time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC)}
}

func TestEncodeCartMatchesSchema(t *testing.T) {
	t.Parallel()
	for _, tax := range []bool{true, false} {
		c := sampleCart(tax)
		b, err := acp.EncodeCart(acp.V20260417, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := acptest.ValidateCart("Cart", b); err != nil {
			t.Fatalf("tax=%v: %v\n%s", tax, err, b)
		}
		m := decodeMap(t, b)
		if m["currency"] != "usd" || m["id"] != "cart_abc" || m["continue_url"] != c.ContinueURL || m["expires_at"] != "2026-04-20T12:00:00Z" {
			t.Errorf("fields: %s", b)
		}
		hasTax := strings.Contains(string(b), `"type":"tax"`)
		if hasTax != tax {
			t.Errorf("tax estimated %v but tax totals present %v: %s", tax, hasTax, b)
		}
		var total int64
		for _, x := range m["totals"].([]any) {
			if e := x.(map[string]any); e["type"] == "total" {
				total = num(t, e["amount"])
			}
		}
		want := int64(2*1999 - 200 + 4500)
		if tax {
			want += 300 + 360
		}
		if total != want {
			t.Errorf("total %d; want %d", total, want)
		}
	}
	// The minimal cart: no buyer, messages, URL or expiry.
	b, err := acp.EncodeCart(acp.V20260417, &acp.Cart{ID: "cart_1", Currency: "eur",
		LineItems: []acp.LineItem{{ID: "li_1", ItemID: "1", Quantity: 1, UnitAmount: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := acptest.ValidateCart("Cart", b); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
}

func TestEncodeCartRefusesInvalid(t *testing.T) {
	t.Parallel()
	for name, mut := range map[string]func(*acp.Cart){
		"no id":                func(c *acp.Cart) { c.ID = "" },
		"bad currency":         func(c *acp.Cart) { c.Currency = "dollars" },
		"relative url":         func(c *acp.Cart) { c.ContinueURL = "/invoice" },
		"tax not estimated":    func(c *acp.Cart) { c.TaxEstimated = false },
		"bad message":          func(c *acp.Cart) { c.Messages = []acp.Message{{Type: "shout"}} },
		"discount over amount": func(c *acp.Cart) { c.Discount = 1 << 40 },
	} {
		c := sampleCart(true)
		mut(c)
		if b, err := acp.EncodeCart(acp.V20260417, c); err == nil {
			t.Errorf("%s: encoded %s", name, b)
		}
	}
}
