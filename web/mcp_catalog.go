package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/acpapi"
)

// acpbridge's catalog tools on the shop's MCP server (an extension, not
// ACP: acpapi/catalog.go defines them): acpbridge_search_products and
// acpbridge_get_product read the shop's published feed. Like the checkout
// tools, a result is its JSON as structured content and as the one text
// content; a refusal is JSON-RPC -32000 with an ACP error object as data
// (invalid_request with the argument's path as param, not_found,
// unauthorized, rate_limit_exceeded), in ACP 2026-04-17's shape since
// these tools carry no API version.

// addCatalogTools registers the catalog tools when the app has a catalog.
func (s *Server) addCatalogTools(srv *mcp.Server) {
	if s.acp.Catalog == nil {
		return
	}
	tools, err := acpapi.CatalogTools()
	if err != nil {
		// Built from the app's own types: failing is a bug of this build.
		panic(fmt.Sprintf("web: the catalog MCP tools: %v", err))
	}
	for _, t := range tools {
		var run func(ctx context.Context, shop, authorization string, args json.RawMessage) (any, error)
		switch t.Name {
		case acpapi.ToolSearchProducts:
			run = func(ctx context.Context, shop, authorization string, args json.RawMessage) (any, error) {
				return s.acp.SearchProducts(ctx, shop, authorization, args)
			}
		case acpapi.ToolGetProduct:
			run = func(ctx context.Context, shop, authorization string, args json.RawMessage) (any, error) {
				return s.acp.GetProduct(ctx, shop, authorization, args)
			}
		default:
			panic("web: no handler for the catalog tool " + t.Name)
		}
		srv.AddTool(&mcp.Tool{
			Name: t.Name, Title: t.Title, Description: t.Description,
			InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
			// Reads of the shop's own feed: nothing changes, nothing
			// outside the shop is reached.
			Annotations: &mcp.ToolAnnotations{Title: t.Title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: new(false)},
		}, s.mcpCatalogTool(run))
	}
}

// mcpCatalogTool serves one catalog tool.
func (s *Server) mcpCatalogTool(run func(ctx context.Context, shop, authorization string, args json.RawMessage) (any, error)) mcp.ToolHandler {
	return s.safeTool(func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		shop, authorization := toolCaller(req)
		out, err := run(ctx, shop, authorization, req.Params.Arguments)
		if errors.Is(err, acpapi.ErrUnknownOperation) {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "unknown tool " + req.Params.Name}
		}
		if err != nil {
			return nil, s.mcpError(ctx, acp.V20260417, err, false)
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, s.mcpError(ctx, acp.V20260417, err, false)
		}
		return jsonResult(b), nil
	})
}
