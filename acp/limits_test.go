package acp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// tinyValues is a create body whose line_items hold n numbers: 2 + n values.
func tinyValues(n int) []byte {
	return []byte(`{"line_items":[` + strings.Repeat("1,", n-1) + `1]}`)
}

// TestMaxValues: a body of more than MaxValues values is refused as too
// large, wherever it is, before its tree is built; at the limit the
// decoders judge it as usual (issue 13: 256 KB of tiny values cost about
// 150 ms of CPU to parse).
func TestMaxValues(t *testing.T) {
	t.Parallel()
	for _, v := range []acp.Version{acp.V20250929, acp.V20260417} {
		decoders := map[string]func([]byte) error{
			"create":   func(b []byte) error { _, err := acp.DecodeCreateSession(v, b); return err },
			"update":   func(b []byte) error { _, err := acp.DecodeUpdateSession(v, b); return err },
			"complete": func(b []byte) error { _, err := acp.DecodeCompleteSession(v, b); return err },
			"cancel":   func(b []byte) error { _, err := acp.DecodeCancelSession(v, b); return err },
		}
		for name, decode := range decoders {
			var e *acp.Error
			if err := decode(tinyValues(acp.MaxValues - 1)); !errors.As(err, &e) || e.Code != acp.CodeTooLarge || !strings.HasPrefix(e.Param, "$.") {
				t.Errorf("%s %s, %d values: %v; want %s", v, name, acp.MaxValues+1, err, acp.CodeTooLarge)
			}
			if err := decode(tinyValues(acp.MaxValues - 2)); errors.As(err, &e) && e.Code == acp.CodeTooLarge {
				t.Errorf("%s %s, %d values: %v; want the decoder's own verdict", v, name, acp.MaxValues, err)
			}
		}
	}
	if len(tinyValues(acp.MaxValues)) > acp.MaxBodyBytes/8 {
		t.Fatal("the value limit is not what bites first for tiny values")
	}
}

// BenchmarkDecodeTinyValues is the decoder on the worst body under the
// byte limit: 256 KB of tiny values, stopped at MaxValues.
func BenchmarkDecodeTinyValues(b *testing.B) {
	body := tinyValues((acp.MaxBodyBytes - 64) / 2)
	for b.Loop() {
		_, _ = acp.DecodeCreateSession(acp.V20260417, body)
	}
}
