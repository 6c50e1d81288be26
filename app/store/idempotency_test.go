package store_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// idemScope is the scope of an operation of API key 7 of the shop.
func idemScope(shopID int64, op idempotency.Operation, sessionID string) idempotency.Scope {
	return idempotency.Scope{ShopID: shopID, APIKeyID: 7, Operation: op, SessionID: sessionID}
}

// idemRecord is an in-flight record claimed at now with a 1-minute lease
// and a 24-hour life.
func idemRecord(scope idempotency.Scope, key, hash string, now time.Time) idempotency.Record {
	return idempotency.Record{
		Scope: scope, Key: key, APIVersion: "2026-04-17", RequestHash: hash,
		State: idempotency.InFlight, LeaseUntil: now.Add(time.Minute), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
	}
}

// replicaStores opens stores on one fresh database of kind as replicas
// do: two on PostgreSQL (two connection pools), one on SQLite (one
// process owns the file).
func replicaStores(t *testing.T, kind app.DatabaseKind) []*store.Store {
	t.Helper()
	cfg := storetest.Config(t, kind, true)
	replicas := 2
	if kind == app.DatabaseSQLite {
		replicas = 1
	}
	var stores []*store.Store
	for range replicas {
		st, err := store.Open(context.Background(), cfg, storetest.Logger(t), store.WithKeys(storetest.Keys))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		stores = append(stores, st)
	}
	return stores
}

func claim(t *testing.T, st *store.Store, rec idempotency.Record, now time.Time) (*idempotency.Record, bool) {
	t.Helper()
	held, claimed, err := st.ClaimIdempotencyKey(context.Background(), rec, now)
	if err != nil {
		t.Fatalf("ClaimIdempotencyKey(%+v %s at %v): %v", rec.Scope, rec.Key, now, err)
	}
	return held, claimed
}

func TestIdempotencyClaimFinishReplay(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)
		scope := idemScope(sh.ID, idempotency.OpCreateSession, "")

		first, claimed := claim(t, st, idemRecord(scope, "k1", "h1", now), now)
		if !claimed || first.ID == 0 || first.State != idempotency.InFlight {
			t.Fatalf("first claim = %+v, claimed %v; want a new in-flight record", first, claimed)
		}
		// The same key again while in flight: held, not claimed.
		held, claimed := claim(t, st, idemRecord(scope, "k1", "h2", now.Add(time.Second)), now.Add(time.Second))
		if claimed || held.ID != first.ID || held.State != idempotency.InFlight || held.RequestHash != "h1" || held.Result != nil {
			t.Fatalf("second claim = %+v, claimed %v; want the first, in flight", held, claimed)
		}

		body := []byte("{\"id\":\"cs_1\"}\x00\xff binary-safe")
		resp := idempotency.StoredResult{Outcome: idempotency.OutcomeCreated, Session: body}
		if err := st.FinishIdempotencyKey(ctx, first.ID, resp); err != nil {
			t.Fatalf("FinishIdempotencyKey: %v", err)
		}
		if err := st.FinishIdempotencyKey(ctx, first.ID, resp); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("finishing twice: err = %v, want ErrNotFound", err)
		}
		held, claimed = claim(t, st, idemRecord(scope, "k1", "h1", now.Add(2*time.Minute)), now.Add(2*time.Minute))
		if claimed || held.ID != first.ID || held.State != idempotency.Completed || held.Result == nil {
			t.Fatalf("claim after finish = %+v, claimed %v; want the completed record", held, claimed)
		}
		got := held.Result
		if got.Outcome != idempotency.OutcomeCreated || !bytes.Equal(got.Session, body) || got.Refusal != nil {
			t.Fatalf("stored result = %s %q %+v, want created with the session %q", got.Outcome, got.Session, got.Refusal, body)
		}
		if held.APIVersion != "2026-04-17" || !held.ExpiresAt.Equal(now.Add(24*time.Hour)) {
			t.Fatalf("record = %+v: version or expiry lost", held)
		}
		// A completed record is not released by a late Release.
		if err := st.ReleaseIdempotencyKey(ctx, first.ID); err != nil {
			t.Fatalf("ReleaseIdempotencyKey: %v", err)
		}
		if rec, err := st.IdempotencyRecord(ctx, scope, "k1"); err != nil || rec.State != idempotency.Completed {
			t.Fatalf("after late release: %+v, %v; want still completed", rec, err)
		}

		// A refusal round-trips whole.
		upd := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
		r, _ := claim(t, st, idemRecord(upd, "k2", "h", now), now)
		refusal := &idempotency.Refusal{Class: app.CodeConflict, Code: "concurrent_update", Message: "retry", Param: "$.x", RetryAfterMS: 1000}
		if err := st.FinishIdempotencyKey(ctx, r.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeRefused, Refusal: refusal}); err != nil {
			t.Fatal(err)
		}
		if rec, err := st.IdempotencyRecord(ctx, upd, "k2"); err != nil || rec.Result == nil ||
			rec.Result.Outcome != idempotency.OutcomeRefused || rec.Result.Refusal == nil || *rec.Result.Refusal != *refusal {
			t.Fatalf("refused record = %+v, %v; want the refusal %+v", rec, err, refusal)
		}
	})
}

func TestIdempotencyScopeAndRelease(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		b, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "b.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		ids := map[int64]bool{}
		otherKey := idemScope(a.ID, idempotency.OpCreateSession, "")
		otherKey.APIKeyID = 8
		for _, rec := range []idempotency.Record{
			idemRecord(idemScope(a.ID, idempotency.OpCreateSession, ""), "k", "h", now),
			idemRecord(idemScope(b.ID, idempotency.OpCreateSession, ""), "k", "h", now),     // another shop
			idemRecord(otherKey, "k", "h", now),                                             // another agent
			idemRecord(idemScope(a.ID, idempotency.OpUpdateSession, "cs_1"), "k", "h", now), // another operation
			idemRecord(idemScope(a.ID, idempotency.OpUpdateSession, "cs_2"), "k", "h", now), // another session
			idemRecord(idemScope(a.ID, idempotency.OpCreateSession, ""), "K", "h", now),     // keys are case-sensitive
			idemRecord(idemScope(a.ID, idempotency.OpCreateSession, ""), "k ", "h", now),    // and exact
			idemRecord(idemScope(a.ID, idempotency.OpCompleteSession, "cs_1"), "k", "h", now),
			idemRecord(idemScope(a.ID, idempotency.OpCancelSession, "cs_1"), "k", "h", now),
		} {
			held, claimed := claim(t, st, rec, now)
			if !claimed || ids[held.ID] {
				t.Fatalf("claim %+v %q: claimed %v id %d; want an independent claim", rec.Scope, rec.Key, claimed, held.ID)
			}
			ids[held.ID] = true
		}

		// Release frees the key at once; the next claim is a new record.
		rec := idemRecord(idemScope(a.ID, idempotency.OpCreateSession, ""), "k", "h", now)
		held, _ := claim(t, st, rec, now)
		if err := st.ReleaseIdempotencyKey(ctx, held.ID); err != nil {
			t.Fatalf("ReleaseIdempotencyKey: %v", err)
		}
		again, claimed := claim(t, st, rec, now)
		if !claimed || again.ID == held.ID {
			t.Fatalf("claim after release = id %d claimed %v; want a new claim (old id %d)", again.ID, claimed, held.ID)
		}
		// The old claim is gone: it can neither renew nor finish.
		if err := st.RenewIdempotencyLease(ctx, held.ID, now.Add(time.Hour)); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("renew released claim: err = %v, want ErrNotFound", err)
		}
		if err := st.FinishIdempotencyKey(ctx, held.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned}); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("finish released claim: err = %v, want ErrNotFound", err)
		}
	})
}

func TestIdempotencyLeaseAndExpiry(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 500000000, time.UTC)
		scope := idemScope(sh.ID, idempotency.OpCreateSession, "")

		// A lapsed lease (the replica died) lets the key be claimed again,
		// and the dead claim can no longer finish.
		dead, _ := claim(t, st, idemRecord(scope, "k", "h1", now), now)
		if held, claimed := claim(t, st, idemRecord(scope, "k", "h2", now), now.Add(59*time.Second)); claimed || held.ID != dead.ID {
			t.Fatalf("within the lease: claimed %v id %d, want held by %d", claimed, held.ID, dead.ID)
		}
		// A renewed lease holds past the original one.
		if err := st.RenewIdempotencyLease(ctx, dead.ID, now.Add(90*time.Second)); err != nil {
			t.Fatalf("RenewIdempotencyLease: %v", err)
		}
		if _, claimed := claim(t, st, idemRecord(scope, "k", "h2", now), now.Add(80*time.Second)); claimed {
			t.Fatal("claimed within a renewed lease")
		}
		later := now.Add(90*time.Second + time.Millisecond)
		taken, claimed := claim(t, st, idemRecord(scope, "k", "h2", later), later)
		if !claimed || taken.ID == dead.ID || taken.RequestHash != "h2" {
			t.Fatalf("after the lease: %+v claimed %v; want a new claim", taken, claimed)
		}
		if err := st.FinishIdempotencyKey(ctx, dead.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned}); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("finish of a taken-over claim: err = %v, want ErrNotFound", err)
		}

		// A completed record holds until it expires, then the key is new.
		if err := st.FinishIdempotencyKey(ctx, taken.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		exp := taken.ExpiresAt
		if held, claimed := claim(t, st, idemRecord(scope, "k", "h3", exp.Add(-time.Millisecond)), exp.Add(-time.Millisecond)); claimed || held.ID != taken.ID {
			t.Fatalf("just before expiry: claimed %v; want held by %d", claimed, taken.ID)
		}
		fresh, claimed := claim(t, st, idemRecord(scope, "k", "h3", exp), exp)
		if !claimed || fresh.ID == taken.ID {
			t.Fatalf("at expiry: claimed %v id %d; want a new record", claimed, fresh.ID)
		}
	})
}

func TestPruneIdempotencyKeys(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		scope := idemScope(sh.ID, idempotency.OpCreateSession, "")
		for i, key := range []string{"old1", "old2", "new"} {
			at := now.Add(-25 * time.Hour)
			if i == 2 {
				at = now.Add(-23 * time.Hour)
			}
			held, _ := claim(t, st, idemRecord(scope, key, "h", at), at)
			if key == "old2" {
				if err := st.FinishIdempotencyKey(ctx, held.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned}); err != nil {
					t.Fatal(err)
				}
			}
		}
		n, err := st.PruneIdempotencyKeys(ctx, now)
		if err != nil || n != 2 {
			t.Fatalf("PruneIdempotencyKeys = %d, %v; want 2 (the expired ones)", n, err)
		}
		if _, err := st.IdempotencyRecord(ctx, scope, "new"); err != nil {
			t.Fatalf("the live record was pruned: %v", err)
		}
		if _, err := st.IdempotencyRecord(ctx, scope, "old1"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("expired record: err = %v, want ErrNotFound", err)
		}
	})
}

// TestIdempotencyClaimIsAtomic races claims of one key: on PostgreSQL from
// two stores (two pools, as two replicas have), on SQLite from one.
func TestIdempotencyClaimIsAtomic(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			stores := replicaStores(t, kind)
			ctx := context.Background()
			sh, _ := stores[0].SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
			now := time.Now().UTC()
			for round := range 5 {
				key := string(rune('a' + round))
				var wins atomic.Int32
				var wg sync.WaitGroup
				for i := range 16 {
					wg.Go(func() {
						st := stores[i%len(stores)]
						_, claimed, err := st.ClaimIdempotencyKey(ctx, idemRecord(idemScope(sh.ID, idempotency.OpCreateSession, ""), key, "h", now), now)
						if err != nil {
							t.Errorf("claim: %v", err)
						}
						if claimed {
							wins.Add(1)
						}
					})
				}
				wg.Wait()
				if wins.Load() != 1 {
					t.Fatalf("round %d: %d claims won, want exactly 1", round, wins.Load())
				}
			}
		})
	}
}
