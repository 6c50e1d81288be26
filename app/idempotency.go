package app

// Idempotency makes the ACP checkout API's POSTs safe to retry (ACP
// 2026-04-17 §6; 2025-09-29's 409 conflict): see the methods for the rules.
// It is filled in by the idempotency work; web.Config takes a pointer to it.
type Idempotency struct{}
