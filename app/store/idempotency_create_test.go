package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// claimingAnswer is the answer of a create that claims its key with the
// session (acpapi's runCreate).
func claimingAnswer(p *idempotency.Pending, body []byte) checkout.AnswerRecord {
	return checkout.AnswerRecord{Outcome: string(idempotency.OutcomeCreated), Body: body, Claim: p}
}

// sessionCount is how many sessions the shop has.
func sessionCount(t *testing.T, st *store.Store, shopID int64) int {
	t.Helper()
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM checkout_sessions WHERE shop_id = %d", shopID)
	if err := st.DB().QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCreateClaimsKeyWithSession: a create's key is claimed by the
// session's INSERT, the record completed with the answer; a key already
// held (completed, or in flight) writes nothing and says so, and Begin
// then answers as for any retry (the stored answer, in flight, or a
// conflict for another body); a stale holder is dropped and the key
// claimed; a failed session INSERT claims nothing; another store's claim
// is not made.
func TestCreateClaimsKeyWithSession(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		clock := now
		keys := idempotency.New(st, idempotency.Options{Now: func() time.Time { return clock }})
		scope := idemScope(sh.ID, idempotency.OpCreateSession, "")
		body := []byte(`{"line_items":[{"id":"42","quantity":2}]}`)
		answer := []byte(`{"id":"cs_1","status":"ready_for_payment"}`)
		create := func(key, sessionID string, reqBody []byte) (bool, error) {
			t.Helper()
			p, err := keys.Prepare(scope, key, acp.V20260417, reqBody)
			if err != nil {
				t.Fatal(err)
			}
			return st.CreateCheckoutSessionClaiming(ctx, newSession(sessionID, sh.ID, now), claimingAnswer(p, answer))
		}
		exists := func(id string) bool {
			t.Helper()
			_, err := st.CheckoutSession(ctx, sh.ID, id)
			if err != nil && !errors.Is(err, app.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}

		// A new key: the session, and the record completed with the answer.
		if claimed, err := create("k1", "cs_1", body); err != nil || !claimed || !exists("cs_1") {
			t.Fatalf("new key: claimed %v, %v, session written %v", claimed, err, exists("cs_1"))
		}
		rec, err := st.IdempotencyRecord(ctx, scope, "k1")
		if err != nil || rec.ID == 0 || rec.State != idempotency.Completed || rec.Result == nil ||
			rec.Result.Outcome != idempotency.OutcomeCreated || !bytes.Equal(rec.Result.Session, answer) ||
			rec.Result.Refusal != nil || rec.APIVersion != string(acp.V20260417) || !rec.ExpiresAt.Equal(now.Add(idempotency.DefaultTTL)) {
			t.Fatalf("record = %+v, %v; want completed with the answer", rec, err)
		}
		// Begin replays it as any stored answer.
		if replay, claim, err := keys.Begin(ctx, scope, "k1", acp.V20260417, body); err != nil || claim != nil ||
			replay == nil || !bytes.Equal(replay.Session, answer) {
			t.Fatalf("retry = %+v, %v, %v; want the stored answer", replay, claim, err)
		}

		// The key held, completed: nothing written; Begin answers.
		if claimed, err := create("k1", "cs_2", body); err != nil || claimed || exists("cs_2") {
			t.Fatalf("completed key: claimed %v, %v, session written %v", claimed, err, exists("cs_2"))
		}
		// Another body under it: held too, and Begin's answer is a conflict.
		other := []byte(`{"line_items":[{"id":"42","quantity":3}]}`)
		if claimed, err := create("k1", "cs_3", other); err != nil || claimed || exists("cs_3") {
			t.Fatalf("other body: claimed %v, %v, session written %v", claimed, err, exists("cs_3"))
		}
		if _, _, err := keys.Begin(ctx, scope, "k1", acp.V20260417, other); idemReason(err) != idempotency.ReasonIdempotencyConflict {
			t.Fatalf("other body: Begin = %v, want %s", err, idempotency.ReasonIdempotencyConflict)
		}
		if after, _ := st.IdempotencyRecord(ctx, scope, "k1"); after.ID != rec.ID || !bytes.Equal(after.Result.Session, answer) {
			t.Fatalf("record after the held claims = %+v, want unchanged", after)
		}

		// The key held in flight (a claim made before its call ran).
		if _, claimed := claim(t, st, idemRecord(scope, "k2", idempotency.CanonicalJSONHash(body), now), now); !claimed {
			t.Fatal("in-flight claim not made")
		}
		if claimed, err := create("k2", "cs_4", body); err != nil || claimed || exists("cs_4") {
			t.Fatalf("in-flight key: claimed %v, %v, session written %v", claimed, err, exists("cs_4"))
		}
		if _, _, err := keys.Begin(ctx, scope, "k2", acp.V20260417, body); idemReason(err) != idempotency.ReasonIdempotencyInFlight {
			t.Fatalf("in-flight key: Begin = %v, want %s", err, idempotency.ReasonIdempotencyInFlight)
		}

		// Stale holders are dropped: the expired k1, the lapsed k2.
		clock = now.Add(idempotency.DefaultTTL)
		for _, tc := range []struct{ key, session string }{{"k1", "cs_5"}, {"k2", "cs_6"}} {
			if claimed, err := create(tc.key, tc.session, body); err != nil || !claimed || !exists(tc.session) {
				t.Fatalf("stale %s: claimed %v, %v", tc.key, claimed, err)
			}
			if r, err := st.IdempotencyRecord(ctx, scope, tc.key); err != nil || r.State != idempotency.Completed ||
				!r.CreatedAt.Equal(clock) || !bytes.Equal(r.Result.Session, answer) {
				t.Fatalf("stale %s: record = %+v, %v; want the new one", tc.key, r, err)
			}
		}

		// A session INSERT that fails (its id exists) claims nothing.
		if _, err := create("k3", "cs_1", body); err == nil {
			t.Fatal("a second session cs_1 was created")
		}
		if r, err := st.IdempotencyRecord(ctx, scope, "k3"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("record after a failed create = %+v, %v; want none", r, err)
		}

		// Another store's claim is not this store's to make.
		p, err := idempotency.New(storetest.Open(t, st.Kind()), idempotency.Options{}).Prepare(scope, "k4", acp.V20260417, body)
		if err != nil {
			t.Fatal(err)
		}
		if claimed, err := st.CreateCheckoutSessionClaiming(ctx, newSession("cs_7", sh.ID, now), claimingAnswer(p, answer)); err != nil || claimed || exists("cs_7") {
			t.Fatalf("another store's claim: claimed %v, %v, session written %v", claimed, err, exists("cs_7"))
		}
	})
}

// TestCreateClaimIsAtomic races creates of one key and body, each with
// its own session: exactly one claims the key and writes its session;
// the others write nothing. On PostgreSQL from two stores (two pools, as
// two replicas have), on SQLite from one.
func TestCreateClaimIsAtomic(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			stores := replicaStores(t, kind)
			ctx := context.Background()
			sh, _ := stores[0].SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
			scope := idemScope(sh.ID, idempotency.OpCreateSession, "")
			body := []byte(`{"line_items":[]}`)
			now := time.Now().UTC().Truncate(time.Microsecond)
			for round := range 5 {
				key := fmt.Sprintf("k%d", round)
				var wins atomic.Int32
				var wg sync.WaitGroup
				for i := range 16 {
					wg.Go(func() {
						st := stores[i%len(stores)]
						p, err := idempotency.New(st, idempotency.Options{}).Prepare(scope, key, acp.V20260417, body)
						if err != nil {
							t.Error(err)
							return
						}
						id := fmt.Sprintf("cs_%d_%d", round, i)
						claimed, err := st.CreateCheckoutSessionClaiming(ctx, newSession(id, sh.ID, now), claimingAnswer(p, []byte(id)))
						if err != nil {
							t.Errorf("create %s: %v", id, err)
						}
						if claimed {
							wins.Add(1)
						}
					})
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("round %d: %d creates claimed the key, want exactly 1", round, wins.Load())
				}
				if n := sessionCount(t, stores[0], sh.ID); n != round+1 {
					t.Fatalf("round %d: %d sessions, want %d", round, n, round+1)
				}
				rec, err := stores[0].IdempotencyRecord(ctx, scope, key)
				if err != nil {
					t.Fatal(err)
				}
				// The answer stored is the winner's: its session is the one written.
				if _, err := stores[0].CheckoutSession(ctx, sh.ID, string(rec.Result.Session)); err != nil {
					t.Fatalf("round %d: the stored answer names %q: %v", round, rec.Result.Session, err)
				}
			}
		})
	}
}

// TestCreateStatements: on PostgreSQL a create that claims its key with
// its session is one statement (the ids its records take are reserved
// 64 at a time: one statement more per 64 creates), where the claim and
// then the session with the answer were two.
func TestCreateStatements(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, app.DatabasePostgres)
	ctx := context.Background()
	sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
	keys := idempotency.New(st, idempotency.Options{})
	scope := idemScope(sh.ID, idempotency.OpCreateSession, "")
	body := []byte(`{"line_items":[]}`)
	now := time.Now().UTC().Truncate(time.Microsecond)
	n := store.CountStatements(st)
	// Each way once first: the store's first claim reads whether records
	// of migration 00014 remain, and the first create reserves ids.
	const creates = 40
	for i := range creates + 1 {
		p, err := keys.Prepare(scope, fmt.Sprintf("new-%d", i), acp.V20260417, body)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			n.Store(0)
		}
		if claimed, err := st.CreateCheckoutSessionClaiming(ctx, newSession(fmt.Sprintf("cs_new_%d", i), sh.ID, now), claimingAnswer(p, body)); err != nil || !claimed {
			t.Fatalf("create %d: claimed %v, %v", i, claimed, err)
		}
	}
	if got := n.Load(); got != creates {
		t.Errorf("%d creates claiming with the session: %d statements, want %d", creates, got, creates)
	}

	n.Store(0)
	for i := range creates {
		held, claimed, err := st.ClaimIdempotencyKey(ctx, idemRecord(scope, fmt.Sprintf("old-%d", i), "h", now), now)
		if err != nil || !claimed {
			t.Fatalf("claim %d: %v, %v", i, claimed, err)
		}
		if _, err := st.CreateCheckoutSessionAnswered(ctx, newSession(fmt.Sprintf("cs_old_%d", i), sh.ID, now),
			checkout.AnswerRecord{Record: held.ID, Outcome: "created", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 2*creates {
		t.Errorf("%d creates claiming first: %d statements, want %d", creates, got, 2*creates)
	}
}

// idemReason is the Reason of an *app.Error ("" for any other error).
func idemReason(err error) string {
	var ae *app.Error
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return ""
}
