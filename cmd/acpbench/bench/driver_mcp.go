package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The MCP transport: the same operations as tools/call of the ACP MCP
// binding's tools, {meta, id, payload}, against the shop's MCP server
// (<app>/mcp/<shop>) with the agent's Bearer key, through the official Go
// SDK's client. Each conversation holds one client session (initialize
// once, then one POST per tool call: the server is stateless).

// EndpointInitialize is an MCP conversation's connection: the SDK's
// initialize request (one POST; with the server stateless, there is no
// session to end afterwards).
const EndpointInitialize = "initialize"

// codeACPError is the JSON-RPC error code the binding answers every ACP
// refusal with; error.data is the ACP error object.
const codeACPError = -32000

// tools are the binding's tool names of the operations.
var tools = map[opKind]string{
	opCreate:   "create_checkout_session",
	opUpdate:   "update_checkout_session",
	opComplete: "complete_checkout_session",
	opGet:      "get_checkout_session",
}

// MCPURL is a shop's MCP server URL under an app URL (as web.MCPURL,
// without importing the web layer).
func MCPURL(appURL, shop string) string {
	return strings.TrimRight(appURL, "/") + "/mcp/" + shop
}

// mcpRoundTripper adds the agent's key to every request of the SDK's
// client and spreads them over the replicas' MCP URLs round-robin, as the
// REST agent spreads its requests: the server keeps no session, so any
// replica can answer any call.
type mcpRoundTripper struct {
	d    *driver
	urls []*url.URL
	base http.RoundTripper
}

func (t *mcpRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+t.d.tg.APIKey)
	if len(t.urls) > 1 {
		u := *t.urls[int(t.d.rr.Add(1)%uint64(len(t.urls)))]
		u.RawQuery = req.URL.RawQuery
		r.URL, r.Host = &u, u.Host
	}
	return t.base.RoundTrip(r)
}

// newMCP prepares the driver's MCP client, shared by every MCP
// conversation.
func (d *driver) newMCP() error {
	var urls []*url.URL
	for _, s := range d.tg.MCPURLs {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("bench: MCP URL %q: %w", s, err)
		}
		urls = append(urls, u)
	}
	d.mcpHTTP = &http.Client{Timeout: d.cfg.Timeout, Transport: &mcpRoundTripper{d: d, urls: urls, base: d.client.Transport}}
	d.mcpClient = mcp.NewClient(&mcp.Implementation{Name: "acpbench", Version: "1"}, nil)
	return nil
}

// mcpAgent is one conversation's MCP client session, connected at its
// first call and again after a transport error (which may leave the SDK's
// session broken).
type mcpAgent struct {
	d  *driver
	cs *mcp.ClientSession
}

func (a *mcpAgent) transport() string { return TransportMCP }

func (a *mcpAgent) close() {
	if a.cs != nil {
		_ = a.cs.Close()
		a.cs = nil
	}
}

// connect initializes a client session, recorded as an initialize
// request.
func (a *mcpAgent) connect(ctx context.Context) error {
	tr := &mcp.StreamableClientTransport{Endpoint: a.d.tg.MCPURLs[0], HTTPClient: a.d.mcpHTTP,
		DisableStandaloneSSE: true, MaxRetries: -1}
	ctx, cancel := context.WithTimeout(ctx, a.d.cfg.Timeout)
	defer cancel()
	a.d.inFlight.Add(1)
	t0 := time.Now()
	cs, err := a.d.mcpClient.Connect(ctx, tr, nil)
	dur := time.Since(t0)
	a.d.inFlight.Add(-1)
	status := http.StatusOK
	if err != nil {
		status = 0
	}
	a.d.rec.request(TransportMCP, EndpointInitialize, status, dur, err == nil)
	if err != nil {
		a.d.rec.errorAnswer(TransportMCP, EndpointInitialize, 0, "transport: "+transportKind(err), []byte(err.Error()))
		return err
	}
	a.cs = cs
	return nil
}

// send calls op's tool once. A tool result answers 200 with the session;
// a tool error answers the REST status of its ACP error (mcpStatus) with
// that error object, so the retries and the report treat both transports
// alike.
func (a *mcpAgent) send(ctx context.Context, op operation, body []byte, key string) (answer, error) {
	if a.cs == nil {
		if err := a.connect(ctx); err != nil {
			return answer{}, err
		}
	}
	meta := map[string]any{"api_version": a.d.cfg.APIVersion}
	if key != "" {
		meta["idempotency_key"] = key
	}
	args := map[string]any{"meta": meta}
	if op.id != "" {
		args["id"] = op.id
	}
	if body != nil {
		args["payload"] = json.RawMessage(body)
	}
	ctx, cancel := context.WithTimeout(ctx, a.d.cfg.Timeout)
	defer cancel()
	a.d.inFlight.Add(1)
	t0 := time.Now()
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: tools[op.kind], Arguments: args})
	dur := time.Since(t0)
	a.d.inFlight.Add(-1)
	var je *jsonrpc.Error
	switch {
	case err == nil && res.IsError:
		return answer{status: http.StatusInternalServerError, body: toolText(res), dur: dur}, nil
	case err == nil:
		return answer{status: http.StatusOK, ok: true, body: toolText(res), dur: dur}, nil
	case errors.As(err, &je) && je.Code == codeACPError:
		return answer{status: mcpStatus(je.Data), body: je.Data, dur: dur}, nil
	case errors.As(err, &je):
		// A JSON-RPC error of the protocol (invalid params, unknown tool):
		// the request was wrong, as a REST 400 says.
		b, _ := json.Marshal(je)
		status := http.StatusBadRequest
		if je.Code == jsonrpc.CodeInternalError {
			status = http.StatusInternalServerError
		}
		return answer{status: status, body: b, dur: dur}, nil
	}
	// No answer: the next attempt starts a new session.
	a.close()
	return answer{dur: dur}, err
}

// toolText is a tool result's JSON: its text content, which the server
// fills with the session as sent (the structured content, decoded by the
// SDK, would have to be encoded again).
func toolText(res *mcp.CallToolResult) []byte {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			return []byte(t.Text)
		}
	}
	b, _ := json.Marshal(res.StructuredContent)
	return b
}

// mcpStatus is the REST status of a tool error's ACP error object: the
// status the same refusal has over REST, picked by the error's type and
// code, so that a 409 in flight or a 503 is retried over MCP as over REST
// and the report groups both alike.
func mcpStatus(data json.RawMessage) int {
	var e struct{ Type, Code string }
	_ = json.Unmarshal(data, &e)
	switch e.Code {
	// invalid_state is 405 only on cancel, which a conversation does not
	// call; elsewhere it is 409.
	case "idempotency_in_flight", "conflict", "concurrent_update", "invalid_state", "completion_method_not_allowed":
		return http.StatusConflict
	case "idempotency_conflict", "unprocessable":
		return http.StatusUnprocessableEntity
	case "rate_limited", "rate_limit_exceeded", "too_many_requests":
		return http.StatusTooManyRequests
	case "not_found":
		return http.StatusNotFound
	case "unauthorized", "invalid_api_key", "invalid_signature", "signature_required":
		return http.StatusUnauthorized
	case "forbidden":
		return http.StatusForbidden
	case "not_allowed", "method_not_allowed":
		return http.StatusMethodNotAllowed
	case "request_too_large":
		return http.StatusRequestEntityTooLarge
	}
	switch e.Type {
	case "service_unavailable":
		return http.StatusServiceUnavailable
	case "processing_error":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
