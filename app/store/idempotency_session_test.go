package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
)

// newSession is a session of the shop as Create makes it.
func newSession(id string, shopID int64, now time.Time) *checkout.Session {
	return &checkout.Session{
		ID: id, ShopID: shopID, Version: acp.V20260417, Status: acp.StatusNotReadyForPayment, Currency: "USD",
		ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
		State: checkout.State{Items: []checkout.CartItem{{ItemID: "42", Quantity: 2}}, Buyer: &acp.Buyer{Email: "ada@example.com"}},
	}
}

// TestClaimPrefetchesSession: on PostgreSQL the claim of a key also reads
// the session a checkout.Prefetch asks for (none when it is another
// shop's or does not exist), and only when it claims; SQLite reads
// nothing more (the operation's load reads it).
func TestClaimPrefetchesSession(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		b, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "b.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, cs := range []*checkout.Session{newSession("cs_a", a.ID, now), newSession("cs_b", b.ID, now)} {
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		pg := st.Kind() == app.DatabasePostgres
		for i, tc := range []struct {
			name      string
			sessionID string
			key       string
			claimed   bool
			want      string // the session id filled in ("" none)
		}{
			{"the shop's session", "cs_a", "k1", true, "cs_a"},
			{"another shop's session", "cs_b", "k2", true, ""},
			{"no such session", "cs_none", "k3", true, ""},
			{"a held key", "cs_a", "k1", false, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pf := &checkout.Prefetch{ShopID: a.ID, ID: tc.sessionID}
				at := now.Add(time.Duration(i) * time.Second)
				rec := idemRecord(idemScope(a.ID, idempotency.OpUpdateSession, "cs_a"), tc.key, "h", at)
				held, claimed, err := st.ClaimIdempotencyKey(checkout.WithPrefetch(ctx, pf), rec, at)
				if err != nil || claimed != tc.claimed || held == nil || held.ID == 0 {
					t.Fatalf("claim = %+v, %v, %v; want claimed %v", held, claimed, err, tc.claimed)
				}
				got, filled := pf.Filled()
				if wantFilled := pg && tc.claimed; filled != wantFilled {
					t.Fatalf("prefetch filled %v, want %v", filled, wantFilled)
				}
				if !filled {
					return
				}
				if tc.want == "" {
					if got != nil {
						t.Errorf("filled with %s, want none", got.ID)
					}
					return
				}
				want, err := st.CheckoutSession(ctx, a.ID, tc.want)
				if err != nil {
					t.Fatal(err)
				}
				if got == nil || got.ID != want.ID || got.RowVersion != want.RowVersion || got.State.Buyer.Email != want.State.Buyer.Email ||
					!got.ExpiresAt.Equal(want.ExpiresAt) || got.Status != want.Status {
					t.Errorf("prefetched %+v, want %+v", got, want)
				}
			})
		}
	})
}

// TestSessionWriteWithAnswer: the session write and the answer's finish
// go together: a write that loses to a concurrent one (row version) or
// fails stores no answer; a record that is no longer in flight (released,
// or taken over) leaves the write done and the answer unstored.
func TestSessionWriteWithAnswer(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		n := 0
		newClaim := func(op idempotency.Operation, sessionID string) (idempotency.Scope, string, int64) {
			n++
			key := "k" + string(rune('a'+n))
			scope := idemScope(sh.ID, op, sessionID)
			held, claimed := claim(t, st, idemRecord(scope, key, "h", now), now)
			if !claimed {
				t.Fatal("not claimed")
			}
			return scope, key, held.ID
		}
		record := func(scope idempotency.Scope, key string) *idempotency.Record {
			rec, err := st.IdempotencyRecord(ctx, scope, key)
			if errors.Is(err, app.ErrNotFound) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}
		body := []byte(`{"id":"cs_1"}`)

		// Create, answered.
		scope, key, id := newClaim(idempotency.OpCreateSession, "")
		cs := newSession("cs_1", sh.ID, now)
		answered, err := st.CreateCheckoutSessionAnswered(ctx, cs, checkout.AnswerRecord{Record: id, Outcome: "created", Body: body})
		if err != nil || !answered || cs.RowVersion != 1 {
			t.Fatalf("create = %v, %v, row version %d", answered, err, cs.RowVersion)
		}
		if r := record(scope, key); r.State != idempotency.Completed || r.Result == nil || r.Result.Outcome != idempotency.OutcomeCreated ||
			!bytes.Equal(r.Result.Session, body) || r.Result.Refusal != nil {
			t.Fatalf("record after create = %+v", r)
		}
		// Create of an id that exists: nothing written, the claim still in flight.
		scope, key, id = newClaim(idempotency.OpCreateSession, "")
		if _, err := st.CreateCheckoutSessionAnswered(ctx, newSession("cs_1", sh.ID, now), checkout.AnswerRecord{Record: id, Outcome: "created", Body: body}); err == nil {
			t.Fatal("a second session cs_1 was created")
		}
		if r := record(scope, key); r.State != idempotency.InFlight {
			t.Fatalf("record after a failed create = %+v, want in flight", r)
		}

		for _, tc := range []struct {
			name string
			// prepare runs between the read and the write.
			prepare  func(t *testing.T, cs *checkout.Session, recordID int64)
			conflict bool
			answered bool
		}{
			{"answered", func(*testing.T, *checkout.Session, int64) {}, false, true},
			{"concurrent write", func(t *testing.T, cs *checkout.Session, _ int64) {
				other := *cs
				if err := st.SaveCheckoutSession(ctx, &other); err != nil {
					t.Fatal(err)
				}
			}, true, false},
			{"claim released", func(t *testing.T, _ *checkout.Session, recordID int64) {
				if err := st.ReleaseIdempotencyKey(ctx, recordID); err != nil {
					t.Fatal(err)
				}
			}, false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				scope, key, id := newClaim(idempotency.OpUpdateSession, "cs_1")
				cs, err := st.CheckoutSession(ctx, sh.ID, "cs_1")
				if err != nil {
					t.Fatal(err)
				}
				tc.prepare(t, cs, id)
				before := cs.RowVersion
				cs.State.OrderNotes = tc.name
				answered, err := st.SaveCheckoutSessionAnswered(ctx, cs, checkout.AnswerRecord{Record: id, Outcome: "returned", Body: []byte(tc.name)})
				if tc.conflict != errors.Is(err, app.ErrConflict) || (!tc.conflict && err != nil) || answered != tc.answered {
					t.Fatalf("save = %v, %v; want conflict %v, answered %v", answered, err, tc.conflict, tc.answered)
				}
				stored, err := st.CheckoutSession(ctx, sh.ID, "cs_1")
				if err != nil {
					t.Fatal(err)
				}
				if written := stored.State.OrderNotes == tc.name; written == tc.conflict || (written && (stored.RowVersion != before+1 || cs.RowVersion != before+1)) {
					t.Errorf("session written %v (row version %d, was %d); want %v", written, stored.RowVersion, before, !tc.conflict)
				}
				r := record(scope, key)
				switch {
				case tc.answered:
					if r.State != idempotency.Completed || r.Result.Outcome != idempotency.OutcomeReturned || string(r.Result.Session) != tc.name {
						t.Errorf("record = %+v, want completed with the answer", r)
					}
				case tc.conflict:
					if r.State != idempotency.InFlight {
						t.Errorf("record = %+v, want still in flight", r)
					}
				default:
					if r != nil {
						t.Errorf("released record = %+v, want gone", r)
					}
				}
			})
		}
	})
}
