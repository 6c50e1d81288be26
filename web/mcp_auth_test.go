package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/agents"
)

// TestMCPToolCallAuthenticatesOnce: the MCP server checks the key of every
// HTTP request, and the tool call inside it reuses that agent instead of
// looking the key up a second time; a REST call is authenticated once too.
// The call is refused after authentication (its payload is not an
// object), so no checkout runs.
func TestMCPToolCallAuthenticatesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, body string
		header           map[string]string
		wantInBody       string
	}{
		{
			name: "MCP tools/call", path: "/mcp/once-shop.myshopify.com",
			body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_checkout_session",` +
				`"arguments":{"meta":{"api_version":"2026-04-17","idempotency_key":"k-1"},"payload":[1]}}}`,
			header:     map[string]string{"Accept": "application/json, text/event-stream"},
			wantInBody: `"code":-32000`,
		},
		{
			name: "REST create", path: "/acp/once-shop.myshopify.com/checkout_sessions", body: `[1]`,
			header:     map[string]string{"API-Version": "2026-04-17", "Idempotency-Key": "k-2"},
			wantInBody: `"type":"invalid_request"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBombServer(t)
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+agents.APIKeyPrefix+"_whatever")
			req.Header.Set("Content-Type", "application/json")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			b.srv.ServeHTTP(rec, req)
			if !strings.Contains(rec.Body.String(), tt.wantInBody) {
				t.Fatalf("answer %d %s, want it to contain %s", rec.Code, rec.Body, tt.wantInBody)
			}
			if n := b.agents.auths.Load(); n != 1 {
				t.Errorf("the key was looked up %d times, want 1", n)
			}
		})
	}
}
