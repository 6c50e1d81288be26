package store_test

import (
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

// beginClaiming begins a completion of the remembered session id with
// its payment's first attempt, claiming key for body in flight (acpapi's
// runComplete): the record claimed (0: none) and the session as written.
func beginClaiming(t *testing.T, st *store.Store, keys *idempotency.Keys, shopID int64, id, key string, body []byte, at time.Time) (int64, *checkout.Session, error) {
	t.Helper()
	cs, ok := st.RememberedCheckoutSession(shopID, id)
	if !ok {
		t.Fatalf("%s is not remembered", id)
	}
	pend, err := keys.PrepareHeld(idemScope(shopID, idempotency.OpCompleteSession, id), key, acp.V20260417, body)
	if err != nil {
		t.Fatal(err)
	}
	cs.Status, cs.UpdatedAt = acp.StatusCompleteInProgress, at
	record, err := st.BeginCompletionClaiming(context.Background(), cs, completionPayment(cs, checkout.PaymentAuthorizing, 1, at), pend)
	return record, cs, err
}

// TestCompleteClaimsKeyWithBegin: on PostgreSQL a complete of a
// remembered session claims its key, in flight and leased, with the
// statement that writes the session and its first payment attempt; a
// retry then finds the key in flight. A key already held, a session moved
// or whose personal data changed behind the memory's back, a claim to
// insert completed, and another store's claim write nothing: no record,
// no payment, the session as it was. SQLite makes no such claim.
func TestCompleteClaimsKeyWithBegin(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Now().UTC().Truncate(time.Microsecond)
		keys := idempotency.New(st, idempotency.Options{Now: func() time.Time { return now }})
		body := []byte(`{"payment_data":{"token":"spt_1"}}`)
		create := func(id string) {
			t.Helper()
			if err := st.CreateCheckoutSession(ctx, newSession(id, sh.ID, now)); err != nil {
				t.Fatal(err)
			}
		}
		// unwritten fails the test unless session id is as created and has
		// no payment record and its scope no idempotency record but held.
		unwritten := func(id string, held int) {
			t.Helper()
			cs, err := st.CheckoutSession(ctx, sh.ID, id)
			if err != nil || cs.RowVersion != 1 || cs.Status != acp.StatusNotReadyForPayment {
				t.Fatalf("%s = %+v, %v; want it as created", id, cs, err)
			}
			if _, err := st.CheckoutPayment(ctx, id); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("%s has a payment record (%v)", id, err)
			}
			if n := keyRecords(t, st, idemScope(sh.ID, idempotency.OpCompleteSession, id)); n != held {
				t.Fatalf("%s: %d idempotency records, want %d", id, n, held)
			}
		}

		create("cs_new")
		record, cs, err := beginClaiming(t, st, keys, sh.ID, "cs_new", "k1", body, now)
		if st.Kind() != app.DatabasePostgres {
			if record != 0 || err != nil {
				t.Fatalf("SQLite: record %d, %v; want no claim", record, err)
			}
			unwritten("cs_new", 0)
			return
		}
		if err != nil || record == 0 || cs.RowVersion != 2 {
			t.Fatalf("new key: record %d, %v, row version %d", record, err, cs.RowVersion)
		}
		stored, err := st.CheckoutSession(ctx, sh.ID, "cs_new")
		if err != nil || stored.RowVersion != 2 || stored.Status != acp.StatusCompleteInProgress {
			t.Fatalf("session = %+v, %v; want complete_in_progress at row version 2", stored, err)
		}
		if p, err := st.CheckoutPayment(ctx, "cs_new"); err != nil || p.Attempt != 1 || p.State != checkout.PaymentAuthorizing || p.LeaseUntil == nil {
			t.Fatalf("payment = %+v, %v; want the first attempt, leased", p, err)
		}
		scope := idemScope(sh.ID, idempotency.OpCompleteSession, "cs_new")
		rec, err := st.IdempotencyRecord(ctx, scope, "k1")
		if err != nil || rec.ID != record || rec.State != idempotency.InFlight || rec.Result != nil || !rec.LeaseUntil.After(now) {
			t.Fatalf("record = %+v, %v; want %d in flight, leased", rec, err, record)
		}
		var ae *app.Error
		if _, claim, err := keys.Begin(ctx, scope, "k1", acp.V20260417, body); claim != nil || !errors.As(err, &ae) ||
			ae.Reason != idempotency.ReasonIdempotencyInFlight {
			t.Fatalf("retry = claim %v, %v; want in flight", claim, err)
		}
		// The claim is the caller's as Begin's would be: its answer finishes it.
		if err := st.FinishIdempotencyKey(ctx, record, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: []byte("done")}); err != nil {
			t.Fatal(err)
		}

		// A key held by an earlier request: nothing written.
		create("cs_held")
		heldScope := idemScope(sh.ID, idempotency.OpCompleteSession, "cs_held")
		if _, claim, err := keys.Begin(ctx, heldScope, "k1", acp.V20260417, body); err != nil || claim == nil {
			t.Fatalf("earlier claim: %v, %v", claim, err)
		} else if err := claim.Finish(ctx, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if record, _, err := beginClaiming(t, st, keys, sh.ID, "cs_held", "k1", body, now); record != 0 || err != nil {
			t.Fatalf("held key: record %d, %v; want none", record, err)
		}
		unwritten("cs_held", 1)

		// Moved behind the memory's back: by another replica's write (row
		// version), or its personal data forgotten without a bump.
		for _, c := range []struct{ id, change string }{
			{"cs_moved", "row_version = row_version + 1"},
			{"cs_forgotten", "buyer_sealed = NULL, buyer_index = NULL"},
		} {
			create(c.id)
			if _, ok := st.RememberedCheckoutSession(sh.ID, c.id); !ok {
				t.Fatalf("%s is not remembered", c.id)
			}
			cs, _ := st.RememberedCheckoutSession(sh.ID, c.id)
			rawExec(t, st, fmt.Sprintf(`UPDATE checkout_sessions SET %s WHERE id = '%s'`, c.change, c.id))
			pend, err := keys.PrepareHeld(idemScope(sh.ID, idempotency.OpCompleteSession, c.id), "k1", acp.V20260417, body)
			if err != nil {
				t.Fatal(err)
			}
			cs.Status = acp.StatusCompleteInProgress
			record, err := st.BeginCompletionClaiming(ctx, cs, completionPayment(cs, checkout.PaymentAuthorizing, 1, now), pend)
			if record != 0 || err != nil {
				t.Fatalf("%s: record %d, %v; want none", c.id, record, err)
			}
			if n := keyRecords(t, st, idemScope(sh.ID, idempotency.OpCompleteSession, c.id)); n != 0 {
				t.Fatalf("%s: %d idempotency records left", c.id, n)
			}
			if _, err := st.CheckoutPayment(ctx, c.id); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("%s has a payment record (%v)", c.id, err)
			}
			if _, ok := st.RememberedCheckoutSession(sh.ID, c.id); ok {
				t.Fatalf("%s is still remembered", c.id)
			}
		}

		// Claims this store does not make here: one to insert completed
		// (a create's or an update's), another store's.
		create("cs_other")
		cs, _ = st.RememberedCheckoutSession(sh.ID, "cs_other")
		cs.Status = acp.StatusCompleteInProgress
		otherScope := idemScope(sh.ID, idempotency.OpCompleteSession, "cs_other")
		completed, _ := keys.Prepare(otherScope, "k1", acp.V20260417, body)
		foreign, _ := idempotency.New(storetest.Open(t, app.DatabasePostgres), idempotency.Options{}).PrepareHeld(otherScope, "k1", acp.V20260417, body)
		for name, pend := range map[string]*idempotency.Pending{"completed": completed, "another store's": foreign} {
			w := *cs
			if record, err := st.BeginCompletionClaiming(ctx, &w, completionPayment(cs, checkout.PaymentAuthorizing, 1, now), pend); record != 0 || err != nil {
				t.Fatalf("%s claim: record %d, %v; want none", name, record, err)
			}
		}
		unwritten("cs_other", 0)
	})
}

// TestCompleteClaimIsAtomic races completes of one remembered session
// from two stores (two pools, as two replicas have): with one key, or a
// key each, exactly one begins the payment, and exactly one record is
// left: no payment begins twice, no claim stays without its payment.
func TestCompleteClaimIsAtomic(t *testing.T) {
	t.Parallel()
	stores := replicaStores(t, app.DatabasePostgres)
	ctx := context.Background()
	sh, _ := stores[0].SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
	now := time.Now().UTC().Truncate(time.Microsecond)
	body := []byte(`{"payment_data":{"token":"spt_1"}}`)
	for round, sameKey := range []bool{true, false, true, false} {
		id := fmt.Sprintf("cs_race%d", round)
		if err := stores[0].CreateCheckoutSession(ctx, newSession(id, sh.ID, now)); err != nil {
			t.Fatal(err)
		}
		copies := make([]*checkout.Session, 16)
		for i := range copies {
			st := stores[i%2]
			if _, err := st.CheckoutSession(ctx, sh.ID, id); err != nil { // each replica remembers it
				t.Fatal(err)
			}
			cs, ok := st.RememberedCheckoutSession(sh.ID, id)
			if !ok || cs.RowVersion != 1 {
				t.Fatalf("round %d: remembered %v at %d", round, ok, cs.RowVersion)
			}
			copies[i] = cs
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				st := stores[i%2]
				key := "k"
				if !sameKey {
					key = fmt.Sprintf("k%d", i)
				}
				pend, err := idempotency.New(st, idempotency.Options{}).PrepareHeld(idemScope(sh.ID, idempotency.OpCompleteSession, id), key, acp.V20260417, body)
				if err != nil {
					t.Error(err)
					return
				}
				cs := copies[i]
				cs.Status = acp.StatusCompleteInProgress
				record, err := st.BeginCompletionClaiming(ctx, cs, completionPayment(cs, checkout.PaymentAuthorizing, 1, now), pend)
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
				}
				if record != 0 {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d (same key %v): %d completes began, want exactly 1", round, sameKey, wins.Load())
		}
		if n := keyRecords(t, stores[0], idemScope(sh.ID, idempotency.OpCompleteSession, id)); n != 1 {
			t.Fatalf("round %d (same key %v): %d records, want 1", round, sameKey, n)
		}
		p, err := stores[0].CheckoutPayment(ctx, id)
		if err != nil || p.Attempt != 1 {
			t.Fatalf("round %d: payment %+v, %v; want one first attempt", round, p, err)
		}
	}
}

// TestCompleteClaimStatements: on PostgreSQL a complete's claim and the
// beginning of its payment are one statement, where the claim that reads
// the session and then the beginning were two.
func TestCompleteClaimStatements(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, app.DatabasePostgres)
	ctx := context.Background()
	sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
	keys := idempotency.New(st, idempotency.Options{})
	now := time.Now().UTC().Truncate(time.Microsecond)
	body := []byte(`{}`)
	n := store.CountStatements(st)
	const completes = 20
	for i := range completes + 1 {
		if err := st.CreateCheckoutSession(ctx, newSession(fmt.Sprintf("cs_%d", i), sh.ID, now)); err != nil {
			t.Fatal(err)
		}
	}
	// Once first: the store's first claim reads whether records of
	// migration 00014 remain.
	for i := range completes + 1 {
		if i == 1 {
			n.Store(0)
		}
		if record, _, err := beginClaiming(t, st, keys, sh.ID, fmt.Sprintf("cs_%d", i), "k", body, now); err != nil || record == 0 {
			t.Fatalf("complete %d: record %d, %v", i, record, err)
		}
	}
	if got := n.Load(); got != completes {
		t.Errorf("%d completes claiming with their beginning: %d statements, want %d", completes, got, completes)
	}
}
