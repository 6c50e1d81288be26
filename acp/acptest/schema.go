// Package acptest validates JSON documents against the official ACP JSON
// Schemas (acp/spec) for tests anywhere in the module: the protocol package,
// the HTTP handlers and the end-to-end tests all check what the app sends
// the same way. It is test support: production code never imports it (and
// so acp/ itself stays standard library only).
//
// The schemas are compiled with format assertions on, after working around
// two known defects of the published files (acp.md §10.4 and §10.5). The
// workarounds never weaken what the app must send:
//
//  1. 2025-09-29 Item.quantity has "exclusiveMinimum": true, a draft-04
//     boolean, in a draft 2020-12 schema: the compiler refuses the file. The
//     boolean form {minimum: m, exclusiveMinimum: true} is rewritten to its
//     2020-12 meaning {exclusiveMinimum: m}.
//  2. 2025-09-29 CheckoutSessionWithOrder is allOf[CheckoutSessionBase,
//     {order}] where the base is additionalProperties: false and has no
//     "order" property: no instance can satisfy it. It is replaced by the
//     evident intent: the base's properties plus "order", with "order"
//     required. (2026-04-17 declares "order" in the base, so its allOf works
//     as published.)
package acptest

import (
	"bytes"
	"fmt"
	"path"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/spec"
)

var (
	mu    sync.Mutex
	cache = map[string]*jsonschema.Schema{}
)

// CheckoutSchema compiles $defs/<def> of the version's checkout schema.
// patch applies the defect workarounds (tests that prove the defects exist
// compile without them).
func CheckoutSchema(v acp.Version, def string, patch bool) (*jsonschema.Schema, error) {
	return Schema(v, "schema.agentic_checkout.json", def, patch)
}

// Schema compiles $defs/<def> of one of the version's schema files.
func Schema(v acp.Version, file, def string, patch bool) (*jsonschema.Schema, error) {
	key := fmt.Sprintf("%s/%s#%s#%v", v, file, def, patch)
	mu.Lock()
	defer mu.Unlock()
	if s, ok := cache[key]; ok {
		return s, nil
	}
	raw, err := spec.Files.ReadFile(path.Join(string(v), file))
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if patch && v == acp.V20250929 && file == "schema.agentic_checkout.json" {
		patchDraft04ExclusiveMinimum(doc)
		patchWithOrder(doc)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	base := "https://acpbridge.test/" + string(v) + "/"
	url := base + file
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	c.UseLoader(siblingLoader{v: v, patch: patch})
	s, err := c.Compile(url + "#/$defs/" + def)
	if err != nil {
		return nil, err
	}
	cache[key] = s
	return s, nil
}

// siblingLoader serves the version's other schema files by file name,
// whatever URL a $ref resolves to. schema.cart.json refers to
// "schema.agentic_checkout.json#/$defs/LineItem" relative to its own $id
// (https://example.com/schemas/cart/bundle.schema.json), a URL under which
// the published checkout bundle (whose $id is …/agentic-checkout/…) is not
// found: the files only work side by side, which is what this restores.
type siblingLoader struct {
	v     acp.Version
	patch bool
}

func (l siblingLoader) Load(url string) (any, error) {
	name := path.Base(url)
	raw, err := spec.Files.ReadFile(path.Join(string(l.v), name))
	if err != nil {
		return nil, fmt.Errorf("acptest: no schema file %q of %s for %s", name, l.v, url)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if l.patch && l.v == acp.V20250929 && name == "schema.agentic_checkout.json" {
		patchDraft04ExclusiveMinimum(doc)
		patchWithOrder(doc)
	}
	return doc, nil
}

// ValidateCart checks a JSON document against $defs/<def> of the
// 2026-04-17 cart schema (Cart, CartCreateRequest, CartUpdateRequest).
func ValidateCart(def string, body []byte) error {
	sch, err := Schema(acp.V20260417, "schema.cart.json", def, true)
	if err != nil {
		return err
	}
	return ValidateWith(sch, body)
}

// Validate checks a JSON document against $defs/<def> of the version's
// checkout schema (with the workarounds).
func Validate(v acp.Version, def string, body []byte) error {
	sch, err := CheckoutSchema(v, def, true)
	if err != nil {
		return err
	}
	return ValidateWith(sch, body)
}

// ValidateWith checks a JSON document against a compiled schema.
func ValidateWith(sch *jsonschema.Schema, body []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// SessionDef names the schema definition a checkout session response of
// the version must satisfy: with an order once completed.
func SessionDef(withOrder bool) string {
	if withOrder {
		return "CheckoutSessionWithOrder"
	}
	return "CheckoutSession"
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
