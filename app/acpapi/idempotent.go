package acpapi

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// idempotencyFinishTimeout bounds storing (or releasing) a claim after the
// call; it runs even when the caller has gone.
const idempotencyFinishTimeout = 10 * time.Second

// runIdempotent applies the ACP idempotency rules (app/idempotency) around
// the call: a retry with the same key and body gets the stored result
// (Replayed) and nothing runs; otherwise the call runs holding the key, and
// its result is stored, unless it is a server failure, which (like a
// panic, re-raised afterwards) releases the key so a retry runs afresh.
func (p *Pipeline) runIdempotent(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte, prog *progress) Result {
	key := ""
	switch len(req.IdempotencyKeys) {
	case 0:
	case 1:
		key = req.IdempotencyKeys[0]
		// Present but empty is malformed, not missing.
		if err := idempotency.ValidateKey(key); err != nil {
			return refused(v, err)
		}
	default:
		return refused(v, &app.Error{Code: app.CodeInvalid, Reason: idempotency.ReasonInvalidIdempotencyKey,
			Message: "Send one Idempotency-Key header, not several."})
	}
	prog.key = key
	res := p.runClaimed(ctx, ag, v, req, body, key)
	res.IdempotencyKey = key
	return res
}

func (p *Pipeline) runClaimed(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte, key string) Result {
	scope := idempotency.Scope{ShopID: ag.Shop.ID, APIKeyID: ag.Key.ID,
		Operation: idempotency.Operation(req.Operation), SessionID: req.SessionID}
	if req.Operation == OpCreate && p.claimsCreateKeys() {
		if res, ok := p.runCreate(ctx, ag, v, req, body, scope, key); ok {
			return res
		}
	}
	if req.Operation == OpUpdate && p.claimsUpdateKey(ag.Shop.ID, req.SessionID) {
		if res, ok := p.runUpdate(ctx, ag, v, req, body, scope, key); ok {
			return res
		}
	}
	if req.Operation == OpComplete && p.claimsCompleteKey(ag.Shop.ID, req.SessionID) {
		if res, ok := p.runComplete(ctx, ag, v, req, body, scope, key); ok {
			return res
		}
	}
	if req.Operation == OpUpdate || req.Operation == OpCancel || req.Operation == OpComplete {
		// The claim reads the session too, where the store can (one
		// statement on PostgreSQL): the operation's first load takes it.
		ctx = checkout.WithPrefetch(ctx, &checkout.Prefetch{ShopID: ag.Shop.ID, ID: req.SessionID})
	}
	replay, claim, err := p.Idempotency.Begin(ctx, scope, key, v, body)
	if res, ok := begun(v, replay, claim, err); ok {
		return res
	}
	if claim == nil {
		return p.call(ctx, ag, v, req, body) // not tracked (no key, 2025-09-29)
	}
	return p.runHolding(ctx, ag, v, req, body, claim)
}

// begun is the answer of a call that Begin settled (ok): its refusal, or
// the stored answer replayed.
func begun(v acp.Version, replay *idempotency.StoredResult, claim *idempotency.Claim, err error) (Result, bool) {
	switch {
	case err != nil:
		return refused(v, err), true
	case replay != nil:
		res := Result{Version: v, Outcome: replay.Outcome, Session: replay.Session, Replayed: true}
		if replay.Refusal != nil {
			res.Err = replay.Refusal.Err()
		}
		return res, true
	}
	return Result{}, false
}

// runCreate runs a create before its key is claimed, and claims it with
// the session's INSERT, the answer stored with both (one statement on
// PostgreSQL, issue 17; idempotency.Pending). A create has no side effect
// but the session, which is written only with the claim: so a concurrent
// duplicate that runs meanwhile prices for nothing, and then answers as a
// retry does. When the claim was not made (the call failed before
// writing, or the key was held), the key is settled with Begin as for any
// call: a held key answers what it would have answered before the call
// ran (the stored answer, a conflict, in flight), and only a free key
// stores the call's refusal (or is released after a server failure). ok
// is false for a call that is not tracked: the caller runs it.
func (p *Pipeline) runCreate(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte, scope idempotency.Scope, key string) (Result, bool) {
	pend, err := p.Idempotency.Prepare(scope, key, v, body)
	if err != nil {
		return refused(v, err), true
	}
	if pend == nil {
		return Result{}, false
	}
	actx, ans := withAnswer(ctx, v, req.Operation, nil)
	ans.Claim = pend
	res := p.call(actx, ag, v, req, body)
	if stored, ok := p.storedAnswer(ctx, ans, nil, res); ok {
		return stored, true
	}
	// The record, a refusal's included, is settled even when the caller
	// has gone, as runHolding's finish is.
	fctx, cancel := finishContext(ctx)
	defer cancel()
	replay, claim, err := p.Idempotency.Begin(fctx, scope, key, v, body)
	if held, ok := begun(v, replay, claim, err); ok {
		return held, true
	}
	if claim == nil {
		return res, true // not expected: Prepare tracked the key
	}
	if errors.Is(res.Err, checkout.ErrNotClaimed) {
		// The key was held when the create wrote, and is free now (its
		// holder failed, or the store could not claim): run it again,
		// holding the key, as any call.
		return p.runHolding(ctx, ag, v, req, body, claim), true
	}
	return p.settle(fctx, claim, res), true
}

// createClaimer is a Checkout whose Create claims the caller's key with
// the session it writes (checkout.Sessions over a ClaimingStore).
type createClaimer interface {
	ClaimsCreateKeys() bool
}

// claimsCreateKeys reports whether a create may run before its key is
// claimed: only when the session it writes carries the claim, so that no
// session is ever made without one. Any other Checkout (a stand-in, a
// wrapper that does not say) has its creates claimed first, as the other
// operations are.
func (p *Pipeline) claimsCreateKeys() bool {
	c, ok := p.Checkout.(createClaimer)
	return ok && c.ClaimsCreateKeys()
}

// runUpdate runs an update before its key is claimed, on the session as
// the store remembers it, and claims the key with the session's guarded
// UPDATE, the answer stored with both (one statement on PostgreSQL, issue
// 17; checkout.UpdateClaimingStore). ok is false when the answer was not
// stored that way, and then nothing was written: the store did not
// remember the session, the update refused (its refusal is stored under
// the key the ordinary way), the key was held, or the session had moved
// since it was remembered (another call, another replica). The caller
// then runs the update the ordinary way, claiming the key first: a held
// key answers what it holds (the stored answer, a conflict, in flight),
// and a free one runs the update again on the session as read with the
// claim. So an update answers exactly what it answered before; the
// speculative run only costs its work when it does not write. That work
// has no effect outside the session (checkout.claimable: no Shopify
// draft order is touched), so a concurrent duplicate that runs it
// meanwhile loses nothing but CPU.
func (p *Pipeline) runUpdate(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte, scope idempotency.Scope, key string) (Result, bool) {
	pend, err := p.Idempotency.Prepare(scope, key, v, body)
	if err != nil || pend == nil {
		return Result{}, false // Begin refuses, or the call is not tracked
	}
	actx, ans := withAnswer(ctx, v, req.Operation, nil)
	ans.Claim = pend
	res := p.call(actx, ag, v, req, body)
	return p.storedAnswer(ctx, ans, nil, res)
}

// updateClaimer is a Checkout whose Update may claim the caller's key with
// the session's write (checkout.Sessions over an UpdateClaimingStore).
type updateClaimer interface {
	ClaimsUpdateKey(shopID int64, id string) bool
}

// claimsUpdateKey reports whether an update of the session may run before
// its key is claimed (runUpdate). Any other Checkout has its updates
// claimed first.
func (p *Pipeline) claimsUpdateKey(shopID int64, id string) bool {
	c, ok := p.Checkout.(updateClaimer)
	return ok && c.ClaimsUpdateKey(shopID, id)
}

// runComplete runs a complete before its key is claimed, on the session
// as the store remembers it, and claims the key, in flight, with the
// write that begins the payment (one statement on PostgreSQL, issue 17;
// checkout.CompleteClaimingStore). From that write on, the call holds the
// key as runHolding's does: the answer is stored with the completion's
// record, or the claim is settled with the result. ok is false when the
// write did not claim, and then nothing was written and nothing charged:
// the store did not remember the session, the session was not one a
// payment begins on at once, the request was refused, the key was held,
// or the session had moved. The caller then runs the complete the
// ordinary way, claiming the key first, so it answers exactly what it
// answered before; the speculative run only costs its work (the live
// price check reads Shopify) when it does not write.
func (p *Pipeline) runComplete(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte, scope idempotency.Scope, key string) (Result, bool) {
	pend, err := p.Idempotency.PrepareHeld(scope, key, v, body)
	if err != nil || pend == nil {
		return Result{}, false // Begin refuses, or the call is not tracked
	}
	actx, ans := withAnswer(ctx, v, req.Operation, nil)
	var claim *idempotency.Claim
	ans.Claim = pend
	ans.Claimed = func(record int64) { claim = p.Idempotency.Adopt(record) }
	done := false
	defer func() {
		if !done && claim != nil { // a panic once the key is held
			p.releaseAfterPanic(ctx, claim, recover())
		}
	}()
	res := p.call(actx, ag, v, req, body)
	done = true
	if claim == nil {
		return Result{}, false
	}
	if stored, ok := p.storedAnswer(ctx, ans, claim, res); ok {
		return stored, true
	}
	fctx, cancel := finishContext(ctx)
	defer cancel()
	return p.settle(fctx, claim, res), true
}

// completeClaimer is a Checkout whose Complete may claim the caller's key
// with the write that begins the payment (checkout.Sessions over a
// CompleteClaimingStore).
type completeClaimer interface {
	ClaimsCompleteKey(shopID int64, id string) bool
}

// claimsCompleteKey reports whether a complete of the session may run
// before its key is claimed (runComplete). Any other Checkout has its
// completes claimed first.
func (p *Pipeline) claimsCompleteKey(shopID int64, id string) bool {
	c, ok := p.Checkout.(completeClaimer)
	return ok && c.ClaimsCompleteKey(shopID, id)
}

// runHolding runs the call holding claim, and settles the claim with its
// result.
func (p *Pipeline) runHolding(ctx context.Context, ag *app.Agent, v acp.Version, req Request, body []byte, claim *idempotency.Claim) Result {
	done := false
	defer func() {
		if !done { // a panic (or Goexit)
			p.releaseAfterPanic(ctx, claim, recover())
		}
	}()
	ctx, ans := withAnswer(ctx, v, req.Operation, claim)
	res := p.call(ctx, ag, v, req, body)
	done = true
	if stored, ok := p.storedAnswer(ctx, ans, claim, res); ok {
		return stored
	}
	fctx, cancel := finishContext(ctx)
	defer cancel()
	return p.settle(fctx, claim, res)
}

// releaseAfterPanic releases the key of a call that ended without a
// result (r: what it panicked with, nil for a Goexit), then re-raises the
// panic for the transport's recovery.
func (p *Pipeline) releaseAfterPanic(ctx context.Context, claim *idempotency.Claim, r any) {
	fctx, cancel := finishContext(ctx)
	defer cancel()
	if err := claim.Release(fctx); err != nil {
		p.logger().ErrorContext(fctx, "idempotency release after panic", "err", err)
	}
	if r != nil {
		panic(r)
	}
}

// settle stores res in claim's record, or releases the claim when res is
// a server failure, which is not stored; the answer is res either way.
func (p *Pipeline) settle(fctx context.Context, claim *idempotency.Claim, res Result) Result {
	stored := idempotency.StoredResult{Outcome: res.Outcome, Session: res.Session}
	if res.Err != nil {
		refusal, ok := idempotency.RefusalOf(res.Err)
		if !ok {
			if err := claim.Release(fctx); err != nil {
				p.logger().ErrorContext(fctx, "idempotency release", "err", err)
			}
			return res
		}
		stored.Refusal = refusal
	}
	if err := claim.Finish(fctx, stored); err != nil {
		// The answer stands; only its record failed. The key stays in
		// flight until its lease lapses (or was taken over already).
		p.logger().ErrorContext(fctx, "idempotency finish", "err", err, "outcome", stored.Outcome)
	}
	return res
}

// finishContext outlives the call's cancellation: the claim must be
// settled even when the caller hung up.
func finishContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), idempotencyFinishTimeout)
}

// withAnswer asks the operations that end in one session write (create,
// update, cancel; complete when its completion's record is its last word)
// to store the call's answer in the claim's record with that write
// (checkout.Answer): one statement instead of two on PostgreSQL. The
// answer is the session as written, encoded as call encodes it. A nil
// claim is a create's, whose key is claimed by that write
// (checkout.Answer.Claim, which the caller sets).
func withAnswer(ctx context.Context, v acp.Version, op Operation, claim *idempotency.Claim) (context.Context, *checkout.Answer) {
	outcome := idempotency.OutcomeReturned
	switch op {
	case OpCreate:
		outcome = idempotency.OutcomeCreated
	case OpUpdate, OpCancel, OpComplete:
	default:
		return ctx, nil
	}
	var record int64
	if claim != nil {
		record = claim.ID()
	}
	ans := &checkout.Answer{Record: record, Outcome: string(outcome),
		Encode: func(cs *checkout.Session) ([]byte, error) { return encodeSession(v, cs, notesFrom(ctx)) }}
	return checkout.WithAnswer(ctx, ans), ans
}

// storedAnswer is the call's result when its answer was stored with the
// session: the claim is settled, and the answer is the one stored, which
// replays (ok false: it was not, and the claim is the caller's to finish
// or release). claim is nil when the write made it (a create).
func (p *Pipeline) storedAnswer(ctx context.Context, ans *checkout.Answer, claim *idempotency.Claim, res Result) (Result, bool) {
	if ans == nil {
		return Result{}, false
	}
	b, ok := ans.Written()
	if !ok {
		return Result{}, false
	}
	if claim != nil {
		claim.Stored()
	}
	if res.Err != nil || !bytes.Equal(res.Session, b) {
		// Not expected: the operation returns the session it wrote.
		p.logger().ErrorContext(ctx, "idempotency: the answer stored with the session differs from the call's; answering the stored one",
			"err", res.Err)
	}
	return Result{Version: res.Version, Outcome: idempotency.Outcome(ans.Outcome), Session: b}, true
}

// writtenAnswer is the session's encoding stored with it as the call's
// answer, or nil: the same bytes, not encoded twice.
func writtenAnswer(ctx context.Context) []byte {
	if a := checkout.AnswerFrom(ctx); a != nil {
		if b, ok := a.Written(); ok {
			return b
		}
	}
	return nil
}
