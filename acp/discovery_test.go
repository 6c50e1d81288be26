package acp_test

import (
	"fmt"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

func TestEncodeDiscovery(t *testing.T) {
	b, err := acp.EncodeDiscovery(acp.Discovery{
		APIBaseURL: "https://app.example/acp/shop.myshopify.com", Services: []string{"checkout"},
		Extensions: []string{"discount"}, Currencies: []string{"USD"}, DocumentationURL: "https://app.example/docs",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := acptest.Validate(acp.V20260417, "DiscoveryResponse", b); err != nil {
		t.Fatalf("discovery document does not match the schema: %v\n%s", err, b)
	}
	m := decodeMap(t, b)
	if got := m["capabilities"].(map[string]any)["supported_currencies"].([]any)[0]; got != "usd" {
		t.Errorf("currency = %v, want usd", got)
	}
	p := m["protocol"].(map[string]any)
	if p["version"] != string(acp.V20260417) || len(p["supported_versions"].([]any)) != len(acp.SupportedVersions) {
		t.Errorf("protocol = %v", p)
	}
	for _, bad := range []acp.Discovery{{APIBaseURL: "not a url"}, {APIBaseURL: "https://x.example", Currencies: []string{"XXQ"}}} {
		if _, err := acp.EncodeDiscovery(bad); err == nil {
			t.Errorf("EncodeDiscovery(%+v) = nil error", bad)
		}
	}
}

// TestEncodeDiscoveryTransports: REST always, MCP when the seller serves
// the binding, and the document stays valid either way.
func TestEncodeDiscoveryTransports(t *testing.T) {
	for _, tc := range []struct {
		mcp  bool
		want string
	}{{false, "[rest]"}, {true, "[rest mcp]"}} {
		b, err := acp.EncodeDiscovery(acp.Discovery{APIBaseURL: "https://app.example/acp/shop.myshopify.com",
			Services: []string{"checkout"}, MCP: tc.mcp})
		if err != nil {
			t.Fatal(err)
		}
		if err := acptest.Validate(acp.V20260417, "DiscoveryResponse", b); err != nil {
			t.Fatalf("MCP %v: discovery document does not match the schema: %v\n%s", tc.mcp, err, b)
		}
		if got := fmt.Sprint(decodeMap(t, b)["transports"]); got != tc.want {
			t.Errorf("MCP %v: transports = %s, want %s", tc.mcp, got, tc.want)
		}
	}
}
