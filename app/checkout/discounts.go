package checkout

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// This file is the ACP discount extension over Shopify's discount engine:
// the codes go into the draft-order calculation (and onto a handoff's
// draft order), and what Shopify answers (its platform discounts with
// their allocations, its warnings for the codes it did not apply) becomes
// the session's discounts object and one warning per refused code.

// RejectedCode is a discount code Shopify did not apply, with the
// extension's reason.
type RejectedCode struct {
	Code   string          `json:"code"`
	Reason acp.MessageCode `json:"reason"`
	// ShopifyCode is Shopify's own errorCode, kept for the logs and for
	// mapping it better later.
	ShopifyCode string `json:"shopify_code,omitempty"`
}

// rejectedCodes are the codes Shopify's calculation refused, each once.
// A calculation that only lists refused codes (no reasons) refuses them as
// invalid.
func rejectedCodes(res *DraftResult) []RejectedCode {
	var out []RejectedCode
	seen := map[string]bool{}
	add := func(code string, r RejectedCode) {
		k := strings.ToUpper(strings.TrimSpace(code))
		if k == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, r)
	}
	for _, r := range res.Rejections {
		add(r.Code, RejectedCode{Code: r.Code, Reason: discountReason(r.ErrorCode, r.Message), ShopifyCode: r.ErrorCode})
	}
	for _, code := range res.RejectedCodes {
		add(code, RejectedCode{Code: code, Reason: acp.DiscountCodeInvalid})
	}
	return out
}

// discountReason maps the errorCode of Shopify's
// DraftOrderDiscountNotAppliedWarning (a String in the schema, its values
// undocumented) to the extension's reason; words of Shopify's message
// decide when the code says nothing we know, and invalid is the fallback
// (the extension's "not found or malformed").
func discountReason(errorCode, message string) acp.MessageCode {
	rules := []struct {
		words  []string
		reason acp.MessageCode
	}{
		{[]string{"EXPIRED"}, acp.DiscountCodeExpired},
		{[]string{"COMBIN", "STACK"}, acp.DiscountCodeCombinationDisallowed},
		{[]string{"MINIMUM", "SUBTOTAL", "QUANTITY_NOT_MET", "PREREQUISITE"}, acp.DiscountCodeMinimumNotMet},
		{[]string{"USAGE", "LIMIT", "REDEEMED", "ONCE_PER"}, acp.DiscountCodeUsageLimitReached},
		{[]string{"CUSTOMER", "ELIGIB", "BUYER"}, acp.DiscountCodeUserIneligible},
		{[]string{"ALREADY_APPLIED", "DUPLICATE"}, acp.DiscountCodeAlreadyApplied},
	}
	for _, text := range []string{errorCode, message} {
		up := strings.ToUpper(strings.ReplaceAll(text, " ", "_"))
		if up == "" {
			continue
		}
		for _, r := range rules {
			for _, w := range r.words {
				if strings.Contains(up, w) {
					return r.reason
				}
			}
		}
	}
	return acp.DiscountCodeInvalid
}

// rejectionText is what the buyer reads about a refused code.
func rejectionText(code string, reason acp.MessageCode) string {
	c := app.Truncate(code, 40)
	switch reason {
	case acp.DiscountCodeExpired:
		return fmt.Sprintf("The discount code %s has expired.", c)
	case acp.DiscountCodeCombinationDisallowed:
		return fmt.Sprintf("The discount code %s cannot be combined with the other discounts on this order.", c)
	case acp.DiscountCodeMinimumNotMet:
		return fmt.Sprintf("The order does not meet the minimum purchase for the discount code %s.", c)
	case acp.DiscountCodeUsageLimitReached:
		return fmt.Sprintf("The discount code %s has reached its usage limit.", c)
	case acp.DiscountCodeUserIneligible:
		return fmt.Sprintf("The buyer is not eligible for the discount code %s.", c)
	case acp.DiscountCodeAlreadyApplied:
		return fmt.Sprintf("The discount code %s is already applied.", c)
	}
	return fmt.Sprintf("The discount code %s is not valid for this order.", c)
}

// submittedCodes keeps the codes as the agent sent them, for the echo;
// nil (the JSON state's "none") when there are none.
func submittedCodes(codes []string) []string {
	if len(codes) == 0 {
		return nil
	}
	return slices.Clone(codes)
}

// discountsActive says whether the session speaks the discount extension:
// always, unless the agent listed the extensions it understands without
// it (rfc.extensions.md §4: the response names the active ones).
func discountsActive(caps *acp.AgentCapabilities) bool {
	if caps == nil || caps.Extensions == nil {
		return true
	}
	for _, e := range caps.Extensions {
		name, _, _ := strings.Cut(e, "@") // "discount@2026-01-27"
		if name == acp.DiscountExtension.Name {
			return true
		}
	}
	return false
}

// viewDiscounts is the session's discounts object and the warnings of
// its refused codes (param: the code's index in discounts.codes as the
// agent sent them).
func viewDiscounts(st *State) (*acp.Discounts, []acp.Message) {
	q := &st.Quote
	codes := st.SubmittedCodes
	if codes == nil {
		codes = st.DiscountCodes // a session stored before the echo was kept
	}
	d := &acp.Discounts{Codes: slices.Clone(codes)}
	for n, sd := range q.AppliedDiscounts {
		a := appliedDiscount(n, sd, len(q.Lines))
		if len(q.AppliedDiscounts) > 1 {
			a.Priority = levelPriority(q.AppliedDiscounts, sd.Level)
		}
		d.Applied = append(d.Applied, a)
	}
	var ms []acp.Message
	for _, r := range q.RejectedCodes {
		text := rejectionText(r.Code, r.Reason)
		d.Rejected = append(d.Rejected, acp.RejectedDiscount{Code: r.Code, Reason: r.Reason, Message: text})
		param := "$.discounts.codes"
		for i, c := range codes {
			if strings.EqualFold(strings.TrimSpace(c), r.Code) {
				param += "[" + strconv.Itoa(i) + "]"
				break
			}
		}
		ms = append(ms, acp.Message{Type: acp.MessageWarning, Code: r.Reason, Param: param, ContentType: acp.ContentPlain,
			Severity: "low", Resolution: "recoverable", Content: text})
	}
	return d, ms
}

// levels are Shopify's discount levels in the order its engine applies
// them: product discounts, then order discounts on what is left, then
// shipping discounts. Discounts of one level are each calculated on the
// same amount, so they share a priority.
var levels = []string{"line", "order", "shipping"}

// levelPriority is the stacking order (from 1) of a discount of level
// among the applied ones: the rank of its level among theirs.
func levelPriority(applied []DraftDiscount, level string) int {
	rank := slices.Index(levels, level)
	if rank < 0 {
		rank = len(levels) // an unknown level: last
	}
	seen := map[int]bool{}
	for _, d := range applied {
		r := slices.Index(levels, d.Level)
		if r < 0 {
			r = len(levels)
		}
		if r < rank {
			seen[r] = true
		}
	}
	return len(seen) + 1
}

// appliedDiscount is Shopify's n-th discount in the extension's terms:
// line-level discounts are calculated on each item ("each"), order-level
// ones split over the order ("across"); allocations point at the session's
// line items and its fulfillment total. Allocations that do not add up to
// the amount (a line Shopify added) are left out rather than sent wrong.
func appliedDiscount(n int, d DraftDiscount, lines int) acp.AppliedDiscount {
	a := acp.AppliedDiscount{ID: "discount_" + strconv.Itoa(n+1), Code: d.Code, Amount: d.Amount, Automatic: d.Automatic}
	a.Coupon = acp.Coupon{ID: d.ID, Name: d.Title}
	if a.Coupon.ID == "" {
		a.Coupon.ID = a.ID
	}
	if a.Coupon.Name == "" {
		a.Coupon.Name = cmp.Or(d.Summary, d.Code, "Discount")
	}
	switch d.Level {
	case "line":
		a.Method = acp.DiscountEach
	case "order":
		a.Method = acp.DiscountAcross
	}
	var sum int64
	for _, al := range d.Allocations {
		path := "$.totals.fulfillment"
		if al.Line != ShippingAllocation {
			if al.Line < 0 || al.Line >= lines {
				return a
			}
			path = "$.line_items[" + strconv.Itoa(al.Line) + "]"
		}
		a.Allocations = append(a.Allocations, acp.DiscountAllocation{Path: path, Amount: al.Amount})
		sum += al.Amount
	}
	if sum != a.Amount {
		a.Allocations = nil
	}
	return a
}
