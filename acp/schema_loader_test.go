package acp_test

import (
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// TestSchemaDefects pins the two defects the test loader works around, so
// that a fixed upstream file is noticed.
func TestSchemaDefects(t *testing.T) {
	t.Parallel()
	if _, err := compileCheckoutDef(acp.V20250929, "Item", false); err == nil {
		t.Error("unpatched 2025-09-29 schema compiles: has exclusiveMinimum: true been fixed upstream?")
	} else if !strings.Contains(err.Error(), "exclusiveMinimum") {
		t.Errorf("unpatched 2025-09-29 schema fails for another reason: %v", err)
	}

	// Unpatched allOf(Base with additionalProperties:false, {order}) refuses
	// any session carrying an order. Apply only the exclusiveMinimum fix.
	doc := example(t, acp.V20250929, "create_checkout_session_response")
	m := decodeMap(t, doc)
	m["status"] = "completed"
	m["order"] = map[string]any{"id": "o", "checkout_session_id": m["id"], "permalink_url": "https://shop.example/o"}
	b := mustJSON(t, m)
	if err := schemaValidate(t, checkoutSchema(t, acp.V20250929, "CheckoutSessionWithOrder"), b); err != nil {
		t.Errorf("patched CheckoutSessionWithOrder refuses a session with an order: %v", err)
	}
	if err := schemaValidate(t, checkoutSchema(t, acp.V20250929, "CheckoutSession"), b); err == nil {
		t.Error("2025-09-29 CheckoutSession accepts \"order\": has the base schema changed?")
	}
}

// TestSchemaLoaderAcceptsOfficialExamples checks the loader (and its
// workarounds) against the official response examples.
func TestSchemaLoaderAcceptsOfficialExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    acp.Version
		file string
		def  string
		ok   bool
	}{
		{acp.V20250929, "create_checkout_session_response", "CheckoutSession", true},
		{acp.V20250929, "cancel_checkout_session_response", "CheckoutSession", true},
		// Defect: the official 2025-09-29 complete response has no order,
		// which CheckoutSessionWithOrder requires.
		{acp.V20250929, "complete_checkout_session_response", "CheckoutSessionWithOrder", false},
		{acp.V20260417, "create_checkout_session_response", "CheckoutSession", true},
		{acp.V20260417, "complete_checkout_session_response", "CheckoutSessionWithOrder", true},
		{acp.V20260417, "cancel_checkout_session_response", "CheckoutSession", true},
		{acp.V20260417, "checkout_session_authentication_required", "CheckoutSession", true},
		{acp.V20260417, "checkout_session_with_out_of_stock", "CheckoutSession", true},
		{acp.V20260417, "error_400_requires_3ds", "Error", true},
		{acp.V20260417, "error_400_invalid_item", "Error", true},
		{acp.V20250929, "create_checkout_session_request", "CheckoutSessionCreateRequest", true},
		{acp.V20250929, "as_published_create_checkout_session_request", "CheckoutSessionCreateRequest", true},
		{acp.V20260417, "create_checkout_session_request", "CheckoutSessionCreateRequest", true},
		// Defect: the multi-item example lacks the required capabilities.
		{acp.V20260417, "create_multi_item_checkout_request", "CheckoutSessionCreateRequest", false},
		{acp.V20260417, "complete_session_with_authentication_result_request", "CheckoutSessionCompleteRequest", true},
		{acp.V20260417, "complete_session_with_denied_authentication_request", "CheckoutSessionCompleteRequest", true},
	}
	for _, tt := range tests {
		t.Run(string(tt.v)+"/"+tt.file, func(t *testing.T) {
			t.Parallel()
			err := schemaValidate(t, checkoutSchema(t, tt.v, tt.def), example(t, tt.v, tt.file))
			if tt.ok && err != nil {
				t.Errorf("official example does not validate against %s: %v", tt.def, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("official example validates against %s; the known defect is gone", tt.def)
			}
		})
	}
}
