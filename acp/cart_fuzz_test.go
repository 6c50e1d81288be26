package acp_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// FuzzDecodeCart covers the create and update cart decoders (the selector's
// low bit picks one): deterministic; failing only with a well-formed
// invalid_request *acp.Error; what is accepted is one JSON object for
// encoding/json too, with items and quantities in range; and an accepted
// body with an unknown member added is accepted alike, the member named
// in Ignored.
func FuzzDecodeCart(f *testing.F) {
	for _, s := range []string{`{"line_items":[{"id":"item_123","quantity":2}]}`,
		`{"line_items":[{"id":"a"},{"id":"b","quantity":1}],"buyer":{"email":"b@example.com"},"locale":"en-US"}`,
		`{"line_items":[]}`, `{}`, `[]`, `{"line_items":[{"id":""}]}`, `{"line_items":[{"id":"a","quantity":1.5}]}`} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
	}
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		decode := func(b []byte) ([]acp.ItemInput, any, error) {
			if sel&1 == 0 {
				in, err := acp.DecodeCreateCart(acp.V20260417, b)
				if err != nil {
					return nil, nil, err
				}
				return in.Items, in, nil
			}
			in, err := acp.DecodeUpdateCart(acp.V20260417, b)
			if err != nil {
				return nil, nil, err
			}
			return in.Items, in, nil
		}
		items, in, err := decode(body)
		_, in2, err2 := decode(body)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(in, in2) {
			t.Fatalf("not deterministic: %v / %v", err, err2)
		}
		if err != nil {
			var e *acp.Error
			if !errors.As(err, &e) || e.Type != acp.ErrInvalidRequest || e.Code == "" || e.Message == "" ||
				e.Param != "" && !strings.HasPrefix(e.Param, "$") {
				t.Fatalf("malformed error %#v", err)
			}
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			t.Fatalf("accepted what encoding/json does not read as an object: %q", body)
		}
		if len(items) == 0 || len(items) > acp.MaxLineItems {
			t.Fatalf("accepted %d items", len(items))
		}
		for _, it := range items {
			if it.ID == "" || it.Quantity < 1 || it.Quantity > acp.MaxQuantity {
				t.Fatalf("accepted item %+v", it)
			}
		}
		m["zz_unknown_member"] = json.RawMessage(`1`)
		more, _ := json.Marshal(m)
		_, in3, err := decode(more)
		if err != nil {
			t.Fatalf("unknown member: refused %v", err)
		}
		before, after := ignoredOf(in), ignoredOf(in3)
		if after.Count != before.Count+1 || after.Count <= acp.MaxIgnoredListed && !slices.Contains(after.Paths, "$.zz_unknown_member") {
			t.Fatalf("unknown member not named: %+v", after)
		}
		if !reflect.DeepEqual(withoutIgnored(in), withoutIgnored(in3)) {
			t.Fatalf("an unknown member changed the cart request")
		}
	})
}
