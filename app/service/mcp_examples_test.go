package service_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/acp/spec"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/web"
)

// rpcMessage is one JSON-RPC message as the binding's examples write it.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error,omitempty"`
}

// exampleReplay sends the binding's example requests to one shop's MCP
// server as raw JSON-RPC POSTs, with only the values that must be the
// shop's (session, item, option, handler ids, the payment token) or fresh
// (idempotency keys) substituted.
type exampleReplay struct {
	t       *testing.T
	url     string
	key     string
	version string // the negotiated MCP protocol version
	// subst maps an example's value to this run's.
	subst map[string]string
	run   string
	// schemas are the listed tools' input schemas, compiled.
	schemas map[string]*jsonschema.Schema
}

// post sends one JSON-RPC message and decodes the answer (HTTP 200, JSON,
// with the request's id: results and errors alike).
func (r *exampleReplay) post(msg any) rpcMessage {
	r.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		r.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(b))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+r.key)
	if r.version != "" {
		req.Header.Set("Mcp-Protocol-Version", r.version)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out rpcMessage
	dec := json.NewDecoder(resp.Body)
	if err := dec.Decode(&out); err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		r.t.Fatalf("%s: HTTP %d %s, not a JSON-RPC answer in JSON: %v", b, resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return out
}

// substitute replaces, anywhere in v, the strings that are keys of subst.
func (r *exampleReplay) substitute(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = r.substitute(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = r.substitute(e)
		}
		return out
	case string:
		if s, ok := r.subst[x]; ok {
			return s
		}
		if strings.HasPrefix(x, "idem_") {
			// An idempotency key: unique per run, so that a second run
			// against the same database is no replay of the first.
			return x + "-" + r.run
		}
	}
	return v
}

// request is an example request, decoded, with this run's values.
func (r *exampleReplay) request(raw json.RawMessage) (map[string]any, string, map[string]any) {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		r.t.Fatal(err)
	}
	m = r.substitute(m).(map[string]any)
	params, _ := m["params"].(map[string]any)
	name, _ := params["name"].(string)
	args, _ := params["arguments"].(map[string]any)
	if m["method"] != "tools/call" || name == "" || args == nil {
		r.t.Fatalf("not a tools/call example: %s", raw)
	}
	return m, name, args
}

// defect is why the example's arguments cannot replay as written ("" if
// they can): what the binding's own input schema for the tool refuses, or
// a state-changing call with no idempotency key.
func (r *exampleReplay) defect(tool string, args map[string]any) string {
	if d := r.argsDefect(tool, args); d != "" {
		return d
	}
	meta, _ := args["meta"].(map[string]any)
	if k, _ := meta["idempotency_key"].(string); k == "" && tool != "get_checkout_session" {
		// The binding's meta calls the key "recommended for create and
		// complete"; its REST mapping (the Idempotency-Key header) MUST be
		// present on all POST requests (openapi.agentic_checkout.yaml),
		// and the app holds MCP calls to the REST rule.
		return "spec inconsistency: no meta.idempotency_key on " + tool + "; the binding calls it recommended for create and complete " +
			"only, the REST header it maps to is required on every POST, and acpbridge answers idempotency_key_required"
	}
	return ""
}

// argsDefect is why the example's arguments are not what the binding's
// own input schema for the tool accepts ("" if they are).
func (r *exampleReplay) argsDefect(tool string, args map[string]any) string {
	sch := r.schemas[tool]
	if sch == nil {
		return "tool " + tool + " is not listed"
	}
	if err := sch.Validate(roundTrip(r.t, args)); err != nil {
		return fmt.Sprintf("spec defect: the example's arguments do not match the binding's input schema of %s (the official %s): %v",
			tool, "schema.agentic_checkout.json", err)
	}
	return ""
}

// session checks an answer that the example gives as a result: a
// CallToolResult whose structured content (and text) is the session. The
// binding's examples write the session itself as the result; MCP's
// tools/call answers a CallToolResult, whose structuredContent is where
// the binding's result goes (MCP 2025-06-18 §Tools, "Structured Content").
func (r *exampleReplay) session(name string, got rpcMessage, want rpcMessage) map[string]any {
	r.t.Helper()
	if !bytes.Equal(got.ID, want.ID) {
		r.t.Errorf("%s: id %s, want the request's %s", name, got.ID, want.ID)
	}
	if got.Error != nil || got.Result == nil {
		r.t.Fatalf("%s: an error %+v where the example has a result", name, got.Error)
	}
	var res struct {
		StructuredContent json.RawMessage `json:"structuredContent"`
		Content           []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(got.Result, &res); err != nil || res.IsError || len(res.StructuredContent) == 0 {
		r.t.Fatalf("%s: result %s is not a CallToolResult with structured content", name, got.Result)
	}
	if len(res.Content) != 1 || res.Content[0].Type != "text" || !jsonEqual(res.Content[0].Text, string(res.StructuredContent)) {
		r.t.Errorf("%s: the text content is not the session: %+v", name, res.Content)
	}
	var s map[string]any
	if err := json.Unmarshal(res.StructuredContent, &s); err != nil {
		r.t.Fatalf("%s: structured content %s", name, res.StructuredContent)
	}
	if err := acptest.Validate(acp.V20260417, acptest.SessionDef(s["order"] != nil), res.StructuredContent); err != nil {
		r.t.Errorf("%s: the session does not match the official schema: %v\n%s", name, err, res.StructuredContent)
	}
	var example map[string]any
	if err := json.Unmarshal(want.Result, &example); err != nil {
		r.t.Fatal(err)
	}
	if s["status"] != example["status"] {
		r.t.Errorf("%s: status %v, the example's %v (messages %v)", name, s["status"], example["status"], s["messages"])
	}
	for _, missing := range missingKeys("$", example, s) {
		r.t.Errorf("%s: %s is in the example's result, not in ours", name, missing)
	}
	return s
}

// knownAbsent are keys of the examples' results that the app's sessions
// may lack, each with why; a key ending in "." stands for every key under
// it. Everything else the examples show must be there.
var knownAbsent = map[string]string{
	// The example shop's product and shipping rates have them; Shopify's
	// variants and shipping rates of the seeded catalog do not.
	"$.line_items[].description":          "the product's description, when the shop wrote one",
	"$.fulfillment_options[].description": "the shipping rate's description, when the shop has one",
	"$.fulfillment_options[].carrier":     "the shipping rate's carrier, when the shop has one",
	// The same handler (dev.acp.tokenized.card); the app declares only
	// merchant_id and psp of its config, the example also the optional
	// brands, funding types, 3-D Secure support and environment.
	"$.capabilities.payment.handlers[].config.": "the handler config's optional fields acpbridge does not declare",
	// The agent's interventions are read (acp.CreateRequest) but the
	// app answers no negotiated interventions (the encoder could; the
	// checkout never sets acp.Session.Interventions): optional in the
	// schema, reported as a gap.
	"$.capabilities.interventions": "acpbridge answers no intervention negotiation",
}

func isKnownAbsent(path string) bool {
	for k := range knownAbsent {
		if path == k || strings.HasSuffix(k, ".") && strings.HasPrefix(path, k) {
			return true
		}
	}
	return false
}

// missingKeys lists the paths of keys of want (an example) that got lacks,
// through objects and the first element of arrays both have.
func missingKeys(path string, want, got any) []string {
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + " (an object in the example)"}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "." + k
			gv, ok := g[k]
			if !ok {
				if !isKnownAbsent(p) {
					out = append(out, p)
				}
				continue
			}
			out = append(out, missingKeys(p, w[k], gv)...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + " (an array in the example)"}
		}
		if len(w) > 0 && len(g) > 0 {
			out = append(out, missingKeys(path+"[]", w[0], g[0])...)
		}
	}
	return out
}

// TestMCPBindingExamples replays the official examples of the 2026-04-17
// MCP binding (examples.mcp.agentic_checkout.json, vendored) as written,
// in their order, as raw JSON-RPC POSTs to a synced shop's MCP server,
// with only ids, the token and idempotency keys substituted: each answer
// has the example's form (a result or a -32000 error, the request's id),
// the session's status and every key the example shows (knownAbsent
// aside), and validates against the official checkout schema. An example
// that cannot replay as written is skipped, its defect named, and
// replayed again with the smallest correction (<name>_corrected); where
// the app knowingly answers otherwise (declinedInSession) the subtest
// checks the app's answer and skips naming the divergence.
func TestMCPBindingExamples(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	raw, err := spec.Files.ReadFile("2026-04-17/examples.mcp.agentic_checkout.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	r := &exampleReplay{t: t, url: web.MCPURL(e.svc.URL(), testShop), key: e.key,
		run: strconv.FormatInt(time.Now().UnixNano(), 36), schemas: map[string]*jsonschema.Schema{},
		subst: map[string]string{"item_123": strconv.FormatInt(e.items.inStock.ID, 10)}}

	ini := r.post(map[string]any{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": map[string]any{
		"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "examples", "version": "1"}}})
	var ir struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if ini.Error != nil || json.Unmarshal(ini.Result, &ir) != nil || ir.ProtocolVersion == "" {
		t.Fatalf("initialize: %+v %s", ini.Error, ini.Result)
	}
	r.version = ir.ProtocolVersion
	list := r.post(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
	var tl struct {
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"inputSchema"`
		} `json:"tools"`
	}
	if list.Error != nil || json.Unmarshal(list.Result, &tl) != nil {
		t.Fatalf("tools/list: %+v %s", list.Error, list.Result)
	}
	for _, name := range []string{"create_checkout_session", "get_checkout_session", "update_checkout_session", "complete_checkout_session", "cancel_checkout_session"} {
		if !strings.Contains(string(list.Result), `"name":"`+name+`"`) {
			t.Fatalf("tools/list lacks %s", name)
		}
	}
	for _, tool := range tl.Tools {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(tool.InputSchema))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		u := "https://acpbridge.test/mcp/" + tool.Name + ".json"
		if err := c.AddResource(u, doc); err != nil {
			t.Fatal(err)
		}
		if r.schemas[tool.Name], err = c.Compile(u); err != nil {
			t.Fatalf("%s: the input schema does not compile: %v", tool.Name, err)
		}
	}

	want := map[string]rpcMessage{}
	for k, v := range ex {
		var m rpcMessage
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		want[k] = m
	}
	// The session each step acts on, as the examples chain it.
	var created map[string]any
	replay := func(name string, prepare func(args map[string]any)) {
		t.Run(name, func(t *testing.T) {
			defer func(parent *testing.T) { r.t = parent }(r.t)
			r.t = t
			msg, tool, args := r.request(ex[name+"_request"])
			if d := r.defect(tool, args); d != "" {
				t.Skip(d)
			}
			if prepare != nil {
				prepare(args)
			}
			s := r.session(name, r.post(msg), want[name+"_response"])
			if name == "create_checkout_session" {
				created = s
			}
		})
	}
	// corrected replays an example that cannot replay as written with the
	// smallest change that makes it what the binding's schema and the REST
	// rules it maps to accept, so that its answer's shape is still checked.
	corrected := func(name string, fix func(args map[string]any)) {
		t.Run(name+"_corrected", func(t *testing.T) {
			defer func(parent *testing.T) { r.t = parent }(r.t)
			r.t = t
			msg, tool, args := r.request(ex[name+"_request"])
			if r.defect(tool, args) == "" {
				t.Fatal("the example replays as written: drop its correction")
			}
			fix(args)
			if d := r.defect(tool, args); d != "" {
				t.Fatalf("the correction is not enough: %s", d)
			}
			r.session(name, r.post(msg), want[name+"_response"])
		})
	}
	added := 0
	addKey := func(args map[string]any) {
		added++
		args["meta"].(map[string]any)["idempotency_key"] = fmt.Sprintf("idem_added_%d-%s", added, r.run)
	}
	// The binding's Item/instrument as the official schema has them.
	flattenShipping := func(args map[string]any) {
		for _, x := range args["payload"].(map[string]any)["selected_fulfillment_options"].([]any) {
			o := x.(map[string]any)
			for k, v := range o["shipping"].(map[string]any) {
				o[k] = v
			}
			delete(o, "shipping")
		}
	}
	sptInstrument := func(args map[string]any) {
		pd := args["payload"].(map[string]any)["payment_data"].(map[string]any)
		tok := pd["instrument"].(map[string]any)["token"]
		pd["instrument"] = map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": tok}}
	}

	replay("create_checkout_session", nil)
	if created == nil {
		t.Fatal("the create example did not replay: nothing to chain")
	}
	// What later examples name by the example's ids is this session's.
	var exCreated map[string]any
	_ = json.Unmarshal(want["create_checkout_session_response"].Result, &exCreated)
	r.subst["checkout_session_123"] = created["id"].(string)
	for i := range exCreated["fulfillment_options"].([]any) {
		r.subst[idAt(exCreated, "fulfillment_options", i)] = idAt(created, "fulfillment_options", i)
	}
	r.subst["line_item_123"] = idAt(created, "line_items", 0)
	if h, ok := created["capabilities"].(map[string]any)["payment"].(map[string]any); ok {
		r.subst["card_tokenized"] = idAt(h, "handlers", 0)
	}
	r.subst["tok_visa_4242"] = e.token(stripeemu.KindApprove)

	replay("get_checkout_session", nil)
	replay("update_checkout_session", nil)
	corrected("update_checkout_session", func(args map[string]any) { flattenShipping(args); addKey(args) })
	replay("complete_checkout_session", nil)
	corrected("complete_checkout_session", sptInstrument)
	// The examples cancel the session they completed, which the protocol
	// refuses (a completed session is final): cancel a fresh one, created
	// by the create example under a new key.
	fresh, _, args := r.request(ex["create_checkout_session_request"])
	args["meta"].(map[string]any)["idempotency_key"] = "idem_for_cancel-" + r.run
	var s rpcMessage
	if s = r.post(fresh); s.Error != nil {
		t.Fatalf("a second create: %+v", s.Error)
	}
	var sr struct {
		StructuredContent struct {
			ID string `json:"id"`
		} `json:"structuredContent"`
	}
	_ = json.Unmarshal(s.Result, &sr)
	r.subst["checkout_session_123"] = sr.StructuredContent.ID
	replay("cancel_checkout_session", nil)
	corrected("cancel_checkout_session", addKey)

	// The error examples have no request: each is the answer to an example
	// request with the one thing wrong that its error names.
	t.Run("error_invalid_request", func(t *testing.T) {
		defer func(parent *testing.T) { r.t = parent }(r.t)
		r.t = t
		msg, tool, args := r.request(ex["create_checkout_session_request"])
		delete(args["payload"].(map[string]any), "currency")
		if d := r.defect(tool, args); d == "" {
			t.Fatal("the binding's schema accepts a create without currency")
		}
		args["meta"].(map[string]any)["idempotency_key"] = "idem_no_currency-" + r.run
		msg["id"] = 6
		r.refusal("error_invalid_request", r.post(msg), want["error_invalid_request"], true)
	})
	declined := func(name string, fix func(args map[string]any)) {
		t.Run(name, func(t *testing.T) {
			defer func(parent *testing.T) { r.t = parent }(r.t)
			r.t = t
			msg, tool, args := r.request(ex["complete_checkout_session_request"])
			if fix != nil {
				fix(args)
			}
			if d := r.defect(tool, args); d != "" {
				t.Skip("built from complete_checkout_session_request: " + d)
			}
			id, _ := e.readySession(t, e.agent(t, acp.V20260417), 1)
			args["id"] = id
			args["meta"].(map[string]any)["idempotency_key"] = "idem_declined-" + r.run + name
			args["payload"].(map[string]any)["payment_data"].(map[string]any)["instrument"] = map[string]any{"type": "card",
				"credential": map[string]any{"type": "spt", "token": e.token(stripeemu.KindDecline)}}
			msg["id"] = 7
			got := r.post(msg)
			if d := declinedInSession(t, got); d != "" {
				t.Skip("replayed; " + d)
			}
			r.refusal("error_payment_declined", got, want["error_payment_declined"], false)
		})
	}
	declined("error_payment_declined", nil)
	declined("error_payment_declined_corrected", sptInstrument)
}

// declinedInSession names the app's other answer to a declined payment:
// not the example's JSON-RPC error (processing_error/payment_declined)
// but the session, still ready_for_payment, with a payment_declined
// error message — the official schema's MessageError lists that code and
// says to use a message "when you can return a valid CheckoutSession",
// and the app answers REST so. "" if the answer is not that.
func declinedInSession(t *testing.T, got rpcMessage) string {
	t.Helper()
	var res struct {
		StructuredContent json.RawMessage `json:"structuredContent"`
	}
	if got.Result == nil || json.Unmarshal(got.Result, &res) != nil || len(res.StructuredContent) == 0 {
		return ""
	}
	if err := acptest.Validate(acp.V20260417, "CheckoutSession", res.StructuredContent); err != nil {
		t.Errorf("the declined session does not match the official schema: %v", err)
	}
	var s struct {
		Status   string `json:"status"`
		Messages []struct {
			Type, Code string
		} `json:"messages"`
	}
	_ = json.Unmarshal(res.StructuredContent, &s)
	if s.Status != "ready_for_payment" || len(s.Messages) != 1 || s.Messages[0].Type != "error" || s.Messages[0].Code != "payment_declined" {
		return ""
	}
	return "divergence: the example answers a decline with a JSON-RPC error (processing_error/payment_declined); acpbridge answers the session, " +
		"ready_for_payment, with an error message payment_declined (the official MessageError; as over REST)"
}

// idAt is the id of the i-th (or last) object of from[list].
func idAt(from map[string]any, list string, i int) string {
	xs, _ := from[list].([]any)
	if len(xs) == 0 {
		return ""
	}
	x, _ := xs[min(i, len(xs)-1)].(map[string]any)
	id, _ := x["id"].(string)
	return id
}

// refusal checks an answer that the example gives as an error: -32000, the
// request's id, the ACP error as the data with the example's keys, type
// and code (and param, when exact is set: it names the request's field,
// not the shop's state).
func (r *exampleReplay) refusal(name string, got, want rpcMessage, exact bool) {
	r.t.Helper()
	if !bytes.Equal(got.ID, want.ID) {
		r.t.Errorf("%s: id %s, want %s", name, got.ID, want.ID)
	}
	if got.Error == nil || got.Result != nil {
		r.t.Fatalf("%s: a result %s where the example has an error", name, got.Result)
	}
	if got.Error.Code != want.Error.Code {
		r.t.Errorf("%s: code %d, want %d", name, got.Error.Code, want.Error.Code)
	}
	if err := acptest.Validate(acp.V20260417, "Error", got.Error.Data); err != nil {
		r.t.Errorf("%s: error.data does not match the official Error schema: %v\n%s", name, err, got.Error.Data)
	}
	var g, w map[string]any
	if json.Unmarshal(got.Error.Data, &g) != nil || json.Unmarshal(want.Error.Data, &w) != nil {
		r.t.Fatalf("%s: data %s", name, got.Error.Data)
	}
	for _, missing := range missingKeys("$", w, g) {
		r.t.Errorf("%s: %s is in the example's error data, not in ours", name, missing)
	}
	// code is implementation-defined (the official Error schema), its
	// type is not; param names the request's field.
	fields := []string{"type"}
	if exact {
		fields = append(fields, "param")
	}
	for _, f := range fields {
		if g[f] != w[f] {
			r.t.Errorf("%s: data.%s = %v, the example's %v", name, f, g[f], w[f])
		}
	}
	if got.Error.Message != g["message"] {
		r.t.Errorf("%s: message %q is not the ACP error's %q", name, got.Error.Message, g["message"])
	}
}
