package emulator

import (
	"strings"
	"testing"
)

// TestPrepareCachedDocument: a document validated once is reused, but each
// request's variables are still coerced and checked, and an invalid document
// is refused every time without entering the cache.
func TestPrepareCachedDocument(t *testing.T) {
	schema, err := adminSchema()
	if err != nil {
		t.Fatal(err)
	}
	const query = `query One($id: ID!) { product(id: $id) { id title } }`
	cases := []struct {
		name    string
		query   string
		vars    map[string]any
		wantErr string
	}{
		{"valid", query, map[string]any{"id": "gid://shopify/Product/1"}, ""},
		{"same document, missing variable", query, map[string]any{}, "Variable $id"},
		{"same document again, valid", query, map[string]any{"id": "gid://shopify/Product/2"}, ""},
		{"invalid document", `query { product(id: "x") { nope } }`, nil, "nope"},
		{"invalid document again", `query { product(id: "x") { nope } }`, nil, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op, vars, errs := prepare(schema, &gqlRequest{Query: tc.query, Variables: tc.vars})
			if tc.wantErr == "" {
				if errs != nil || op == nil || vars["id"] != tc.vars["id"] {
					t.Fatalf("prepare = %v, %v, %v; want the operation with id %v", op, vars, errs, tc.vars["id"])
				}
				return
			}
			if errs == nil || !strings.Contains(errs.Error(), tc.wantErr) {
				t.Fatalf("errors = %v, want one containing %q", errs, tc.wantErr)
			}
		})
	}
	validDocuments.mu.RLock()
	_, cached := validDocuments.docs[query]
	_, bad := validDocuments.docs[`query { product(id: "x") { nope } }`]
	validDocuments.mu.RUnlock()
	if !cached || bad {
		t.Fatalf("cache holds the valid document: %v (want true), the invalid one: %v (want false)", cached, bad)
	}
}
