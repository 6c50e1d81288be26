package acpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/agents"
)

// TestTools: the binding's five tools, each mapped to its operation, each
// input schema self-contained (no $ref leaves it) and compiling as JSON
// Schema 2020-12, with meta (and its api_version) required.
func TestTools(t *testing.T) {
	t.Parallel()
	tools, err := acpapi.Tools()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]acpapi.Operation{
		"create_checkout_session": acpapi.OpCreate, "get_checkout_session": acpapi.OpGet,
		"update_checkout_session": acpapi.OpUpdate, "complete_checkout_session": acpapi.OpComplete,
		"cancel_checkout_session": acpapi.OpCancel,
	}
	if len(tools) != len(want) {
		t.Fatalf("%d tools, want %d", len(tools), len(want))
	}
	for _, tool := range tools {
		if want[tool.Name] != tool.Operation || tool.Description == "" {
			t.Errorf("%s: operation %s, description %q", tool.Name, tool.Operation, tool.Description)
		}
		if bytes.Contains(tool.InputSchema, []byte(`"../`)) || bytes.Contains(tool.InputSchema, []byte(`#/components/`)) {
			t.Errorf("%s: a $ref outside the schema", tool.Name)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(tool.InputSchema))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("https://acpbridge.test/tool.json", doc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile("https://acpbridge.test/tool.json")
		if err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		for _, bad := range []string{`{"id":"cs_1","payload":{}}`, `{"meta":{},"id":"cs_1","payload":{}}`} {
			v, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
			if sch.Validate(v) == nil {
				t.Errorf("%s accepts %s", tool.Name, bad)
			}
		}
	}
}

// TestToolRequest: the arguments become the REST call's values — meta for
// the headers, id for the path, the payload's bytes as sent for the body —
// and arguments of the wrong shape are refused before the pipeline.
func TestToolRequest(t *testing.T) {
	t.Parallel()
	args := `{"meta":{"api_version":"2026-04-17","idempotency_key":"k1","signature":"sig","timestamp":"2026-12-07T05:00:00Z"},"id":"cs_1","payload":{"b": 1,  "a":2}}`
	req, meta, err := acpapi.ToolRequest("s.myshopify.com", acpapi.OpUpdate, json.RawMessage(args), "Bearer x")
	if err != nil {
		t.Fatal(err)
	}
	if req.Shop != "s.myshopify.com" || req.Operation != acpapi.OpUpdate || req.SessionID != "cs_1" || req.APIVersion != "2026-04-17" ||
		req.Authorization != "Bearer x" || req.Signature != "sig" || req.Timestamp != "2026-12-07T05:00:00Z" ||
		len(req.IdempotencyKeys) != 1 || req.IdempotencyKeys[0] != "k1" || string(req.Body) != `{"b": 1,  "a":2}` || meta.RequestID != "" {
		t.Errorf("request = %+v", req)
	}
	if req.Binding != (agents.SignedRequest{Method: string(acpapi.OpUpdate), Path: "cs_1", IdempotencyKey: "k1"}) {
		t.Errorf("binding = %+v", req.Binding)
	}
	// No key: none sent (the pipeline asks for one); no payload: no body.
	req, _, err = acpapi.ToolRequest("s", acpapi.OpCancel, json.RawMessage(`{"meta":{"api_version":"2026-04-17"},"id":"cs_1"}`), "")
	if err != nil || req.IdempotencyKeys != nil || req.Body != nil {
		t.Errorf("cancel = %+v, %v", req, err)
	}
	// create takes no id: one sent is not a path.
	req, _, err = acpapi.ToolRequest("s", acpapi.OpCreate, json.RawMessage(`{"meta":{"api_version":"2026-04-17"},"id":"cs_9","payload":{}}`), "")
	if err != nil || req.SessionID != "" {
		t.Errorf("create = %+v, %v", req, err)
	}
	for _, tc := range []struct{ args, param string }{
		{`[]`, "$"}, {`{"meta":"2026-04-17"}`, "$"}, {`{"meta":{},"id":7}`, "$"},
		{`{"meta":{"api_version":"2026-04-17"}}`, "$.id"}, {`{"meta":{"api_version":"2026-04-17"},"id":""}`, "$.id"},
	} {
		_, _, err := acpapi.ToolRequest("s", acpapi.OpGet, json.RawMessage(tc.args), "")
		var ae *acp.Error
		if !errors.As(err, &ae) || ae.Type != acp.ErrInvalidRequest || ae.Param != tc.param {
			t.Errorf("%s: %v, want invalid_request at %s", tc.args, err, tc.param)
		}
	}
}

func TestPayloadParam(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"$.currency": "$.payload.currency", "$.line_items[0].id": "$.payload.line_items[0].id", "$": "$.payload",
		"": "", "currency": "currency", "$foo": "$foo",
	} {
		if got := acpapi.PayloadParam(in); got != want {
			t.Errorf("PayloadParam(%q) = %q, want %q", in, got, want)
		}
	}
}
