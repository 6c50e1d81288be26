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
			op, vars, _, errs := prepare(schema, &gqlRequest{Query: tc.query, Variables: tc.vars})
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

// TestPrepareDeprecatedUse: a document selecting a field the 2026-10 schema
// marks @deprecated (directly, through a fragment, or by a deprecated
// argument) is reported with the schema's reason, as Shopify's
// X-Shopify-API-Deprecated-Reason header does; one that uses nothing
// deprecated is not.
func TestPrepareDeprecatedUse(t *testing.T) {
	schema, err := adminSchema()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, query, want string
	}{
		{"nothing deprecated", `query A { shop { name } }`, ""},
		{"deprecated field", `query B { shop { name billingAddress { city } } }`, "Shop.billingAddress: Use `shopAddress` instead."},
		{"through a fragment", `query C { shop { ...F } } fragment F on Shop { analyticsToken }`, "Shop.analyticsToken: Not supported anymore."},
		{"through an inline fragment", `query D { shop { ... on Shop { analyticsToken } } }`, "Shop.analyticsToken: Not supported anymore."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, got, errs := prepare(schema, &gqlRequest{Query: tc.query})
			if errs != nil {
				t.Fatalf("prepare: %v", errs)
			}
			if got != tc.want {
				t.Fatalf("deprecated = %q, want %q", got, tc.want)
			}
		})
	}
}
