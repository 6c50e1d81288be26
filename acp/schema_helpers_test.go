package acp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
)

// The checkout schemas are loaded from the vendored files (spec/<version>/
// schema.agentic_checkout.json) with format assertions on, after working
// around two known defects of the files. The workarounds live here, in the
// test loader, and never weaken what we send:
//
//  1. 2025-09-29 Item.quantity has "exclusiveMinimum": true, a draft-04
//     boolean, in a draft 2020-12 schema (acp.md §10.5): the compiler refuses
//     the file. The boolean form {minimum: m, exclusiveMinimum: true} is
//     rewritten to its 2020-12 meaning {exclusiveMinimum: m}.
//  2. 2025-09-29 CheckoutSessionWithOrder is allOf[CheckoutSessionBase,
//     {order}] where the base is additionalProperties: false and has no
//     "order" property (acp.md §10.4): no instance can satisfy it. It is
//     replaced by the evident intent: the base's properties plus "order",
//     with "order" required. (2026-04-17 declares "order" in the base, so
//     its allOf works as published.)

var (
	schemaMu    sync.Mutex
	schemaCache = map[string]*jsonschema.Schema{}
)

// checkoutSchema compiles $defs/<def> of the version's checkout schema.
func checkoutSchema(t *testing.T, v acp.Version, def string) *jsonschema.Schema {
	t.Helper()
	sch, err := compileCheckoutDef(v, def, true)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func compileCheckoutDef(v acp.Version, def string, patch bool) (*jsonschema.Schema, error) {
	key := fmt.Sprintf("%s#%s#%v", v, def, patch)
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[key]; ok {
		return s, nil
	}
	f, err := os.Open(filepath.Join("spec", string(v), "schema.agentic_checkout.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	if patch && v == acp.V20250929 {
		patchDraft04ExclusiveMinimum(doc)
		patchWithOrder(doc)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "https://acpbridge.test/" + string(v) + "/schema.agentic_checkout.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(url + "#/$defs/" + def)
	if err != nil {
		return nil, err
	}
	schemaCache[key] = s
	return s, nil
}

// patchDraft04ExclusiveMinimum rewrites every {minimum: m, exclusiveMinimum:
// true} to {exclusiveMinimum: m} (and drops exclusiveMinimum: false).
func patchDraft04ExclusiveMinimum(n any) {
	switch x := n.(type) {
	case map[string]any:
		if b, ok := x["exclusiveMinimum"].(bool); ok {
			if b {
				x["exclusiveMinimum"] = x["minimum"]
				delete(x, "minimum")
			} else {
				delete(x, "exclusiveMinimum")
			}
		}
		for _, v := range x {
			patchDraft04ExclusiveMinimum(v)
		}
	case []any:
		for _, v := range x {
			patchDraft04ExclusiveMinimum(v)
		}
	}
}

// patchWithOrder replaces $defs/CheckoutSessionWithOrder by a copy of
// CheckoutSessionBase that also has (and requires) "order".
func patchWithOrder(doc any) {
	defs := doc.(map[string]any)["$defs"].(map[string]any)
	base := deepCopy(defs["CheckoutSessionBase"]).(map[string]any)
	base["properties"].(map[string]any)["order"] = map[string]any{"$ref": "#/$defs/Order"}
	base["required"] = append(base["required"].([]any), "order")
	defs["CheckoutSessionWithOrder"] = base
}

func deepCopy(n any) any {
	switch x := n.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = deepCopy(v)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, v := range x {
			s[i] = deepCopy(v)
		}
		return s
	}
	return n
}

// schemaValidate validates a JSON document against sch.
func schemaValidate(t *testing.T, sch *jsonschema.Schema, b []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return sch.Validate(inst)
}

// example reads an official example body copied to testdata/examples.
func example(t *testing.T, v acp.Version, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "examples", string(v), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeMap unmarshals JSON into a generic map, numbers as json.Number.
func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, b)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
