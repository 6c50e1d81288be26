package acpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// scriptedCreate runs around, when set, instead of the next Create (which
// it may call through with next).
type scriptedCreate struct {
	acpapi.Checkout
	mu     sync.Mutex
	around func(next func() (*checkout.Session, error)) (*checkout.Session, error)
	calls  int
}

// ClaimsCreateKeys says what the wrapped Checkout says: without it, the
// pipeline claims a create's key first.
func (s *scriptedCreate) ClaimsCreateKeys() bool {
	c, ok := s.Checkout.(interface{ ClaimsCreateKeys() bool })
	return ok && c.ClaimsCreateKeys()
}

func (s *scriptedCreate) Create(ctx context.Context, ag *app.Agent, v acp.Version, in *acp.CreateSessionInput) (*checkout.Session, error) {
	s.mu.Lock()
	f := s.around
	s.around = nil
	s.calls++
	s.mu.Unlock()
	next := func() (*checkout.Session, error) { return s.Checkout.Create(ctx, ag, v, in) }
	if f != nil {
		return f(next)
	}
	return next()
}

// TestCreateClaimsWithSession: a create runs first and claims its key
// with its session (the record written completed: nothing in flight); a
// retry whose own run fails, or would answer otherwise, answers what the
// key holds (replayed, byte for byte); a refusal is stored and replays;
// other body or version under the key: idempotency_conflict; a key
// that was held when the create wrote and is free after runs the create
// again, holding it; racing creates of one key and body make one session
// and all answer it, byte for byte (or in flight).
func TestCreateClaimsWithSession(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			svc, _, item := startApp(t, kind)
			ctx := context.Background()
			st := svc.Store()
			sh, apiKey, key := shopAgent(t, svc, "agent")
			if !svc.Checkout().ClaimsCreateKeys() {
				t.Fatal("the app's checkout does not claim a create's key with its session")
			}
			co := &scriptedCreate{Checkout: svc.Checkout()}
			p := &acpapi.Pipeline{Checkout: co, Agents: svc.Agents(), Idempotency: &idempotency.Keys{Store: st}}
			call := func(v acp.Version, idemKey string, body any) acpapi.Result {
				b, err := json.Marshal(body)
				if err != nil {
					t.Error(err)
				}
				return p.Run(ctx, acpapi.Request{
					Shop: testShop, Operation: acpapi.OpCreate, APIVersion: string(v),
					Authorization: "Bearer " + apiKey, IdempotencyKeys: []string{idemKey}, Body: b,
					Binding: agentsBinding(acpapi.OpCreate, "", idemKey),
				})
			}
			scope := idempotency.Scope{ShopID: sh.ID, APIKeyID: key.ID, Operation: idempotency.OpCreateSession}
			sessions := func() int {
				t.Helper()
				var n int
				q := fmt.Sprintf("SELECT count(*) FROM checkout_sessions WHERE shop_id = %d", sh.ID)
				if err := st.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			same := func(what string, got, want acpapi.Result) {
				t.Helper()
				if !got.Replayed || got.Outcome != want.Outcome || !bytes.Equal(got.Session, want.Session) ||
					(got.Err == nil) != (want.Err == nil) || want.Err != nil && got.Err.Error() != want.Err.Error() {
					t.Fatalf("%s = replayed %v, %s, %v\n%s\nwant %s, %v\n%s", what, got.Replayed, got.Outcome, got.Err, got.Session,
						want.Outcome, want.Err, want.Session)
				}
			}
			body := map[string]any{"line_items": []any{map[string]any{"id": item.ID, "quantity": 1}}, "currency": "usd",
				"capabilities": map[string]any{}, "buyer": map[string]any{"first_name": "Ada", "email": "ada@example.com"}}

			first := call(acp.V20260417, "c1", body)
			if first.Err != nil || first.Outcome != idempotency.OutcomeCreated || first.Replayed {
				t.Fatalf("create = %s, %v", first.Outcome, first.Err)
			}
			if rec, err := st.IdempotencyRecord(ctx, scope, "c1"); err != nil || rec.State != idempotency.Completed ||
				!bytes.Equal(rec.Result.Session, first.Session) || rec.LeaseUntil.After(rec.CreatedAt) {
				t.Fatalf("record = %+v, %v; want inserted completed with the answer", rec, err)
			}
			if n := sessions(); n != 1 {
				t.Fatalf("%d sessions, want 1", n)
			}

			// A retry answers the stored answer, whatever its own run says.
			for _, run := range []struct {
				name string
				err  error
			}{
				{"succeeds", nil},
				{"is refused", &app.Error{Code: app.CodeForbidden, Reason: "merchant_plan_limit_reached", Message: "over the plan"}},
				{"fails", errors.New("shopify is down")},
			} {
				co.around = func(next func() (*checkout.Session, error)) (*checkout.Session, error) {
					if run.err != nil {
						return nil, run.err
					}
					return next()
				}
				same("a retry that "+run.name, call(acp.V20260417, "c1", body), first)
				if n := sessions(); n != 1 {
					t.Fatalf("a retry that %s: %d sessions, want 1", run.name, n)
				}
			}
			other := map[string]any{"line_items": []any{map[string]any{"id": item.ID, "quantity": 2}}, "currency": "usd", "capabilities": map[string]any{}}
			if res := call(acp.V20260417, "c1", other); idemReason(res.Err) != idempotency.ReasonIdempotencyConflict {
				t.Fatalf("same key, other body = %v, want %s", res.Err, idempotency.ReasonIdempotencyConflict)
			}
			if res := call(acp.V20250929, "c1", body); idemReason(res.Err) != idempotency.ReasonIdempotencyConflict {
				t.Fatalf("same key, other version = %v, want %s", res.Err, idempotency.ReasonIdempotencyConflict)
			}

			// A refusal is stored (the key claimed with it) and replays.
			bad := map[string]any{"line_items": []any{map[string]any{"id": "999999999", "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{}}
			refused := call(acp.V20260417, "c2", bad)
			if refused.Outcome != idempotency.OutcomeRefused || refused.Err == nil {
				t.Fatalf("create of an unknown item = %s, %v; want a refusal", refused.Outcome, refused.Err)
			}
			same("a retry of a refusal", call(acp.V20260417, "c2", bad), refused)

			// A server failure is not stored: the retry runs.
			co.around = func(func() (*checkout.Session, error)) (*checkout.Session, error) {
				return nil, errors.New("shopify is down")
			}
			if res := call(acp.V20260417, "c3", body); res.Err == nil || isRefusal(res.Err) {
				t.Fatalf("failed create = %v, want the server failure", res.Err)
			}
			if res := call(acp.V20260417, "c3", body); res.Err != nil || res.Replayed || res.Outcome != idempotency.OutcomeCreated {
				t.Fatalf("retry of a failed create = replayed %v, %v", res.Replayed, res.Err)
			}

			// Held in flight when the create wrote, free after: run again holding the key.
			co.around = func(next func() (*checkout.Session, error)) (*checkout.Session, error) {
				now := time.Now().UTC()
				rec := idempotency.Record{Scope: scope, Key: "c4", APIVersion: string(acp.V20260417), RequestHash: "h",
					State: idempotency.InFlight, LeaseUntil: now.Add(time.Minute), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				held, claimed, err := st.ClaimIdempotencyKey(ctx, rec, now)
				if err != nil || !claimed {
					t.Errorf("claim c4: %v, %v", claimed, err)
				}
				cs, err := next()
				if !errors.Is(err, checkout.ErrNotClaimed) {
					t.Errorf("create under a held key = %v, want ErrNotClaimed", err)
				}
				if err := st.ReleaseIdempotencyKey(ctx, held.ID); err != nil {
					t.Error(err)
				}
				return cs, err
			}
			before, calls := sessions(), co.calls
			again := call(acp.V20260417, "c4", body)
			if again.Err != nil || again.Replayed || again.Outcome != idempotency.OutcomeCreated || co.calls != calls+2 || sessions() != before+1 {
				t.Fatalf("create after the key was freed = %s, %v, replayed %v, %d runs, %d sessions more",
					again.Outcome, again.Err, again.Replayed, co.calls-calls, sessions()-before)
			}
			same("its retry", call(acp.V20260417, "c4", body), again)

			// Racing creates of one key and body.
			before = sessions()
			results := make([]acpapi.Result, 8)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() { results[i] = call(acp.V20260417, "race", body) })
			}
			wg.Wait()
			if n := sessions(); n != before+1 {
				t.Fatalf("racing creates made %d sessions, want 1", n-before)
			}
			rec, err := st.IdempotencyRecord(ctx, scope, "race")
			if err != nil || rec.State != idempotency.Completed {
				t.Fatalf("record = %+v, %v", rec, err)
			}
			fresh := 0
			for i, res := range results {
				switch {
				case idemReason(res.Err) == idempotency.ReasonIdempotencyInFlight:
				case res.Err != nil || res.Outcome != idempotency.OutcomeCreated || !bytes.Equal(res.Session, rec.Result.Session):
					t.Errorf("racer %d = %s, %v\n%s\nwant the stored answer\n%s", i, res.Outcome, res.Err, res.Session, rec.Result.Session)
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

func isRefusal(err error) bool {
	_, ok := idempotency.RefusalOf(err)
	return ok
}
