package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/acpbridge/acpbridge/app"
)

// The hand-written readers of the tags and options columns agree with
// encoding/json on whatever json.Marshal wrote.
func FuzzDecodeTagsAndOptions(f *testing.F) {
	for _, s := range [][3]string{
		{"a", "b", "c"}, {"", "", ""}, {`q"uote`, `back\slash`, "<&>"}, {"a,b", "]", "["}, {"é漢🙂", "\t\n", "\x00"},
		{`","`, `{"name":"`, `"}`}, {"\xff", "x", "y"},
	} {
		f.Add(s[0], s[1], s[2], 2)
	}
	f.Fuzz(func(t *testing.T, a, b, c string, n int) {
		n = max(n, 0) % 4
		vals := []string{a, b, c}[:min(n, 3)]
		tags := append([]string(nil), vals...)
		raw, _ := json.Marshal(tags)
		var want []string
		_ = json.Unmarshal(raw, &want)
		if got := decodeTags(raw); !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeTags(%s) = %#v, want %#v", raw, got, want)
		}
		var opts []app.VariantOption
		for i := range vals {
			opts = append(opts, app.VariantOption{Name: vals[i], Value: vals[(i+1)%len(vals)]})
		}
		raw, _ = json.Marshal(opts)
		var wantOpts []app.VariantOption
		if len(raw) > 2 {
			_ = json.Unmarshal(raw, &wantOpts)
		}
		if got := decodeOptions(raw); !reflect.DeepEqual(got, wantOpts) {
			t.Fatalf("decodeOptions(%s) = %#v, want %#v", raw, got, wantOpts)
		}
	})
}
