package emulator

import (
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC)

func TestAllocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{630, []int64{5198, 1099}, []int64{520, 110}},
		{0, []int64{5, 5}, []int64{0, 0}},
		{10, []int64{0, 0}, []int64{0, 0}},
		{7, []int64{0, 7, 3}, []int64{0, 5, 2}},
		{3, []int64{1, 1, 1}, []int64{1, 1, 1}},
	}
	for _, tt := range tests {
		if got := allocate(tt.total, tt.weights); !slices.Equal(got, tt.want) {
			t.Errorf("allocate(%d, %v) = %v, want %v", tt.total, tt.weights, got, tt.want)
		}
	}
}

func TestRoundingAndAmounts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ num, den, want int64 }{
		{15 * 88_750 * 100, 1_000_000, 133}, // $15.00 at 8.875 % = 1.33125
		{1250, 100, 13},                     // 12.5 rounds half-up
		{1249, 100, 12},
		{-5, 100, 0},
	} {
		if got := roundDiv(tt.num, tt.den); got != tt.want {
			t.Errorf("roundDiv(%d, %d) = %d, want %d", tt.num, tt.den, got, tt.want)
		}
	}
	for cents, want := range map[int64]string{0: "0.0", 500: "5.0", 2990: "29.9", 2999: "29.99", 10: "0.1", 1: "0.01"} {
		if got := decimalAmount(cents); got != want {
			t.Errorf("decimalAmount(%d) = %q, want %q", cents, got, want)
		}
	}
	for in, want := range map[any]int64{"4.00": 400, "7.5": 750, "12": 1200, 3.25: 325, "0.001": -1, "-1": -1, "x": -1} {
		got, err := parseCents(in)
		if (want < 0) != (err != nil) || (err == nil && got != want) {
			t.Errorf("parseCents(%v) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestTaxRateLookup(t *testing.T) {
	t.Parallel()
	p := defaultPricing(testNow)
	for _, tt := range []struct {
		country, province string
		ppm               int64
		ok                bool
	}{
		{"US", "CA", 72_500, true}, {"us", "ny", 88_750, true}, {"US", "TX", 50_000, true}, {"US", "", 50_000, true},
		{"US", "OR", 0, false}, {"CA", "ON", 130_000, true}, {"GB", "", 200_000, true}, {"JP", "", 0, false}, {"", "", 0, false},
	} {
		r, ok := p.taxRate(tt.country, tt.province)
		if ok != tt.ok || (ok && r.PPM != tt.ppm) {
			t.Errorf("taxRate(%q, %q) = %+v, %v; want %d, %v", tt.country, tt.province, r, ok, tt.ppm, tt.ok)
		}
	}
}
