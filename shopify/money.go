package shopify

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// LineTaxes spreads the quote's item tax (TotalTax minus the shipping
// line's tax) over its taxable lines, in proportion to what each costs after
// every discount, in minor units of a currency with exponent decimals (2
// for USD). Shopify's calculation returns tax per jurisdiction but not per
// line; the shares add up to the item tax exactly (largest remainder, ties
// to the earlier line).
func (q *DraftQuote) LineTaxes(exponent int) ([]int64, error) {
	total, err := MinorUnits(q.TotalTax, exponent)
	if err != nil {
		return nil, fmt.Errorf("total tax: %w", err)
	}
	if q.Shipping != nil && q.Shipping.Tax != "" {
		st, err := MinorUnits(q.Shipping.Tax, exponent)
		if err != nil {
			return nil, fmt.Errorf("shipping tax: %w", err)
		}
		total -= st
	}
	weights := make([]int64, len(q.Lines))
	for i, l := range q.Lines {
		if !l.Taxable {
			continue
		}
		d, err := MinorUnits(l.DiscountedTotal, exponent)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
		o, err := MinorUnits(l.OrderDiscount, exponent)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i, err)
		}
		weights[i] = max(d-o, 0)
	}
	return allocate(max(total, 0), weights), nil
}

// allocate splits total over weights in proportion by the largest
// remainder method, ties to the earlier index. With no weight at all, the
// whole total goes to the first line (so nothing is lost).
func allocate(total int64, weights []int64) []int64 {
	shares := make([]int64, len(weights))
	sum := new(big.Int)
	for _, w := range weights {
		sum.Add(sum, big.NewInt(w))
	}
	if len(weights) == 0 || total == 0 {
		return shares
	}
	if sum.Sign() == 0 {
		shares[0] = total
		return shares
	}
	rems := make([]*big.Int, len(weights))
	var given int64
	for i, w := range weights {
		quo, rem := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(w)), sum, new(big.Int))
		shares[i], rems[i] = quo.Int64(), rem
		given += shares[i]
	}
	for ; given < total; given++ {
		best := -1
		for i, r := range rems {
			if r != nil && (best < 0 || r.Cmp(rems[best]) > 0) {
				best = i
			}
		}
		shares[best]++
		rems[best] = nil
	}
	return shares
}

// MinorUnits converts a decimal amount as Shopify sends it ("19.99",
// "20.0", "-1.5") into integer minor units of a currency with exponent
// decimals, exactly; an amount with more significant decimals than that is
// an error.
func MinorUnits(amount string, exponent int) (int64, error) {
	s := strings.TrimSpace(amount)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	if whole == "" || len(whole) > 15 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || exponent < 0 || exponent > 6 {
		return 0, fmt.Errorf("%q is not an amount", amount)
	}
	if len(frac) > exponent {
		return 0, fmt.Errorf("%q has more than %d decimals", amount, exponent)
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", exponent-len(frac)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount", amount)
	}
	if neg {
		n = -n
	}
	return n, nil
}

// sumDecimals adds decimal strings exactly and writes the sum with as many
// decimals as the most precise of them; "0" for none.
func sumDecimals(amounts []string) (string, error) {
	sum := new(big.Rat)
	scale := 0
	for _, a := range amounts {
		r, ok := new(big.Rat).SetString(strings.TrimSpace(a))
		if !ok {
			return "", fmt.Errorf("%q is not an amount", a)
		}
		if _, frac, found := strings.Cut(a, "."); found {
			scale = max(scale, len(frac))
		}
		sum.Add(sum, r)
	}
	return sum.FloatString(scale), nil
}
