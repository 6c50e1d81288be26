package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/web"
)

// The checkout app of ChatGPT's Apps SDK (product checkout contract) on
// the shop's MCP server: the checkout_session tool, the widget it names,
// and the ACP tools the widget calls.

const widgetURI = "ui://widget/checkout-session.html"

// checkoutApp calls checkout_session with the contract's input for items.
func (a *mcpAgent) checkoutApp(items ...map[string]any) (map[string]any, *jsonrpc.Error) {
	a.t.Helper()
	return a.callRaw("checkout_session", map[string]any{"checkout_session": map[string]any{"items": items}})
}

// TestMCPCheckoutAppDescriptors: tools/list has checkout_session with the
// contract's _meta (the widget's URI under ui.resourceUri and the older
// openai/outputTemplate) and an input schema that takes the contract's
// example; exactly the tools the widget calls are widget-accessible; the
// widget is a resource of the Apps SDK's type whose HTML loads nothing from
// elsewhere.
func TestMCPCheckoutAppDescriptors(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.mcpAgent(t)
	ctx := context.Background()
	res, err := a.session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	accessible := map[string]bool{}
	var appTool *mcp.Tool
	for _, tool := range res.Tools {
		if v, _ := tool.Meta["openai/widgetAccessible"].(bool); v {
			accessible[tool.Name] = true
		}
		if tool.Name == "checkout_session" {
			appTool = tool
		}
	}
	want := map[string]bool{"checkout_session": true, "get_checkout_session": true, "update_checkout_session": true, "complete_checkout_session": true}
	if len(accessible) != len(want) {
		t.Errorf("widget-accessible tools = %v, want %v", accessible, want)
	}
	for name := range want {
		if !accessible[name] {
			t.Errorf("%s is not widget-accessible", name)
		}
	}
	if appTool == nil {
		t.Fatalf("tools/list has no checkout_session: %d tools", len(res.Tools))
	}
	ui, _ := appTool.Meta["ui"].(map[string]any)
	if ui["resourceUri"] != widgetURI || appTool.Meta["openai/outputTemplate"] != widgetURI {
		t.Errorf("checkout_session _meta = %v", appTool.Meta)
	}
	if !strings.Contains(appTool.Description, "offerId") {
		t.Errorf("the description does not say what becomes of offerId: %q", appTool.Description)
	}
	b, _ := json.Marshal(appTool.InputSchema)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("https://acpbridge.test/checkout_session.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("https://acpbridge.test/checkout_session.json")
	if err != nil {
		t.Fatalf("the input schema does not compile: %v", err)
	}
	example := map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": "string", "quantity": 1, "offerId": "string"}}}}
	if err := sch.Validate(roundTrip(t, example)); err != nil {
		t.Errorf("the schema refuses the contract's example: %v", err)
	}
	for name, v := range map[string]any{
		"no items":   map[string]any{"checkout_session": map[string]any{}},
		"no session": map[string]any{},
		"quantity 0": map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": "x", "quantity": 0}}}},
	} {
		if err := sch.Validate(roundTrip(t, v)); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}

	rl, err := a.session.ListResources(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Resources) != 1 || rl.Resources[0].URI != widgetURI || rl.Resources[0].MIMEType != "text/html+skybridge" {
		t.Fatalf("resources/list = %+v", rl.Resources)
	}
	rr, err := a.session.ReadResource(ctx, &mcp.ReadResourceParams{URI: widgetURI})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].URI != widgetURI || rr.Contents[0].MIMEType != "text/html+skybridge" {
		t.Fatalf("resources/read = %+v", rr.Contents)
	}
	html := rr.Contents[0].Text
	if !strings.Contains(html, "window.openai") || !strings.Contains(html, "<script>") || !strings.Contains(html, "<style>") {
		t.Errorf("the widget is not the checkout page: %.200s", html)
	}
	// Self-contained: nothing loaded from elsewhere, nothing fetched.
	for name, re := range map[string]*regexp.Regexp{
		"external src or href": regexp.MustCompile(`(?i)<(script|link|img|iframe|source)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//`),
		"css import or url":    regexp.MustCompile(`(?i)(@import|url\(\s*["']?(https?:)?//)`),
		"network call":         regexp.MustCompile(`\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon)\b`),
	} {
		if m := re.FindString(html); m != "" {
			t.Errorf("the widget has a %s: %q", name, m)
		}
	}
	if _, err := a.session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "ui://widget/other.html"}); err == nil {
		t.Error("an unknown resource was read")
	}
}

// TestMCPCheckoutApp: checkout_session opens a valid 2026-04-17 session
// for the feed's items (offerId and unknown fields ignored), which the
// widget's tools then take to a completed order (delegated payment) or to
// Shopify's checkout (handoff); bad input is refused as the ACP tools
// refuse it (-32000, the ACP error with its param in the arguments);
// another shop's key is refused.
func TestMCPCheckoutApp(t *testing.T) {
	t.Parallel()
	t.Run("delegated payment", func(t *testing.T) {
		t.Parallel()
		e := newCheckoutEnv(t, app.DatabaseSQLite)
		a := e.mcpAgent(t)
		rest := e.agent(t, acp.V20260417)
		id := item(e.items.inStock, 1).ID
		s, je := a.callRaw("checkout_session", map[string]any{"checkout_session": map[string]any{"items": []any{
			map[string]any{"id": id, "quantity": 2, "offerId": "offer_ignored", "extra": true}}, "note": "ignored"}, "other": 1})
		if je != nil {
			t.Fatalf("checkout_session: %d %s %s", je.Code, je.Message, je.Data)
		}
		lines, _ := s["line_items"].([]any)
		if len(lines) != 1 || s["status"] != "not_ready_for_payment" || s["currency"] != "usd" {
			t.Fatalf("checkout_session = %v", s)
		}
		line := lines[0].(map[string]any)
		if line["item"].(map[string]any)["id"] != id || line["quantity"] != float64(2) || line["unit_amount"] != float64(e.items.inStock.PriceCents) {
			t.Errorf("line item = %v, want item %s ×2 at %d", line, id, e.items.inStock.PriceCents)
		}
		// The widget: address and email, then pay through complete.
		sid := s["id"].(string)
		up := rest.addressUpdate(californiaAddress())
		up["buyer"] = map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
		ready, je := a.call("update_checkout_session", nil, sid, up)
		if je != nil || ready["status"] != "ready_for_payment" {
			t.Fatalf("update: %v %v", ready, je)
		}
		done, je := a.call("complete_checkout_session", nil, sid, rest.paymentBody(e.token(stripeemu.KindApprove)))
		if je != nil || done["status"] != "completed" {
			t.Fatalf("complete: %v %v", done, je)
		}
		e.checkOnce(t, sid, totals(t, response{m: ready})["total"])

		// Each call is a new session (the tool carries no key of its own).
		again, je := a.checkoutApp(map[string]any{"id": id})
		if je != nil || again["id"] == sid {
			t.Errorf("a second checkout_session: %v %v", again, je)
		}
		if l := again["line_items"].([]any)[0].(map[string]any); l["quantity"] != float64(1) {
			t.Errorf("quantity absent: %v, want 1", l["quantity"])
		}

		for _, tc := range []struct {
			name        string
			args        any
			code, param string
		}{
			{"no arguments", map[string]any{}, "missing", "$.checkout_session"},
			{"checkout_session not an object", map[string]any{"checkout_session": []int{1}}, "invalid_type", "$.checkout_session"},
			{"no items", map[string]any{"checkout_session": map[string]any{}}, "missing", "$.checkout_session.items"},
			{"items not an array", map[string]any{"checkout_session": map[string]any{"items": "x"}}, "invalid_type", "$.checkout_session.items"},
			{"empty items", map[string]any{"checkout_session": map[string]any{"items": []any{}}}, "invalid", "$.checkout_session.items"},
			{"item not an object", map[string]any{"checkout_session": map[string]any{"items": []any{"x"}}}, "invalid_type", "$.checkout_session.items[0]"},
			{"no id", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"quantity": 1}}}}, "missing", "$.checkout_session.items[0].id"},
			{"id not a string", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": 5}}}}, "invalid_type", "$.checkout_session.items[0].id"},
			{"empty id", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": " "}}}}, "invalid", "$.checkout_session.items[0].id"},
			{"quantity 0", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": id}, map[string]any{"id": id, "quantity": 0}}}}, "invalid", "$.checkout_session.items[1].quantity"},
			{"negative quantity", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": id, "quantity": -2}}}}, "invalid", "$.checkout_session.items[0].quantity"},
			{"fractional quantity", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": id, "quantity": 1.5}}}}, "invalid", "$.checkout_session.items[0].quantity"},
			{"quantity a string", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": id, "quantity": "2"}}}}, "invalid_type", "$.checkout_session.items[0].quantity"},
			{"too many", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": id, "quantity": acp.MaxQuantity + 1}}}}, "invalid", "$.checkout_session.items[0].quantity"},
		} {
			_, je := a.callRaw("checkout_session", tc.args)
			if je == nil || je.Code != web.CodeACPError {
				t.Errorf("%s: %v, want -32000", tc.name, je)
				continue
			}
			d := acpErr(t, je)
			if d["type"] != "invalid_request" || d["code"] != tc.code || d["param"] != tc.param || d["message"] != je.Message || je.Message == "" {
				t.Errorf("%s: %q %v, want %s at %s", tc.name, je.Message, d, tc.code, tc.param)
			}
		}
		// An id the feed does not have: refused or flagged by checkout,
		// pointing at the tool's item, not at the body built for it.
		_, je = a.checkoutApp(map[string]any{"id": "no-such-item"})
		if je == nil {
			t.Fatal("an unknown item was sold")
		}
		if d := acpErrData(t, je.Data); je.Code != web.CodeACPError || !strings.HasPrefix(d["param"].(string), "$.checkout_session.items[0]") {
			t.Errorf("unknown item: %d %v", je.Code, d)
		}

		// Another shop's key: refused before any tool.
		other := web.MCPURL(e.svc.URL(), "other-shop.myshopify.com")
		if _, err := connectMCP(t, other, e.key); err == nil {
			t.Error("initialize at another shop with this shop's key succeeded")
		}
		status, _, body := postJSON(t, other, e.key, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"checkout_session","arguments":{"checkout_session":{"items":[{"id":"`+id+`"}]}}}}`)
		if status != http.StatusUnauthorized {
			t.Errorf("checkout_session at another shop: %d %s", status, body)
		}
	})
	t.Run("shopify checkout", func(t *testing.T) {
		t.Parallel()
		e := newHandoffEnv(t, app.DatabasePostgres)
		a := e.mcpAgent(t)
		rest := e.agent(t, acp.V20260417)
		s, je := a.checkoutApp(map[string]any{"id": item(e.items.inStock, 1).ID, "quantity": 1, "offerId": "o"})
		if je != nil {
			t.Fatalf("checkout_session: %v", je)
		}
		if s["continue_url"] != nil || s["status"] != "not_ready_for_payment" {
			t.Errorf("without an address: %v", s)
		}
		up := rest.addressUpdate(californiaAddress())
		up["buyer"] = map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
		h, je2 := a.call("update_checkout_session", nil, s["id"].(string), up)
		if je2 != nil {
			t.Fatalf("update: %v", je2)
		}
		b, _ := json.Marshal(h)
		if u := checkHandoff(t, rest, response{status: http.StatusOK, body: b, m: h}); !strings.Contains(u, checkout.ContinuePath) || h["continue_url"] != u {
			t.Errorf("continue_url %q, session %s", u, b)
		}
	})
}

func acpErrData(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("error data is not an object: %s", data)
	}
	if _, ok := m["param"].(string); !ok {
		m["param"] = ""
	}
	return m
}
