package acp_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

// checkoutSchema compiles $defs/<def> of the version's checkout schema,
// with the known-defect workarounds of acptest.
func checkoutSchema(t *testing.T, v acp.Version, def string) *jsonschema.Schema {
	t.Helper()
	sch, err := acptest.CheckoutSchema(v, def, true)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func compileCheckoutDef(v acp.Version, def string, patch bool) (*jsonschema.Schema, error) {
	return acptest.CheckoutSchema(v, def, patch)
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
