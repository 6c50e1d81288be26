package idempotency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// Idempotency defaults (ACP 2026-04-17 §2.2 asks to keep keys 24 h at least).
const (
	DefaultTTL   = 24 * time.Hour
	DefaultLease = 60 * time.Second
	// MaxKeyLen is the protocol's maxLength of Idempotency-Key.
	MaxKeyLen = 255
	// idempotencyRetryAfter is what an in-flight answer asks the agent to wait.
	idempotencyRetryAfter = time.Second
)

// ACP error codes (Error.Reason) of the idempotency rules.
const (
	ReasonIdempotencyKeyRequired = "idempotency_key_required"
	ReasonInvalidIdempotencyKey  = "invalid_idempotency_key"
	ReasonIdempotencyConflict    = "idempotency_conflict"
	ReasonIdempotencyInFlight    = "idempotency_in_flight"
)

// State is the life stage of an idempotency record.
type State string

// The states of an idempotency record.
const (
	// InFlight: a request holds the key and is running; the
	// lease says until when the holder is presumed alive.
	InFlight State = "in_flight"
	// Completed: the response is stored and replays.
	Completed State = "completed"
)

// Operation names a state-changing ACP operation; a key is unique within
// one operation (and its target session).
type Operation string

// The ACP operations that take an Idempotency-Key.
const (
	OpCreateSession   Operation = "create_checkout_session"
	OpUpdateSession   Operation = "update_checkout_session"
	OpCompleteSession Operation = "complete_checkout_session"
	OpCancelSession   Operation = "cancel_checkout_session"
	// The cart operations (2026-04-17); their target is the cart, in
	// Scope.SessionID.
	OpCreateCart Operation = "create_cart"
	OpUpdateCart Operation = "update_cart"
	OpCancelCart Operation = "cancel_cart"
)

// Scope is what a key is unique within: the shop, the agent's
// API key, the operation and its target session or cart ("" for a create). The
// same key sent by two agents of one shop, to two sessions or for two
// operations is two requests.
type Scope struct {
	ShopID    int64
	APIKeyID  int64
	Operation Operation
	SessionID string
}

// Outcome is how an operation ended, in the transport's neutral words.
type Outcome string

// The outcomes of an ACP operation.
const (
	// OutcomeCreated: a session was created (REST: 201).
	OutcomeCreated Outcome = "created"
	// OutcomeReturned: the session as it now stands (REST: 200).
	OutcomeReturned Outcome = "returned"
	// OutcomeRefused: the operation answered an error that is the
	// caller's to fix (REST: a 4xx); never a server failure, which is not
	// stored.
	OutcomeRefused Outcome = "refused"
)

// StoredResult is an operation's answer kept for replay: no status code,
// header or path, so that any transport renders it as it renders a fresh
// answer.
type StoredResult struct {
	Outcome Outcome
	// Session is the session in the ACP JSON of the record's API version
	// (OutcomeCreated, OutcomeReturned).
	Session []byte
	// Refusal is the error answered (OutcomeRefused).
	Refusal *Refusal
}

// Refusal is an error answer as stored: enough to rebuild the error that
// produced it (Err), so that a replay renders byte for byte as the first
// answer did.
type Refusal struct {
	// Class is the app.Code of an *app.Error (it picks the transport's
	// status); empty for a protocol decoder's *acp.Error.
	Class app.Code `json:"class,omitempty"`
	// Type is the *acp.Error's type (empty for an *app.Error, whose type
	// follows from its class).
	Type acp.ErrorType `json:"type,omitempty"`
	// Code is the precise code: app.Error.Reason or acp.Error.Code.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Param is the field at fault (app.Error.Field, acp.Error.Param).
	Param string `json:"param,omitempty"`
	// RetryAfterMS is app.Error.RetryAfter in milliseconds.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// RefusalOf describes err for storage. ok is false for an error that is a
// server failure (not an *app.Error or *acp.Error, or CodeUnavailable) or
// a rate limit (CodeRateLimited: nothing ran, and the answer asks for the
// same request again later): such an answer is never stored, the key is
// released instead so that a retry runs afresh.
func RefusalOf(err error) (r *Refusal, ok bool) {
	var pe *acp.Error
	if errors.As(err, &pe) {
		return &Refusal{Type: pe.Type, Code: pe.Code, Message: pe.Message, Param: pe.Param}, true
	}
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code == app.CodeUnavailable || ae.Code == app.CodeRateLimited {
		return nil, false
	}
	return &Refusal{Class: ae.Code, Code: ae.Reason, Message: ae.Message, Param: ae.Field,
		RetryAfterMS: ae.RetryAfter.Milliseconds()}, true
}

// Err is the error r was made from.
func (r *Refusal) Err() error {
	if r.Class == "" {
		return &acp.Error{Type: r.Type, Code: r.Code, Message: r.Message, Param: r.Param}
	}
	return &app.Error{Code: r.Class, Reason: r.Code, Message: r.Message, Field: r.Param,
		RetryAfter: time.Duration(r.RetryAfterMS) * time.Millisecond}
}

// Record is one row of the idempotency store.
type Record struct {
	ID int64
	Scope
	Key         string
	APIVersion  string
	RequestHash string
	State       State
	LeaseUntil  time.Time
	// Result is set once State is IdempotencyCompleted.
	Result    *StoredResult
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store is what Keys needs of the database. The claim must
// be atomic in the database itself, so that replicas sharing it agree.
type Store interface {
	// ClaimIdempotencyKey first removes the record of rec's (scope, key)
	// if it is expired (ExpiresAt <= now) or in flight with a lapsed
	// lease (LeaseUntil <= now), then inserts rec (in flight) unless a
	// record holds the key. It returns the inserted record (claimed true,
	// with its ID) or the one holding the key (claimed false).
	ClaimIdempotencyKey(ctx context.Context, rec Record, now time.Time) (held *Record, claimed bool, err error)
	// RenewIdempotencyLease moves the lease of the in-flight record id;
	// ErrNotFound when that claim is gone (released, or taken over).
	RenewIdempotencyLease(ctx context.Context, id int64, leaseUntil time.Time) error
	// FinishIdempotencyKey stores the result of the in-flight record id
	// and marks it completed; ErrNotFound when that claim is gone.
	FinishIdempotencyKey(ctx context.Context, id int64, res StoredResult) error
	// ReleaseIdempotencyKey deletes the in-flight record id (a no-op when
	// it is gone already).
	ReleaseIdempotencyKey(ctx context.Context, id int64) error
}

// Keys makes the ACP checkout API's POSTs safe to retry (ACP
// 2026-04-17 §2.2; 2025-09-29 answers a conflict with 409 instead of 422).
//
// Begin either returns the stored result of an earlier request with the
// same key and body (to replay without running the operation again), or a
// claim on the key: the caller runs the operation and hands its result to
// Claim.Finish, or calls Claim.Release when it failed without one. Claims
// are rows in the shared database, so the rules hold across replicas.
type Keys struct {
	Store Store
	// Now is the clock (UTC); nil means time.Now.
	Now func() time.Time
	// TTL is how long a key is remembered (DefaultIdempotencyTTL if zero).
	TTL time.Duration
	// Lease is how long an in-flight claim holds without being renewed
	// (DefaultIdempotencyLease if zero). A claim renews it every third of
	// Lease while the request runs, so only a crashed replica's claim
	// lapses, and the key is usable again once it has.
	Lease time.Duration
	// Logger reports failed renewals; nil discards.
	Logger *slog.Logger
}

// Options are the idempotency store's settings; zero values mean the
// defaults documented on Keys' fields.
type Options struct {
	Now    func() time.Time
	TTL    time.Duration
	Lease  time.Duration
	Logger *slog.Logger
}

// New builds the idempotency keys' use-case over its store.
func New(store Store, opts Options) *Keys {
	return &Keys{Store: store, Now: opts.Now, TTL: opts.TTL, Lease: opts.Lease, Logger: opts.Logger}
}

func (i *Keys) now() time.Time {
	if i.Now != nil {
		return i.Now().UTC()
	}
	return time.Now().UTC()
}

func (i *Keys) ttl() time.Duration {
	if i.TTL > 0 {
		return i.TTL
	}
	return DefaultTTL
}

func (i *Keys) lease() time.Duration {
	if i.Lease > 0 {
		return i.Lease
	}
	return DefaultLease
}

func (i *Keys) logger() *slog.Logger {
	if i.Logger != nil {
		return i.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ValidateKey checks an Idempotency-Key value: 1 to 255
// characters of printable ASCII (space included).
func ValidateKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return &app.Error{Code: app.CodeInvalid, Reason: ReasonInvalidIdempotencyKey,
			Message: fmt.Sprintf("Idempotency-Key must be 1 to %d characters long, got %d.", MaxKeyLen, len(key))}
	}
	for j := 0; j < len(key); j++ {
		if b := key[j]; b < 0x20 || b > 0x7e {
			return &app.Error{Code: app.CodeInvalid, Reason: ReasonInvalidIdempotencyKey,
				Message: fmt.Sprintf("Idempotency-Key must be printable ASCII; byte %d is 0x%02x.", j, b)}
		}
	}
	return nil
}

// Begin applies the idempotency rules to a request about to run. It returns
// exactly one of:
//   - replay: the stored result of the same key with the same body,
//     to answer again (the operation must not run);
//   - claim: the key is now held for this request, which runs and then
//     calls claim.Finish or claim.Release;
//   - neither (nil, nil, nil): the request is not tracked (no key, which
//     2025-09-29 allows).
//
// The errors are *Error with Reason set to the ACP code:
// idempotency_key_required (400, 2026-04-17 without a key),
// invalid_idempotency_key (400), idempotency_conflict (same key, other
// body or other API-Version: 422, or 409 in 2025-09-29) and idempotency_in_flight (409 with
// RetryAfter, while the first request runs).
func (i *Keys) Begin(ctx context.Context, scope Scope, key string, version acp.Version, body []byte) (replay *StoredResult, claim *Claim, err error) {
	rec, err := i.record(scope, key, version, body)
	if rec == nil || err != nil {
		return nil, nil, err
	}
	held, claimed, err := i.Store.ClaimIdempotencyKey(ctx, *rec, rec.CreatedAt)
	if err != nil {
		if app.ErrorCode(err) == app.CodeUnavailable {
			// The database went away during the claim: the INSERT may
			// have landed without our knowing. Such a claim would answer
			// idempotency_in_flight to the agent's retries until its
			// lease lapses; take it back once the database returns.
			go i.forgetLostClaim(*rec)
		}
		return nil, nil, fmt.Errorf("idempotency: %w", err)
	}
	if claimed {
		return nil, i.newClaim(held.ID), nil
	}
	res, err := judge(version, rec, held)
	return res, nil, err
}

// record is the in-flight record a request with key claims, or nil (and
// no error) when the request is not tracked: no key, which 2025-09-29
// allows.
func (i *Keys) record(scope Scope, key string, version acp.Version, body []byte) (*Record, error) {
	if key == "" {
		if version == acp.V20250929 {
			return nil, nil
		}
		return nil, &app.Error{Code: app.CodeInvalid, Reason: ReasonIdempotencyKeyRequired,
			Message: "The Idempotency-Key header is required on every POST."}
	}
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	now := i.now()
	return &Record{
		Scope: scope, Key: key, APIVersion: string(version),
		RequestHash: CanonicalJSONHash(body), State: InFlight,
		LeaseUntil: now.Add(i.lease()), CreatedAt: now, ExpiresAt: now.Add(i.ttl()),
	}, nil
}

// judge answers a request whose claim rec lost to held, the record that
// holds the key: its stored result to replay, or why not.
func judge(version acp.Version, rec, held *Record) (*StoredResult, error) {
	if held.RequestHash != rec.RequestHash {
		return nil, conflict(version, "This Idempotency-Key was already used with a different request body.")
	}
	if held.APIVersion != rec.APIVersion {
		// The stored answer is in the first request's version, and running
		// the request again in this one would repeat its side effects: so
		// the key is refused, as for another body (issue 13).
		return nil, conflict(version, fmt.Sprintf(
			"This Idempotency-Key was already used with API-Version %s; retry with that version, or use a new key.", held.APIVersion))
	}
	if held.State != Completed || held.Result == nil {
		return nil, &app.Error{Code: app.CodeConflict, Reason: ReasonIdempotencyInFlight, RetryAfter: idempotencyRetryAfter,
			Message: "A request with this Idempotency-Key is still being processed; retry later."}
	}
	return held.Result, nil
}

// conflict is idempotency_conflict in the status of the request's version:
// 422, or 409 in 2025-09-29.
func conflict(version acp.Version, msg string) *app.Error {
	code := app.CodeUnprocessable
	if version == acp.V20250929 {
		code = app.CodeConflict
	}
	return &app.Error{Code: code, Reason: ReasonIdempotencyConflict, Message: msg}
}
