package web

import (
	"context"
	_ "embed"
	"errors"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
)

// ChatGPT's checkout app on the shop's MCP server (the OpenAI Apps SDK
// product checkout contract): the tool checkout_session, whose descriptor
// names the widget ui://widget/checkout-session.html, and that widget as
// an MCP resource. The tool creates an ACP session through the same
// pipeline as create_checkout_session; the widget shows it and moves it
// on with the ACP tools it may call (marked openai/widgetAccessible). This
// file is transport glue only: acpapi/apps.go owns the contract's input.

// checkoutWidget is the widget: one self-contained HTML page (inline CSS
// and script, nothing fetched), which the host renders in its sandbox.
//
//go:embed widget/checkout-session.html
var checkoutWidget string

// widgetMIMEType is the Apps SDK's type for a widget's HTML.
const widgetMIMEType = "text/html+skybridge"

// The descriptor keys of the Apps SDK.
const (
	metaWidgetAccessible = "openai/widgetAccessible"
	metaOutputTemplate   = "openai/outputTemplate" // the key older hosts read
)

// widgetToolMeta is the _meta of an ACP tool's descriptor: the tools the
// widget calls are marked callable from it; the others have none.
func widgetToolMeta(tool string) mcp.Meta {
	if slices.Contains(acpapi.WidgetTools, tool) {
		return mcp.Meta{metaWidgetAccessible: true}
	}
	return nil
}

// addCheckoutApp adds the checkout_session tool and the widget to srv.
func (s *Server) addCheckoutApp(srv *mcp.Server) {
	srv.AddTool(&mcp.Tool{
		Name:        acpapi.CheckoutAppTool,
		Title:       "Checkout",
		Description: acpapi.CheckoutAppDescription,
		InputSchema: acpapi.CheckoutAppInputSchema(),
		Meta: mcp.Meta{
			"ui":                 map[string]any{"resourceUri": acpapi.CheckoutWidgetURI},
			metaOutputTemplate:   acpapi.CheckoutWidgetURI,
			metaWidgetAccessible: true,
		},
	}, s.safeTool(s.checkoutAppTool))
	srv.AddResource(&mcp.Resource{
		URI: acpapi.CheckoutWidgetURI, Name: "checkout-session", Title: "Checkout",
		Description: "The store's checkout: items, shipping, tax, total, and the way to pay or continue at the store.",
		MIMEType:    widgetMIMEType,
	}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{
			URI: acpapi.CheckoutWidgetURI, MIMEType: widgetMIMEType, Text: checkoutWidget,
			Meta: mcp.Meta{
				"openai/widgetDescription": "Shows the checkout the buyer opened: items, shipping, tax and total, with a button to pay or to continue at the store.",
				// The widget fetches nothing and loads nothing: every call
				// goes through the host's callTool.
				"openai/widgetCSP": map[string]any{"connect_domains": []string{}, "resource_domains": []string{}},
			},
		}}}, nil
	})
}

// checkoutAppTool serves checkout_session: the ACP create, run through the
// pipeline, answered as create_checkout_session answers (the session as
// structured content and as text, or -32000 with the ACP error), its
// error params pointing into this tool's arguments. Served through
// safeTool.
func (s *Server) checkoutAppTool(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	shop, authorization := toolCaller(req)
	// The contract sends no currency and the create needs the shop's:
	// the caller's agent (authenticated at the HTTP request already) says
	// which. The pipeline authenticates the call again, with its rate.
	ag, err := s.acp.Agents.Authenticate(ctx, shop, authorization)
	if err != nil {
		return nil, s.mcpError(ctx, acpapi.CheckoutAppVersion, err, false)
	}
	if ag.Shop.CurrencyCode == "" {
		return nil, s.mcpError(ctx, acpapi.CheckoutAppVersion, &app.Error{Code: app.CodeUnavailable,
			Message: "the shop's details are not known yet; try again in a minute"}, false)
	}
	in, err := acpapi.CheckoutAppRequest(shop, ag.Shop.CurrencyCode, req.Params.Arguments, authorization)
	if err != nil {
		return nil, s.mcpError(ctx, acpapi.CheckoutAppVersion, err, false)
	}
	out := s.acp.Run(ctx, in)
	if out.Err != nil {
		return nil, s.mcpError(ctx, out.Version, checkoutAppErr(out.Err), false)
	}
	return jsonResult(out.Session), nil
}

// checkoutAppErr is a refusal of the create with its param moved from the
// body built for the tool into the tool's arguments.
func checkoutAppErr(err error) error {
	var pe *acp.Error
	if errors.As(err, &pe) {
		c := *pe
		c.Param = acpapi.CheckoutAppParam(c.Param)
		return &c
	}
	var ae *app.Error
	if errors.As(err, &ae) {
		c := *ae
		c.Field = acpapi.CheckoutAppParam(c.Field)
		return &c
	}
	return err
}
