package acpapi

import (
	"bytes"
	"context"
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
	if req.Operation == OpUpdate || req.Operation == OpCancel || req.Operation == OpComplete {
		// The claim reads the session too, where the store can (one
		// statement on PostgreSQL): the operation's first load takes it.
		ctx = checkout.WithPrefetch(ctx, &checkout.Prefetch{ShopID: ag.Shop.ID, ID: req.SessionID})
	}
	replay, claim, err := p.Idempotency.Begin(ctx, scope, key, v, body)
	switch {
	case err != nil:
		return refused(v, err)
	case replay != nil:
		res := Result{Version: v, Outcome: replay.Outcome, Session: replay.Session, Replayed: true}
		if replay.Refusal != nil {
			res.Err = replay.Refusal.Err()
		}
		return res
	case claim == nil:
		return p.call(ctx, ag, v, req, body) // not tracked (no key, 2025-09-29)
	}

	done := false
	defer func() {
		if done {
			return
		}
		// A panic (or Goexit): release the key, then let the
		// transport's recovery have the panic.
		r := recover()
		fctx, cancel := finishContext(ctx)
		defer cancel()
		if err := claim.Release(fctx); err != nil {
			p.logger().ErrorContext(fctx, "idempotency release after panic", "err", err)
		}
		if r != nil {
			panic(r)
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
// answer is the session as written, encoded as call encodes it.
func withAnswer(ctx context.Context, v acp.Version, op Operation, claim *idempotency.Claim) (context.Context, *checkout.Answer) {
	outcome := idempotency.OutcomeReturned
	switch op {
	case OpCreate:
		outcome = idempotency.OutcomeCreated
	case OpUpdate, OpCancel, OpComplete:
	default:
		return ctx, nil
	}
	ans := &checkout.Answer{Record: claim.ID(), Outcome: string(outcome),
		Encode: func(cs *checkout.Session) ([]byte, error) { return encodeSession(v, cs, notesFrom(ctx)) }}
	return checkout.WithAnswer(ctx, ans), ans
}

// storedAnswer is the call's result when its answer was stored with the
// session: the claim is settled, and the answer is the one stored, which
// replays (ok false: it was not, and the claim is the caller's to finish
// or release).
func (p *Pipeline) storedAnswer(ctx context.Context, ans *checkout.Answer, claim *idempotency.Claim, res Result) (Result, bool) {
	if ans == nil {
		return Result{}, false
	}
	b, ok := ans.Written()
	if !ok {
		return Result{}, false
	}
	claim.Stored()
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
