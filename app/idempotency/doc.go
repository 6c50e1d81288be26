// Package idempotency makes the ACP checkout API's POSTs safe to retry
// (ACP 2026-04-17 §2.2): the first request with an Idempotency-Key claims
// the key (a row in the shared database, leased and renewed while it runs,
// so the rule holds across replicas), its answer is stored, and a retry
// with the same key and the same body (compared by the hash of its
// canonical JSON, CanonicalJSON) gets that answer again; another body is a
// conflict, a request still running is in flight.
//
// The ACP pipeline (app/acpapi) calls it for every state-changing ACP
// operation, whatever the transport; the checkout use-cases never see it.
// A key is scoped by operation, not by HTTP request: (shop, agent API key,
// operation, target session) — IdempotencyScope — and the API version is
// kept with it (another version with the same key is a conflict). What is
// stored is the operation's result (StoredResult: outcome, the session's
// ACP JSON, or the refusal), never a status code, header or path.
//
// A create claims its key with its own write instead (Prepare, Pending):
// it runs first, and the store inserts its record already completed with
// the session; a create that did not claim the key then settles it with
// Begin like any request.
//
// New builds it over its store; the clock, TTL, lease and logger are
// options.
//
// It owns the IdempotencyStore port (app/store implements it). Imports:
// package app (Error and its codes), acp (versions), app/internal/jsonescape
// and the standard library; no other package of the app.
package idempotency
