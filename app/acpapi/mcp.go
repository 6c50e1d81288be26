package acpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/spec"
	"github.com/acpbridge/acpbridge/app/agents"
)

// The ACP MCP binding (2026-04-17, openrpc.agentic_checkout.json): five
// tools, one per REST checkout operation, whose arguments are
// {meta, id?, payload} — meta carrying what REST sends as headers, id the
// session of the path, payload the REST body. The transport (web/mcp.go)
// owns JSON-RPC and HTTP; this file owns the tools' definitions, taken from
// the vendored official files so they cannot drift, and the translation of
// one tool call into the Request every transport hands to Pipeline.Run.

// Tool is one ACP checkout tool of the MCP binding.
type Tool struct {
	Name        string
	Description string
	Operation   Operation
	// InputSchema is the JSON Schema (draft 2020-12) of the tool's
	// arguments: the binding's params as an object, every $ref resolved
	// inside it (the checkout schema's $defs are carried along).
	InputSchema json.RawMessage
}

// toolOps maps the binding's method names to the pipeline's operations.
var toolOps = map[string]Operation{
	"create_checkout_session":   OpCreate,
	"get_checkout_session":      OpGet,
	"update_checkout_session":   OpUpdate,
	"complete_checkout_session": OpComplete,
	"cancel_checkout_session":   OpCancel,
}

// The vendored files of the binding.
const (
	bindingFile  = "2026-04-17/openrpc.agentic_checkout.json"
	checkoutFile = "2026-04-17/schema.agentic_checkout.json"
	// checkoutRef is how the binding refers to the checkout schema's $defs.
	checkoutRef = "../json-schema/schema.agentic_checkout.json#/$defs/"
)

// Tools returns the five ACP checkout tools in the binding's order, built
// from the official OpenRPC document and JSON Schema.
func Tools() ([]Tool, error) {
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
		Methods []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Params      []struct {
				Name        string          `json:"name"`
				Required    bool            `json:"required"`
				Description string          `json:"description"`
				Schema      json.RawMessage `json:"schema"`
			} `json:"params"`
		} `json:"methods"`
	}
	raw, err := spec.Files.ReadFile(bindingFile)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("acpapi: %s: %w", bindingFile, err)
	}
	var checkout struct {
		Defs json.RawMessage `json:"$defs"`
	}
	raw, err = spec.Files.ReadFile(checkoutFile)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &checkout); err != nil || len(checkout.Defs) == 0 {
		return nil, fmt.Errorf("acpapi: %s: no $defs (%v)", checkoutFile, err)
	}
	// The binding's own refs point into its components or into the
	// checkout schema's file: both become refs into the tool schema's own
	// $defs, where the checkout $defs and the binding's components live.
	var components = map[string]json.RawMessage{}
	for name, s := range doc.Components.Schemas {
		components["mcp_"+name] = s
	}
	resolve := func(s json.RawMessage) json.RawMessage {
		out := bytes.ReplaceAll(s, []byte(`"`+checkoutRef), []byte(`"#/$defs/`))
		return bytes.ReplaceAll(out, []byte(`"#/components/schemas/`), []byte(`"#/$defs/mcp_`))
	}
	var defs map[string]json.RawMessage
	if err := json.Unmarshal(checkout.Defs, &defs); err != nil {
		return nil, err
	}
	if err := allowItemQuantity(defs); err != nil {
		return nil, err
	}
	for name, s := range components {
		if _, clash := defs[name]; clash {
			return nil, fmt.Errorf("acpapi: binding component %s clashes with a checkout $def", name)
		}
		defs[name] = resolve(s)
	}
	var tools []Tool
	for _, m := range doc.Methods {
		op, ok := toolOps[m.Name]
		if !ok {
			return nil, fmt.Errorf("acpapi: the binding has a method %q this app does not map", m.Name)
		}
		props := map[string]json.RawMessage{}
		required := []string{}
		for _, p := range m.Params {
			s := resolve(p.Schema)
			if p.Description != "" {
				// The param's description is the binding's; keep it next
				// to the schema (a $ref with siblings, as 2020-12 allows).
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(s, &obj); err != nil {
					return nil, err
				}
				d, _ := json.Marshal(p.Description)
				obj["description"] = d
				s, _ = json.Marshal(obj)
			}
			props[p.Name] = s
			if p.Required {
				required = append(required, p.Name)
			}
		}
		// Only the $defs the params reach: the whole bundle, five times
		// over, would make tools/list weigh ~400 KB.
		schema, err := json.Marshal(map[string]any{
			"$schema":    "https://json-schema.org/draft/2020-12/schema",
			"type":       "object",
			"properties": props,
			"required":   required,
			"$defs":      reachable(props, defs),
		})
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(schema), `"../`) || strings.Contains(string(schema), `"#/components/`) {
			return nil, fmt.Errorf("acpapi: tool %s: a $ref was left unresolved", m.Name)
		}
		tools = append(tools, Tool{Name: m.Name, Description: m.Description, Operation: op, InputSchema: schema})
	}
	if len(tools) != len(toolOps) {
		return nil, fmt.Errorf("acpapi: the binding defines %d tools, want %d", len(tools), len(toolOps))
	}
	return tools, nil
}

// allowItemQuantity adds quantity to the request Item: the released
// 2026-04-17 schema has none (the quantity moved to LineItem, spec issue
// #264), so an agent that builds its arguments from the schema could
// never buy two of anything. The app accepts it over REST (default 1);
// the tools' schemas say so (acp.md §10.1). The only change made to the
// official $defs.
func allowItemQuantity(defs map[string]json.RawMessage) error {
	var item map[string]any
	if err := json.Unmarshal(defs["Item"], &item); err != nil {
		return fmt.Errorf("acpapi: the checkout schema's Item: %w", err)
	}
	props, ok := item["properties"].(map[string]any)
	if !ok {
		return fmt.Errorf("acpapi: the checkout schema's Item has no properties")
	}
	if _, ok := props["quantity"]; !ok {
		props["quantity"] = map[string]any{"type": "integer", "minimum": 1, "maximum": acp.MaxQuantity,
			"description": "How many of the item (acpbridge accepts it on requests; 1 when absent)"}
	}
	b, err := json.Marshal(item)
	defs["Item"] = b
	return err
}

// defRef matches a reference into the tool schema's own $defs.
var defRef = regexp.MustCompile(`"\$ref":\s*"#/\$defs/([^"/]+)"`)

// reachable is the subset of defs that the schemas in from refer to,
// directly or through one another.
func reachable(from map[string]json.RawMessage, defs map[string]json.RawMessage) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	var todo []json.RawMessage
	for _, s := range from {
		todo = append(todo, s)
	}
	for len(todo) > 0 {
		s := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, m := range defRef.FindAllSubmatch(s, -1) {
			name := string(m[1])
			if d, ok := defs[name]; ok {
				if _, seen := out[name]; !seen {
					out[name] = d
					todo = append(todo, d)
				}
			}
		}
	}
	return out
}

// ToolMeta is the binding's meta argument: the REST headers as fields.
type ToolMeta struct {
	APIVersion     string `json:"api_version"`
	IdempotencyKey string `json:"idempotency_key"`
	RequestID      string `json:"request_id"`
	Signature      string `json:"signature"`
	Timestamp      string `json:"timestamp"`
}

// toolArgs are a tool call's arguments.
type toolArgs struct {
	Meta    *ToolMeta       `json:"meta"`
	ID      *string         `json:"id"`
	Payload json.RawMessage `json:"payload"`
}

// ToolRequest turns one call of tool op into the pipeline's Request:
// shop and authorization come from the transport (the MCP server's URL
// and its HTTP Authorization), the rest from the arguments. Arguments that
// are not the binding's object are an *acp.Error (invalid_request) with
// its param in the arguments; what the pipeline checks (version, key,
// payload) is left to it, so both transports answer alike.
func ToolRequest(shop string, op Operation, args json.RawMessage, authorization string) (Request, *ToolMeta, error) {
	var a toolArgs
	if len(bytes.TrimSpace(args)) == 0 {
		args = []byte("{}")
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return Request{}, nil, &acp.Error{Type: acp.ErrInvalidRequest, Code: "invalid_params",
			Message: "the arguments must be an object {meta, id, payload} with meta an object and id a string", Param: "$"}
	}
	meta := a.Meta
	if meta == nil {
		meta = &ToolMeta{}
	}
	if op != OpCreate && (a.ID == nil || *a.ID == "") {
		return Request{}, meta, &acp.Error{Type: acp.ErrInvalidRequest, Code: "missing_required_field",
			Message: "Missing required field: id", Param: "$.id"}
	}
	id := ""
	if a.ID != nil && op != OpCreate {
		id = *a.ID
	}
	req := Request{
		Shop: shop, Operation: op, SessionID: id,
		APIVersion: meta.APIVersion, Authorization: authorization,
		Timestamp: meta.Timestamp, Signature: meta.Signature,
		// The payload as sent: a signature covers these bytes.
		Body: a.Payload,
		// JSON-RPC has no method and path: a signature is bound to the
		// operation, its session and the key.
		Binding: agents.SignedRequest{Method: string(op), Path: id, IdempotencyKey: meta.IdempotencyKey},
	}
	if bytes.Equal(bytes.TrimSpace(a.Payload), []byte("null")) {
		req.Body = nil
	}
	if meta.IdempotencyKey != "" {
		req.IdempotencyKeys = []string{meta.IdempotencyKey}
	}
	return req, meta, nil
}

// PayloadParam is an ACP error's param as the binding reports it: a path
// into the REST body ($.currency) becomes one into the arguments
// ($.payload.currency), as the binding's examples show.
func PayloadParam(param string) string {
	if param == "$" {
		return "$.payload"
	}
	if rest, ok := strings.CutPrefix(param, "$"); ok && (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, "[")) {
		return "$.payload" + rest
	}
	return param
}
