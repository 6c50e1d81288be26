package acpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// racingCheckout runs before, once, at the start of the next Update: a
// concurrent write between the session read that the claim made (on
// PostgreSQL) and the update's own write.
type racingCheckout struct {
	acpapi.Checkout
	before func()
}

func (r *racingCheckout) Update(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.UpdateSessionInput) (*checkout.Session, error) {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	return r.Checkout.Update(ctx, ag, v, id, in)
}

// TestAnswerStoredWithSession: create, update and cancel store their
// answer with the session's write, and every answer — those, a refusal
// stored apart — is what a retry with the same key replays, byte for
// byte. An update that loses its first write to a concurrent one (its
// session was read with the claim) answers, and stores, the session as
// finally written, with both changes.
func TestAnswerStoredWithSession(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			svc, _, item := startApp(t, kind)
			ctx := context.Background()
			st := svc.Store()
			sh, apiKey, key := shopAgent(t, svc, "agent")
			racing := &racingCheckout{Checkout: svc.Checkout()}
			p := &acpapi.Pipeline{Checkout: racing, Agents: svc.Agents(), Idempotency: &idempotency.Keys{Store: st}}
			call := caller(t, p, apiKey)
			// replays checks that the key's record holds res and that a
			// retry answers it again without running.
			replays := func(what string, op acpapi.Operation, sessionID, idemKey string, body any, res acpapi.Result) {
				t.Helper()
				rec, err := st.IdempotencyRecord(ctx, idempotency.Scope{ShopID: sh.ID, APIKeyID: key.ID,
					Operation: idempotency.Operation(op), SessionID: sessionID}, idemKey)
				if err != nil || rec.State != idempotency.Completed || rec.Result.Outcome != res.Outcome ||
					!bytes.Equal(rec.Result.Session, res.Session) {
					t.Fatalf("%s: record %+v, %v; want completed with the answer (%s)", what, rec, err, res.Outcome)
				}
				again := call(op, sessionID, idemKey, body)
				if !again.Replayed || again.Outcome != res.Outcome || !bytes.Equal(again.Session, res.Session) ||
					(again.Err == nil) != (res.Err == nil) || (res.Err != nil && again.Err.Error() != res.Err.Error()) {
					t.Fatalf("%s: retry = replayed %v, %s, %v\n%s\nwant %s, %v\n%s", what, again.Replayed, again.Outcome, again.Err,
						again.Session, res.Outcome, res.Err, res.Session)
				}
			}

			createBody := readyBody(item)
			created := call(acpapi.OpCreate, "", "k1", createBody)
			if created.Err != nil || created.Outcome != idempotency.OutcomeCreated {
				t.Fatalf("create = %s, %v", created.Outcome, created.Err)
			}
			replays("create", acpapi.OpCreate, "", "k1", createBody, created)
			var s struct{ ID string }
			if err := json.Unmarshal(created.Session, &s); err != nil {
				t.Fatal(err)
			}

			racing.before = func() {
				cs, err := st.CheckoutSession(ctx, sh.ID, s.ID)
				if err != nil {
					t.Fatal(err)
				}
				cs.State.Buyer.FirstName = "Grace"
				if err := st.SaveCheckoutSession(ctx, cs); err != nil {
					t.Fatal(err)
				}
			}
			updateBody := map[string]any{"line_items": []any{map[string]any{"id": item.ID, "quantity": 2}}}
			updated := call(acpapi.OpUpdate, s.ID, "k2", updateBody)
			if updated.Err != nil || updated.Outcome != idempotency.OutcomeReturned ||
				!bytes.Contains(updated.Session, []byte(`"first_name":"Grace"`)) || !bytes.Contains(updated.Session, []byte(`"quantity":2`)) {
				t.Fatalf("update = %s, %v; want both the concurrent and the update's changes\n%s", updated.Outcome, updated.Err, updated.Session)
			}
			replays("update", acpapi.OpUpdate, s.ID, "k2", updateBody, updated)
			if res := call(acpapi.OpUpdate, s.ID, "k2", map[string]any{"line_items": []any{map[string]any{"id": item.ID, "quantity": 3}}}); idemReason(res.Err) != idempotency.ReasonIdempotencyConflict {
				t.Fatalf("same key, other body = %v, want %s", res.Err, idempotency.ReasonIdempotencyConflict)
			}

			canceled := call(acpapi.OpCancel, s.ID, "k3", map[string]any{})
			if canceled.Err != nil || !bytes.Contains(canceled.Session, []byte(`"status":"canceled"`)) {
				t.Fatalf("cancel = %v\n%s", canceled.Err, canceled.Session)
			}
			replays("cancel", acpapi.OpCancel, s.ID, "k3", map[string]any{}, canceled)

			// A refusal is stored apart from any session write, and replays too.
			refused := call(acpapi.OpUpdate, s.ID, "k4", updateBody)
			if refused.Outcome != idempotency.OutcomeRefused || app.ErrorCode(refused.Err) != app.CodeConflict {
				t.Fatalf("update of a canceled session = %s, %v; want a conflict refusal", refused.Outcome, refused.Err)
			}
			replays("refusal", acpapi.OpUpdate, s.ID, "k4", updateBody, refused)
		})
	}
}

func idemReason(err error) string {
	if ae, ok := err.(*app.Error); ok {
		return ae.Reason
	}
	return ""
}

// observedCheckout keeps what the last Complete found in its context.
type observedCheckout struct {
	acpapi.Checkout
	prefetch *checkout.Prefetch
	answer   *checkout.Answer
}

func (o *observedCheckout) Complete(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.CompleteSessionInput) (*checkout.Session, error) {
	o.prefetch, o.answer = checkout.PrefetchFrom(ctx), checkout.AnswerFrom(ctx)
	return o.Checkout.Complete(ctx, ag, v, id, in)
}

// TestCompleteAnswerStoredWithRecord: a complete's claim reads its
// session (on PostgreSQL: the complete's first load takes it), and the
// complete that drives the completion stores its answer with the
// completion's record; a complete of a completed session (nothing
// written) has its answer stored apart. Both replay byte for byte.
func TestCompleteAnswerStoredWithRecord(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			svc, stripe, item := startApp(t, kind)
			ctx := context.Background()
			st := svc.Store()
			sh, apiKey, key := payingAgent(t, svc, stripe, "agent")
			obs := &observedCheckout{Checkout: svc.Checkout()}
			p := &acpapi.Pipeline{Checkout: obs, Agents: svc.Agents(), Idempotency: &idempotency.Keys{Store: st}}
			call := caller(t, p, apiKey)
			created := call(acpapi.OpCreate, "", "k1", readyBody(item))
			var s struct{ ID string }
			if err := json.Unmarshal(created.Session, &s); created.Err != nil || err != nil {
				t.Fatal(created.Err, err)
			}
			pay := payBody(stripe, stripeemu.KindApprove)

			for _, tc := range []struct {
				name, key  string
				withRecord bool // the answer is stored with the completion's record
			}{
				{"the completing call", "k2", true},
				{"a call on the completed session", "k3", false},
			} {
				res := call(acpapi.OpComplete, s.ID, tc.key, pay)
				if res.Err != nil || !bytes.Contains(res.Session, []byte(`"status":"completed"`)) {
					t.Fatalf("%s: %v\n%s", tc.name, res.Err, res.Session)
				}
				if obs.prefetch == nil || obs.answer == nil {
					t.Fatalf("%s: the complete was given a prefetch %v, an answer %v", tc.name, obs.prefetch != nil, obs.answer != nil)
				}
				if cs, filled := obs.prefetch.Filled(); filled != (kind == app.DatabasePostgres) || filled && (cs == nil || cs.ID != s.ID) {
					t.Fatalf("%s: prefetch filled %v with %v", tc.name, filled, cs)
				}
				if body, written := obs.answer.Written(); written != tc.withRecord || written && !bytes.Equal(body, res.Session) {
					t.Fatalf("%s: answer written with the record %v, want %v", tc.name, written, tc.withRecord)
				}
				rec, err := st.IdempotencyRecord(ctx, idempotency.Scope{ShopID: sh.ID, APIKeyID: key.ID,
					Operation: idempotency.Operation(acpapi.OpComplete), SessionID: s.ID}, tc.key)
				if err != nil || rec.State != idempotency.Completed || rec.Result.Outcome != idempotency.OutcomeReturned ||
					!bytes.Equal(rec.Result.Session, res.Session) {
					t.Fatalf("%s: record %+v, %v", tc.name, rec, err)
				}
				again := call(acpapi.OpComplete, s.ID, tc.key, pay)
				if !again.Replayed || !bytes.Equal(again.Session, res.Session) {
					t.Fatalf("%s: retry replayed %v, same answer %v", tc.name, again.Replayed, bytes.Equal(again.Session, res.Session))
				}
			}
		})
	}
}
