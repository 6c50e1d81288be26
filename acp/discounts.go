package acp

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// This file is the discount extension (rfc.discount_extension.md,
// 2026-04-17's DiscountsResponse): the codes the agent sent, the discounts
// applied (by code or automatically) with their allocations, and the codes
// rejected with a reason. 2025-09-29 has no such object: there the
// discounts show only in the totals and the rejections only as messages.

// Extension is an active extension declared in a session's
// capabilities.extensions (2026-04-17 ExtensionDeclaration).
type Extension struct {
	Name string
	// Extends are the JSONPaths of the schema fields it adds, e.g.
	// "$.CheckoutSession.discounts".
	Extends []string
	// Schema and Spec are optional URLs.
	Schema, Spec string
}

// DiscountExtension is the discount extension as a session declares it:
// discounts on create and update requests, and on the session.
var DiscountExtension = Extension{Name: "discount", Extends: []string{
	"$.CheckoutSessionCreateRequest.discounts",
	"$.CheckoutSessionUpdateRequest.discounts",
	"$.CheckoutSession.discounts",
}}

// Discount reason codes (the extension's discount_error_codes), used as a
// RejectedDiscount's Reason and as the code of its warning message.
const (
	DiscountCodeExpired               MessageCode = "discount_code_expired"
	DiscountCodeInvalid               MessageCode = "discount_code_invalid"
	DiscountCodeAlreadyApplied        MessageCode = "discount_code_already_applied"
	DiscountCodeCombinationDisallowed MessageCode = "discount_code_combination_disallowed"
	DiscountCodeMinimumNotMet         MessageCode = "discount_code_minimum_not_met"
	DiscountCodeUserNotLoggedIn       MessageCode = "discount_code_user_not_logged_in"
	DiscountCodeUserIneligible        MessageCode = "discount_code_user_ineligible"
	DiscountCodeUsageLimitReached     MessageCode = "discount_code_usage_limit_reached"
)

// discountReasons are the reason codes the extension defines.
var discountReasons = []MessageCode{DiscountCodeExpired, DiscountCodeInvalid, DiscountCodeAlreadyApplied,
	DiscountCodeCombinationDisallowed, DiscountCodeMinimumNotMet, DiscountCodeUserNotLoggedIn,
	DiscountCodeUserIneligible, DiscountCodeUsageLimitReached}

// Allocation methods of an applied discount.
const (
	// DiscountEach: calculated on each eligible item on its own.
	DiscountEach = "each"
	// DiscountAcross: one amount split over the order.
	DiscountAcross = "across"
)

// Discounts is the session's discounts object.
type Discounts struct {
	// Codes echo the codes the agent submitted, as it sent them.
	Codes    []string
	Applied  []AppliedDiscount
	Rejected []RejectedDiscount
}

// AppliedDiscount is a discount applied to the session.
type AppliedDiscount struct {
	ID string
	// Code is "" for an automatic discount.
	Code      string
	Coupon    Coupon
	Amount    int64
	Automatic bool
	// Method is DiscountEach, DiscountAcross or "" (not said).
	Method string
	// Priority is the stacking order from 1; 0 leaves it out.
	Priority    int
	Allocations []DiscountAllocation
}

// Coupon describes the terms of a discount. PercentOff and AmountOff are
// exclusive; AmountOff needs Currency.
type Coupon struct {
	ID, Name   string
	PercentOff *float64
	AmountOff  *int64
	Currency   string
}

// DiscountAllocation is the part of a discount that went to one target,
// by JSONPath: "$.line_items[0]", "$.totals.fulfillment".
type DiscountAllocation struct {
	Path   string
	Amount int64
}

// RejectedDiscount is a submitted code that does not apply.
type RejectedDiscount struct {
	Code string
	// Reason is one of the DiscountCode* reasons.
	Reason  MessageCode
	Message string
}

// validate checks the discounts on their own: known reasons, amounts in
// range, allocations adding up to their discount.
func (d *Discounts) validate() error {
	if d == nil {
		return nil
	}
	if len(d.Codes) > MaxListLen || len(d.Applied) > MaxListLen || len(d.Rejected) > MaxListLen {
		return fmt.Errorf("discounts: at most %d codes, applied and rejected discounts", MaxListLen)
	}
	for i, a := range d.Applied {
		if err := a.validate(); err != nil {
			return fmt.Errorf("discounts.applied[%d]: %w", i, err)
		}
	}
	for i, r := range d.Rejected {
		switch {
		case r.Code == "":
			return fmt.Errorf("discounts.rejected[%d]: code is empty", i)
		case !containsCode(discountReasons, r.Reason):
			return fmt.Errorf("discounts.rejected[%d]: unknown reason %q", i, r.Reason)
		}
	}
	return nil
}

func (a AppliedDiscount) validate() error {
	switch {
	case a.ID == "":
		return errors.New("id is empty")
	case a.Coupon.ID == "" || a.Coupon.Name == "":
		return errors.New("coupon id and name are required")
	case a.Amount < 0 || a.Amount > MaxAmount:
		return fmt.Errorf("amount %d is outside 0..%d", a.Amount, MaxAmount)
	case a.Method != "" && a.Method != DiscountEach && a.Method != DiscountAcross:
		return fmt.Errorf("unknown method %q", a.Method)
	case a.Priority < 0:
		return fmt.Errorf("priority %d is negative", a.Priority)
	case a.Coupon.PercentOff != nil && a.Coupon.AmountOff != nil:
		return errors.New("coupon has both percent_off and amount_off")
	case a.Coupon.PercentOff != nil && (*a.Coupon.PercentOff < 0 || *a.Coupon.PercentOff > 100 || math.IsNaN(*a.Coupon.PercentOff)):
		return fmt.Errorf("coupon percent_off %v is outside 0..100", *a.Coupon.PercentOff)
	case a.Coupon.AmountOff != nil && (*a.Coupon.AmountOff < 0 || a.Coupon.Currency == ""):
		return errors.New("coupon amount_off needs a currency and must not be negative")
	}
	if a.Coupon.Currency != "" {
		if _, ok := NormalizeCurrency(a.Coupon.Currency); !ok {
			return fmt.Errorf("coupon currency %q is not an ISO 4217 code", a.Coupon.Currency)
		}
	}
	if len(a.Allocations) == 0 {
		return nil
	}
	var sum int64
	for j, al := range a.Allocations {
		if !strings.HasPrefix(al.Path, "$.") || al.Amount < 0 || al.Amount > MaxAmount {
			return fmt.Errorf("allocations[%d]: path %q or amount %d is invalid", j, al.Path, al.Amount)
		}
		sum += al.Amount
	}
	if sum != a.Amount {
		return fmt.Errorf("allocations add up to %d, not the amount %d", sum, a.Amount)
	}
	return nil
}

// --- 2026-04-17 wire ---

type w26Extension struct {
	Name    string   `json:"name"`
	Extends []string `json:"extends,omitempty"`
	Schema  string   `json:"schema,omitempty"`
	Spec    string   `json:"spec,omitempty"`
}

type w26Discounts struct {
	Codes    []string              `json:"codes"`
	Applied  []w26AppliedDiscount  `json:"applied"`
	Rejected []w26RejectedDiscount `json:"rejected,omitempty"`
}

type w26AppliedDiscount struct {
	ID          string          `json:"id"`
	Code        string          `json:"code,omitempty"`
	Coupon      w26Coupon       `json:"coupon"`
	Amount      int64           `json:"amount"`
	Automatic   bool            `json:"automatic,omitempty"`
	Method      string          `json:"method,omitempty"`
	Priority    int             `json:"priority,omitempty"`
	Allocations []w26Allocation `json:"allocations,omitempty"`
}

type w26Coupon struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PercentOff *float64 `json:"percent_off,omitempty"`
	AmountOff  *int64   `json:"amount_off,omitempty"`
	Currency   string   `json:"currency,omitempty"`
}

type w26Allocation struct {
	Path   string `json:"path"`
	Amount int64  `json:"amount"`
}

type w26RejectedDiscount struct {
	Code    string      `json:"code"`
	Reason  MessageCode `json:"reason"`
	Message string      `json:"message,omitempty"`
}

func extensions20260417(es []Extension) []w26Extension {
	var out []w26Extension
	for _, e := range es {
		out = append(out, w26Extension{Name: e.Name, Extends: e.Extends, Schema: e.Schema, Spec: e.Spec})
	}
	return out
}

// discounts20260417 is the discounts object; codes and applied are always
// lists (the RFC makes applied required in a response).
func discounts20260417(d *Discounts) *w26Discounts {
	if d == nil {
		return nil
	}
	w := &w26Discounts{Codes: d.Codes, Applied: make([]w26AppliedDiscount, 0, len(d.Applied))}
	if w.Codes == nil {
		w.Codes = []string{}
	}
	for _, a := range d.Applied {
		c := w26Coupon{ID: a.Coupon.ID, Name: a.Coupon.Name, PercentOff: a.Coupon.PercentOff, AmountOff: a.Coupon.AmountOff}
		if a.Coupon.Currency != "" {
			c.Currency, _ = NormalizeCurrency(a.Coupon.Currency)
		}
		wa := w26AppliedDiscount{ID: a.ID, Code: a.Code, Coupon: c, Amount: a.Amount, Automatic: a.Automatic,
			Method: a.Method, Priority: a.Priority}
		for _, al := range a.Allocations {
			wa.Allocations = append(wa.Allocations, w26Allocation{Path: al.Path, Amount: al.Amount})
		}
		w.Applied = append(w.Applied, wa)
	}
	for _, r := range d.Rejected {
		w.Rejected = append(w.Rejected, w26RejectedDiscount{Code: r.Code, Reason: r.Reason, Message: r.Message})
	}
	return w
}
