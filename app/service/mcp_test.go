package service_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/config"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/web"
)

// mcpAgent is an ACP agent speaking the MCP binding through the official
// Go SDK's client over Streamable HTTP, its API key as a Bearer token.
type mcpAgent struct {
	t       *testing.T
	session *mcp.ClientSession
	seq     int
	// meta is the _meta of the last result (REST's response headers).
	meta mcp.Meta
}

// bearer adds the agent's API key to every HTTP request of the client.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// connectMCP initializes an MCP session with the shop's server.
func connectMCP(t *testing.T, url, key string) (*mcp.ClientSession, error) {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "acpbridge-test-agent", Version: "1"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{key, http.DefaultTransport}},
		DisableStandaloneSSE: true, MaxRetries: -1}
	cs, err := client.Connect(context.Background(), tr, nil)
	if err == nil {
		t.Cleanup(func() { _ = cs.Close() })
	}
	return cs, err
}

func (e *checkoutEnv) mcpAgent(t *testing.T) *mcpAgent {
	t.Helper()
	cs, err := connectMCP(t, web.MCPURL(e.svc.URL(), testShop), e.key)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return &mcpAgent{t: t, session: cs}
}

// call calls an ACP tool with {meta, id, payload}; meta gets the version
// and, for the tools that change state, a fresh idempotency key unless
// meta already has one. It returns the session (checked against the
// official schema) or the JSON-RPC error.
func (a *mcpAgent) call(tool string, meta map[string]any, id string, payload any) (map[string]any, *jsonrpc.Error) {
	a.t.Helper()
	if meta == nil {
		meta = map[string]any{"api_version": string(acp.V20260417)}
	}
	if _, ok := meta["idempotency_key"]; !ok && tool != "get_checkout_session" {
		a.seq++
		meta["idempotency_key"] = fmt.Sprintf("%s-mcp-%d-%p", a.t.Name(), a.seq, a)
	}
	args := map[string]any{"meta": meta}
	if id != "" {
		args["id"] = id
	}
	if payload != nil {
		args["payload"] = payload
	}
	return a.callRaw(tool, args)
}

func (a *mcpAgent) callRaw(tool string, args any) (map[string]any, *jsonrpc.Error) {
	a.t.Helper()
	res, err := a.session.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		var je *jsonrpc.Error
		if !errors.As(err, &je) {
			a.t.Fatalf("%s: not a JSON-RPC error: %v", tool, err)
		}
		if je.Code == web.CodeACPError {
			// The binding: the ACP error object as the data.
			if err := acptest.Validate(acp.V20260417, "Error", je.Data); err != nil {
				a.t.Errorf("%s: error.data does not match the Error schema: %v\n%s", tool, err, je.Data)
			}
		}
		return nil, je
	}
	if res.IsError {
		a.t.Fatalf("%s: a tool error result, not the binding's JSON-RPC error: %+v", tool, res.Content)
	}
	a.meta = res.Meta
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		a.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		a.t.Fatalf("%s: structured content is not an object: %s", tool, b)
	}
	if err := acptest.Validate(acp.V20260417, acptest.SessionDef(m["order"] != nil), b); err != nil {
		a.t.Errorf("%s: the session does not match the schema: %v\n%s", tool, err, b)
	}
	// Clients that read only the text content get the same session.
	if len(res.Content) != 1 {
		a.t.Errorf("%s: %d content blocks, want 1", tool, len(res.Content))
	} else if tc, ok := res.Content[0].(*mcp.TextContent); !ok || !jsonEqual(tc.Text, string(b)) {
		a.t.Errorf("%s: the text content is not the session: %+v", tool, res.Content[0])
	}
	return m, nil
}

func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && fmt.Sprint(x) == fmt.Sprint(y)
}

// acpErr is the ACP error in a JSON-RPC error's data.
func acpErr(t *testing.T, je *jsonrpc.Error) map[string]any {
	t.Helper()
	if je == nil {
		t.Fatal("no error")
	}
	var m map[string]any
	if err := json.Unmarshal(je.Data, &m); err != nil {
		t.Fatalf("error %d %q: data is not an object: %s", je.Code, je.Message, je.Data)
	}
	return m
}

// TestMCPTools: tools/list gives exactly the binding's five tools, each
// with an input schema that compiles as JSON Schema 2020-12 and accepts
// what the binding's examples send, and the checkout app's tool
// (TestMCPCheckoutAppDescriptors).
func TestMCPTools(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.mcpAgent(t)
	res, err := a.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		if strings.HasPrefix(tool.Name, "acpbridge_") {
			continue // acpbridge's catalog tools, not the binding's: TestMCPCatalogTools
		}
		names = append(names, tool.Name)
		if tool.Name == "checkout_session" {
			continue // not the binding's: no meta, id or payload
		}
		b, err := json.Marshal(tool.InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		url := "https://acpbridge.test/mcp/" + tool.Name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			t.Fatalf("%s: the input schema does not compile: %v", tool.Name, err)
		}
		// A payload each request schema accepts (they allow no other
		// fields: a create's payload is no complete's).
		payloads := map[string]any{
			"create_checkout_session": map[string]any{"line_items": []any{map[string]any{"id": "item_123"}}, "currency": "usd", "capabilities": map[string]any{}},
			// quantity: the one addition to the official schema (Item has
			// none in the released 2026-04-17 files).
			"update_checkout_session": map[string]any{"line_items": []any{map[string]any{"id": "item_123", "quantity": 2}}},
			"complete_checkout_session": map[string]any{"payment_data": map[string]any{"handler_id": "h",
				"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": "t"}}}},
			"cancel_checkout_session": map[string]any{},
		}
		valid := map[string]any{"meta": map[string]any{"api_version": "2026-04-17", "idempotency_key": "k"}, "id": "cs_1"}
		if p, ok := payloads[tool.Name]; ok {
			valid["payload"] = p
			// And not another tool's.
			wrong := map[string]any{"meta": valid["meta"], "id": "cs_1", "payload": payloads["complete_checkout_session"]}
			if tool.Name == "complete_checkout_session" {
				wrong["payload"] = payloads["create_checkout_session"]
			}
			if tool.Name != "cancel_checkout_session" {
				if err := sch.Validate(roundTrip(t, wrong)); err == nil {
					t.Errorf("%s: the schema accepts another operation's payload", tool.Name)
				}
			}
		}
		if err := sch.Validate(roundTrip(t, valid)); err != nil {
			t.Errorf("%s: the schema refuses a valid call: %v", tool.Name, err)
		}
		noMeta := map[string]any{"id": "cs_1", "payload": valid["payload"]}
		if err := sch.Validate(roundTrip(t, noMeta)); err == nil {
			t.Errorf("%s: the schema accepts a call without meta", tool.Name)
		}
		noVersion := map[string]any{"meta": map[string]any{}, "id": "cs_1", "payload": valid["payload"]}
		if err := sch.Validate(roundTrip(t, noVersion)); err == nil {
			t.Errorf("%s: the schema accepts meta without api_version", tool.Name)
		}
	}
	want := []string{"create_checkout_session", "get_checkout_session", "update_checkout_session", "complete_checkout_session", "cancel_checkout_session",
		"checkout_session"}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("tools = %v, want %v", names, want)
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMCPPurchase drives a whole delegated-payment purchase over MCP
// (create → update → complete → get), then crosses transports: a session
// created over REST is completed over MCP and one created over MCP is
// read and completed over REST; an idempotency key used over MCP replays
// over REST. Both databases.
func TestMCPPurchase(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		a := e.mcpAgent(t)
		rest := e.agent(t, acp.V20260417)

		created, je := a.call("create_checkout_session", nil, "", rest.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, nil))
		if je != nil {
			t.Fatalf("create: %d %s %s", je.Code, je.Message, je.Data)
		}
		id, _ := created["id"].(string)
		if id == "" || created["status"] == "ready_for_payment" {
			t.Fatalf("create (no address yet): %v", created)
		}
		updated, je := a.call("update_checkout_session", nil, id, rest.addressUpdate(californiaAddress()))
		if je != nil || updated["status"] != "ready_for_payment" {
			t.Fatalf("update: %v %v", updated, je)
		}
		total := totals(t, response{m: updated})["total"]
		done, je := a.call("complete_checkout_session", nil, id, rest.paymentBody(e.token(stripeemu.KindApprove)))
		if je != nil || done["status"] != "completed" || done["order"] == nil {
			t.Fatalf("complete: %v %v", done, je)
		}
		got, je := a.call("get_checkout_session", nil, id, nil)
		if je != nil || got["status"] != "completed" {
			t.Fatalf("get: %v %v", got, je)
		}
		e.checkOnce(t, id, total)
		// The session is the same over REST.
		if r := rest.do("GET", "/checkout_sessions/"+id, nil); r.status != http.StatusOK || r.str("status") != "completed" {
			t.Errorf("REST get of the MCP session: %d %s", r.status, r.body)
		}

		// REST create → MCP complete.
		restID, restTotal := e.readySession(t, rest, 1)
		if s, je := a.call("get_checkout_session", nil, restID, nil); je != nil || s["status"] != "ready_for_payment" {
			t.Fatalf("MCP get of the REST session: %v %v", s, je)
		}
		if s, je := a.call("complete_checkout_session", nil, restID, rest.paymentBody(e.token(stripeemu.KindApprove))); je != nil || s["status"] != "completed" {
			t.Fatalf("MCP complete of the REST session: %v %v", s, je)
		}
		e.checkOnce(t, restID, restTotal)

		// MCP create → REST complete.
		s, je := a.call("create_checkout_session", nil, "", rest.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
		if je != nil || s["status"] != "ready_for_payment" {
			t.Fatalf("MCP create: %v %v", s, je)
		}
		mcpID := s["id"].(string)
		if r := rest.do("POST", "/checkout_sessions/"+mcpID+"/complete", rest.paymentBody(e.token(stripeemu.KindApprove))); r.status != http.StatusOK || r.str("status") != "completed" {
			t.Fatalf("REST complete of the MCP session: %d %s", r.status, r.body)
		}
		e.checkOnce(t, mcpID, totals(t, response{m: s})["total"])

		// One idempotency key, both transports: the REST retry of an MCP
		// create replays it (nothing new is created); a different body
		// under the key is a conflict, over either transport.
		body := rest.createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil)
		const key = "shared-key-mcp-then-rest"
		first, je := a.call("create_checkout_session", map[string]any{"api_version": "2026-04-17", "idempotency_key": key, "request_id": "req-mcp-1"}, "", body)
		if je != nil {
			t.Fatalf("MCP create with a key: %v", je)
		}
		// What REST says in headers is in the result's _meta.
		if a.meta["request_id"] != "req-mcp-1" || a.meta["idempotency_key"] != key || a.meta["idempotent_replayed"] != nil {
			t.Errorf("MCP create: _meta %v, want request_id and idempotency_key echoed, no replay", a.meta)
		}
		rest.headers = map[string]string{"Idempotency-Key": key}
		r := rest.do("POST", "/checkout_sessions", body)
		if r.status != http.StatusCreated || r.str("id") != first["id"] || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("REST retry of the MCP create: %d replayed %q, %s (want session %v)", r.status, r.header.Get("Idempotent-Replayed"), r.body, first["id"])
		}
		again, je := a.call("create_checkout_session", map[string]any{"api_version": "2026-04-17", "idempotency_key": key}, "", body)
		if je != nil || again["id"] != first["id"] || a.meta["idempotent_replayed"] != true || a.meta["request_id"] != nil {
			t.Errorf("MCP retry: %v %v, _meta %v (want the replay said)", again, je, a.meta)
		}
		other := rest.createBody([]acp.ItemInput{item(e.items.digital, 2)}, true, nil)
		if r := rest.do("POST", "/checkout_sessions", other); r.status != http.StatusUnprocessableEntity || r.str("code") != "idempotency_conflict" {
			t.Errorf("REST, same key, other body: %d %s", r.status, r.body)
		}
		_, je = a.call("create_checkout_session", map[string]any{"api_version": "2026-04-17", "idempotency_key": key}, "", other)
		if d := acpErr(t, je); je.Code != web.CodeACPError || d["code"] != "idempotency_conflict" {
			t.Errorf("MCP, same key, other body: %d %v", je.Code, d)
		}
		// And the other way: a REST key replays over MCP.
		rest.headers = map[string]string{"Idempotency-Key": "shared-key-rest-then-mcp"}
		r = rest.do("POST", "/checkout_sessions", body)
		if r.status != http.StatusCreated {
			t.Fatalf("REST create with a key: %d %s", r.status, r.body)
		}
		replay, je := a.call("create_checkout_session", map[string]any{"api_version": "2026-04-17", "idempotency_key": "shared-key-rest-then-mcp"}, "", body)
		if je != nil || replay["id"] != r.str("id") {
			t.Errorf("MCP retry of the REST create: %v %v, want %s", replay, je, r.str("id"))
		}
	})
}

// TestMCPHandoff: for a shop that sells through Shopify's checkout, an MCP
// create hands the buyer to it (continue_url), as REST does.
func TestMCPHandoff(t *testing.T) {
	t.Parallel()
	e := newHandoffEnv(t, app.DatabasePostgres)
	a := e.mcpAgent(t)
	rest := e.agent(t, acp.V20260417)
	s, je := a.call("create_checkout_session", nil, "", rest.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
	if je != nil {
		t.Fatalf("create: %v", je)
	}
	b, _ := json.Marshal(s)
	u := checkHandoff(t, rest, response{status: http.StatusCreated, body: b, m: s})
	if d := e.draftOf(t, s["id"].(string)); d != nil || !strings.Contains(u, checkout.ContinuePath) {
		t.Errorf("continue_url %q, draft %v before the buyer follows it", u, d)
	}
	if invoice := follow(t, u); e.draftOf(t, s["id"].(string)).InvoiceURL != invoice {
		t.Errorf("followed to %s, not the session's draft", invoice)
	}
}

// TestMCPRefusals: keys, arguments and framing the binding refuses, each
// answered as it prescribes (JSON-RPC errors, the ACP error in -32000's
// data), never with a server error.
func TestMCPRefusals(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	url := web.MCPURL(e.svc.URL(), testShop)

	// Keys: a revoked one, another shop's, none: refused at the MCP
	// server (401), before any method.
	second, k2, err := e.svc.Agents().CreateAPIKey(ctx, e.sh.ID, "rotation")
	if err != nil {
		t.Fatal(err)
	}
	b := &mcpAgent{t: t}
	if b.session, err = connectMCP(t, url, second); err != nil {
		t.Fatalf("a valid second key: %v", err)
	}
	if err := e.svc.Agents().RevokeAPIKey(ctx, e.sh.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.session.CallTool(ctx, &mcp.CallToolParams{Name: "get_checkout_session",
		Arguments: map[string]any{"meta": map[string]any{"api_version": "2026-04-17"}, "id": "cs_x"}}); err == nil {
		t.Error("a call with a key revoked since initialize succeeded")
	}
	for name, c := range map[string]struct{ url, key string }{
		"revoked key":  {url, second},
		"another shop": {web.MCPURL(e.svc.URL(), "other-shop.myshopify.com"), e.key},
		"no key":       {url, ""},
	} {
		if _, err := connectMCP(t, c.url, c.key); err == nil {
			t.Errorf("%s: initialize succeeded", name)
		}
		status, hdr, body := postJSON(t, c.url, c.key, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
		if status != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %q %s, want 401 with a Bearer challenge", name, status, hdr.Get("WWW-Authenticate"), body)
		}
	}

	// Malformed JSON-RPC: refused by the transport, not a server error.
	for _, raw := range []string{`{"jsonrpc":"2.0","id":1,"method":`, `[]`, `{"jsonrpc":"1.0","id":1}`, `"x"`} {
		status, _, body := postJSON(t, url, e.key, raw)
		if status >= 500 || status < 400 && !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s", raw, status, body)
		}
	}

	a := e.mcpAgent(t)
	// Unknown tool: the SDK's invalid params.
	if _, je := a.call("delete_checkout_session", nil, "cs_x", map[string]any{}); je == nil || je.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("unknown tool: %v", je)
	}
	valid := (&agent{version: acp.V20260417}).createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil)
	for _, tc := range []struct {
		name  string
		args  any
		code  string
		param string
	}{
		{"no meta", map[string]any{"payload": valid}, acp.CodeMissingAPIVersion, "$.meta.api_version"},
		{"no api_version", map[string]any{"meta": map[string]any{"idempotency_key": "k1"}, "payload": valid}, acp.CodeMissingAPIVersion, "$.meta.api_version"},
		{"unsupported api_version", map[string]any{"meta": map[string]any{"api_version": "2020-01-01", "idempotency_key": "k2"}, "payload": valid}, acp.CodeUnsupportedAPIVersion, "$.meta.api_version"},
		{"no idempotency key", map[string]any{"meta": map[string]any{"api_version": "2026-04-17"}, "payload": valid}, "idempotency_key_required", ""},
		{"no currency", map[string]any{"meta": map[string]any{"api_version": "2026-04-17", "idempotency_key": "k3"},
			"payload": map[string]any{"line_items": valid["line_items"], "capabilities": map[string]any{}}}, "", "$.payload.currency"},
		{"payload not an object", map[string]any{"meta": map[string]any{"api_version": "2026-04-17", "idempotency_key": "k4"}, "payload": []int{1}}, "", ""},
		{"meta not an object", map[string]any{"meta": "2026-04-17", "payload": valid}, "invalid_params", "$"},
		{"payload too large", map[string]any{"meta": map[string]any{"api_version": "2026-04-17", "idempotency_key": "k5"},
			"payload": map[string]any{"line_items": valid["line_items"], "currency": "usd", "capabilities": map[string]any{},
				"order_notes": strings.Repeat("x", acp.MaxBodyBytes)}}, acp.CodeTooLarge, ""},
	} {
		_, je := a.callRaw("create_checkout_session", tc.args)
		if je == nil || je.Code != web.CodeACPError {
			t.Errorf("%s: %v, want a -32000 error", tc.name, je)
			continue
		}
		d := acpErr(t, je)
		if d["type"] != "invalid_request" || tc.code != "" && d["code"] != tc.code || tc.param != "" && d["param"] != tc.param || je.Message != d["message"] {
			t.Errorf("%s: %q %v", tc.name, je.Message, d)
		}
	}
	// A session id is required where the binding requires one; an
	// unknown one is not found.
	if _, je := a.call("get_checkout_session", nil, "", nil); je == nil || acpErr(t, je)["param"] != "$.id" {
		t.Errorf("get without id: %v", je)
	}
	if _, je := a.call("get_checkout_session", nil, "cs_does_not_exist", nil); je == nil || acpErr(t, je)["code"] != "not_found" {
		t.Errorf("get of an unknown session: %v", je)
	}
	// A JSON-RPC request larger than any ACP call: refused by size.
	status, _, _ := postJSON(t, url, e.key, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_checkout_session","arguments":{"x":"`+
		strings.Repeat("x", acp.MaxBodyBytes+64<<10)+`"}}}`)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized JSON-RPC request: %d, want 413", status)
	}
}

// postJSON posts one raw JSON-RPC message to an MCP server.
func postJSON(t *testing.T, url, key, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestMCPDiscovery: the discovery document lists the MCP transport.
func TestMCPDiscovery(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	status, _, body := get(t, web.ACPBaseURL(e.svc.URL(), testShop)+"/.well-known/acp.json")
	var d struct {
		Transports []string `json:"transports"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil || status != http.StatusOK || !slices.Equal(d.Transports, []string{"rest", "mcp"}) {
		t.Errorf("discovery: %d %s", status, body)
	}
}

// TestMCPRateLimitSharedWithREST: the per-key limit (AGENT_RATE_LIMIT 0.5/s,
// a burst of one) counts a key's calls over both transports: right after a
// REST call, the same key's tool call is refused rate_limit_exceeded (in
// -32000's data), and another key's is not.
func TestMCPRateLimitSharedWithREST(t *testing.T) {
	t.Parallel()
	e := newSecApp(t, app.DatabaseSQLite, func(c *config.Config) { c.AgentRate = 0.5 })
	ctx := context.Background()
	s := e.installShop(t, secShopA)
	var keys []string
	for _, label := range []string{"one", "two"} {
		k, _, err := e.svc.Agents().CreateAPIKey(ctx, s.sh.ID, label)
		if err != nil {
			t.Fatal(err)
		}
		e.used("API key "+label, k)
		keys = append(keys, k)
	}
	rest := &agent{t: t, base: web.ACPBaseURL(e.svc.URL(), secShopA), key: keys[0], version: acp.V20260417}
	if r := rest.do("GET", "/checkout_sessions/cs_nosuchsession", nil); r.status != http.StatusNotFound {
		t.Fatalf("REST call of key one: %d %s", r.status, r.body)
	}
	for i, key := range keys {
		cs, err := connectMCP(t, web.MCPURL(e.svc.URL(), secShopA), key)
		if err != nil {
			t.Fatalf("key %d: initialize: %v", i, err)
		}
		a := &mcpAgent{t: t, session: cs}
		_, je := a.call("get_checkout_session", nil, "cs_nosuchsession", nil)
		code := acpErr(t, je)["code"]
		if want := []string{"rate_limit_exceeded", "not_found"}[i]; je.Code != web.CodeACPError || code != want {
			t.Errorf("key %d over MCP right after key one over REST: %d %v, want %s", i, je.Code, code, want)
		}
		// MCP has no Retry-After header: the refusal says the wait.
		if msg, _ := acpErr(t, je)["message"].(string); i == 0 && !regexp.MustCompile(`\(retry in [0-9]+ seconds\)$`).MatchString(msg) {
			t.Errorf("rate-limited tool call: message %q, want the wait in it", msg)
		}
	}
}

// TestMCPSignature: where the shop requires signed requests, the binding's
// meta.signature and meta.timestamp (RFC 3339) carry them, over the
// payload's bytes as sent; a wrong or replayed signature is refused.
func TestMCPSignature(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	secret, err := e.svc.Agents().RotateSigningSecret(context.Background(), e.sh.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	a := e.mcpAgent(t)
	payload, err := json.Marshal((&agent{version: acp.V20260417}).createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(ts string, body []byte) string {
		return base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(secret), ts, body))
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	meta := func(key, sig string) map[string]any {
		return map[string]any{"api_version": "2026-04-17", "idempotency_key": key, "timestamp": ts, "signature": sig}
	}
	if _, je := a.call("create_checkout_session", map[string]any{"api_version": "2026-04-17"}, "", json.RawMessage(payload)); je == nil || acpErr(t, je)["code"] != "signature_required" {
		t.Errorf("unsigned: %v", je)
	}
	if _, je := a.call("create_checkout_session", meta("sig-bad", sign(ts, append(payload, ' '))), "", json.RawMessage(payload)); je == nil || acpErr(t, je)["code"] != "invalid_signature" {
		t.Errorf("signature over other bytes: %v", je)
	}
	s, je := a.call("create_checkout_session", meta("sig-1", sign(ts, payload)), "", json.RawMessage(payload))
	if je != nil || s["id"] == nil {
		t.Fatalf("signed create: %v %v", s, je)
	}
	// The same signature on another call (another key): a replay.
	if _, je := a.call("create_checkout_session", meta("sig-2", sign(ts, payload)), "", json.RawMessage(payload)); je == nil || acpErr(t, je)["type"] != "invalid_request" {
		t.Errorf("replayed signature: %v", je)
	}
	// A read signs no body.
	ts = time.Now().UTC().Add(time.Second).Format(time.RFC3339)
	if got, je := a.call("get_checkout_session", map[string]any{"api_version": "2026-04-17", "timestamp": ts, "signature": sign(ts, nil)}, s["id"].(string), nil); je != nil || got["id"] != s["id"] {
		t.Errorf("signed get: %v %v", got, je)
	}
}
