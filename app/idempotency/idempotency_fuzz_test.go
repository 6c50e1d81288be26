package idempotency_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/internal/testkit"
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
		respelt := testkit.RespellJSONNumbers(v)
		if got := idempotency.CanonicalJSONHash([]byte(respelt)); got != hash {
			c2, _ := idempotency.CanonicalJSON([]byte(respelt))
			t.Fatalf("respelling %s of %s hashes differently (canonical %s vs %s)", respelt, body, c2, canon)
		}
	})
}
