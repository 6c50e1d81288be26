// Package idempotency makes the ACP checkout API's POSTs safe to retry
// (ACP 2026-04-17 §2.2): the first request with an Idempotency-Key claims
// the key (a row in the shared database, leased and renewed while it runs,
// so the rule holds across replicas), its answer is stored, and a retry
// with the same key and the same body (compared by the hash of its
// canonical JSON, CanonicalJSON) gets that answer again; another body is a
// conflict, a request still running is in flight.
//
// web's idempotency middleware calls it for every ACP POST; the checkout
// use-cases never see it. Today its records are shaped around HTTP
// (IdempotencyScope{Method, Path}, StoredResponse{Status, Header}); issue
// 14 plans to key them by operation instead.
//
// New builds it over its store; the clock, TTL, lease and logger are
// options.
//
// It owns the IdempotencyStore port (app/store implements it). Imports:
// package app (Error and its codes), acp (versions), app/internal/jsonescape
// and the standard library; no other package of the app.
package idempotency
