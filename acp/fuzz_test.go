package acp_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// The fuzz targets feed arbitrary bytes to the create decoders (seed corpus
// in testdata/fuzz/<target>/ plus the official examples). A decoder must
// never panic, must be deterministic, must fail only with a well-formed
// *acp.Error, and what it accepts must satisfy the input invariants.

func FuzzDecodeCreate20250929(f *testing.F) {
	addExamples(f, acp.V20250929)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzCreate(t, acp.V20250929, body) })
}

func FuzzDecodeCreate20260417(f *testing.F) {
	addExamples(f, acp.V20260417)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzCreate(t, acp.V20260417, body) })
}

func addExamples(f *testing.F, v acp.Version) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "examples", string(v), "*request*.json"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

var knownCodes = []string{acp.CodeInvalidJSON, acp.CodeTooLarge, acp.CodeMissing, acp.CodeInvalidType, acp.CodeInvalid,
	acp.CodeUnknownField, acp.CodeDuplicateField, acp.CodeUnsupported}

func fuzzCreate(t *testing.T, v acp.Version, body []byte) {
	// Determinism, agreement with encoding/json and strictness, as for the
	// other requests (decode_fuzz_test.go).
	fuzzRequest(t, v, create, body)
	// The other decoders share the reader; they get the same bytes.
	for _, k := range []kind{update, complete, cancel} {
		if _, err := decode(v, k, body); err != nil {
			checkWellFormed(t, v, err)
		}
	}
	in, err := acp.DecodeCreateSession(v, body)
	again, err2 := acp.DecodeCreateSession(v, body)
	if !reflect.DeepEqual(in, again) || !reflect.DeepEqual(err, err2) {
		t.Fatalf("not deterministic: %v / %v", err, err2)
	}
	if err != nil {
		checkWellFormed(t, v, err)
		return
	}
	if len(in.Items) < 1 || len(in.Items) > acp.MaxLineItems {
		t.Fatalf("accepted %d items", len(in.Items))
	}
	for _, it := range in.Items {
		if it.ID == "" || it.Quantity < 1 || it.Quantity > acp.MaxQuantity {
			t.Fatalf("accepted item %+v", it)
		}
	}
	switch v {
	case acp.V20250929:
		if in.Currency != "" || in.Capabilities != nil {
			t.Fatalf("2025-09-29 input has 2026-04-17 fields: %+v", in)
		}
	case acp.V20260417:
		if c, ok := acp.NormalizeCurrency(in.Currency); !ok || c != in.Currency {
			t.Fatalf("accepted currency %q", in.Currency)
		}
		if in.Capabilities == nil {
			t.Fatal("accepted a create without capabilities")
		}
	}
	if b := in.Buyer; b != nil && !acp.ValidEmail(b.Email) {
		t.Fatalf("accepted buyer email %q", b.Email)
	}
	if fd := in.FulfillmentDetails; fd != nil && fd.Address != nil {
		if c, ok := acp.NormalizeCountry(fd.Address.Country); !ok || c != fd.Address.Country {
			t.Fatalf("accepted country %q", fd.Address.Country)
		}
	}
}

func checkWellFormed(t *testing.T, v acp.Version, err error) {
	t.Helper()
	var e *acp.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not an *acp.Error", err)
	}
	if e.Type != acp.ErrInvalidRequest || e.Message == "" || !contains(knownCodes, e.Code) {
		t.Fatalf("malformed error %+v", e)
	}
	if e.Param != "" && !strings.HasPrefix(e.Param, "$") {
		t.Fatalf("param %q is not a JSONPath", e.Param)
	}
	if _, err := acp.EncodeError(v, e); err != nil {
		t.Fatalf("decoder error does not encode: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
