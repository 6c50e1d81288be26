package acp_test

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// TestJCS checks the canonicaliser against RFC 8785's own examples (§3.2.2
// and §3.2.3; the expected output written out by hand from the RFC) and
// the choices its doc states.
func TestJCS(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"rfc 8785 §3.2.2 example",
			`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
			`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		{"rfc 8785 §3.2.3 sorting by UTF-16 code units",
			`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\"," +
				"\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{"a surrogate pair sorts before U+E000 (code point order would not)",
			"{\"\ue000\":1,\"😀\":2}", "{\"😀\":2,\"\ue000\":1}"},
		{"a prefix sorts first", `{"ab":1,"a":2,"":3}`, `{"":3,"a":2,"ab":1}`},
		{"an ACP body, reordered and spaced",
			"{ \"line_items\" : [ {\"quantity\":2, \"id\":\"gid://shopify/ProductVariant/1\"} ],\n\t\"currency\":\"usd\" }",
			`{"currency":"usd","line_items":[{"id":"gid://shopify/ProductVariant/1","quantity":2}]}`},
		{"nested objects sorted at every level", `{"b":{"d":[{"f":1,"e":2}],"c":null},"a":[]}`, `{"a":[],"b":{"c":null,"d":[{"e":2,"f":1}]}}`},
		{"integers keep their digits", `[0,-0,7,-12,9007199254740993,-123456789012345678901234567890]`, `[0,0,7,-12,9007199254740993,-123456789012345678901234567890]`},
		{"non-integers in ES6 form", `[1.0,1e2,-1.5E-7,1e21,1e-7,0.000001,123456789012345680000,1.5e300]`, `[1,100,-1.5e-7,1e+21,1e-7,0.000001,123456789012345680000,1.5e+300]`},
		{"escapes: the fewest, lower-case hex", `"\u001f\u007f\u2028\b\f\t\/<>&"`, "\"\\u001f\u007f\u2028\\b\\f\\t/<>&\""},
		{"a top-level scalar", ` "x" `, `"x"`},
		{"empty containers", ` { } `, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := acp.JCS([]byte(tt.in))
			if err != nil {
				t.Fatalf("JCS: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("JCS =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestJCSNumbers runs RFC 8785 Appendix B's number table: IEEE 754 bits →
// ES6 text (NaN and Infinity, which JSON cannot write, left out).
func TestJCSNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"},
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	}
	for _, tt := range tests {
		// Written with an exponent, so that it is read as a double
		// (an integer literal keeps its digits).
		in := strconv.FormatFloat(math.Float64frombits(tt.bits), 'e', -1, 64)
		got, err := acp.JCS([]byte(in))
		if err != nil || string(got) != tt.want {
			t.Errorf("%016x (%s): JCS = %s, %v; want %s", tt.bits, in, got, err, tt.want)
		}
	}
}

func TestJCSRefuses(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"empty":              "",
		"white space":        " \n",
		"two documents":      `{} {}`,
		"trailing comma":     `[1,]`,
		"leading zero":       `01`,
		"bare fraction":      `1.`,
		"bad literal":        `nul`,
		"duplicate name":     `{"a":1,"b":2,"a":1}`,
		"duplicate escaped":  `{"a":1,"\u0061":1}`,
		"lone surrogate":     `"\ud800"`,
		"lone low surrogate": `"\udc00"`,
		"reversed pair":      `"\udc00\ud800"`,
		"invalid UTF-8":      "\"\xff\"",
		"raw control":        "\"\x01\"",
		"out of range":       `1e400`,
		"huge integer":       strings.Repeat("9", 400),
		"unterminated":       `{"a":[1,2`,
		"single quotes":      `{'a':1}`,
		"too deep":           strings.Repeat("[", 10002) + strings.Repeat("]", 10002),
	} {
		if got, err := acp.JCS([]byte(in)); err == nil {
			t.Errorf("%s: JCS(%.40q) = %s, want an error", name, in, got)
		}
	}
}

// FuzzJCS: for any input the canonicaliser never panics; what it accepts is
// valid JSON whose canonical form is canonical (JCS(JCS(x)) == JCS(x)),
// carries no white space outside strings, and reads back (encoding/json)
// to the same value as the input.
func FuzzJCS(f *testing.F) {
	for _, s := range []string{
		`{"b":1,"a":[true,false,null,"x"]}`, `{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001]}`,
		`"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"`, `{"\ud83d\ude00":1,"\ufb33":2}`, `-0`, `[1e-7,1e21,123456789012345678901]`,
		`{"a":{"a":{"a":[]}}}`, " [ 1 , 2 ] ", `{"a":1,"a":2}`, `"\ud800"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := acp.JCS(in)
		if err != nil {
			if out != nil || err.Error() == "" {
				t.Fatalf("error %v with output %q", err, out)
			}
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		again, err := acp.JCS(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("JCS(JCS(%q)) = %q, %v; want %q", in, again, err, out)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, out); err != nil || !bytes.Equal(compact.Bytes(), out) {
			t.Fatalf("canonical form %q has white space (%v)", out, err)
		}
		var a, b any
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", in, err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("canonical form %q does not parse: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("JCS(%q) = %q reads back as %v, not %v", in, out, b, a)
		}
	})
}

// BenchmarkJCS: an ACP create as agents send it, and the largest body the
// decoders read (acp.MaxBodyBytes, acp.MaxValues values in objects).
func BenchmarkJCS(b *testing.B) {
	create := []byte(`{
  "line_items": [ { "quantity": 2, "id": "gid://shopify/ProductVariant/1" }, { "id": "gid://shopify/ProductVariant/2", "quantity": 1 } ],
  "currency": "usd",
  "buyer": { "last_name": "Bauer", "first_name": "Zoë", "email": "zoe@example.com", "phone_number": "+15551234567" },
  "fulfillment_details": { "name": "Zoë Bauer", "address": { "line_one": "1 Main St", "city": "Springfield", "state": "IL", "country": "US", "postal_code": "62701" } },
  "capabilities": { "interventions": { "supported": ["3ds"] } }
}`)
	var big bytes.Buffer
	big.WriteString(`{"items":[`)
	for i := 0; big.Len() < acp.MaxBodyBytes-200 && i < acp.MaxValues/3; i++ {
		if i > 0 {
			big.WriteByte(',')
		}
		big.WriteString(`{"z_` + strconv.Itoa(i) + `":"` + strings.Repeat("x", 60) + `","a":` + strconv.Itoa(i) + `}`)
	}
	big.WriteString(`]}`)
	for _, c := range []struct {
		name string
		in   []byte
	}{{"create", create}, {"max", big.Bytes()}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := acp.JCS(c.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
