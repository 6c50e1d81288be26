package acp

import (
	"errors"
	"fmt"
)

// TotalType is the kind of a total.
type TotalType string

// Total types of the session totals, in both versions.
const (
	TotalItemsBaseAmount TotalType = "items_base_amount"
	TotalItemsDiscount   TotalType = "items_discount"
	TotalSubtotal        TotalType = "subtotal"
	TotalDiscount        TotalType = "discount"
	TotalFulfillment     TotalType = "fulfillment"
	TotalTax             TotalType = "tax"
	TotalFee             TotalType = "fee"
	TotalTotal           TotalType = "total"
)

// DefaultTotalLabels are the display texts of the totals.
var DefaultTotalLabels = map[TotalType]string{
	TotalItemsBaseAmount: "Item(s) total",
	TotalItemsDiscount:   "Item discounts",
	TotalSubtotal:        "Subtotal",
	TotalDiscount:        "Discount",
	TotalFulfillment:     "Fulfillment",
	TotalTax:             "Tax",
	TotalFee:             "Fee",
	TotalTotal:           "Total",
}

// Total is one entry of a totals list.
type Total struct {
	Type        TotalType
	DisplayText string
	Amount      int64
	// Description is sent by 2026-04-17 only (e.g. what a fee is for).
	Description string
}

// Fee is an extra charge on the session.
type Fee struct {
	DisplayText string // defaults to "Fee"
	Description string
	Amount      int64
}

// ComputeTotals returns the totals list of a session made of lines, the
// selected fulfillment options, an order-level discount and fees, in the
// order items_base_amount, items_discount, subtotal, discount, fulfillment,
// tax, fee…, total. items_discount, discount and fees appear only when not
// zero; fulfillment only when an option is selected. The identities are
//
//	subtotal = items_base_amount − items_discount
//	tax      = Σ line tax + Σ selected option tax
//	fulfillment = Σ selected option subtotal
//	total    = subtotal − discount + fulfillment + tax + Σ fee
//
// (option tax is counted in "tax", not in "fulfillment", so that it is
// counted once). labels may be nil.
func ComputeTotals(lines []LineItem, selected []FulfillmentOption, discount int64, fees []Fee, labels map[TotalType]string) ([]Total, error) {
	var base, itemsDiscount, tax, fulfillment, feeSum int64
	for i, l := range lines {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("line_items[%d]: %w", i, err)
		}
		base += l.BaseAmount()
		itemsDiscount += l.Discount
		tax += l.Tax
	}
	for i, f := range selected {
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("selected fulfillment option %d: %w", i, err)
		}
		fulfillment += f.Subtotal
		tax += f.Tax
	}
	subtotal := base - itemsDiscount
	if discount < 0 || discount > subtotal {
		return nil, fmt.Errorf("order discount %d is outside 0..subtotal %d", discount, subtotal)
	}
	for i, f := range fees {
		if f.Amount < 0 || f.Amount > MaxAmount {
			return nil, fmt.Errorf("fees[%d]: amount %d is outside 0..%d", i, f.Amount, MaxAmount)
		}
		feeSum += f.Amount
	}
	total := subtotal - discount + fulfillment + tax + feeSum
	if base > MaxAmount || total > MaxAmount {
		return nil, fmt.Errorf("the session total %d exceeds %d", total, MaxAmount)
	}

	label := func(t TotalType) string {
		if s := labels[t]; s != "" {
			return s
		}
		return DefaultTotalLabels[t]
	}
	out := []Total{{Type: TotalItemsBaseAmount, DisplayText: label(TotalItemsBaseAmount), Amount: base}}
	if itemsDiscount != 0 {
		out = append(out, Total{Type: TotalItemsDiscount, DisplayText: label(TotalItemsDiscount), Amount: itemsDiscount})
	}
	out = append(out, Total{Type: TotalSubtotal, DisplayText: label(TotalSubtotal), Amount: subtotal})
	if discount != 0 {
		out = append(out, Total{Type: TotalDiscount, DisplayText: label(TotalDiscount), Amount: discount})
	}
	if len(selected) > 0 {
		out = append(out, Total{Type: TotalFulfillment, DisplayText: label(TotalFulfillment), Amount: fulfillment})
	}
	out = append(out, Total{Type: TotalTax, DisplayText: label(TotalTax), Amount: tax})
	for _, f := range fees {
		t := Total{Type: TotalFee, DisplayText: f.DisplayText, Amount: f.Amount, Description: f.Description}
		if t.DisplayText == "" {
			t.DisplayText = label(TotalFee)
		}
		out = append(out, t)
	}
	out = append(out, Total{Type: TotalTotal, DisplayText: label(TotalTotal), Amount: total})
	if err := CheckTotals(out); err != nil {
		return nil, err // unreachable: a guard on the code above
	}
	return out, nil
}

// CheckTotals checks any totals list (ours, or an order's): known types,
// non-negative amounts, a display text each, exactly one "total" and at most
// one subtotal and items_base_amount, and
//
//	subtotal = items_base_amount − Σ items_discount   (when both are present)
//	total    = subtotal − Σ discount + Σ fulfillment + Σ tax + Σ fee
//
// (subtotal defaulting to items_base_amount − Σ items_discount when absent).
func CheckTotals(totals []Total) error {
	count := map[TotalType]int{}
	sum := map[TotalType]int64{}
	for i, t := range totals {
		if _, ok := DefaultTotalLabels[t.Type]; !ok {
			return fmt.Errorf("totals[%d]: unknown type %q", i, t.Type)
		}
		if t.DisplayText == "" {
			return fmt.Errorf("totals[%d]: display text is empty", i)
		}
		if t.Amount < 0 || t.Amount > MaxAmount {
			return fmt.Errorf("totals[%d]: amount %d is outside 0..%d", i, t.Amount, MaxAmount)
		}
		count[t.Type]++
		sum[t.Type] += t.Amount
	}
	if count[TotalTotal] != 1 {
		return fmt.Errorf("totals: want exactly one %q entry, have %d", TotalTotal, count[TotalTotal])
	}
	if count[TotalSubtotal] > 1 || count[TotalItemsBaseAmount] > 1 {
		return errors.New("totals: subtotal and items_base_amount may appear once each")
	}
	subtotal := sum[TotalItemsBaseAmount] - sum[TotalItemsDiscount]
	if count[TotalSubtotal] == 1 {
		if count[TotalItemsBaseAmount] == 1 && sum[TotalSubtotal] != subtotal {
			return fmt.Errorf("totals: subtotal %d ≠ items_base_amount %d − items_discount %d",
				sum[TotalSubtotal], sum[TotalItemsBaseAmount], sum[TotalItemsDiscount])
		}
		subtotal = sum[TotalSubtotal]
	}
	want := subtotal - sum[TotalDiscount] + sum[TotalFulfillment] + sum[TotalTax] + sum[TotalFee]
	if sum[TotalTotal] != want {
		return fmt.Errorf("totals: total %d ≠ subtotal %d − discount %d + fulfillment %d + tax %d + fee %d = %d",
			sum[TotalTotal], subtotal, sum[TotalDiscount], sum[TotalFulfillment], sum[TotalTax], sum[TotalFee], want)
	}
	return nil
}

// Totals computes the session's totals list (see ComputeTotals).
func (s *Session) Totals() ([]Total, error) {
	sel, err := s.selectedOptions()
	if err != nil {
		return nil, err
	}
	return ComputeTotals(s.LineItems, sel, s.Discount, s.Fees, s.TotalLabels)
}
