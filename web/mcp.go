package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
)

// ACP over MCP (the 2026-04-17 MCP binding). Every shop has its own MCP
// server,
//
//	<APP_URL>/mcp/<shop>.myshopify.com
//
// spoken over MCP Streamable HTTP by the official Go SDK, stateless and
// answering in plain JSON (no server-sent events: nothing here pushes to
// the agent). Its tools are the five ACP checkout tools of the binding,
// defined by app/acpapi from the official files, and our catalog tools
// (mcp_catalog.go). This file is only the
// transport glue, the sibling of acp.go: a tool call becomes an
// acpapi.Request (acpapi.ToolRequest), runs through the same pipeline as
// REST (version, body limit, authentication, per-key rate limit,
// signature, idempotency, decode, the one checkout call, encode) once, and
// its Result becomes the session as the tool's structured content, or a
// JSON-RPC error -32000 with the ACP error object as its data.

// MCPBasePath is the prefix of every shop's MCP server URL.
const MCPBasePath = "/mcp/"

// MCPURL is the shop's MCP server URL under the app's public URL.
func MCPURL(appURL, shop string) string {
	return strings.TrimRight(appURL, "/") + MCPBasePath + shop
}

// CodeACPError is the JSON-RPC error code of every ACP refusal over MCP,
// as the binding prescribes; error.data is the ACP error object.
const CodeACPError = -32000

// maxMCPBody bounds a JSON-RPC request: an ACP body at its limit plus
// room for the envelope (jsonrpc, method, meta, id). The payload itself is
// held to acp.MaxBodyBytes by the pipeline, as over REST.
const maxMCPBody = acp.MaxBodyBytes + 16<<10

// mcpShopHeader carries the shop of the URL to the tool handlers, which
// the SDK hands the HTTP request's headers (mcp.RequestExtra) but not its
// path. Any value the client sent under that name is dropped first.
const mcpShopHeader = "X-Acpbridge-Mcp-Shop"

// mcpRoutes adds every shop's MCP server.
func (s *Server) mcpRoutes() {
	tools, err := acpapi.Tools()
	if err != nil {
		// The binding is embedded in the binary: a build that cannot read
		// it is broken, not misconfigured.
		panic(fmt.Sprintf("web: the ACP MCP tools: %v", err))
	}
	// The SDK logs every stateless request's session at Info (three lines
	// a call): only its warnings and errors reach the app's log.
	sdkLog := slog.New(minLevel{slog.LevelWarn, s.logger.Handler()})
	srv := mcp.NewServer(&mcp.Implementation{Name: "acpbridge", Title: "ACP checkout", Version: app.Version}, &mcp.ServerOptions{Logger: sdkLog})
	for _, t := range tools {
		srv.AddTool(&mcp.Tool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema, Meta: widgetToolMeta(t.Name)}, s.mcpTool(t.Operation))
	}
	s.addCatalogTools(srv) // acpbridge_search_products, acpbridge_get_product (mcp_catalog.go)
	s.addCheckoutApp(srv)  // ChatGPT's checkout app (mcp_apps.go)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		// Every POST stands alone: no session to keep across replicas,
		// and each one is authenticated anew.
		Stateless: true, JSONResponse: true,
		// The app is a public server behind a proxy, its callers
		// authenticated by API key: a local proxy's Host is no rebinding.
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        maxMCPBody,
		Logger:                     sdkLog,
	})
	// POST only: stateless, the SDK would answer GET (a server-sent event
	// stream) and DELETE (a session's end) 405 anyway; echo does so here.
	s.echo.POST(MCPBasePath+":shop", s.mcpHandler(h), s.acpShopParam)
}

// mcpHandler authenticates the HTTP request (the binding leaves
// authentication to the MCP server: the agent's API key as a Bearer
// token, for every method, as REST asks it for every call) and hands it to
// the SDK. The pipeline authenticates each tool call again, with the key's
// rate limit, so that a tool call is checked exactly as a REST call is.
func (s *Server) mcpHandler(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		shop := c.Param("shop")
		authorization := req.Header.Get("Authorization")
		ag, err := s.acp.Agents.Authenticate(req.Context(), shop, authorization)
		if err != nil {
			var ae *app.Error
			if errors.As(err, &ae) && ae.Code == app.CodeUnauthorized {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="acp"`)
			}
			return err
		}
		req.Header.Del(mcpShopHeader)
		req.Header.Set(mcpShopHeader, shop)
		// The tool calls of this request reuse the agent (requestAgents):
		// the SDK runs them under the request's context.
		ctx := context.WithValue(req.Context(), requestAgentKey{}, &requestAgent{shop: shop, authorization: authorization, agent: ag})
		h.ServeHTTP(c.Response(), req.WithContext(ctx))
		return nil
	}
}

// requestAgentKey is the context key of the agent an HTTP request was
// authenticated as (mcpHandler).
type requestAgentKey struct{}

// requestAgent is an HTTP request's authenticated agent, with the shop
// and Authorization value it was authenticated for.
type requestAgent struct {
	shop, authorization string
	agent               *app.Agent
}

// requestAgents is the pipeline's agent authentication: a call whose
// HTTP request was authenticated a moment ago for the same shop and
// Authorization (an MCP tool call: mcpHandler checks the key of every
// POST, and the binding gives each call the same) reuses that agent
// instead of looking the key up again; every other call (REST) is
// authenticated as before. The per-key rate limit and the signature are
// still checked per call by the pipeline.
type requestAgents struct{ AgentAuth }

// Authenticate implements acpapi.Agents.
func (a requestAgents) Authenticate(ctx context.Context, shop, authorization string) (*app.Agent, error) {
	if ra, ok := ctx.Value(requestAgentKey{}).(*requestAgent); ok && ra.shop == shop && ra.authorization == authorization {
		return ra.agent, nil
	}
	return a.AgentAuth.Authenticate(ctx, shop, authorization)
}

// mcpTool serves one ACP tool through the pipeline.
func (s *Server) mcpTool(op acpapi.Operation) mcp.ToolHandler {
	return s.safeTool(func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		shop, authorization := toolCaller(req)
		in, meta, err := acpapi.ToolRequest(shop, op, req.Params.Arguments, authorization)
		if err != nil {
			return nil, s.mcpError(ctx, acp.V20260417, err, false)
		}
		out := s.acp.Run(ctx, in)
		if out.Err != nil {
			if errors.Is(out.Err, acpapi.ErrUnknownOperation) {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "unknown tool " + req.Params.Name}
			}
			return nil, s.mcpError(ctx, out.Version, out.Err, true)
		}
		res := jsonResult(out.Session)
		res.Meta = resultMeta(meta, out)
		return res, nil
	})
}

// safeTool recovers a panic of the tool handler h (the SDK runs handlers
// on its own goroutines and recovers nothing: a panic would end the
// process) and answers it as the server failure it is.
func (s *Server) safeTool(h mcp.ToolHandler) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (res *mcp.CallToolResult, err error) {
		defer func() {
			if r := recover(); r != nil {
				if p, ok := r.(*acpapi.Panic); ok {
					r = p.Value
				}
				s.logger.ErrorContext(ctx, "panic in an MCP tool call", "tool", req.Params.Name, "panic", r, "stack", string(debug.Stack()))
				res, err = nil, s.mcpError(ctx, "", fmt.Errorf("panic: %v", r), false)
			}
		}()
		return h(ctx, req)
	}
}

// toolCaller is the shop (of the MCP server's URL, set by mcpHandler) and
// the HTTP Authorization of a tool call.
func toolCaller(req *mcp.CallToolRequest) (shop, authorization string) {
	if req.Extra == nil {
		return "", ""
	}
	return req.Extra.Header.Get(mcpShopHeader), req.Extra.Header.Get("Authorization")
}

// jsonResult is a tool's result: the JSON as structured content and, for
// clients that read only content, as its one text block.
func jsonResult(b []byte) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		StructuredContent: json.RawMessage(b),
		Content:           []mcp.Content{&mcp.TextContent{Text: string(b)}},
	}
}

// resultMeta is what REST answers in headers and MCP has no headers for,
// in the result's _meta: the echoed meta.request_id (Request-Id, when a
// sane token, as REST echoes it) and idempotency key (Idempotency-Key),
// and whether the answer is a replay (Idempotent-Replayed). Nil when
// there is nothing to say.
func resultMeta(meta *acpapi.ToolMeta, out acpapi.Result) mcp.Meta {
	m := mcp.Meta{}
	if meta != nil && validRequestID(meta.RequestID) {
		m["request_id"] = meta.RequestID
	}
	if out.IdempotencyKey != "" {
		m["idempotency_key"] = out.IdempotencyKey
	}
	if out.Replayed {
		m["idempotent_replayed"] = true
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// mcpError is the binding's answer to a refused call: JSON-RPC error
// -32000 whose message is the ACP error's and whose data is the ACP error
// object in version v's shape ("": a version negotiation error, in its
// own shape). For the pipeline's errors (fromBody), a param into the REST
// body points into the tool's payload, as the binding's examples show.
func (s *Server) mcpError(ctx context.Context, v acp.Version, err error, fromBody bool) error {
	var body []byte
	var e errorBody
	if v == "" {
		var ae *acp.Error
		if errors.As(err, &ae) && (ae.Code == acp.CodeMissingAPIVersion || ae.Code == acp.CodeUnsupportedAPIVersion) {
			e = *ae
			e.Param = "$.meta.api_version"
			body, err = acp.EncodeVersionError(&e)
		} else {
			v = acp.V20260417
		}
	}
	if v != "" {
		var wait time.Duration
		_, e, wait = s.describeErr(ctx, err)
		if wait > 0 {
			// MCP has no Retry-After: the wait goes into the message.
			secs := int((wait + time.Second - 1) / time.Second)
			e.Message = strings.TrimSuffix(e.Message, "; retry after the time in Retry-After") +
				fmt.Sprintf(" (retry in %d seconds)", secs)
		}
		if fromBody {
			e.Param = acpapi.PayloadParam(e.Param)
		}
		body, err = acp.EncodeError(v, &e)
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "encoding an MCP tool error", "err", err)
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
	}
	return &jsonrpc.Error{Code: CodeACPError, Message: e.Message, Data: body}
}

// minLevel is a slog.Handler that drops records below a level.
type minLevel struct {
	min slog.Level
	slog.Handler
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.min, h.Handler.WithAttrs(as)}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.min, h.Handler.WithGroup(name)}
}
