// Package spec holds the official ACP JSON Schemas this app implements,
// vendored unchanged (see README.md, LICENSE and NOTICE in this folder), so
// that tests can validate what the app sends against them, and the MCP
// binding's OpenRPC document, from which app/acpapi builds the MCP tools.
package spec

import "embed"

// Files holds <version>/schema.*.json, <version>/openrpc.*.json, the
// binding's examples, <version>/examples.mcp.*.json, and the checkout
// API's official examples, <version>/examples.agentic_checkout.json (from
// examples/<version>/ of the same commit), which app/service replays over
// REST (TestOfficialExampleFlows).
//
//go:embed */*.json
var Files embed.FS
