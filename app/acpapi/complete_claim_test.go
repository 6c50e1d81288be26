package acpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// claimWatch is the service's Checkout, still claiming completes with
// their beginning, that counts the completes run before their key was
// claimed and the claims their beginnings made.
type claimWatch struct {
	*checkout.Sessions
	mu                  sync.Mutex
	speculative, claims int
	panicAfterClaim     bool // the next claim's call panics right after it
}

func (w *claimWatch) Complete(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.CompleteSessionInput) (*checkout.Session, error) {
	if a := checkout.AnswerFrom(ctx); a != nil && a.Claim != nil {
		w.mu.Lock()
		w.speculative++
		w.mu.Unlock()
		claimed := a.Claimed
		a.Claimed = func(record int64) {
			w.mu.Lock()
			w.claims++
			boom := w.panicAfterClaim
			w.panicAfterClaim = false
			w.mu.Unlock()
			claimed(record)
			if boom {
				panic("a bug after the claim")
			}
		}
	}
	return w.Sessions.Complete(ctx, ag, v, id, in)
}

// counts returns and resets the counts.
func (w *claimWatch) counts() (speculative, claims int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	speculative, claims = w.speculative, w.claims
	w.speculative, w.claims = 0, 0
	return speculative, claims
}

// TestCompleteClaimsWithBegin: on PostgreSQL a complete of a session this
// replica remembers claims its key with the write that begins the payment
// and charges once, its answer stored with the completion's record and
// replayed byte for byte; the key with another body is a conflict. What a
// payment does not begin on at once (a declined token's next attempt
// aside: a session completed, a refused request, a session moved behind
// the memory's back) goes the ordinary way, with one record and the
// ordinary answer. Racing completes of one key and body charge once and
// all answer the stored answer (or in flight). SQLite never runs a
// complete before its claim.
func TestCompleteClaimsWithBegin(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			svc, stripe, item := startApp(t, kind)
			ctx := context.Background()
			st := svc.Store()
			sh, apiKey, key := payingAgent(t, svc, stripe, "agent")
			watch := &claimWatch{Sessions: svc.Checkout()}
			p := &acpapi.Pipeline{Checkout: watch, Agents: svc.Agents(), Idempotency: &idempotency.Keys{Store: st}}
			call := caller(t, p, apiKey)
			newSession := func(n int) string {
				t.Helper()
				res := call(acpapi.OpCreate, "", fmt.Sprintf("create-%d", n), readyBody(item))
				var s struct{ ID, Status string }
				if err := json.Unmarshal(res.Session, &s); res.Err != nil || err != nil || s.Status != "ready_for_payment" {
					t.Fatalf("create: %v, %v, %s", res.Err, err, s.Status)
				}
				return s.ID
			}
			pay := func(kind string) map[string]any { return payBody(stripe, kind) }
			record := func(sessionID, idemKey string) *idempotency.Record {
				t.Helper()
				rec, err := st.IdempotencyRecord(ctx, idempotency.Scope{ShopID: sh.ID, APIKeyID: key.ID,
					Operation: idempotency.OpCompleteSession, SessionID: sessionID}, idemKey)
				if err != nil {
					t.Fatalf("record %s %s: %v", sessionID, idemKey, err)
				}
				return rec
			}
			intents := func() int { return len(stripe.Intents(stripeAccount)) }
			// want checks a complete's answer, its stored record, and how
			// it ran: claimed with its beginning, or the ordinary way (a
			// speculative run first where the store claims completes).
			pg := kind == app.DatabasePostgres
			want := func(what string, res acpapi.Result, sessionID, idemKey, status string, withBegin bool) {
				t.Helper()
				spec, claims := watch.counts()
				wantSpec, wantClaims := 0, 0
				if pg {
					wantSpec = 1
					if withBegin {
						wantClaims = 1
					}
				}
				if spec != wantSpec || claims != wantClaims {
					t.Fatalf("%s: %d speculative runs, %d claims with the beginning; want %d, %d", what, spec, claims, wantSpec, wantClaims)
				}
				var s struct{ Status string }
				if res.Err != nil || json.Unmarshal(res.Session, &s) != nil || s.Status != status {
					t.Fatalf("%s = %v, %s\n%s", what, res.Err, s.Status, res.Session)
				}
				if rec := record(sessionID, idemKey); rec.State != idempotency.Completed || !bytes.Equal(rec.Result.Session, res.Session) {
					t.Fatalf("%s: record %s, the answer stored %v", what, rec.State, rec.Result != nil && bytes.Equal(rec.Result.Session, res.Session))
				}
				again := call(acpapi.OpComplete, sessionID, idemKey, map[string]any{"x": 1})
				if idemReason(again.Err) != idempotency.ReasonIdempotencyConflict {
					t.Fatalf("%s: same key, other body = %v; want a conflict", what, again.Err)
				}
				watch.counts()
			}

			// A purchase: one charge, the answer stored and replayed.
			a := newSession(1)
			before := intents()
			body := pay(stripeemu.KindApprove)
			res := call(acpapi.OpComplete, a, "c1", body)
			want("purchase", res, a, "c1", "completed", true)
			if n := intents() - before; n != 1 {
				t.Fatalf("purchase: %d payment intents, want 1", n)
			}
			again := call(acpapi.OpComplete, a, "c1", body)
			if !again.Replayed || !bytes.Equal(again.Session, res.Session) || intents()-before != 1 {
				t.Fatalf("retry: replayed %v, same answer %v, %d intents", again.Replayed, bytes.Equal(again.Session, res.Session), intents()-before)
			}
			// (The session is remembered: a speculative run finds it
			// completed, and claims nothing.)
			if spec, claims := watch.counts(); claims != 0 || pg != (spec == 1) {
				t.Fatalf("a replay: %d speculative runs, %d claims", spec, claims)
			}
			// A completed session: nothing begins, the ordinary way.
			want("complete of a completed session", call(acpapi.OpComplete, a, "c2", pay(stripeemu.KindApprove)), a, "c2", "completed", false)

			// A declined card: claimed with the beginning, the decline
			// answered and stored; the next attempt with a good card too.
			b := newSession(2)
			want("declined", call(acpapi.OpComplete, b, "d1", pay(stripeemu.KindDecline)), b, "d1", "ready_for_payment", true)
			want("after a decline", call(acpapi.OpComplete, b, "d2", pay(stripeemu.KindApprove)), b, "d2", "completed", true)

			// A refused request (a handler the session does not offer) is
			// the ordinary path's.
			c := newSession(3)
			bogus := pay(stripeemu.KindApprove)
			bogus["payment_data"].(map[string]any)["handler_id"] = "no_such_handler"
			refused := call(acpapi.OpComplete, c, "r1", bogus)
			spec, claims := watch.counts()
			if refused.Err == nil || refused.Outcome != idempotency.OutcomeRefused || claims != 0 || pg != (spec == 1) {
				t.Fatalf("refused = %s, %v; %d speculative, %d claims", refused.Outcome, refused.Err, spec, claims)
			}
			if rec := record(c, "r1"); rec.State != idempotency.Completed || rec.Result.Refusal == nil {
				t.Fatalf("refusal record %+v", rec)
			}

			// Moved behind the memory's back: the ordinary way, one charge.
			if _, err := st.DB().ExecContext(ctx, fmt.Sprintf(`UPDATE checkout_sessions SET row_version = row_version + 1 WHERE id = '%s'`, c)); err != nil {
				t.Fatal(err)
			}
			before = intents()
			want("moved", call(acpapi.OpComplete, c, "m1", pay(stripeemu.KindApprove)), c, "m1", "completed", false)
			if n := intents() - before; n != 1 {
				t.Fatalf("moved: %d payment intents, want 1", n)
			}

			// A panic once the key is held comes out of Run, and releases
			// the key (a retry is not told it is in flight for a minute).
			if pg {
				e := newSession(5)
				watch.mu.Lock()
				watch.panicAfterClaim = true
				watch.mu.Unlock()
				func() {
					defer func() {
						if pe, ok := recover().(*acpapi.Panic); !ok || pe.IdempotencyKey != "p1" {
							t.Fatalf("the panic came out of Run as %#v", pe)
						}
					}()
					call(acpapi.OpComplete, e, "p1", pay(stripeemu.KindApprove))
				}()
				if _, claims := watch.counts(); claims != 1 {
					t.Fatalf("the panicking complete made %d claims, want 1", claims)
				}
				if _, err := st.IdempotencyRecord(ctx, idempotency.Scope{ShopID: sh.ID, APIKeyID: key.ID,
					Operation: idempotency.OpCompleteSession, SessionID: e}, "p1"); !errors.Is(err, app.ErrNotFound) {
					t.Fatalf("the key after the panic: %v; want released", err)
				}
			}

			// Racing completes of one key and body: one charge, one answer.
			d := newSession(4)
			before = intents()
			body = pay(stripeemu.KindApprove)
			results := make([]acpapi.Result, 8)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() { results[i] = call(acpapi.OpComplete, d, "race", body) })
			}
			wg.Wait()
			watch.counts()
			if n := intents() - before; n != 1 {
				t.Fatalf("racing completes: %d payment intents, want 1", n)
			}
			rec := record(d, "race")
			fresh := 0
			for i, res := range results {
				switch {
				case idemReason(res.Err) == idempotency.ReasonIdempotencyInFlight:
				case res.Err != nil || rec.Result == nil || !bytes.Equal(res.Session, rec.Result.Session):
					t.Errorf("racer %d = %v\n%s\nwant the stored answer", i, res.Err, res.Session)
				case !res.Replayed:
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d racers answered as the first, want 1", fresh)
			}
		})
	}
}
