package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
)

// TestDemoMCP reaches both demo shops' MCP servers as demo.json tells
// (mcp.url, mcp.authorization) with the official Go SDK's client: five
// ACP tools each and the checkout app's checkout_session, and a create that answers a valid session — ready to
// pay at the delegated-payment shop, handed to Shopify's checkout
// (continue_url) at the other.
func TestDemoMCP(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, _ := startDemo(t, ctx)
	type mcpKey struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	}
	type item struct {
		ID               string `json:"id"`
		RequiresShipping bool   `json:"requires_shipping"`
		Inventory        int    `json:"inventory"`
	}
	var m struct {
		MCP     mcpKey `json:"mcp"`
		Items   []item `json:"items"`
		Handoff struct {
			MCP   mcpKey `json:"mcp"`
			Items []item `json:"items"`
		} `json:"handoff"`
	}
	raw, err := os.ReadFile(started.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, shop := range []struct {
		name       string
		mcp        mcpKey
		items      []item
		wantStatus string
	}{
		{"demo-shop", m.MCP, m.Items, "ready_for_payment"},
		{"demo-handoff", m.Handoff.MCP, m.Handoff.Items, "requires_escalation"},
	} {
		if !strings.HasSuffix(shop.mcp.URL, "/mcp/"+shop.name+".myshopify.com") || !strings.HasPrefix(shop.mcp.Authorization, "Bearer ") {
			t.Fatalf("%s: demo.json mcp = %+v", shop.name, shop.mcp)
		}
		client := mcp.NewClient(&mcp.Implementation{Name: "demo-test-agent", Version: "1"}, nil)
		cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: shop.mcp.URL,
			HTTPClient: &http.Client{Transport: withHeader{"Authorization", shop.mcp.Authorization}}, DisableStandaloneSSE: true}, nil)
		if err != nil {
			t.Fatalf("%s: initialize: %v", shop.name, err)
		}
		tools, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatalf("%s: tools/list: %v", shop.name, err)
		}
		// The binding's five checkout tools, acpbridge's two catalog tools
		// and ChatGPT's checkout_session.
		acpTools, catalogTools, apps := 0, 0, 0
		for _, tool := range tools.Tools {
			switch {
			case strings.HasPrefix(tool.Name, "acpbridge_"):
				catalogTools++
			case tool.Name == "checkout_session":
				apps++
			default:
				acpTools++
			}
		}
		if acpTools != 5 || catalogTools != 2 || apps != 1 {
			t.Fatalf("%s: tools/list: %d ACP tools, %d catalog tools, %d checkout_session, want 5, 2 and 1", shop.name, acpTools, catalogTools, apps)
		}
		id := ""
		for _, it := range shop.items {
			if it.RequiresShipping && it.Inventory > 5 {
				id = it.ID
				break
			}
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_checkout_session", Arguments: map[string]any{
			"meta": map[string]any{"api_version": "2026-04-17", "idempotency_key": "demo-mcp-" + shop.name},
			"payload": map[string]any{"line_items": []any{map[string]any{"id": id, "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{},
				"buyer": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
				"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": map[string]any{"name": "Ada Lovelace", "line_one": "1 Market St",
					"city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"}}},
		}})
		if err != nil || res.IsError {
			t.Fatalf("%s: create: %v %+v", shop.name, err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		if err := acptest.Validate(acp.V20260417, "CheckoutSession", b); err != nil {
			t.Errorf("%s: the session does not match the schema: %v\n%s", shop.name, err, b)
		}
		var s struct {
			Status      string `json:"status"`
			ContinueURL string `json:"continue_url"`
		}
		_ = json.Unmarshal(b, &s)
		if s.Status != shop.wantStatus || (shop.wantStatus == "requires_escalation") != (s.ContinueURL != "") {
			t.Errorf("%s: create = %s", shop.name, b)
		}
		_ = cs.Close()
	}
}

// withHeader sets one header on every request.
type withHeader struct{ name, value string }

func (h withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}
