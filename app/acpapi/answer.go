package acpapi

import (
	"bytes"
	"context"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
)

// withAnswer asks the operations that end in one session write (create,
// update, cancel) to store the call's answer in the claim's record with
// that write (checkout.Answer): one statement instead of two on
// PostgreSQL. The answer is the session as written, encoded as call
// encodes it.
func withAnswer(ctx context.Context, v acp.Version, op Operation, claim *idempotency.Claim) (context.Context, *checkout.Answer) {
	outcome := idempotency.OutcomeReturned
	switch op {
	case OpCreate:
		outcome = idempotency.OutcomeCreated
	case OpUpdate, OpCancel:
	default:
		return ctx, nil
	}
	ans := &checkout.Answer{Record: claim.ID(), Outcome: string(outcome),
		Encode: func(cs *checkout.Session) ([]byte, error) { return acp.EncodeSession(v, cs.View()) }}
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
