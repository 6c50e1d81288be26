package idempotency_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// These tests cover the CPU bomb of issue 13: a number with a huge exponent
// used to be canonicalised through math/big, whose decimal conversion is
// quadratic (one 1 MB `{"x":1e999…9}` cost about 2.5 s of CPU).

// randomNumber spells a JSON number with the parts that move the exponent:
// leading and trailing zeros, a fraction, and exponents around the int64
// boundary (18 to 20 digits) and far beyond it.
func randomNumber(r *rand.Rand) string {
	digits := func(n int, first string) string {
		var b strings.Builder
		b.WriteString(first)
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	var b strings.Builder
	if r.IntN(2) == 0 {
		b.WriteByte('-')
	}
	if r.IntN(4) == 0 {
		b.WriteString("0")
	} else {
		b.WriteString(digits(r.IntN(6), strconv.Itoa(1+r.IntN(9))))
		b.WriteString(strings.Repeat("0", r.IntN(5)))
	}
	if r.IntN(2) == 0 {
		b.WriteString("." + digits(r.IntN(6), "") + strings.Repeat("0", r.IntN(4)))
		if strings.HasSuffix(b.String(), ".") {
			b.WriteByte('0')
		}
	}
	if r.IntN(5) > 0 {
		b.WriteString([]string{"e", "E", "e+", "e-", "E-"}[r.IntN(5)])
		b.WriteString(strings.Repeat("0", r.IntN(3)))
		switch r.IntN(4) {
		case 0: // around the int64 fast path's edge
			b.WriteString(digits(17+r.IntN(4), strconv.Itoa(1+r.IntN(9))))
		case 1: // all nines or a one and zeros: carries and borrows run through
			n := 18 + r.IntN(40)
			if r.IntN(2) == 0 {
				b.WriteString(strings.Repeat("9", n))
			} else {
				b.WriteString("1" + strings.Repeat("0", n))
			}
		case 2:
			b.WriteString(digits(r.IntN(60), strconv.Itoa(1+r.IntN(9))))
		default:
			b.WriteString(strconv.Itoa(r.IntN(30)))
		}
	}
	return b.String()
}

func TestCanonicalNumberAgreesWithBigInt(t *testing.T) {
	t.Parallel()
	fixed := []string{
		"0", "-0", "0.000e999999999999999999999", "1e18", "1e-18", "1e999999999999999999", "10e999999999999999999",
		"1.5e1000000000000000000", "100e-1000000000000000000", "0.001e1000000000000000000",
		"1e-999999999999999999", "123.4500e-9223372036854775807", "1e9223372036854775807", "10e9223372036854775807",
		"1E+000000000000000000000000000000000000005", "1.000000000000000000000000000000e-000",
	}
	r := rand.New(rand.NewPCG(13, 4))
	for range 5000 {
		fixed = append(fixed, randomNumber(r))
	}
	for _, n := range fixed {
		got, ok := idempotency.CanonicalJSON([]byte(n))
		if want := idempotency.RefCanonNumber(n); !ok || string(got) != want {
			t.Errorf("CanonicalJSON(%s) = %s, %v; want %s (math/big)", n, got, ok, want)
		}
	}
}

// TestCanonicalJSONHugeExponent canonicalises numbers with 200 KB
// exponents to their exact form, the carries and borrows running through
// every digit, and respellings of them still hash alike.
func TestCanonicalJSONHugeExponent(t *testing.T) {
	t.Parallel()
	const n = 200 << 10
	nines, zeros := strings.Repeat("9", n), strings.Repeat("0", n)
	tests := []struct{ in, want string }{
		{`{"x":1e` + nines + `}`, `{"x":1e` + nines + `}`},
		{`{"x":1.5e1` + zeros + `}`, `{"x":15e` + nines + `}`},          // 10^n - 1
		{`{"x":10e` + nines + `}`, `{"x":1e1` + zeros + `}`},            // 10^n - 1 + 1
		{`{"x":-100e-` + nines + `}`, `{"x":-1e-` + nines[1:] + `7}`},   // -(10^n - 1) + 2
		{`{"x":0.001e-1` + zeros + `}`, `{"x":1e-1` + zeros[1:] + `3}`}, // -10^n - 3
		{`{"x":-0.000e` + nines + `}`, `{"x":0}`},
	}
	for _, tt := range tests {
		got, ok := idempotency.CanonicalJSON([]byte(tt.in))
		if !ok || string(got) != tt.want {
			t.Errorf("CanonicalJSON(%.40s…) = %.40s…%s (%d bytes), %v; want %.40s…%s",
				tt.in, got, tail(got), len(got), ok, tt.want, tail([]byte(tt.want)))
		}
	}
	a := idempotency.CanonicalJSONHash([]byte(`{"x":1e1` + zeros + `}`))
	b := idempotency.CanonicalJSONHash([]byte(`{ "x" : 0.10E+1` + zeros[:n-1] + `1 }`))
	if a != b {
		t.Error("1e(10^n) and 0.10e(10^n + 1) hash differently")
	}
	if a == idempotency.CanonicalJSONHash([]byte(`{"x":1e1`+zeros[:n-1]+`1}`)) {
		t.Error("exponents 10^n and 10^n + 1 hash alike")
	}
}

func tail(b []byte) string {
	return string(b[max(0, len(b)-12):])
}

// TestCanonicalJSONHasNoBigNumbers pins the fix in the code: the
// canonicalisation must not go back to math/big, whose decimal conversion
// is quadratic in the number of digits.
func TestCanonicalJSONHasNoBigNumbers(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "canonical.go", nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range f.Imports {
		if imp.Path.Value == `"math/big"` {
			t.Error("canonical.go imports math/big again")
		}
	}
}

// worstBodies are bodies just under the ACP body limit built to make the
// canonical hash work hardest: one huge exponent, many numbers with long
// exponents, many tiny tokens, deep nesting, many keys, escaped strings.
func worstBodies() map[string][]byte {
	const size = acp.MaxBodyBytes - 1024
	fill := func(head, unit, sep, foot string) []byte {
		var b strings.Builder
		b.WriteString(head)
		for first := true; b.Len()+len(unit)+len(sep)+len(foot) < size; first = false {
			if !first {
				b.WriteString(sep)
			}
			b.WriteString(unit)
		}
		b.WriteString(foot)
		return []byte(b.String())
	}
	deep := strings.Repeat(`{"a":[1,`, 31) + `{}` + strings.Repeat(`]}`, 31)
	return map[string][]byte{
		"one exponent":   []byte(`{"x":1.5e1` + strings.Repeat("0", size-20) + `}`),
		"long exponents": fill(`[`, "-1.5e-1"+strings.Repeat("0", 60), ",", `]`),
		"tiny numbers":   fill(`[`, "1", ",", `]`),
		"long mantissas": fill(`[`, "0."+strings.Repeat("0", 40)+"1"+strings.Repeat("0", 40), ",", `]`),
		"deep":           fill(`[`, deep, ",", `]`),
		"many keys":      manyKeys(size),
		"escapes":        fill(`["`, `\u00e9\n\"`, "", `"]`),
	}
}

func manyKeys(size int) []byte {
	var b strings.Builder
	b.WriteString("{")
	for j := 0; b.Len() < size-40; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%08d":0`, (j*7919)%100000000)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// BenchmarkCanonicalJSONHash reports the cost of the idempotency hash on the
// worst bodies the ACP body limit lets through (the goal: well under 50 ms
// of CPU each). "one exponent (math/big)" is the former algorithm on the
// same body, for comparison.
func BenchmarkCanonicalJSONHash(b *testing.B) {
	bodies := worstBodies()
	for _, name := range []string{"one exponent", "long exponents", "tiny numbers", "long mantissas", "deep", "many keys", "escapes"} {
		body := bodies[name]
		if len(body) >= acp.MaxBodyBytes {
			b.Fatalf("%s: %d bytes, over the limit", name, len(body))
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				idempotency.CanonicalJSONHash(body)
			}
		})
	}
	b.Run("one exponent (math/big)", func(b *testing.B) {
		n := string(bodies["one exponent"][5 : len(bodies["one exponent"])-1])
		for b.Loop() {
			idempotency.RefCanonNumber(n)
		}
	})
}

// TestWorstBodiesCanonicalise makes sure the benchmark's bodies take the
// canonical path (not the raw-bytes fallback), so it measures the real work.
func TestWorstBodiesCanonicalise(t *testing.T) {
	t.Parallel()
	for name, body := range worstBodies() {
		if len(body) >= acp.MaxBodyBytes {
			t.Errorf("%s: %d bytes, not under the %d limit", name, len(body), acp.MaxBodyBytes)
		}
		if _, ok := idempotency.CanonicalJSON(body); !ok {
			t.Errorf("%s: not canonicalisable", name)
		}
	}
}
