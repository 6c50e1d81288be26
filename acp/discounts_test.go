package acp_test

import (
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

func withDiscounts() *acp.Session {
	s := readyShipping()
	pct := 10.0
	off := int64(200)
	s.Extensions = []acp.Extension{acp.DiscountExtension}
	s.Discounts = &acp.Discounts{
		Codes: []string{"save2", "EXPIRED"},
		Applied: []acp.AppliedDiscount{
			{ID: "discount_1", Code: "SAVE2", Coupon: acp.Coupon{ID: "gid://shopify/DiscountCodeNode/1", Name: "$2 off", AmountOff: &off, Currency: "USD"},
				Amount: 200, Method: acp.DiscountAcross, Priority: 1, Allocations: []acp.DiscountAllocation{{Path: "$.line_items[0]", Amount: 200}}},
			{ID: "discount_2", Coupon: acp.Coupon{ID: "auto", Name: "10% off", PercentOff: &pct}, Amount: 0, Automatic: true},
		},
		Rejected: []acp.RejectedDiscount{{Code: "EXPIRED", Reason: acp.DiscountCodeExpired, Message: "The discount code EXPIRED has expired."}},
	}
	s.Messages = []acp.Message{{Type: acp.MessageWarning, Code: acp.DiscountCodeExpired, Param: "$.discounts.codes[1]",
		ContentType: acp.ContentPlain, Content: "The discount code EXPIRED has expired."}}
	return s
}

// TestEncodeDiscounts: 2026-04-17 carries the discounts object and the
// extension's declaration, valid for the session schema and the
// extension's own schema; 2025-09-29, which has neither, stays valid for
// its schema without them.
func TestEncodeDiscounts(t *testing.T) {
	t.Parallel()
	s := withDiscounts()
	b, err := acp.EncodeSession(acp.V20260417, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaValidate(t, checkoutSchema(t, acp.V20260417, "CheckoutSession"), b); err != nil {
		t.Fatalf("not a CheckoutSession: %v\n%s", err, b)
	}
	sch, err := acptest.Schema(acp.V20260417, "schema.discount.json", "checkout_with_discount", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaValidate(t, sch, b); err != nil {
		t.Fatalf("not a checkout_with_discount: %v\n%s", err, b)
	}
	for _, want := range []string{`"extensions":[{"name":"discount","extends":["$.CheckoutSessionCreateRequest.discounts"`,
		`"codes":["save2","EXPIRED"]`, `"currency":"usd"`, `"rejected":[{"code":"EXPIRED","reason":"discount_code_expired"`,
		`"automatic":true`, `"priority":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("2026-04-17 lacks %s:\n%s", want, b)
		}
	}
	old, err := acp.EncodeSession(acp.V20250929, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaValidate(t, checkoutSchema(t, acp.V20250929, "CheckoutSession"), old); err != nil {
		t.Fatalf("2025-09-29: %v\n%s", err, old)
	}
	if strings.Contains(string(old), `"discounts"`) || strings.Contains(string(old), `"extensions"`) {
		t.Errorf("2025-09-29 has the extension:\n%s", old)
	}
}

// TestDiscountsValidate: what the schema or the RFC forbid is refused
// before it reaches the wire.
func TestDiscountsValidate(t *testing.T) {
	t.Parallel()
	five := int64(500)
	tests := []struct {
		name   string
		change func(d *acp.Discounts)
	}{
		{"unknown reason", func(d *acp.Discounts) { d.Rejected[0].Reason = "coupon_expired" }},
		{"rejected without code", func(d *acp.Discounts) { d.Rejected[0].Code = "" }},
		{"allocations not adding up", func(d *acp.Discounts) { d.Applied[0].Allocations[0].Amount = 199 }},
		{"allocation path not JSONPath", func(d *acp.Discounts) { d.Applied[0].Allocations[0].Path = "line 1" }},
		{"coupon without name", func(d *acp.Discounts) { d.Applied[0].Coupon.Name = "" }},
		{"applied without id", func(d *acp.Discounts) { d.Applied[0].ID = "" }},
		{"unknown method", func(d *acp.Discounts) { d.Applied[0].Method = "spread" }},
		{"negative amount", func(d *acp.Discounts) { d.Applied[1].Amount = -1 }},
		{"percent and amount", func(d *acp.Discounts) { d.Applied[1].Coupon.AmountOff, d.Applied[1].Coupon.Currency = &five, "usd" }},
		{"amount without currency", func(d *acp.Discounts) { d.Applied[0].Coupon.Currency = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := withDiscounts()
			tt.change(s.Discounts)
			if _, err := acp.EncodeSession(acp.V20260417, s); err == nil {
				t.Errorf("encoded a session whose discounts have %s", tt.name)
			}
		})
	}
}
