package checkout

import (
	"reflect"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// TestDiscountReason: Shopify's warning codes (and, failing them, its
// message) map to the extension's reasons; anything else is invalid.
func TestDiscountReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, message string
		want          acp.MessageCode
	}{
		{"DISCOUNT_EXPIRED", "", acp.DiscountCodeExpired},
		{"DISCOUNT_NOT_FOUND", "Discount code X couldn't be found.", acp.DiscountCodeInvalid},
		{"DISCOUNT_NOT_ACTIVE", "", acp.DiscountCodeInvalid},
		{"DISCOUNT_NOT_COMBINABLE", "", acp.DiscountCodeCombinationDisallowed},
		{"MINIMUM_SUBTOTAL_NOT_MET", "", acp.DiscountCodeMinimumNotMet},
		{"USAGE_LIMIT_REACHED", "", acp.DiscountCodeUsageLimitReached},
		{"CUSTOMER_NOT_ELIGIBLE", "", acp.DiscountCodeUserIneligible},
		{"", "This discount code has expired", acp.DiscountCodeExpired},
		{"UNKNOWN", "Something else", acp.DiscountCodeInvalid},
		{"", "", acp.DiscountCodeInvalid},
	}
	for _, tt := range tests {
		if got := discountReason(tt.code, tt.message); got != tt.want {
			t.Errorf("discountReason(%q, %q) = %s, want %s", tt.code, tt.message, got, tt.want)
		}
	}
}

// TestAppliedDiscount: Shopify's discount in the extension's terms; its
// allocations are sent only when they point at our lines and add up.
func TestAppliedDiscount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    DraftDiscount
		lines int
		want  acp.AppliedDiscount
	}{
		{"order code across two lines", DraftDiscount{ID: "gid://shopify/DiscountCodeNode/1", Code: "SAVE5", Title: "$5 off", Level: "order", Amount: 500,
			Allocations: []DraftAllocation{{Line: 0, Amount: 300}, {Line: 1, Amount: 200}}}, 2,
			acp.AppliedDiscount{ID: "discount_1", Code: "SAVE5", Coupon: acp.Coupon{ID: "gid://shopify/DiscountCodeNode/1", Name: "$5 off"}, Amount: 500,
				Method: acp.DiscountAcross, Allocations: []acp.DiscountAllocation{{Path: "$.line_items[0]", Amount: 300}, {Path: "$.line_items[1]", Amount: 200}}}},
		{"automatic free shipping", DraftDiscount{Title: "Free shipping", Automatic: true, Level: "shipping", Amount: 599,
			Allocations: []DraftAllocation{{Line: ShippingAllocation, Amount: 599}}}, 1,
			acp.AppliedDiscount{ID: "discount_1", Coupon: acp.Coupon{ID: "discount_1", Name: "Free shipping"}, Amount: 599, Automatic: true,
				Allocations: []acp.DiscountAllocation{{Path: "$.totals.fulfillment", Amount: 599}}}},
		{"allocations short of the amount", DraftDiscount{Code: "EACH", Level: "line", Amount: 500,
			Allocations: []DraftAllocation{{Line: 0, Amount: 300}}}, 1,
			acp.AppliedDiscount{ID: "discount_1", Code: "EACH", Coupon: acp.Coupon{ID: "discount_1", Name: "EACH"}, Amount: 500, Method: acp.DiscountEach}},
		{"a line we do not have", DraftDiscount{Code: "X", Title: "X", Level: "order", Amount: 100,
			Allocations: []DraftAllocation{{Line: 3, Amount: 100}}}, 1,
			acp.AppliedDiscount{ID: "discount_1", Code: "X", Coupon: acp.Coupon{ID: "discount_1", Name: "X"}, Amount: 100, Method: acp.DiscountAcross}},
	}
	for _, tt := range tests {
		if got := appliedDiscount(0, tt.in, tt.lines); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
	}
}

// TestViewDiscounts: codes echo what the agent sent; a refused code is in
// rejected and a warning at its index; discounts of different levels get
// Shopify's stacking order, the same level the same priority.
func TestViewDiscounts(t *testing.T) {
	t.Parallel()
	st := &State{
		DiscountCodes:  []string{"EACH", "LOYAL", "SAVE", "OLD"},
		SubmittedCodes: []string{"each", "loyal", "save", " old"},
		Quote: Quote{
			Lines: []QuotedLine{{}},
			AppliedDiscounts: []DraftDiscount{
				{Code: "LOYAL", Level: "order", Amount: 1}, {Code: "EACH", Level: "line", Amount: 1}, {Code: "SAVE", Level: "order", Amount: 1},
			},
			RejectedCodes: []RejectedCode{{Code: "OLD", Reason: acp.DiscountCodeExpired}},
		},
	}
	d, ms := viewDiscounts(st)
	if !reflect.DeepEqual(d.Codes, st.SubmittedCodes) {
		t.Errorf("codes %v", d.Codes)
	}
	var prio []int
	for _, a := range d.Applied {
		prio = append(prio, a.Priority)
	}
	if !reflect.DeepEqual(prio, []int{2, 1, 2}) {
		t.Errorf("priorities %v, want [2 1 2]", prio)
	}
	if len(d.Rejected) != 1 || d.Rejected[0].Reason != acp.DiscountCodeExpired || len(ms) != 1 ||
		ms[0].Param != "$.discounts.codes[3]" || ms[0].Code != acp.DiscountCodeExpired || ms[0].Type != acp.MessageWarning {
		t.Errorf("rejected %+v, messages %+v", d.Rejected, ms)
	}
	if !discountsActive(nil) || !discountsActive(&acp.AgentCapabilities{Extensions: []string{"discount@2026-01-27"}}) ||
		discountsActive(&acp.AgentCapabilities{Extensions: []string{"loyalty"}}) {
		t.Error("the extension is active unless the agent lists others without it")
	}
}
