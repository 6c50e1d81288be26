package idempotency_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/acpbridge/acpbridge/app/idempotency"
)

// FuzzCanonicalJSON checks the idempotency hash on arbitrary documents:
// whatever CanonicalJSON accepts, it must accept again in its canonical
// form (and produce it unchanged), and a respelling of the same document
// (keys in reverse order, every string character \u-escaped, numbers
// written with extra zeros and an exponent, whitespace added) must hash
// alike. The respelling is built with encoding/json, not our decoder. And
// the result is byte for byte that of the former canonicalisation
// (RefCanonicalJSON, through encoding/json's Decoder.Token and math/big).
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[1.0,2e2,-0.5,null,true,false,"x"]}`,
		`{"items":[{"id":"v1","quantity":2}],"buyer":{"email":"a@b.c","name":"É\u00e9"}}`,
		`[1e400, -0, 0.000, 123456789012345678901234567890]`,
		`"\ud83d\ude00 \" \\ \/ \n"`,
		`{"a":{"b":{"c":[[],{}]}}}`,
		`{"a":1,"a":2}`,
		`not json`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		hash := idempotency.CanonicalJSONHash(body)
		canon, ok := idempotency.CanonicalJSON(body)
		// The one-pass canonicalizer agrees with the former one (through
		// encoding/json's Decoder.Token and math/big) on every body, so
		// stored records keep matching their retries.
		if ref, refOK := idempotency.RefCanonicalJSON(body); ok != refOK || !bytes.Equal(canon, ref) {
			t.Fatalf("CanonicalJSON(%q) = %q, %v; the reference says %q, %v", body, canon, ok, ref, refOK)
		}
		if !ok {
			return
		}
		if !json.Valid(canon) {
			t.Fatalf("canonical form %q of %q is not JSON", canon, body)
		}
		again, ok := idempotency.CanonicalJSON(canon)
		if !ok || !bytes.Equal(again, canon) {
			t.Fatalf("canonical form is not a fixed point: %q -> %q (%v)", canon, again, ok)
		}
		if idempotency.CanonicalJSONHash(canon) != hash {
			t.Fatalf("canonical form %q hashes unlike %q", canon, body)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("CanonicalJSON accepted %q, encoding/json does not: %v", body, err)
		}
		var b strings.Builder
		respell(&b, v)
		if got := idempotency.CanonicalJSONHash([]byte(b.String())); got != hash {
			c2, _ := idempotency.CanonicalJSON([]byte(b.String()))
			t.Fatalf("respelling %s of %s hashes differently (canonical %s vs %s)", b.String(), body, c2, canon)
		}
	})
}

// respell writes v as equivalent JSON spelt as differently as possible.
func respell(b *strings.Builder, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString(" null ")
	case bool:
		fmt.Fprintf(b, " %v ", v)
	case json.Number:
		s := string(v)
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
		b.WriteString(mant + exp)
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
				b.WriteString(" ,\n")
			}
			respell(b, e)
		}
		b.WriteString(" ]")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		slices.Reverse(keys)
		b.WriteString("{\t")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			respell(b, k)
			b.WriteString(" : ")
			respell(b, v[k])
		}
		b.WriteString("}")
	default:
		panic(fmt.Sprintf("unexpected %T", v))
	}
}
