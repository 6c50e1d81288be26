package testkit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"
)

// RespellJSON writes v — a document decoded by encoding/json with
// UseNumber — as the same JSON document spelt as differently as possible:
// keys in reverse order, every string character \u-escaped (upper-case hex,
// surrogate pairs for astral characters), and white space added between
// tokens. Numbers keep their spelling, so a decoder that tells 1 from 1.0
// reads the same values. A differential fuzz test decodes the original and
// the respelling and requires the same result: anything that differs
// depends on spelling, not on meaning.
func RespellJSON(v any) string {
	var b strings.Builder
	respell(&b, v, false)
	return b.String()
}

// RespellJSONNumbers is RespellJSON that also respells every number as an
// equal value written otherwise (1 → 1.0E+00, 2.5e3 → 2.500e3), for
// code that must treat numbers by value, such as a canonical hash.
func RespellJSONNumbers(v any) string {
	var b strings.Builder
	respell(&b, v, true)
	return b.String()
}

func respell(b *strings.Builder, v any, numbers bool) {
	switch v := v.(type) {
	case nil:
		b.WriteString(" null ")
	case bool:
		fmt.Fprintf(b, "\t%v\n", v)
	case json.Number:
		if numbers {
			b.WriteString(" " + respellNumber(string(v)) + " ")
		} else {
			b.WriteString(" " + string(v) + " ")
		}
	case string:
		b.WriteByte('"')
		for _, u := range utf16.Encode([]rune(v)) {
			fmt.Fprintf(b, `\u%04X`, u)
		}
		b.WriteByte('"')
	case []any:
		b.WriteString("[ ")
		for i, e := range v {
			if i > 0 {
				b.WriteString(" ,\r\n")
			}
			respell(b, e, numbers)
		}
		b.WriteString(" ]")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Reverse(keys)
		b.WriteString("{\n")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" , ")
			}
			respell(b, k, numbers)
			b.WriteString(" :")
			respell(b, v[k], numbers)
		}
		b.WriteString("\n}")
	default:
		panic(fmt.Sprintf("testkit.RespellJSON: unexpected %T (decode with UseNumber into any)", v))
	}
}

// respellNumber writes the JSON number s with trailing zeros added to its
// fraction and an explicit exponent, which leaves its value unchanged.
func respellNumber(s string) string {
	mant, exp := s, ""
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		mant, exp = s[:k], s[k:]
	}
	if strings.Contains(mant, ".") {
		mant += "00"
	} else {
		mant += ".0"
	}
	if exp == "" {
		exp = "E+00"
	}
	return mant + exp
}
