package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/app/netguard"
)

// Code classifies an expected failure so that each edge (HTTP, CLI, jobs) can
// answer it in its own terms. The web package maps codes to status codes in
// one table; everything without a code is an internal error.
type Code string

// Error codes used across the application.
const (
	CodeInvalid      Code = "invalid"      // the input is malformed or breaks a rule
	CodeNotFound     Code = "not_found"    // the thing asked for does not exist (or is not yours)
	CodeConflict     Code = "conflict"     // the request clashes with the current state
	CodeUnauthorized Code = "unauthorized" // missing or wrong credentials
	CodeForbidden    Code = "forbidden"    // credentials are fine but do not reach this
	CodeUnavailable  Code = "unavailable"  // a dependency is down; retrying later may work
	// CodeUnprocessable: well-formed, but it cannot be done as asked (e.g.
	// an idempotency key reused with another body in ACP 2026-04-17).
	CodeUnprocessable Code = "unprocessable"
	CodeNotAllowed    Code = "not_allowed"  // the operation is not allowed in the current state
	CodeRateLimited   Code = "rate_limited" // too many requests; retry after RetryAfter
)

// WebhookDeferred is a webhook handler's answer for a delivery it acts on
// only later: the delivery stays unprocessed and is handled again at
// Until (app/shops schedules it).
type WebhookDeferred struct{ Until time.Time }

func (d *WebhookDeferred) Error() string { return "deferred until " + d.Until.Format(time.RFC3339) }

// Claimed is the answer to a job for a row another process or job is
// working on until Until (a webhook delivery, an order event): the job
// looks again then (app/jobs snoozes it), so the row is never worked twice
// at once.
type Claimed struct{ Until time.Time }

func (c *Claimed) Error() string { return "claimed until " + c.Until.Format(time.RFC3339) }

// Error is an expected failure with a message safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault, when there is one.
	Field string
	// Reason, when set, is the precise machine-readable code sent to the
	// caller instead of Code (e.g. "idempotency_conflict", a protocol's
	// well-known code); Code still picks the HTTP status.
	Reason string
	// RetryAfter, when positive, tells the caller when to try again
	// (the HTTP edge sends it as Retry-After, in whole seconds).
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned (wrapped, naming what was missing) by stores when a
// row does not exist: errors.Is(err, ErrNotFound) tests for it.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}

// ErrConflict is returned (wrapped) by stores when a unique constraint holds.
var ErrConflict = &Error{Code: CodeConflict, Message: "already exists"}

// ErrorCode returns the code of the first *Error in err's chain, or "" when
// err is not an expected failure.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// OutboundRefusal is the 400 for a URL or host the outbound policy
// refuses. It names the class, never the address a name resolved to (that
// would make the form a probe of the server's internal DNS).
func OutboundRefusal(field string, err error) error {
	msg := "must be a public address: loopback, private, link-local and other non-public addresses are not allowed"
	var refused *netguard.RefusedError
	if errors.As(err, &refused) {
		msg += " (this one is " + string(refused.Class) + ")"
	}
	return &Error{Code: CodeInvalid, Field: field, Message: msg}
}

// Truncate cuts s to at most n bytes (then marks the cut with …), for
// the error texts kept in rows.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Errors of the Shopify connection that callers tell apart.
var (
	// ErrReauthRequired: Shopify refused the shop's tokens; the merchant must
	// open the app (or reinstall) to grant a new one.
	ErrReauthRequired = &Error{Code: CodeUnavailable, Message: "the shop must re-authorise the app"}
	// ErrShopInactive: the shop uninstalled the app.
	ErrShopInactive = &Error{Code: CodeUnauthorized, Message: "the app is not installed on this shop"}
)
