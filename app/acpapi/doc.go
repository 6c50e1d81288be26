// Package acpapi runs one ACP checkout call end to end, whatever the
// transport: REST (web/acp.go) and MCP (web/mcp.go, whose five tools and
// their arguments' translation into a Request are defined here, in mcp.go,
// from the official binding; and ChatGPT's checkout app, the tool
// checkout_session, whose input becomes a create in apps.go). A transport
// turns its request into a Request (plain values: shop, operation, session
// id, header values, body), calls Pipeline.Run once, and renders the Result
// (version, outcome, encoded session or error, replayed, idempotency key).
//
// It owns the order of the steps and nothing else: version negotiation
// (API-Version), the body size limit (acp.MaxBodyBytes), the transport's
// own framing check (REST: Content-Type), authentication (agents), the
// per-API-key rate limit (a RateLimiter the transport supplies), the
// request signature and its replay check (bound to what the transport
// supplies as agents.SignedRequest), idempotency for the operations that
// change state (app/idempotency, keyed by operation; a create's key is
// claimed by the session's INSERT, after the call ran: runCreate; so is
// an update's, by the session's guarded UPDATE, when the store remembers
// the session: runUpdate; and a complete's, in flight, by the statement
// that begins the payment, likewise: runComplete),
// decoding the body for the version, the one checkout call with the
// authenticated agent as its caller, and encoding the session for the version, with one info
// message naming the body's fields the version does not define, which the
// decoder ignored (acp.Ignored: that answer's only, never the session's;
// an idempotent replay answers it again with the rest). The cart
// operations (2026-04-17 carts: OpCreateCart…, served by Carts) take the
// same steps, with the cart in place of the session; to a 2025-09-29 agent
// they answer not_found. acpbridge's own catalog tools (catalog.go: search
// and read the shop's published feed, an extension outside ACP) take the
// key and rate steps only, then one Catalog call. The rules of each
// step live in the package that owns it; statuses, headers and paths are
// the transport's business: a Result carries errors as values (*app.Error,
// *acp.Error, ErrUnknownOperation, or a server failure), and a panic comes
// back out of Run as a *Panic that says what the transport needs to answer
// it.
//
// Imports: package app (vocabulary: Agent, Error), acp, and the capability
// packages whose steps it sequences — app/agents (SignedRequest),
// app/checkout (the session and cart types), app/idempotency and app/feeds
// (the catalog tools' query and result types) — through the small
// interfaces declared here. It never imports web, net/http, app/store or
// app/service.
package acpapi
