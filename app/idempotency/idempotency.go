package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/internal/jsonescape"
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
)

// Scope is what a key is unique within: the shop, the agent's
// API key, the operation and its target session ("" for a create). The
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
// server failure (not an *app.Error or *acp.Error, or CodeUnavailable):
// such an answer is never stored, the key is released instead so that a
// retry runs afresh.
func RefusalOf(err error) (r *Refusal, ok bool) {
	var pe *acp.Error
	if errors.As(err, &pe) {
		return &Refusal{Type: pe.Type, Code: pe.Code, Message: pe.Message, Param: pe.Param}, true
	}
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code == app.CodeUnavailable {
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
	if key == "" {
		if version == acp.V20250929 {
			return nil, nil, nil
		}
		return nil, nil, &app.Error{Code: app.CodeInvalid, Reason: ReasonIdempotencyKeyRequired,
			Message: "The Idempotency-Key header is required on every POST."}
	}
	if err := ValidateKey(key); err != nil {
		return nil, nil, err
	}
	now := i.now()
	rec := Record{
		Scope: scope, Key: key, APIVersion: string(version),
		RequestHash: CanonicalJSONHash(body), State: InFlight,
		LeaseUntil: now.Add(i.lease()), CreatedAt: now, ExpiresAt: now.Add(i.ttl()),
	}
	held, claimed, err := i.Store.ClaimIdempotencyKey(ctx, rec, now)
	if err != nil {
		if app.ErrorCode(err) == app.CodeUnavailable {
			// The database went away during the claim: the INSERT may
			// have landed without our knowing. Such a claim would answer
			// idempotency_in_flight to the agent's retries until its
			// lease lapses; take it back once the database returns.
			go i.forgetLostClaim(rec)
		}
		return nil, nil, fmt.Errorf("idempotency: %w", err)
	}
	if claimed {
		return nil, i.newClaim(held.ID), nil
	}
	if held.RequestHash != rec.RequestHash {
		return nil, nil, conflict(version, "This Idempotency-Key was already used with a different request body.")
	}
	if held.APIVersion != rec.APIVersion {
		// The stored answer is in the first request's version, and running
		// the request again in this one would repeat its side effects: so
		// the key is refused, as for another body (issue 13).
		return nil, nil, conflict(version, fmt.Sprintf(
			"This Idempotency-Key was already used with API-Version %s; retry with that version, or use a new key.", held.APIVersion))
	}
	if held.State != Completed || held.Result == nil {
		return nil, nil, &app.Error{Code: app.CodeConflict, Reason: ReasonIdempotencyInFlight, RetryAfter: idempotencyRetryAfter,
			Message: "A request with this Idempotency-Key is still being processed; retry later."}
	}
	return held.Result, nil, nil
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

// Claim is a key held by a running request. Until Finish or
// Release it renews its lease in the background.
type Claim struct {
	id   int64
	idem *Keys
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// ID is the record's id.
func (c *Claim) ID() int64 { return c.id }

func (i *Keys) newClaim(id int64) *Claim {
	c := &Claim{id: id, idem: i, stop: make(chan struct{}), done: make(chan struct{})}
	go c.renew()
	return c
}

func (c *Claim) renew() {
	defer close(c.done)
	lease := c.idem.lease()
	t := time.NewTicker(max(lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), lease/3+time.Second)
			err := c.idem.Store.RenewIdempotencyLease(ctx, c.id, c.idem.now().Add(lease))
			cancel()
			if err != nil {
				c.idem.logger().Warn("idempotency lease renewal failed", "record", c.id, "err", err)
				if errors.Is(err, app.ErrNotFound) {
					return // the claim is gone; nothing left to renew
				}
			}
		}
	}
}

// end stops the renewals (once) and waits for them to stop.
func (c *Claim) end() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// Finish stores res for replay and completes the record. ErrNotFound means
// the claim was lost (its lease lapsed and another request took the key
// over). A server failure has no result to store: Release the claim
// instead (RefusalOf says which errors those are).
func (c *Claim) Finish(ctx context.Context, res StoredResult) error {
	c.end()
	if err := c.idem.Store.FinishIdempotencyKey(ctx, c.id, res); err != nil {
		return fmt.Errorf("idempotency: finish: %w", err)
	}
	return nil
}

// Release forgets the claim, so the key may be used again at once: for a
// request that failed without a result worth keeping (a server failure,
// a panic).
func (c *Claim) Release(ctx context.Context) error {
	c.end()
	return c.release(ctx)
}

func (c *Claim) release(ctx context.Context) error {
	err := c.idem.Store.ReleaseIdempotencyKey(ctx, c.id)
	if err == nil {
		return nil
	}
	if app.ErrorCode(err) == app.CodeUnavailable {
		// The database is out of reach (a restart, a failover): the very
		// failure that made this request answer 5xx. Left as it is, the
		// key would answer idempotency_in_flight to the agent's retries
		// until its lease lapses; so keep trying to release it in the
		// background for as long as the lease could hold. Releasing late
		// is safe: a takeover of the key gives it a new record id.
		go c.releaseLater()
	}
	return fmt.Errorf("idempotency: release: %w", err)
}

// forgetLostClaim removes the claim of rec if its INSERT landed although
// the caller saw an error: it claims the key again, and releases what it
// finds when that is rec's own claim (in flight, same body, same creation
// time) or a claim it has just made. It gives up when the lease would have
// lapsed anyway.
func (i *Keys) forgetLostClaim(rec Record) {
	deadline := time.Now().Add(i.lease())
	for time.Now().Before(deadline) {
		time.Sleep(releaseRetryEvery)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		held, claimed, err := i.Store.ClaimIdempotencyKey(ctx, rec, i.now())
		if err == nil && (claimed || held.State == InFlight && held.RequestHash == rec.RequestHash &&
			held.CreatedAt.Sub(rec.CreatedAt).Abs() <= time.Microsecond) {
			err = i.Store.ReleaseIdempotencyKey(ctx, held.ID)
			if err == nil && !claimed {
				i.logger().Info("idempotency claim lost in a database outage released", "record", held.ID)
			}
		}
		cancel()
		if app.ErrorCode(err) != app.CodeUnavailable {
			return // done, or the key is another request's
		}
	}
}

// releaseRetryEvery is how often releaseLater tries again.
const releaseRetryEvery = 200 * time.Millisecond

// releaseLater retries the release until it succeeds or the lease would
// have lapsed anyway.
func (c *Claim) releaseLater() {
	deadline := time.Now().Add(c.idem.lease())
	for time.Now().Before(deadline) {
		time.Sleep(releaseRetryEvery)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.idem.Store.ReleaseIdempotencyKey(ctx, c.id)
		cancel()
		if err == nil {
			c.idem.logger().Info("idempotency key released after the database came back", "record", c.id)
			return
		}
		if app.ErrorCode(err) != app.CodeUnavailable {
			c.idem.logger().Warn("idempotency release failed", "record", c.id, "err", err)
			return
		}
	}
}

// maxCanonicalDepth bounds the nesting CanonicalJSON follows; deeper
// documents (which the ACP decoders refuse anyway) are hashed as raw bytes.
const maxCanonicalDepth = 64

// CanonicalJSONHash is the hex SHA-256 that decides whether two request
// bodies are the same request (ACP §2.2: semantic JSON equality of the
// body). A body CanonicalJSON accepts is hashed in its canonical form, so
// key order, whitespace, string escapes and the spelling of numbers do not
// matter; any other body (not JSON, duplicate keys, …) is hashed as its raw
// bytes, in a separate domain so the two kinds never collide.
func CanonicalJSONHash(body []byte) string {
	h := sha256.New()
	if canon, ok := CanonicalJSON(body); ok {
		h.Write([]byte("json\x00"))
		h.Write(canon)
	} else {
		h.Write([]byte("raw\x00"))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CanonicalJSON returns the canonical form of a JSON document, itself JSON,
// such that two documents have the same form exactly when they are
// semantically equal:
//   - object members are sorted by key (bytewise on UTF-8), whitespace is
//     dropped;
//   - strings are unescaped and written back with the minimal escapes
//     (quote, backslash, control characters as \u00XX), so "\u00e9" == "é"
//     and "\/" == "/";
//   - numbers compare by exact decimal value, never through float64: the
//     digits lose leading and trailing zeros and move into an exponent, so
//     1 == 1.0 == 10e-1 and 100 == 1e2 == 1E+2, -0 == 0, while
//     12345678901234567890 != 12345678901234567891;
//   - arrays keep their order, and null, false, true stay themselves (so
//     null differs from an absent member).
//
// ok is false for a body that is not exactly one valid JSON value in valid
// UTF-8, or whose objects repeat a key (which has no one meaning, and which
// the ACP decoders refuse), or that carries an unpaired UTF-16 surrogate
// escape, or that nests deeper than 64 levels.
func CanonicalJSON(body []byte) (canon []byte, ok bool) {
	if !utf8.Valid(body) || !json.Valid(body) || hasLoneSurrogate(body) {
		return nil, false
	}
	c := canonicalizer{in: body, out: make([]byte, 0, len(body))}
	c.skipSpace()
	if err := c.value(0); err != nil {
		return nil, false
	}
	return c.out, true
}

var errNotCanonical = errors.New("not canonicalizable")

// canonicalizer writes the canonical form of a document that json.Valid
// has accepted, in one pass over it. The work is linear in the size of the
// body (the idempotency hash runs on every POST before anything else looks
// at the body, so it must not be a lever for a CPU bomb): each input byte
// is read once; numbers are rewritten in linear time (canonNumber); an
// object's members are sorted, and its canonical bytes are copied once more
// for each object it is nested in, at most maxCanonicalDepth times.
// encoding/json's Decoder.Token, which this replaces, costs about a
// microsecond and an allocation per token.
type canonicalizer struct {
	in  []byte
	pos int
	out []byte
	// scratch holds an object's member values while they are reordered.
	scratch []byte
	// buf holds a string while its escapes are decoded.
	buf []byte
}

func (c *canonicalizer) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

// value writes the value starting at c.pos, then skips the white space
// after it. The input is valid JSON, so the syntax needs no checks here.
func (c *canonicalizer) value(depth int) error {
	switch b := c.in[c.pos]; b {
	case '{', '[':
		if depth >= maxCanonicalDepth {
			return errNotCanonical
		}
		var err error
		if b == '{' {
			err = c.object(depth)
		} else {
			err = c.array(depth)
		}
		if err != nil {
			return err
		}
	case '"':
		c.out = appendCanonString(c.out, c.str())
	case 't':
		c.pos += len("true")
		c.out = append(c.out, "true"...)
	case 'f':
		c.pos += len("false")
		c.out = append(c.out, "false"...)
	case 'n':
		c.pos += len("null")
		c.out = append(c.out, "null"...)
	default:
		start := c.pos
		for c.pos < len(c.in) && isNumberByte(c.in[c.pos]) {
			c.pos++
		}
		if num := c.in[start:c.pos]; isCanonInteger(num) {
			c.out = append(c.out, num...) // the common case, as it is
			break
		}
		n, err := canonNumber(string(c.in[start:c.pos]))
		if err != nil {
			return err
		}
		c.out = append(c.out, n...)
	}
	c.skipSpace()
	return nil
}

// isCanonInteger reports whether a JSON number is already in canonical
// form as a plain integer: "0", or digits without a leading or trailing
// zero (a trailing zero moves into the exponent: 10 is 1e1), maybe negative.
func isCanonInteger(num []byte) bool {
	if len(num) == 1 && num[0] == '0' {
		return true
	}
	if len(num) > 0 && num[0] == '-' {
		num = num[1:]
	}
	if len(num) == 0 || num[0] == '0' || num[len(num)-1] == '0' {
		return false
	}
	for _, b := range num {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

func isNumberByte(b byte) bool {
	return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E'
}

func (c *canonicalizer) array(depth int) error {
	c.pos++ // '['
	c.skipSpace()
	c.out = append(c.out, '[')
	for first := true; c.in[c.pos] != ']'; first = false {
		if !first {
			c.pos++ // ','
			c.skipSpace()
			c.out = append(c.out, ',')
		}
		if err := c.value(depth + 1); err != nil {
			return err
		}
	}
	c.pos++ // ']'
	c.out = append(c.out, ']')
	return nil
}

// object writes the members' values one after the other at the end of
// c.out, then rewrites that stretch as the members sorted by key.
func (c *canonicalizer) object(depth int) error {
	type member struct {
		key        string
		start, end int // of the value's canonical bytes in c.out
	}
	var members []member
	base := len(c.out)
	c.pos++ // '{'
	c.skipSpace()
	for first := true; c.in[c.pos] != '}'; first = false {
		if !first {
			c.pos++ // ','
			c.skipSpace()
		}
		key := c.str()
		c.skipSpace()
		c.pos++ // ':'
		c.skipSpace()
		start := len(c.out)
		if err := c.value(depth + 1); err != nil {
			return err
		}
		members = append(members, member{key, start, len(c.out)})
	}
	c.pos++ // '}'
	byKey := func(a, b member) int { return strings.Compare(a.key, b.key) }
	if !slices.IsSortedFunc(members, byKey) {
		slices.SortFunc(members, byKey)
	}
	for j := 1; j < len(members); j++ {
		if members[j-1].key == members[j].key {
			return errNotCanonical // a duplicate key
		}
	}
	values := append(c.scratch[:0], c.out[base:]...)
	c.out = append(c.out[:base], '{')
	for j, m := range members {
		if j > 0 {
			c.out = append(c.out, ',')
		}
		c.out = appendCanonString(c.out, m.key)
		c.out = append(c.out, ':')
		c.out = append(c.out, values[m.start-base:m.end-base]...)
	}
	c.out = append(c.out, '}')
	c.scratch = values
	return nil
}

// str reads the string starting at c.pos (its opening quote) and returns
// its value, escapes decoded as encoding/json decodes them (hasLoneSurrogate
// has ruled out the escapes it would replace with U+FFFD).
func (c *canonicalizer) str() string {
	c.pos++ // '"'
	start := c.pos
	for c.in[c.pos] != '"' && c.in[c.pos] != '\\' {
		c.pos++
	}
	if c.in[c.pos] == '"' {
		c.pos++
		return string(c.in[start : c.pos-1])
	}
	c.buf = append(c.buf[:0], c.in[start:c.pos]...)
	for {
		switch b := c.in[c.pos]; b {
		case '"':
			c.pos++
			return string(c.buf)
		case '\\':
			c.pos++
			switch e := c.in[c.pos]; e {
			case 'b':
				c.buf = append(c.buf, '\b')
			case 'f':
				c.buf = append(c.buf, '\f')
			case 'n':
				c.buf = append(c.buf, '\n')
			case 'r':
				c.buf = append(c.buf, '\r')
			case 't':
				c.buf = append(c.buf, '\t')
			case 'u':
				// json.Valid has checked the digits; a surrogate is the
				// high half of a pair, the low half follows.
				r, _ := jsonescape.Hex4(c.in, c.pos+1)
				if utf16.IsSurrogate(r) {
					lo, _ := jsonescape.Hex4(c.in, c.pos+7)
					r = utf16.DecodeRune(r, lo)
					c.pos += 6
				}
				c.buf = utf8.AppendRune(c.buf, r)
				c.pos += 4
			default: // '"', '\\', '/'
				c.buf = append(c.buf, e)
			}
			c.pos++
		default:
			c.buf = append(c.buf, b)
			c.pos++
		}
	}
}

// canonNumber writes a JSON number (already valid syntax) as its exact
// value: [-]D[eE] where D has no leading or trailing zeros and E is a
// non-zero exponent; zero (and minus zero) is "0".
//
// The work is linear in the length of s: the exponent is kept as decimal
// text, never converted to a binary big number (math/big's decimal
// conversion is quadratic, and a body of one 255 KB exponent would cost
// seconds of CPU). The shift the mantissa adds to the exponent is smaller
// than len(s), so it fits an int64, and adding it to a long exponent is
// schoolbook decimal arithmetic (canonExponent).
func canonNumber(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr := s, ""
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		mant, expStr = s[:k], s[k+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	shift := int64(len(digits)-len(trimmed)) - int64(len(frac))
	exp, err := canonExponent(expStr, shift)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(trimmed) + len(exp) + 2)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(trimmed)
	if exp != "0" {
		b.WriteByte('e')
		b.WriteString(exp)
	}
	return b.String(), nil
}

// maxInt64Digits is how many decimal digits always fit an int64.
const maxInt64Digits = 18

// canonExponent returns the decimal text of expStr + shift, where expStr is
// a JSON exponent ([+-]digits, or "" for zero), without leading zeros and
// with a '-' only when negative ("0" for zero). It runs in time linear in
// len(expStr).
func canonExponent(expStr string, shift int64) (string, error) {
	neg := strings.HasPrefix(expStr, "-")
	mag := strings.TrimLeft(strings.TrimLeft(expStr, "+-"), "0")
	for j := 0; j < len(mag); j++ {
		if mag[j] < '0' || mag[j] > '9' {
			return "", errNotCanonical
		}
	}
	if len(mag) <= maxInt64Digits {
		e, _ := strconv.ParseInt("0"+mag, 10, 64) // at most 18 digits: fits
		if neg {
			e = -e
		}
		return strconv.FormatInt(e+shift, 10), nil // |shift| < 2^62: no overflow
	}
	// |expStr| >= 10^18 > |shift|: the sum keeps expStr's sign, and its
	// magnitude is |expStr| + |shift| when the signs agree, else the
	// difference (never below zero).
	d := shift
	if d < 0 {
		d = -d
	}
	var out []byte
	if (shift < 0) == neg {
		out = addDecimal(mag, uint64(d))
	} else {
		out = subDecimal(mag, uint64(d))
	}
	if neg {
		return "-" + string(out), nil
	}
	return string(out), nil
}

// addDecimal returns the decimal digits of a + d; a is digits without
// leading zeros.
func addDecimal(a string, d uint64) []byte {
	out := make([]byte, len(a)+1)
	carry := d
	for j := len(a) - 1; j >= 0; j-- {
		sum := uint64(a[j]-'0') + carry%10
		carry /= 10
		if sum >= 10 {
			sum -= 10
			carry++
		}
		out[j+1] = byte('0' + sum)
	}
	// carry < 10 here: d has fewer digits than a.
	out[0] = byte('0' + carry)
	return trimLeadingZeros(out)
}

// subDecimal returns the decimal digits of a - d, for a >= d; a is digits
// without leading zeros.
func subDecimal(a string, d uint64) []byte {
	out := make([]byte, len(a))
	borrow := d
	for j := len(a) - 1; j >= 0; j-- {
		diff := int64(a[j]-'0') - int64(borrow%10)
		borrow /= 10
		if diff < 0 {
			diff += 10
			borrow++
		}
		out[j] = byte('0' + diff)
	}
	return trimLeadingZeros(out)
}

func trimLeadingZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	return b
}

// appendCanonString appends s quoted with the minimal escapes.
func appendCanonString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	for j := 0; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// hasLoneSurrogate reports whether a valid JSON text escapes a UTF-16
// surrogate that is not part of a pair: encoding/json turns every such
// escape into U+FFFD, which would make different strings look equal. In
// valid JSON every backslash is inside a string, so a plain scan will do.
func hasLoneSurrogate(body []byte) bool {
	escape := func(j int) (rune, bool) { // the \uXXXX at j, if any
		if j+6 > len(body) || body[j] != '\\' || body[j+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(body[j+2:j+6]), 16, 32)
		return rune(n), err == nil
	}
	for j := 0; j < len(body); j++ {
		if body[j] != '\\' {
			continue
		}
		r, ok := escape(j)
		if !ok {
			j++ // \" \\ \/ \b …: skip the escaped character
			continue
		}
		switch {
		case r >= 0xd800 && r < 0xdc00: // high: a low one must follow
			lo, ok := escape(j + 6)
			if !ok || lo < 0xdc00 || lo >= 0xe000 {
				return true
			}
			j += 11
		case r >= 0xdc00 && r < 0xe000:
			return true
		default:
			j += 5
		}
	}
	return false
}
