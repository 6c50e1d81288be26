package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

// The end-to-end tests of ACP over MCP: the binary's run() serving `demo`
// on 127.0.0.1, reached as demo.json tells an agent (mcp.url and
// mcp.authorization; acp.base_url and acp.api_key for REST), with the
// official Go SDK's client.

// demoMCPShop is one demo shop as its agent sees it in demo.json.
type demoMCPShop struct {
	MCP struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	} `json:"mcp"`
	ACP struct {
		BaseURL string `json:"base_url"`
		APIKey  string `json:"api_key"`
	} `json:"acp"`
	Items []struct {
		ID               string `json:"id"`
		RequiresShipping bool   `json:"requires_shipping"`
		Inventory        int    `json:"inventory"`
	} `json:"items"`
}

// inStock is a shippable item with stock to spare.
func (s demoMCPShop) inStock(t *testing.T) string {
	t.Helper()
	for _, it := range s.Items {
		if it.RequiresShipping && it.Inventory > 5 {
			return it.ID
		}
	}
	t.Fatal("demo.json lists no shippable item in stock")
	return ""
}

// demoMCPManifest is what these tests read of demo.json.
type demoMCPManifest struct {
	demoMCPShop
	Payment struct {
		StripeURL     string `json:"stripe_url"`
		StripeTestKey string `json:"stripe_test_key"`
	} `json:"payment"`
	Handoff demoMCPShop `json:"handoff"`
}

// mcpE2EAgent is an agent of one demo shop over MCP.
type mcpE2EAgent struct {
	t   *testing.T
	cs  *mcp.ClientSession
	seq int
	run string
}

// acpTools are the binding's five tools; other tools (the catalog's, a
// widget's) may be listed beside them.
var acpTools = []string{"create_checkout_session", "get_checkout_session", "update_checkout_session", "complete_checkout_session", "cancel_checkout_session"}

func connectDemoMCP(t *testing.T, ctx context.Context, shop demoMCPShop) *mcpE2EAgent {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-test-agent", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: shop.MCP.URL,
		HTTPClient: &http.Client{Transport: withHeader{"Authorization", shop.MCP.Authorization}}, DisableStandaloneSSE: true, MaxRetries: -1}, nil)
	if err != nil {
		t.Fatalf("initialize %s: %v", shop.MCP.URL, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	if ir := cs.InitializeResult(); ir == nil || ir.ServerInfo == nil || ir.ServerInfo.Name != "acpbridge" || ir.Capabilities == nil || ir.Capabilities.Tools == nil {
		t.Fatalf("initialize: %+v", ir)
	}
	return &mcpE2EAgent{t: t, cs: cs, run: fmt.Sprint(time.Now().UnixNano())}
}

// checkTools lists the tools: the five ACP tools are there, and every
// listed tool's input schema compiles as JSON Schema 2020-12.
func (a *mcpE2EAgent) checkTools(ctx context.Context) {
	a.t.Helper()
	res, err := a.cs.ListTools(ctx, nil)
	if err != nil {
		a.t.Fatalf("tools/list: %v", err)
	}
	listed := map[string]bool{}
	for _, tool := range res.Tools {
		listed[tool.Name] = true
		b, err := json.Marshal(tool.InputSchema)
		if err != nil {
			a.t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			a.t.Fatalf("%s: input schema %s: %v", tool.Name, b, err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		u := "https://acpbridge.test/e2e/" + tool.Name + ".json"
		if err := c.AddResource(u, doc); err != nil {
			a.t.Fatal(err)
		}
		if _, err := c.Compile(u); err != nil {
			a.t.Errorf("%s: the input schema does not compile as JSON Schema 2020-12: %v", tool.Name, err)
		}
		if m, _ := doc.(map[string]any); m["$schema"] != nil && m["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			a.t.Errorf("%s: $schema %v, want 2020-12", tool.Name, m["$schema"])
		}
	}
	for _, name := range acpTools {
		if !listed[name] {
			a.t.Errorf("tools/list lacks %s (listed: %v)", name, listed)
		}
	}
}

// searchProducts finds the item to buy as an agent would: the catalog
// tools (acpbridge_search_products for shippable items in stock, then
// acpbridge_get_product for its variants), checked against demo.json's
// items. The demo's feed is searchable once its build's second pass has
// written the index, shortly after demo.json appears: the search is
// retried until then.
func (a *mcpE2EAgent) searchProducts(ctx context.Context, shop demoMCPShop) string {
	a.t.Helper()
	want := map[string]bool{}
	for _, it := range shop.Items {
		if it.RequiresShipping && it.Inventory > 5 {
			want[it.ID] = true
		}
	}
	if len(want) == 0 {
		a.t.Fatalf("demo.json lists no shippable item with more than 5 in stock: %+v", shop.Items)
	}
	type hit struct {
		ID           string `json:"id"`
		Title        string `json:"title"`
		Availability string `json:"availability"`
		Price        int64  `json:"price"`
	}
	// search pages through every in-stock item and returns the first
	// wanted one ("" if none is listed yet).
	search := func() (string, []hit) {
		var all []hit
		cursor := ""
		for {
			args := map[string]any{"availability": "in_stock", "limit": 50}
			if cursor != "" {
				args["cursor"] = cursor
			}
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "acpbridge_search_products", Arguments: args})
			if err != nil {
				a.t.Fatalf("acpbridge_search_products: %v", err)
			}
			var page struct {
				Items      []hit  `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			b, _ := json.Marshal(res.StructuredContent)
			if err := json.Unmarshal(b, &page); err != nil {
				a.t.Fatalf("acpbridge_search_products result %s: %v", b, err)
			}
			for _, it := range page.Items {
				if it.Availability != "in_stock" || it.Price <= 0 || it.Title == "" {
					a.t.Errorf("search for in_stock items gave %+v", it)
				}
				all = append(all, it)
				if want[it.ID] {
					return it.ID, all
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				return "", all
			}
		}
	}
	// Until the feed's index has caught up with demo.json (a build's
	// second pass, or a rebuild after a catalog change), a wanted item may
	// be missing: search again.
	deadline := time.Now().Add(2 * time.Minute)
	found, listed := search()
	for found == "" && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		found, listed = search()
	}
	if found == "" {
		a.t.Fatalf("acpbridge_search_products listed none of demo.json's shippable items in stock %v within 2 minutes; it listed %+v", want, listed)
	}
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "acpbridge_get_product", Arguments: map[string]any{"id": found}})
	if err != nil {
		a.t.Fatalf("acpbridge_get_product: %v", err)
	}
	var detail struct {
		Item     struct{ ID string }   `json:"item"`
		Variants []struct{ ID string } `json:"variants"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &detail); err != nil || detail.Item.ID != found || len(detail.Variants) == 0 {
		a.t.Fatalf("acpbridge_get_product %s: %s (%v)", found, b, err)
	}
	return found
}

// call calls an ACP tool with {meta, id, payload}; state-changing tools get
// a fresh idempotency key unless key is given. It returns the session,
// checked against the official 2026-04-17 schema, or the JSON-RPC error,
// whose data is checked against the official Error schema.
func (a *mcpE2EAgent) call(ctx context.Context, tool, key, id string, payload any) (map[string]any, *jsonrpc.Error) {
	a.t.Helper()
	meta := map[string]any{"api_version": string(acp.V20260417)}
	if key == "" && tool != "get_checkout_session" {
		a.seq++
		key = fmt.Sprintf("e2e-%s-%d", a.run, a.seq)
	}
	if key != "" {
		meta["idempotency_key"] = key
	}
	args := map[string]any{"meta": meta}
	if id != "" {
		args["id"] = id
	}
	if payload != nil {
		args["payload"] = payload
	}
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		var je *jsonrpc.Error
		if !errors.As(err, &je) {
			a.t.Fatalf("%s: not a JSON-RPC error: %v", tool, err)
		}
		if je.Code == -32000 {
			if err := acptest.Validate(acp.V20260417, "Error", je.Data); err != nil {
				a.t.Errorf("%s: error.data does not match the official Error schema: %v\n%s", tool, err, je.Data)
			}
		}
		return nil, je
	}
	if res.IsError {
		a.t.Fatalf("%s: a tool error result: %+v", tool, res.Content)
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		a.t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		a.t.Fatalf("%s: structured content %s", tool, b)
	}
	if err := acptest.Validate(acp.V20260417, acptest.SessionDef(s["order"] != nil), b); err != nil {
		a.t.Errorf("%s: the session does not match the official 2026-04-17 schema: %v\n%s", tool, err, b)
	}
	return s, nil
}

// errData is the ACP error of a -32000 answer.
func errData(t *testing.T, je *jsonrpc.Error) map[string]any {
	t.Helper()
	if je == nil || je.Code != -32000 {
		t.Fatalf("want a -32000 error, got %v", je)
	}
	var m map[string]any
	if err := json.Unmarshal(je.Data, &m); err != nil {
		t.Fatalf("error data %s", je.Data)
	}
	return m
}

// restCall is one 2026-04-17 REST call to a demo shop; POSTs carry key
// (fresh when "").
func restCall(t *testing.T, shop demoMCPShop, method, path, key string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, shop.ACP.BaseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+shop.ACP.APIKey)
	req.Header.Set("API-Version", string(acp.V20260417))
	if method == http.MethodPost {
		if key == "" {
			key = fmt.Sprintf("e2e-rest-%d", time.Now().UnixNano())
		}
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, b)
	}
	def := "Error"
	if resp.StatusCode < 300 {
		def = acptest.SessionDef(m["order"] != nil)
	}
	if err := acptest.Validate(acp.V20260417, def, b); err != nil {
		t.Errorf("%s %s: the %d answer does not match the official %s schema: %v", method, path, resp.StatusCode, def, err)
	}
	return resp.StatusCode, resp.Header, m
}

// grantSPT is a new single-use shared payment token from the demo's Stripe
// emulator, as an agent's PSP would grant it.
func grantSPT(t *testing.T, m demoMCPManifest) string {
	t.Helper()
	form := url.Values{"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100000"}}
	req, _ := http.NewRequest(http.MethodPost, m.Payment.StripeURL+"/v1/test_helpers/shared_payment/granted_tokens", strings.NewReader(form.Encode()))
	req.SetBasicAuth(m.Payment.StripeTestKey, "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Stripe-Version", "2026-04-22.preview")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if !strings.HasPrefix(tok.ID, "spt_") {
		t.Fatalf("granting a token: %d", resp.StatusCode)
	}
	return tok.ID
}

var e2eAddress = map[string]any{"name": "Ada Lovelace", "line_one": "1 Market St", "city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"}

func e2eCreate(item string, address bool) map[string]any {
	p := map[string]any{"line_items": []any{map[string]any{"id": item, "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{},
		"buyer": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}}
	if address {
		p["fulfillment_details"] = map[string]any{"name": "Ada Lovelace", "address": e2eAddress}
	}
	return p
}

func e2ePayment(token string) map[string]any {
	return map[string]any{"payment_data": map[string]any{"handler_id": "card_tokenized",
		"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": token}}}}
}

// totalOf reads a session's total of a type (-1 when absent).
func totalOf(s map[string]any, typ string) int64 {
	ts, _ := s["totals"].([]any)
	for _, x := range ts {
		if tt, _ := x.(map[string]any); tt["type"] == typ {
			return int64(tt["amount"].(float64))
		}
	}
	return -1
}

// TestDemoMCPEndToEnd: an agent buys over MCP from the delegated-payment
// demo shop (initialize, tools/list, create, update with the address and a
// shipping choice, complete with a Stripe shared payment token, get: the
// order), and at the shop that sells through Shopify's checkout is handed
// a continue_url and refused completion; sessions cross transports (REST
// create, MCP complete; MCP create, REST read and update), and one
// idempotency key over MCP then REST replays the same session.
func TestDemoMCPEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, _ := startDemo(t, ctx)
	mcpEndToEnd(t, ctx, readDemoMCPManifest(t, started.path))
}

// TestBinaryDemoMCPEndToEnd runs the same end-to-end purchase against the
// built binary: `acpbridge demo` as its own process, reached only over
// HTTP on 127.0.0.1 as demo.json says.
func TestBinaryDemoMCPEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bin := filepath.Join(t.TempDir(), "acpbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	cmd := exec.CommandContext(ctx, bin, "demo", "--addr", "127.0.0.1:0", "--dir", dir)
	cmd.Env = os.Environ()
	for k, v := range demoTestEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs testkit.LogBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	path := filepath.Join(dir, "demo.json")
	deadline := time.Now().Add(5 * time.Minute) // the suite shares two cores
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo wrote no demo.json:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	mcpEndToEnd(t, ctx, readDemoMCPManifest(t, path))
	if t.Failed() {
		t.Logf("the demo's output:\n%s", logs.String())
	}
}

// readDemoMCPManifest reads demo.json (written atomically by the demo).
func readDemoMCPManifest(t *testing.T, path string) demoMCPManifest {
	t.Helper()
	var m demoMCPManifest
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("demo.json: %v\n%s", err, raw)
	}
	return m
}

// mcpEndToEnd is the end-to-end run against a demo described by m.
func mcpEndToEnd(t *testing.T, ctx context.Context, m demoMCPManifest) {
	t.Run("delegated purchase", func(t *testing.T) {
		a := connectDemoMCP(t, ctx, m.demoMCPShop)
		a.checkTools(ctx)
		item := a.searchProducts(ctx, m.demoMCPShop)

		s, je := a.call(ctx, "create_checkout_session", "", "", e2eCreate(item, false))
		if je != nil || s["status"] != "not_ready_for_payment" {
			t.Fatalf("create without an address: %v %v", s, je)
		}
		id := s["id"].(string)
		s, je = a.call(ctx, "update_checkout_session", "", id, map[string]any{"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": e2eAddress}})
		opts, _ := s["fulfillment_options"].([]any)
		if je != nil || s["status"] != "ready_for_payment" || len(opts) < 2 {
			t.Fatalf("update with the address: %v %v (want ready, with at least two shipping options)", s, je)
		}
		// Choose the option not chosen by default: the shipping total follows.
		chosen := s["selected_fulfillment_options"].([]any)[0].(map[string]any)["option_id"]
		var other map[string]any
		for _, o := range opts {
			if o := o.(map[string]any); o["id"] != chosen {
				other = o
			}
		}
		s, je = a.call(ctx, "update_checkout_session", "", id, map[string]any{"selected_fulfillment_options": []any{
			map[string]any{"type": "shipping", "option_id": other["id"], "item_ids": []any{}}}})
		if je != nil || s["status"] != "ready_for_payment" {
			t.Fatalf("update with the shipping choice: %v %v", s, je)
		}
		if got := s["selected_fulfillment_options"].([]any)[0].(map[string]any)["option_id"]; got != other["id"] ||
			totalOf(s, "fulfillment") != totalOf(other, "total") {
			t.Errorf("shipping choice %v: selected %v, fulfillment total %d, the option's %d", other["id"], got, totalOf(s, "fulfillment"), totalOf(other, "total"))
		}
		total := totalOf(s, "total")
		done, je := a.call(ctx, "complete_checkout_session", "", id, e2ePayment(grantSPT(t, m)))
		if je != nil || done["status"] != "completed" || done["order"] == nil || totalOf(done, "total") != total {
			t.Fatalf("complete: %v %v", done, je)
		}
		got, je := a.call(ctx, "get_checkout_session", "", id, nil)
		order, _ := got["order"].(map[string]any)
		if je != nil || got["status"] != "completed" || order == nil || order["id"] == "" || order["checkout_session_id"] != id {
			t.Fatalf("get after complete: %v %v", got, je)
		}
		// Completed is final: complete again answers the same order (no
		// second charge), cancel is refused.
		if again, je := a.call(ctx, "complete_checkout_session", "", id, e2ePayment(grantSPT(t, m))); je != nil || again["status"] != "completed" ||
			again["order"].(map[string]any)["id"] != order["id"] {
			t.Errorf("complete again: %v %v, want the same order %v", again, je, order["id"])
		}
		if _, je := a.call(ctx, "cancel_checkout_session", "", id, nil); je == nil {
			t.Error("cancel of a completed session succeeded")
		} else if d := errData(t, je); d["type"] != "invalid_request" {
			t.Errorf("cancel of a completed session: %v", d)
		}
	})

	t.Run("handoff", func(t *testing.T) {
		a := connectDemoMCP(t, ctx, m.Handoff)
		a.checkTools(ctx)
		item := a.searchProducts(ctx, m.Handoff)
		s, je := a.call(ctx, "create_checkout_session", "", "", e2eCreate(item, false))
		if je != nil {
			t.Fatalf("create: %v", je)
		}
		id := s["id"].(string)
		s, je = a.call(ctx, "update_checkout_session", "", id, map[string]any{"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": e2eAddress}})
		if je != nil || s["status"] != "requires_escalation" {
			t.Fatalf("update with the address: %v %v", s, je)
		}
		got, je := a.call(ctx, "get_checkout_session", "", id, nil)
		cu, _ := got["continue_url"].(string)
		if je != nil || got["status"] != "requires_escalation" || !strings.HasPrefix(cu, "http://127.0.0.1:") {
			t.Fatalf("get: status %v, continue_url %q (%v); want requires_escalation and the emulator's checkout", got["status"], cu, je)
		}
		// The buyer pays at Shopify's checkout: no completion over MCP.
		_, je = a.call(ctx, "complete_checkout_session", "", id, e2ePayment(grantSPT(t, m)))
		if d := errData(t, je); d["type"] != "invalid_request" || d["code"] != "requires_escalation" || je.Message != d["message"] {
			t.Errorf("complete of a handoff session: %q %v, want invalid_request/requires_escalation", je.Message, d)
		}
		if got, je := a.call(ctx, "get_checkout_session", "", id, nil); je != nil || got["status"] != "requires_escalation" || got["order"] != nil {
			t.Errorf("after the refused complete: %v %v", got, je)
		}
	})

	t.Run("cross transport", func(t *testing.T) {
		a := connectDemoMCP(t, ctx, m.demoMCPShop)
		item := m.inStock(t)

		// REST create → MCP complete.
		status, _, r := restCall(t, m.demoMCPShop, http.MethodPost, "/checkout_sessions", "", e2eCreate(item, true))
		if status != http.StatusCreated || r["status"] != "ready_for_payment" {
			t.Fatalf("REST create: %d %v", status, r)
		}
		restID := r["id"].(string)
		if s, je := a.call(ctx, "get_checkout_session", "", restID, nil); je != nil || s["status"] != "ready_for_payment" || totalOf(s, "total") != totalOf(r, "total") {
			t.Fatalf("MCP get of the REST session: %v %v", s, je)
		}
		done, je := a.call(ctx, "complete_checkout_session", "", restID, e2ePayment(grantSPT(t, m)))
		if je != nil || done["status"] != "completed" || done["order"] == nil {
			t.Fatalf("MCP complete of the REST session: %v %v", done, je)
		}
		if status, _, r := restCall(t, m.demoMCPShop, http.MethodGet, "/checkout_sessions/"+restID, "", nil); status != http.StatusOK || r["status"] != "completed" {
			t.Errorf("REST get after the MCP complete: %d %v", status, r)
		}

		// MCP create → REST read and update.
		s, je := a.call(ctx, "create_checkout_session", "", "", e2eCreate(item, true))
		if je != nil || s["status"] != "ready_for_payment" {
			t.Fatalf("MCP create: %v %v", s, je)
		}
		mcpID := s["id"].(string)
		status, _, r = restCall(t, m.demoMCPShop, http.MethodGet, "/checkout_sessions/"+mcpID, "", nil)
		if status != http.StatusOK || r["status"] != "ready_for_payment" || totalOf(r, "total") != totalOf(s, "total") {
			t.Fatalf("REST get of the MCP session: %d %v", status, r)
		}
		status, _, r = restCall(t, m.demoMCPShop, http.MethodPost, "/checkout_sessions/"+mcpID, "",
			map[string]any{"line_items": []any{map[string]any{"id": item, "quantity": 2}}})
		if status != http.StatusOK || r["status"] != "ready_for_payment" {
			t.Fatalf("REST update of the MCP session: %d %v", status, r)
		}
		if got, je := a.call(ctx, "get_checkout_session", "", mcpID, nil); je != nil || totalOf(got, "subtotal") != totalOf(r, "subtotal") ||
			got["line_items"].([]any)[0].(map[string]any)["quantity"] != float64(2) {
			t.Errorf("MCP get after the REST update: %v %v", got, je)
		}

		// One idempotency key: MCP create, then the REST retry replays it.
		key := fmt.Sprintf("e2e-shared-%d", time.Now().UnixNano())
		first, je := a.call(ctx, "create_checkout_session", key, "", e2eCreate(item, false))
		if je != nil {
			t.Fatalf("MCP create with a key: %v", je)
		}
		status, hdr, r := restCall(t, m.demoMCPShop, http.MethodPost, "/checkout_sessions", key, e2eCreate(item, false))
		if status != http.StatusCreated || r["id"] != first["id"] || hdr.Get("Idempotent-Replayed") != "true" {
			t.Errorf("REST retry of the MCP create: %d replayed %q, session %v, want %v", status, hdr.Get("Idempotent-Replayed"), r["id"], first["id"])
		}
	})
}
