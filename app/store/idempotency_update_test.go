package store_test

import (
	"bytes"
	"context"
	"encoding/json"
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

// claimingUpdate is the answer of an update that claims its key with the
// session's write (acpapi's runUpdate).
func claimingUpdate(p *idempotency.Pending, body []byte) checkout.AnswerRecord {
	return checkout.AnswerRecord{Outcome: string(idempotency.OutcomeReturned), Body: body, Claim: p}
}

// keyRecords is how many idempotency records the scope has (any key).
func keyRecords(t *testing.T, st *store.Store, scope idempotency.Scope) int {
	t.Helper()
	var n int
	q := fmt.Sprintf(`SELECT count(*) FROM idempotency_keys WHERE shop_id = %d AND operation = '%s' AND session_id = '%s'`,
		scope.ShopID, scope.Operation, scope.SessionID)
	err := st.DB().QueryRowContext(context.Background(), q).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rawExec runs a statement behind the store's back (as another replica,
// or a job that does not bump the row version, would).
func rawExec(t *testing.T, st *store.Store, q string) {
	t.Helper()
	if _, err := st.DB().ExecContext(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

// TestUpdateClaimsKeyWithSession: an update of a remembered session claims
// its key with the session's guarded write, the record completed with the
// answer; a key already held (completed with the same or another body, or
// in flight) writes nothing, and Begin then answers as for any retry; a
// session changed behind the memory's back (row version, or personal data
// forgotten without a bump) writes nothing, leaves no record, and is
// forgotten; another store's claim is not made.
func TestUpdateClaimsKeyWithSession(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Now().UTC().Truncate(time.Microsecond)
		keys := idempotency.New(st, idempotency.Options{Now: func() time.Time { return now }})
		if err := st.CreateCheckoutSession(ctx, newSession("cs_1", sh.ID, now)); err != nil {
			t.Fatal(err)
		}
		scope := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
		// update changes the remembered session's notes to note and writes
		// it claiming key for reqBody.
		update := func(keys *idempotency.Keys, key string, reqBody []byte, note string) (bool, *checkout.Session, error) {
			t.Helper()
			cs, ok := st.RememberedCheckoutSession(sh.ID, "cs_1")
			if !ok {
				t.Fatal("the session is not remembered")
			}
			p, err := keys.Prepare(scope, key, acp.V20260417, reqBody)
			if err != nil {
				t.Fatal(err)
			}
			cs.State.OrderNotes = note
			cs.UpdatedAt = now
			claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, claimingUpdate(p, []byte(note)))
			return claimed, cs, err
		}
		stored := func() *checkout.Session {
			t.Helper()
			cs, err := st.CheckoutSession(ctx, sh.ID, "cs_1")
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}
		body := []byte(`{"items":[{"id":"42","quantity":3}]}`)

		// A new key: the session and the record, completed with the answer.
		claimed, cs, err := update(keys, "k1", body, "first")
		if err != nil || !claimed || cs.RowVersion != 2 {
			t.Fatalf("new key: claimed %v, %v, row version %d", claimed, err, cs.RowVersion)
		}
		if got := stored(); got.RowVersion != 2 || got.State.OrderNotes != "first" || got.State.Buyer.Email != "ada@example.com" {
			t.Fatalf("session = row version %d, notes %q, buyer %+v", got.RowVersion, got.State.OrderNotes, got.State.Buyer)
		}
		rec, err := st.IdempotencyRecord(ctx, scope, "k1")
		if err != nil || rec.State != idempotency.Completed || rec.Result == nil || rec.Result.Outcome != idempotency.OutcomeReturned ||
			string(rec.Result.Session) != "first" || rec.Result.Refusal != nil || rec.LeaseUntil.After(rec.CreatedAt) {
			t.Fatalf("record = %+v, %v; want completed with the answer", rec, err)
		}
		if replay, claim, err := keys.Begin(ctx, scope, "k1", acp.V20260417, body); err != nil || claim != nil ||
			replay == nil || string(replay.Session) != "first" {
			t.Fatalf("retry = %+v, %v, %v; want the stored answer", replay, claim, err)
		}
		// The memory follows the write, exactly as the database reads it
		// back (the same answer, byte for byte).
		mem, ok := st.RememberedCheckoutSession(sh.ID, "cs_1")
		if !ok || mem.RowVersion != 2 || mem.State.OrderNotes != "first" {
			t.Fatalf("remembered after the write: %v, %+v", ok, mem)
		}
		m, err1 := json.Marshal(mem)
		r, err2 := json.Marshal(stored())
		if err1 != nil || err2 != nil || !bytes.Equal(m, r) {
			t.Fatalf("remembered\n%s\nread\n%s\n(%v, %v)", m, r, err1, err2)
		}

		// Held keys write nothing; Begin answers.
		if _, claimed := claim(t, st, idemRecord(scope, "k2", idempotency.CanonicalJSONHash(body), now), now); !claimed {
			t.Fatal("in-flight claim not made")
		}
		other := []byte(`{"items":[{"id":"42","quantity":4}]}`)
		for _, tc := range []struct {
			name, key string
			body      []byte
			reason    string // Begin's refusal ("": the stored answer)
		}{
			{"same key and body", "k1", body, ""},
			{"same key, other body", "k1", other, idempotency.ReasonIdempotencyConflict},
			{"in flight", "k2", body, idempotency.ReasonIdempotencyInFlight},
		} {
			t.Run(tc.name, func(t *testing.T) {
				claimed, _, err := update(keys, tc.key, tc.body, "held "+tc.name)
				if err != nil || claimed {
					t.Fatalf("claimed %v, %v; want nothing written", claimed, err)
				}
				if got := stored(); got.RowVersion != 2 || got.State.OrderNotes != "first" {
					t.Fatalf("session = row version %d, notes %q; want unchanged", got.RowVersion, got.State.OrderNotes)
				}
				replay, _, err := keys.Begin(ctx, scope, tc.key, acp.V20260417, tc.body)
				if idemReason(err) != tc.reason || tc.reason == "" && (replay == nil || string(replay.Session) != "first") {
					t.Fatalf("Begin = %+v, %v; want %q or the stored answer", replay, err, tc.reason)
				}
			})
		}
		if r, _ := st.IdempotencyRecord(ctx, scope, "k1"); r.ID != rec.ID || string(r.Result.Session) != "first" {
			t.Fatalf("record after the held claims = %+v, want unchanged", r)
		}

		// The session changed behind the memory: nothing written, no record
		// left, the memory dropped.
		for _, tc := range []struct {
			name, sql, key string
			version        int64  // the row version it leaves
			notes          string // and the notes (personal data, sealed with the buyer)
		}{
			{"row version moved", `UPDATE checkout_sessions SET row_version = row_version + 1, updated_at = updated_at WHERE id = 'cs_1'`, "k3", 3, "first"},
			{"buyer forgotten without a bump", `UPDATE checkout_sessions SET buyer_sealed = NULL, buyer_index = NULL WHERE id = 'cs_1'`, "k4", 3, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, ok := st.RememberedCheckoutSession(sh.ID, "cs_1"); !ok {
					stored() // remember it again
				}
				before := keyRecords(t, st, scope)
				rawExec(t, st, tc.sql)
				claimed, _, err := update(keys, tc.key, body, "stale "+tc.name)
				if err != nil || claimed {
					t.Fatalf("claimed %v, %v; want nothing written", claimed, err)
				}
				if r, err := st.IdempotencyRecord(ctx, scope, tc.key); !errors.Is(err, app.ErrNotFound) {
					t.Fatalf("record after a stale update = %+v, %v; want none", r, err)
				}
				if n := keyRecords(t, st, scope); n != before {
					t.Fatalf("%d records, want %d", n, before)
				}
				if _, ok := st.RememberedCheckoutSession(sh.ID, "cs_1"); ok {
					t.Fatal("the stale session is still remembered")
				}
				if got := stored(); got.RowVersion != tc.version || got.State.OrderNotes != tc.notes {
					t.Fatalf("session = row version %d, notes %q", got.RowVersion, got.State.OrderNotes)
				}
				// The ordinary claim of that key is free.
				if _, claim, err := keys.Begin(ctx, scope, tc.key, acp.V20260417, body); err != nil || claim == nil {
					t.Fatalf("Begin after a stale update = %v, %v; want a claim", claim, err)
				} else {
					claim.Stored()
				}
			})
		}
		if got := stored(); got.State.Buyer != nil {
			t.Fatalf("buyer after it was forgotten = %+v", got.State.Buyer)
		}
		// Read again, the session is remembered as read, and writes.
		if claimed, cs, err := update(keys, "k5", body, "after the read"); err != nil || !claimed || cs.RowVersion != 4 {
			t.Fatalf("update after a read: claimed %v, %v", claimed, err)
		}
		if got := stored(); got.State.Buyer != nil || got.State.OrderNotes != "after the read" {
			t.Fatalf("session = %+v; want the write without a buyer", got.State)
		}

		// Another store's claim is not this store's to make.
		otherKeys := idempotency.New(storetest.Open(t, st.Kind()), idempotency.Options{})
		if claimed, _, err := update(otherKeys, "k6", body, "other store"); err != nil || claimed {
			t.Fatalf("another store's claim: claimed %v, %v", claimed, err)
		}
		// A session written at another row version than remembered is not
		// claimed either.
		cs, _ = st.RememberedCheckoutSession(sh.ID, "cs_1")
		cs.RowVersion--
		p, _ := keys.Prepare(scope, "k7", acp.V20260417, body)
		if claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, claimingUpdate(p, body)); err != nil || claimed {
			t.Fatalf("other row version: claimed %v, %v", claimed, err)
		}
		if got := stored(); got.RowVersion != 4 {
			t.Fatalf("row version %d, want 4", got.RowVersion)
		}
	})
}

// TestUpdateClaimIsAtomic races updates of one remembered session: with
// one key and body, exactly one claims the key and writes; the others
// write nothing. With a key each, exactly one writes (the others find the
// row version moved) and the losers leave no record. On PostgreSQL from
// two stores (two pools, as two replicas have), on SQLite from one.
func TestUpdateClaimIsAtomic(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			stores := replicaStores(t, kind)
			ctx := context.Background()
			sh, _ := stores[0].SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
			now := time.Now().UTC().Truncate(time.Microsecond)
			if err := stores[0].CreateCheckoutSession(ctx, newSession("cs_1", sh.ID, now)); err != nil {
				t.Fatal(err)
			}
			scope := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
			body := []byte(`{"items":[]}`)
			version := int64(1)
			for round := range 6 {
				sameKey := round%2 == 0
				for _, st := range stores {
					if _, err := st.CheckoutSession(ctx, sh.ID, "cs_1"); err != nil { // each replica remembers it
						t.Fatal(err)
					}
				}
				records := keyRecords(t, stores[0], scope)
				// Each racer's copy, taken before any writes (a racer that
				// started after a win would take the memory of the win).
				copies := make([]*checkout.Session, 16)
				for i := range copies {
					cs, ok := stores[i%len(stores)].RememberedCheckoutSession(sh.ID, "cs_1")
					if !ok {
						t.Fatalf("round %d: the session is not remembered", round)
					}
					if cs.RowVersion != version {
						t.Fatalf("round %d: remembered at row version %d, want %d", round, cs.RowVersion, version)
					}
					copies[i] = cs
				}
				var wins atomic.Int32
				var wg sync.WaitGroup
				for i := range 16 {
					wg.Go(func() {
						st := stores[i%len(stores)]
						key := fmt.Sprintf("k%d", round)
						if !sameKey {
							key = fmt.Sprintf("k%d_%d", round, i)
						}
						p, err := idempotency.New(st, idempotency.Options{}).Prepare(scope, key, acp.V20260417, body)
						if err != nil {
							t.Error(err)
							return
						}
						cs := copies[i]
						note := fmt.Sprintf("%d_%d", round, i)
						cs.State.OrderNotes = note
						claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, claimingUpdate(p, []byte(note)))
						if err != nil {
							t.Errorf("update %s: %v", note, err)
						}
						if claimed {
							wins.Add(1)
						}
					})
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("round %d (same key %v): %d updates wrote, want exactly 1", round, sameKey, wins.Load())
				}
				version++
				cs, err := stores[0].CheckoutSession(ctx, sh.ID, "cs_1")
				if err != nil || cs.RowVersion != version {
					t.Fatalf("round %d: row version %d, %v; want %d", round, cs.RowVersion, err, version)
				}
				if n := keyRecords(t, stores[0], scope); n != records+1 {
					t.Fatalf("round %d (same key %v): %d records more, want 1", round, sameKey, n-records)
				}
				// The answer stored is the winner's: its notes are the session's.
				key := fmt.Sprintf("k%d", round)
				if !sameKey {
					key = ""
					for i := range 16 {
						if r, err := stores[0].IdempotencyRecord(ctx, scope, fmt.Sprintf("k%d_%d", round, i)); err == nil {
							key = r.Key
						}
					}
				}
				rec, err := stores[0].IdempotencyRecord(ctx, scope, key)
				if err != nil {
					t.Fatalf("round %d: the winner's record %q: %v", round, key, err)
				}
				if !bytes.Equal(rec.Result.Session, []byte(cs.State.OrderNotes)) {
					t.Fatalf("round %d: stored answer %q, session notes %q", round, rec.Result.Session, cs.State.OrderNotes)
				}
			}
		})
	}
}

// TestUpdateStatements: on PostgreSQL an update of a remembered session
// that claims its key with the write is one statement, where the claim
// that reads the session and then the write with the answer were two.
func TestUpdateStatements(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, app.DatabasePostgres)
	ctx := context.Background()
	sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
	keys := idempotency.New(st, idempotency.Options{})
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := st.CreateCheckoutSession(ctx, newSession("cs_1", sh.ID, now)); err != nil {
		t.Fatal(err)
	}
	scope := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
	body := []byte(`{"items":[]}`)
	n := store.CountStatements(st)
	const updates = 40
	// Once first: the store's first claim reads whether records of
	// migration 00014 remain, and reserves ids.
	for i := range updates + 1 {
		if i == 1 {
			n.Store(0)
		}
		p, err := keys.Prepare(scope, fmt.Sprintf("new-%d", i), acp.V20260417, body)
		if err != nil {
			t.Fatal(err)
		}
		cs, ok := st.RememberedCheckoutSession(sh.ID, "cs_1")
		if !ok {
			t.Fatalf("update %d: the session is not remembered", i)
		}
		cs.State.OrderNotes = fmt.Sprint(i)
		if claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, claimingUpdate(p, body)); err != nil || !claimed {
			t.Fatalf("update %d: claimed %v, %v", i, claimed, err)
		}
	}
	// The ids of 64 records are reserved in one statement: the 41 updates
	// took them from the first block.
	if got := n.Load(); got != updates {
		t.Errorf("%d updates claiming with the session: %d statements, want %d", updates, got, updates)
	}

	n.Store(0)
	for i := range updates {
		pf := &checkout.Prefetch{ShopID: sh.ID, ID: "cs_1"}
		held, claimed, err := st.ClaimIdempotencyKey(checkout.WithPrefetch(ctx, pf), idemRecord(scope, fmt.Sprintf("old-%d", i), "h", now), now)
		if err != nil || !claimed {
			t.Fatalf("claim %d: %v, %v", i, claimed, err)
		}
		cs, filled := pf.Filled()
		if !filled || cs == nil {
			t.Fatalf("claim %d: the session was not read with the claim", i)
		}
		if _, err := st.SaveCheckoutSessionAnswered(ctx, cs, checkout.AnswerRecord{Record: held.ID, Outcome: "returned", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 2*updates {
		t.Errorf("%d updates claiming first: %d statements, want %d", updates, got, 2*updates)
	}
}

// TestUpdateClaimsStopWhereTheyDoNotPay: when claiming updates keep
// finding their session moved (its last write was another replica's), the
// store stops asking for them (MayClaimUpdate), but for a probe now and
// then.
func TestUpdateClaimsStopWhereTheyDoNotPay(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Now().UTC().Truncate(time.Microsecond)
		keys := idempotency.New(st, idempotency.Options{})
		if err := st.CreateCheckoutSession(ctx, newSession("cs_1", sh.ID, now)); err != nil {
			t.Fatal(err)
		}
		scope := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
		for i := range 5 {
			if !st.MayClaimUpdate(sh.ID, "cs_1") {
				t.Fatalf("claim %d: not asked for after %d moved sessions", i, i)
			}
			cs, ok := st.RememberedCheckoutSession(sh.ID, "cs_1")
			if !ok {
				t.Fatal("not remembered")
			}
			rawExec(t, st, `UPDATE checkout_sessions SET row_version = row_version + 1 WHERE id = 'cs_1'`)
			p, _ := keys.Prepare(scope, fmt.Sprint(i), acp.V20260417, []byte(`{}`))
			if claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, claimingUpdate(p, []byte(`{}`))); err != nil || claimed {
				t.Fatalf("claim %d: %v, %v; want the session moved", i, claimed, err)
			}
			if _, err := st.CheckoutSession(ctx, sh.ID, "cs_1"); err != nil { // remembered again
				t.Fatal(err)
			}
		}
		asked := 0
		for range 16 {
			if st.MayClaimUpdate(sh.ID, "cs_1") {
				asked++
			}
		}
		if asked != 2 {
			t.Fatalf("after 5 moved sessions: %d of 16 updates claim with their write, want 2 (probes)", asked)
		}
	})
}
