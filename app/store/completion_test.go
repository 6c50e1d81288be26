package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
)

// completionPayment is a payment record of the session, leased.
func completionPayment(cs *checkout.Session, state string, attempt int, at time.Time) *checkout.Payment {
	return &checkout.Payment{SessionID: cs.ID, ShopID: cs.ShopID, State: state, Attempt: attempt, TokenSealed: "sealed",
		Amount: 1999, Currency: "USD", LeaseUntil: new(at.Add(time.Minute)), CreatedAt: at, UpdatedAt: at,
		Details: checkout.PaymentDetails{OrderNotes: fmt.Sprintf("attempt %d", attempt)}}
}

// TestBeginCompletionWrite: on PostgreSQL the session's guarded write and
// its payment record are one statement: the first attempt is inserted, a
// next one written over the previous (attempt + 1, order_sent carried
// over when an orderCreate may have been sent, created_at kept), and a
// lost guard writes neither. SQLite leaves it to the caller's transaction.
func TestBeginCompletionWrite(t *testing.T) {
	t.Parallel()
	earlier := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		prev      func(p *checkout.Payment) // nil: no earlier attempt
		stale     bool
		wantErr   error
		wantTry   int
		wantSent  bool
		wantNotes string
	}{
		{name: "first attempt", wantTry: 1, wantNotes: "attempt 1"},
		{name: "after a decline", prev: func(p *checkout.Payment) { p.State = checkout.PaymentDeclined }, wantTry: 2, wantNotes: "attempt 1"},
		{name: "after an orderCreate was sent", prev: func(p *checkout.Payment) {
			p.State, p.Details.OrderAttemptAt = checkout.PaymentVoided, new(earlier)
		}, wantTry: 2, wantSent: true, wantNotes: "attempt 1"},
		{name: "after one marked order_sent", prev: func(p *checkout.Payment) {
			p.State, p.Details.OrderSent = checkout.PaymentDeclined, true
		}, wantTry: 2, wantSent: true, wantNotes: "attempt 1"},
		{name: "lost guard, first attempt", stale: true, wantErr: app.ErrConflict},
		{name: "lost guard, next attempt", prev: func(p *checkout.Payment) { p.State = checkout.PaymentDeclined }, stale: true,
			wantErr: app.ErrConflict},
	}
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cs := newSession(fmt.Sprintf("cs_begin%d", i), sh.ID, now)
				if err := st.CreateCheckoutSession(ctx, cs); err != nil {
					t.Fatal(err)
				}
				if tc.prev != nil {
					prev := completionPayment(cs, checkout.PaymentAuthorizing, 1, earlier)
					prev.LeaseUntil = nil
					tc.prev(prev)
					if err := st.SavePayment(ctx, prev); err != nil {
						t.Fatal(err)
					}
				}
				if tc.stale {
					moved := *cs
					if err := st.SaveCheckoutSession(ctx, &moved); err != nil {
						t.Fatal(err)
					}
				}
				before, _ := st.CheckoutPayment(ctx, cs.ID)
				w := *cs
				w.Status = acp.StatusCompleteInProgress
				p := completionPayment(cs, checkout.PaymentAuthorizing, 1, now)
				p.Details.OrderNotes = "attempt 1"
				err := st.BeginCompletionWrite(ctx, &w, p)
				if st.Kind() != app.DatabasePostgres {
					if !errors.Is(err, errors.ErrUnsupported) {
						t.Fatalf("SQLite: err %v, want ErrUnsupported", err)
					}
					return
				}
				got, gerr := st.CheckoutPayment(ctx, cs.ID)
				stored, serr := st.CheckoutSession(ctx, sh.ID, cs.ID)
				if serr != nil {
					t.Fatal(serr)
				}
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("err %v, want %v", err, tc.wantErr)
					}
					// Nothing written: the payment as it was, the session not complete_in_progress.
					if before == nil && !errors.Is(gerr, app.ErrNotFound) || before != nil && (gerr != nil || got.State != before.State ||
						got.Attempt != before.Attempt || !got.UpdatedAt.Equal(before.UpdatedAt)) {
						t.Fatalf("payment after a lost guard = %+v, %v; want %+v", got, gerr, before)
					}
					if stored.Status == acp.StatusCompleteInProgress {
						t.Fatal("the session was written")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if w.RowVersion != cs.RowVersion+1 || stored.RowVersion != w.RowVersion || stored.Status != acp.StatusCompleteInProgress {
					t.Fatalf("session row version %d (stored %d, %s), want %d", w.RowVersion, stored.RowVersion, stored.Status, cs.RowVersion+1)
				}
				if p.Attempt != tc.wantTry || p.Details.OrderSent != tc.wantSent {
					t.Fatalf("written attempt %d order_sent %v, want %d %v", p.Attempt, p.Details.OrderSent, tc.wantTry, tc.wantSent)
				}
				wantCreated := now
				if tc.prev != nil {
					wantCreated = earlier
				}
				if gerr != nil || got.Attempt != tc.wantTry || got.Details.OrderSent != tc.wantSent || got.State != checkout.PaymentAuthorizing ||
					got.TokenSealed != "sealed" || got.Details.OrderNotes != tc.wantNotes || got.Details.OrderAttemptAt != nil ||
					got.LeaseUntil == nil || !got.LeaseUntil.Equal(*p.LeaseUntil) || !got.CreatedAt.Equal(wantCreated) || !got.UpdatedAt.Equal(now) {
					t.Fatalf("stored payment %+v, %v", got, gerr)
				}
			})
		}
	})
}

// TestRecordCompletion: the completion's record is written whole or not
// at all. On PostgreSQL one statement, on SQLite one transaction: a lost
// session guard (ErrConflict) or a newer payment attempt (ErrStaleAttempt)
// writes nothing (no payment, no event, no answer, Stored not run); a
// session's second order_create is not stored (nor Stored run) while the
// rest is; an answer whose record is no longer in flight is not stored
// while the rest is.
func TestRecordCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		stale       bool // the session moved since it was read
		newer       bool // a newer payment attempt began
		hadEvent    bool // the session has its order_create already
		notInFlight bool // the answer's record was released
		noEvent     bool
		wantErr     error
		wantEvent   bool
		wantAnswer  bool
	}{
		{name: "completed", wantEvent: true, wantAnswer: true},
		{name: "no event to store", noEvent: true, wantAnswer: true},
		{name: "lost session guard", stale: true, wantErr: app.ErrConflict},
		{name: "newer attempt", newer: true, wantErr: checkout.ErrStaleAttempt},
		{name: "second order_create", hadEvent: true, wantAnswer: true},
		{name: "answer's record not in flight", notInFlight: true, wantEvent: true},
	}
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cs := newSession(fmt.Sprintf("cs_rec%d", i), sh.ID, now)
				cs.Status = acp.StatusCompleteInProgress
				if err := st.CreateCheckoutSession(ctx, cs); err != nil {
					t.Fatal(err)
				}
				ordered := completionPayment(cs, checkout.PaymentOrdered, 1, now)
				if tc.newer {
					ordered.Attempt = 2
				}
				if err := st.SavePayment(ctx, ordered); err != nil {
					t.Fatal(err)
				}
				if tc.stale {
					moved := *cs
					if err := st.SaveCheckoutSession(ctx, &moved); err != nil {
						t.Fatal(err)
					}
				}
				if tc.hadEvent {
					if _, err := st.RecordCompletion(ctx, checkout.CompletionWrite{Session: new(*cs), Payment: new(*ordered),
						Event: orderEvent(cs, now, nil)}); err != nil {
						t.Fatal(err)
					}
					cs.RowVersion++
				}
				scope := idemScope(sh.ID, idempotency.OpCompleteSession, cs.ID)
				held, _ := claim(t, st, idemRecord(scope, "k", "h", now), now)
				if tc.notInFlight {
					if err := st.ReleaseIdempotencyKey(ctx, held.ID); err != nil {
						t.Fatal(err)
					}
				}
				eventsBefore, _ := st.AgentEvents(ctx, sh.ID, cs.ID)
				paymentBefore, _ := st.CheckoutPayment(ctx, cs.ID)

				w := *cs
				w.Status, w.UpdatedAt = acp.StatusCompleted, now.Add(time.Second)
				p := completionPayment(cs, checkout.PaymentCompleted, 1, now.Add(time.Second))
				p.LeaseUntil, p.OrderID, p.TokenSealed = nil, "gid://shopify/Order/1", ""
				var storedIDs []int64
				ev := orderEvent(cs, now, func(_ context.Context, id int64) { storedIDs = append(storedIDs, id) })
				if tc.noEvent {
					ev = nil
				}
				body := []byte(`{"id":"` + cs.ID + `","status":"completed"}`)
				answered, err := st.RecordCompletion(ctx, checkout.CompletionWrite{Session: &w, Payment: p, Event: ev,
					Answer: &checkout.AnswerRecord{Record: held.ID, Outcome: string(idempotency.OutcomeReturned), Body: body}})

				stored, serr := st.CheckoutSession(ctx, sh.ID, cs.ID)
				pay, perr := st.CheckoutPayment(ctx, cs.ID)
				events, eerr := st.AgentEvents(ctx, sh.ID, cs.ID)
				rec, rerr := st.IdempotencyRecord(ctx, scope, "k")
				if serr != nil || perr != nil || eerr != nil || rerr != nil && !tc.notInFlight {
					t.Fatal(serr, perr, eerr, rerr)
				}
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) || tc.stale && errors.Is(err, checkout.ErrStaleAttempt) {
						t.Fatalf("err %v, want %v", err, tc.wantErr)
					}
					if stored.Status == acp.StatusCompleted || pay.State != paymentBefore.State || !pay.UpdatedAt.Equal(paymentBefore.UpdatedAt) ||
						len(events) != len(eventsBefore) || rec.State != idempotency.InFlight || len(storedIDs) != 0 || answered {
						t.Fatalf("a lost write wrote: session %s, payment %s, %d events, record %s, stored %v, answered %v",
							stored.Status, pay.State, len(events), rec.State, storedIDs, answered)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if stored.Status != acp.StatusCompleted || stored.RowVersion != w.RowVersion || w.RowVersion != cs.RowVersion+1 {
					t.Fatalf("session %s row version %d (written %d), want completed at %d", stored.Status, stored.RowVersion, w.RowVersion, cs.RowVersion+1)
				}
				if pay.State != checkout.PaymentCompleted || pay.LeaseUntil != nil || pay.OrderID != p.OrderID || pay.TokenSealed != "" {
					t.Fatalf("payment %+v", pay)
				}
				wantEvents := len(eventsBefore)
				if tc.wantEvent {
					wantEvents++
				}
				if len(events) != wantEvents {
					t.Fatalf("%d events, want %d", len(events), wantEvents)
				}
				if tc.wantEvent {
					last := events[len(events)-1]
					if len(storedIDs) != 1 || storedIDs[0] != last.ID || last.Type != acp.EventOrderCreate || string(last.Body) != string(ev.Body) ||
						last.Status != "pending" || last.ClaimedUntil == nil || !last.ClaimedUntil.Equal(*ev.ClaimedUntil) {
						t.Fatalf("event %+v, Stored ran with %v", last, storedIDs)
					}
				} else if len(storedIDs) != 0 {
					t.Fatalf("Stored ran with %v for no event stored", storedIDs)
				}
				if answered != tc.wantAnswer {
					t.Fatalf("answered %v, want %v", answered, tc.wantAnswer)
				}
				if tc.wantAnswer && (rec.State != idempotency.Completed || rec.Result == nil || !bytes.Equal(rec.Result.Session, body) ||
					rec.Result.Outcome != idempotency.OutcomeReturned) {
					t.Fatalf("record %+v", rec)
				}
			})
		}
	})
}

// TestRecordCompletionAfterCommit: in a caller's transaction the event's
// Stored runs once that transaction commits, and never after a rollback
// (which leaves nothing written).
func TestRecordCompletionAfterCommit(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, commit := range []bool{false, true} {
			cs := newSession(fmt.Sprintf("cs_tx%v", commit), sh.ID, now)
			cs.Status = acp.StatusCompleteInProgress
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
			if err := st.SavePayment(ctx, completionPayment(cs, checkout.PaymentOrdered, 1, now)); err != nil {
				t.Fatal(err)
			}
			ran := 0
			rollback := errors.New("rollback")
			err := st.InTx(ctx, func(ctx context.Context) error {
				w := *cs
				w.Status = acp.StatusCompleted
				if _, err := st.RecordCompletion(ctx, checkout.CompletionWrite{Session: &w,
					Payment: completionPayment(cs, checkout.PaymentCompleted, 1, now),
					Event:   orderEvent(cs, now, func(context.Context, int64) { ran++ })}); err != nil {
					return err
				}
				if ran != 0 {
					t.Error("Stored ran before the commit")
				}
				if !commit {
					return rollback
				}
				return nil
			})
			events, _ := st.AgentEvents(ctx, sh.ID, cs.ID)
			stored, _ := st.CheckoutSession(ctx, sh.ID, cs.ID)
			if commit && (err != nil || ran != 1 || len(events) != 1 || stored.Status != acp.StatusCompleted) {
				t.Fatalf("committed: err %v, Stored ran %d times, %d events, session %s", err, ran, len(events), stored.Status)
			}
			if !commit && (!errors.Is(err, rollback) || ran != 0 || len(events) != 0 || stored.Status == acp.StatusCompleted) {
				t.Fatalf("rolled back: err %v, Stored ran %d times, %d events, session %s", err, ran, len(events), stored.Status)
			}
		}
	})
}

func orderEvent(cs *checkout.Session, at time.Time, stored func(context.Context, int64)) *checkout.OrderEvent {
	return &checkout.OrderEvent{ShopID: cs.ShopID, SessionID: cs.ID, Type: acp.EventOrderCreate, APIVersion: string(cs.Version),
		Body: []byte(`{"type":"order_create","session":"` + cs.ID + `"}`), CreatedAt: at, ClaimedUntil: new(at.Add(30 * time.Second)),
		Stored: stored}
}
