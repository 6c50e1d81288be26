// Package spec holds the official ACP JSON Schemas this app implements,
// vendored unchanged (see README.md, LICENSE and NOTICE in this folder), so
// that tests can validate what the app sends against them, and the MCP
// binding's OpenRPC document, from which app/acpapi builds the MCP tools.
package spec

import "embed"

// Files holds <version>/schema.*.json, <version>/openrpc.*.json and the
// binding's examples, <version>/examples.mcp.*.json.
//
//go:embed */*.json
var Files embed.FS
