package checkout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// The caller of an operation may fold the operation's first read and its
// last write into statements of its own (acpapi: the idempotency claim and
// finish), so that a request costs fewer round trips (issue 17). Both are
// context values the caller sets; a store that cannot fold them ignores
// them, and the operation then reads and answers as it always did.

// Prefetch is a read of one session that the caller asks the store to
// make with the caller's own first statement (acpapi: the idempotency
// claim). The operation's first load of that session then takes it
// instead of reading; later loads (a retry after a concurrent write) read
// afresh. Every write is guarded by the session's row version, so a read
// made a moment earlier in the same call is as good as one made now.
type Prefetch struct {
	ShopID int64
	ID     string

	mu     sync.Mutex
	filled bool
	used   bool
	cs     *Session
}

type prefetchKey struct{}

// WithPrefetch returns ctx asking for p.
func WithPrefetch(ctx context.Context, p *Prefetch) context.Context {
	return context.WithValue(ctx, prefetchKey{}, p)
}

// PrefetchFrom is the Prefetch in ctx, or nil: for the store.
func PrefetchFrom(ctx context.Context) *Prefetch {
	p, _ := ctx.Value(prefetchKey{}).(*Prefetch)
	return p
}

// Fill gives the session read (nil: there is no such session of the shop).
func (p *Prefetch) Fill(cs *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.filled, p.cs = true, cs
}

// Filled returns what the store gave (for tests and logs): whether it
// did, and the session (nil: none).
func (p *Prefetch) Filled() (cs *Session, filled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cs, p.filled
}

// take returns the prefetched session of (shopID, id), once.
func (p *Prefetch) take(shopID int64, id string) (cs *Session, ok bool) {
	if p == nil {
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.filled || p.used || p.ShopID != shopID || p.ID != id {
		return nil, false
	}
	p.used = true
	return p.cs, true
}

// Answer is the caller's record of an operation's answer (acpapi: the
// result of the call's idempotency claim), written by the store with the
// session write that ends the operation: in the same statement
// (PostgreSQL) or transaction (SQLite), so that the answer is kept exactly
// when the session it shows is. Create, Update and Cancel write it, and
// Complete with the record of the completion it drove (record); no other
// operation does. It is written at most once.
type Answer struct {
	// Record is the idempotency record the answer completes.
	Record int64
	// Outcome is the outcome to store (idempotency.Outcome).
	Outcome string
	// Encode renders the session as written: the answer stored.
	Encode func(*Session) ([]byte, error)
	// Claim, when set (a create), is the caller's idempotency claim to
	// make with the new session's INSERT, its record inserted completed
	// with the answer, instead of finishing Record: the store's business
	// (acpapi: an *idempotency.Pending, for ClaimingStore). When it is
	// not made (the key is held, or the store cannot make it) nothing is
	// written and Create fails with ErrNotClaimed. A complete's claim
	// (acpapi: an *idempotency.Pending in flight, for
	// CompleteClaimingStore) is made with the write that begins the
	// payment; once made, Claim is cleared, Record is the claimed record,
	// and Claimed is told it.
	Claim any
	// Claimed, when set, is called with the record a complete's
	// beginning claimed: from then on the caller holds that key.
	Claimed func(record int64)

	mu      sync.Mutex
	written bool
	body    []byte
}

// Written returns the answer stored with the session, if it was.
func (a *Answer) Written() ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.body, a.written
}

type answerKey struct{}

// WithAnswer returns ctx carrying a.
func WithAnswer(ctx context.Context, a *Answer) context.Context {
	return context.WithValue(ctx, answerKey{}, a)
}

// AnswerFrom is the Answer in ctx, or nil.
func AnswerFrom(ctx context.Context) *Answer {
	a, _ := ctx.Value(answerKey{}).(*Answer)
	return a
}

// answerFrom is the Answer in ctx still to write, or nil.
func answerFrom(ctx context.Context) *Answer {
	a := AnswerFrom(ctx)
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.written {
		return nil
	}
	return a
}

// AnswerRecord is an Answer as the store writes it.
type AnswerRecord struct {
	Record  int64
	Outcome string
	Body    []byte
	// Claim is Answer.Claim (ClaimingStore only).
	Claim any
}

// AnsweringStore is a Store that writes an answer with a session write
// (store.Store). answered is false when the answer's record was no longer
// in flight (its lease lapsed and another request took the key over): the
// session is written all the same, as a separate finish would have left
// it.
type AnsweringStore interface {
	CreateCheckoutSessionAnswered(ctx context.Context, cs *Session, a AnswerRecord) (answered bool, err error)
	SaveCheckoutSessionAnswered(ctx context.Context, cs *Session, a AnswerRecord) (answered bool, err error)
}

// ClaimingStore is a Store that claims the caller's idempotency key with a
// new session's INSERT (store.Store): the record of a.Claim, completed
// with a's answer, and the session are written together, or neither.
// claimed is false when nothing was written: a record holds the key, or
// a.Claim is not a claim this store can make.
type ClaimingStore interface {
	CreateCheckoutSessionClaiming(ctx context.Context, cs *Session, a AnswerRecord) (claimed bool, err error)
}

// ClaimsCreateKeys reports whether Create claims the caller's idempotency
// key with the session's INSERT when its Answer carries a claim
// (Answer.Claim): whether the store can (ClaimingStore). A caller may then
// run a create before claiming its key, as the session is never written
// without the claim.
func (c *Sessions) ClaimsCreateKeys() bool {
	_, ok := c.Store.(ClaimingStore)
	return ok
}

// ErrNotClaimed: a create whose answer carries a claim (Answer.Claim)
// wrote nothing, as the claim was not made: the key is held, or the
// store cannot make it. The caller settles the key itself (acpapi: as
// any request does), knowing that no session was created.
var ErrNotClaimed = errors.New("checkout: the idempotency claim was not made; nothing was written")

// errNoAnswer: the write carries no answer.
var errNoAnswer = errors.New("no answer")

// answered prepares the answer of ctx for cs's write, if there is one and
// the store can write it.
func (c *Sessions) answered(ctx context.Context, cs *Session) (AnsweringStore, *Answer, AnswerRecord, error) {
	a := answerFrom(ctx)
	st, ok := c.Store.(AnsweringStore)
	// A claiming answer has no record to finish: only createClaiming
	// writes it.
	if a == nil || !ok || a.Encode == nil || a.Claim != nil {
		return nil, nil, AnswerRecord{}, errNoAnswer
	}
	body, err := a.Encode(cs)
	if err != nil {
		return nil, nil, AnswerRecord{}, err
	}
	return st, a, AnswerRecord{Record: a.Record, Outcome: a.Outcome, Body: body}, nil
}

// createSession inserts cs, with the answer of ctx when there is one
// (and the claim it carries).
func (c *Sessions) createSession(ctx context.Context, cs *Session) error {
	if a := answerFrom(ctx); a != nil && a.Claim != nil {
		return c.createClaiming(ctx, cs, a)
	}
	st, a, rec, err := c.answered(ctx, cs)
	if errors.Is(err, errNoAnswer) {
		return c.Store.CreateCheckoutSession(ctx, cs)
	}
	if err != nil {
		return err
	}
	ok, err := st.CreateCheckoutSessionAnswered(ctx, cs, rec)
	if err == nil && ok {
		a.mark(rec.Body)
	}
	return err
}

// createClaiming inserts cs with the claim and answer of a, or nothing
// (ErrNotClaimed): a session is never created without its claim.
func (c *Sessions) createClaiming(ctx context.Context, cs *Session, a *Answer) error {
	st, ok := c.Store.(ClaimingStore)
	if !ok || a.Encode == nil {
		return ErrNotClaimed
	}
	body, err := a.Encode(cs)
	if err != nil {
		return err
	}
	rec := AnswerRecord{Record: a.Record, Outcome: a.Outcome, Body: body, Claim: a.Claim}
	claimed, err := st.CreateCheckoutSessionClaiming(ctx, cs, rec)
	if err != nil {
		return err
	}
	if !claimed {
		return ErrNotClaimed
	}
	a.mark(body)
	return nil
}

// saveSession writes cs (guarded by its row version), with the answer of
// ctx when there is one. Once the write is committed (with the caller's
// transaction, if any), the caller calls committed, which records that
// the answer is stored.
func (c *Sessions) saveSession(ctx context.Context, cs *Session) (committed func(), err error) {
	st, a, rec, err := c.answered(ctx, cs)
	if errors.Is(err, errNoAnswer) {
		return func() {}, c.Store.SaveCheckoutSession(ctx, cs)
	}
	if err != nil {
		return nil, err
	}
	ok, err := st.SaveCheckoutSessionAnswered(ctx, cs, rec)
	if err != nil || !ok {
		return func() {}, err
	}
	return func() { a.mark(rec.Body) }, nil
}

func (a *Answer) mark(body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.written, a.body = true, body
}

// UpdateClaimingStore is a Store that claims the caller's idempotency key
// with a session's guarded UPDATE (store.Store), on a session it
// remembers: its short memory of the sessions it last wrote or read. The
// memory is a hint; the write is guarded by the row version remembered.
type UpdateClaimingStore interface {
	// MayClaimUpdate reports whether an update of the session should
	// claim with its write: the store remembers the session, and such
	// claims mostly find their session as remembered here (cheap: nothing
	// is decoded).
	MayClaimUpdate(shopID int64, id string) bool
	// RememberedCheckoutSession is the session as the store last wrote or
	// read it, the caller's own copy, if it remembers it.
	RememberedCheckoutSession(shopID int64, id string) (*Session, bool)
	// SaveCheckoutSessionClaiming writes the record of a.Claim, completed
	// with a's answer, and cs (a remembered session, changed), only if
	// the row is still at cs.RowVersion as remembered: both, or neither
	// (claimed false: a record holds the key, the session moved, or the
	// claim is not one the store can make).
	SaveCheckoutSessionClaiming(ctx context.Context, cs *Session, a AnswerRecord) (claimed bool, err error)
}

// ClaimsUpdateKey reports whether an Update of the shop's session id may
// run before its idempotency key is claimed, the claim made with the
// session's write (Answer.Claim): the store can (UpdateClaimingStore),
// remembers the session, and finds that worth it here
// (UpdateClaimingStore.MayClaimUpdate). When the Update's claim is not made it writes
// nothing and fails with ErrNotClaimed, and the caller runs it the
// ordinary way (claim first).
func (c *Sessions) ClaimsUpdateKey(shopID int64, id string) bool {
	st, ok := c.Store.(UpdateClaimingStore)
	return ok && st.MayClaimUpdate(shopID, id)
}

// claimable reports whether an update may run on cs, a remembered
// session, before its key is claimed: only when nothing but the session's
// own write can come of it. Not a session that is over or being
// completed (the update refuses it: a refusal is stored under a claimed
// key), nor one past its expiry (the load would expire it: a write of its
// own), nor one holding a Shopify draft order (pricing updates or
// deletes the draft, a change outside the database that a write which
// does not happen cannot take back).
func claimable(cs *Session, now time.Time) bool {
	return !cs.Status.Terminal() && cs.Status != acp.StatusCompleteInProgress && now.Before(cs.ExpiresAt) &&
		cs.State.Handoff == nil
}

// modifyClaiming is modify for a caller whose answer carries the claim of
// its key (Answer.Claim): fn runs on the session as the store remembers
// it, and the result is written with the claim and the answer in one
// write guarded by the remembered row version, or nothing is written and
// ErrNotClaimed says so (the caller then claims the key and runs the
// update again, from a fresh read): when the store does not remember the
// session, when the session is not claimable, when fn refuses (its
// refusal is the ordinary path's to store), when the key is held, or when
// the session moved since it was remembered.
func (c *Sessions) modifyClaiming(ctx context.Context, sh *app.Shop, id string, fn func(*Session) error, a *Answer) (*Session, error) {
	st, ok := c.Store.(UpdateClaimingStore)
	if !ok || a.Encode == nil || !validSessionID(id) {
		return nil, ErrNotClaimed
	}
	cs, ok := st.RememberedCheckoutSession(sh.ID, id)
	if !ok || !claimable(cs, c.now()) {
		return nil, ErrNotClaimed
	}
	if err := fn(cs); err != nil {
		c.dropNewDraft(ctx, sh, cs)
		return nil, ErrNotClaimed
	}
	if cs.Status.Terminal() || cs.State.Handoff != nil || cs.newDraft != "" {
		// Not expected of an update: a write that ends the session or
		// holds a draft goes the ordinary way.
		c.dropNewDraft(ctx, sh, cs)
		return nil, ErrNotClaimed
	}
	cs.UpdatedAt = c.now()
	body, err := a.Encode(cs)
	if err != nil {
		return nil, ErrNotClaimed
	}
	claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, AnswerRecord{Record: a.Record, Outcome: a.Outcome, Body: body, Claim: a.Claim})
	if err != nil {
		// The write's outcome is unknown: the caller's ordinary path
		// finds the record if it landed.
		return nil, fmt.Errorf("update checkout session: %w", err)
	}
	if !claimed {
		return nil, ErrNotClaimed
	}
	a.mark(body)
	return cs, nil
}
