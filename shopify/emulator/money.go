package emulator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// moneyInput reads a MoneyInput in the shop's currency.
func moneyInput(m map[string]any) (int64, error) {
	if c := stringArg(m, "currencyCode"); c != shopCurrency {
		return 0, fmt.Errorf("Currency code must be the shop currency %s", shopCurrency)
	}
	return parseCents(m["amount"])
}

// parseCents reads a Decimal or Money value (a string, or a JSON number
// from a variable) into cents, exactly; more than two decimals or a sign is
// refused.
func parseCents(v any) (int64, error) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case json.Number:
		s = t.String()
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	case int64:
		s = strconv.FormatInt(t, 10)
	case int:
		s = strconv.Itoa(t)
	}
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	frac = strings.TrimRight(frac, "0")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, fmt.Errorf("Amount %q is invalid", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	return strconv.ParseInt(whole+frac, 10, 64)
}

// roundDiv is num/den rounded half-up, for num >= 0 and den > 0.
func roundDiv(num, den int64) int64 {
	if num <= 0 {
		return 0
	}
	return (num + den/2) / den
}

// allocate splits total over weights in proportion, by the largest
// remainder method (ties to the earlier index), so the shares add up to
// total exactly. With total at most the weights' sum, no share exceeds its
// weight.
func allocate(total int64, weights []int64) []int64 {
	shares := make([]int64, len(weights))
	var sum int64
	for _, w := range weights {
		sum += max(w, 0)
	}
	if total <= 0 || sum <= 0 {
		return shares
	}
	rems := make([]int64, len(weights))
	var given int64
	for i, w := range weights {
		w = max(w, 0)
		shares[i] = total * w / sum
		rems[i] = total * w % sum
		given += shares[i]
	}
	for ; given < total; given++ {
		best := -1
		for i := range rems {
			if rems[i] >= 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		shares[best]++
		rems[best] = -1
	}
	return shares
}

// decimalAmount renders cents as Shopify's Decimal scalar does: at least
// one decimal, no trailing zero beyond it ("30.0", "29.9", "29.99").
func decimalAmount(cents int64) string {
	s := formatMoney(cents)
	return strings.TrimSuffix(s, "0")
}
