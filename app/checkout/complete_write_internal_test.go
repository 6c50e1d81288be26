package checkout

import (
	"context"
	"errors"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// completionWrites is a CompletionStore over handoffStore's sessions: a
// record is written when the session's row version holds (else
// ErrConflict), unless a newer attempt began (ErrStaleAttempt); it keeps
// what was written.
type completionWrites struct {
	PaymentStore
	sessions *handoffStore
	newer    bool
	// move, when set, changes the stored session before each of the
	// first move writes (a concurrent request).
	move    int
	written []CompletionWrite
	tries   int
}

func (s *completionWrites) BeginCompletionWrite(context.Context, *Session, *Payment) error {
	return errors.ErrUnsupported
}

func (s *completionWrites) RecordCompletion(ctx context.Context, w CompletionWrite) (bool, error) {
	s.tries++
	if s.tries <= s.move {
		moved := s.sessions.stored(w.Session.ID)
		moved.State.OrderNotes = "concurrent"
		if err := s.sessions.SaveCheckoutSession(ctx, &moved); err != nil {
			return false, err
		}
	}
	if s.newer {
		return false, ErrStaleAttempt
	}
	if err := s.sessions.SaveCheckoutSession(ctx, w.Session); err != nil {
		return false, err
	}
	s.written = append(s.written, w)
	if w.Event != nil {
		w.Event.Stored(ctx, 1)
	}
	return w.Answer != nil, nil
}

// eventsPrepared is OrderEventPreparer that records the settings it was
// given and whether the event was stored.
type eventsPrepared struct {
	OrderEvents
	settings []*app.ACPSettings
	stored   int
}

func (e *eventsPrepared) PrepareOrderCreated(_ context.Context, cs *Session, _ *Payment, set *app.ACPSettings) (*OrderEvent, error) {
	e.settings = append(e.settings, set)
	return &OrderEvent{ShopID: cs.ShopID, SessionID: cs.ID, Type: acp.EventOrderCreate,
		Stored: func(context.Context, int64) { e.stored++ }}, nil
}

// TestRecordInOneWrite: record writes the completion's outcome with the
// order_create (prepared with the settings the request read) and the
// request's answer, the session as written; a session changed meanwhile
// is read again and the outcome applied to it; a newer attempt's session
// is answered as stored, without a write or an answer; an already
// completed session gets no second event; endless conflicts end in
// concurrent_update without an answer.
func TestRecordInOneWrite(t *testing.T) {
	v := acp.V20260417
	tests := []struct {
		name       string
		completed  bool // the session is completed already
		move       int
		newer      bool
		wantStatus acp.Status
		wantWrites int
		wantEvent  bool
		wantNotes  string
		wantCode   app.Code
	}{
		{name: "completes", wantStatus: acp.StatusCompleted, wantWrites: 1, wantEvent: true},
		{name: "the session moved once", move: 1, wantStatus: acp.StatusCompleted, wantWrites: 1, wantEvent: true, wantNotes: "concurrent"},
		{name: "a newer attempt", newer: true, wantStatus: acp.StatusCompleteInProgress},
		{name: "completed already", completed: true, wantStatus: acp.StatusCompleted, wantWrites: 1},
		{name: "always moved", move: maxWriteAttempts, wantCode: app.CodeConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newHandoffEnv(t)
			ctx := context.Background()
			cs, err := e.c.Create(ctx, e.ag, v, createInput(1, true))
			if err != nil {
				t.Fatal(err)
			}
			cs.Status = acp.StatusCompleteInProgress
			if tc.completed {
				cs.Status = acp.StatusCompleted
			}
			if err := e.store.SaveCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
			st := &completionWrites{sessions: e.store, newer: tc.newer, move: tc.move}
			ev := &eventsPrepared{}
			e.c.Completer, e.c.Events = &Completer{Store: st}, ev
			set := &app.ACPSettings{ShopID: cs.ShopID, WebhookURL: "https://agent.example/events"}
			a := &Answer{Record: 9, Outcome: "returned", Encode: func(cs *Session) ([]byte, error) { return acp.EncodeSession(v, cs.View()) }}
			rctx := WithAnswer(withSettings(ctx, set), a)
			p := &Payment{SessionID: cs.ID, ShopID: cs.ShopID, State: PaymentCompleted, Attempt: 1, OrderID: "gid://shopify/Order/1",
				OrderStatusURL: "https://handoff.myshopify.com/orders/1"}

			out, err := e.c.record(rctx, e.ag.Shop, cs, p)
			body, answered := a.Written()
			if tc.wantCode != "" {
				if app.ErrorCode(err) != tc.wantCode || answered || ev.stored != 0 {
					t.Fatalf("err %v (answered %v, events stored %d), want %s", err, answered, ev.stored, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.wantStatus || len(st.written) != tc.wantWrites || out.State.OrderNotes != tc.wantNotes {
				t.Fatalf("answered %s (notes %q) after %d writes; want %s %q after %d", out.Status, out.State.OrderNotes,
					len(st.written), tc.wantStatus, tc.wantNotes, tc.wantWrites)
			}
			if stored := e.store.stored(cs.ID); stored.Status != out.Status || stored.RowVersion != out.RowVersion {
				t.Fatalf("stored %s at %d, answered %s at %d", stored.Status, stored.RowVersion, out.Status, out.RowVersion)
			}
			if ev.stored != 0 && !tc.wantEvent || tc.wantEvent && (ev.stored != 1 || len(ev.settings) != len(st.written)+tc.move) {
				t.Fatalf("event stored %d times, prepared %d; want stored: %v", ev.stored, len(ev.settings), tc.wantEvent)
			}
			for _, got := range ev.settings {
				if got != set {
					t.Fatalf("event prepared with settings %v, want the request's", got)
				}
			}
			if tc.wantWrites == 0 {
				if answered {
					t.Fatal("an answer was stored without a write")
				}
				return
			}
			enc, err := acp.EncodeSession(v, out.View())
			if err != nil {
				t.Fatal(err)
			}
			w := st.written[len(st.written)-1]
			if !answered || string(body) != string(enc) || w.Answer == nil || string(w.Answer.Body) != string(enc) || w.Answer.Record != 9 {
				t.Fatalf("answer written %v: %s\nwant %s", answered, body, enc)
			}
		})
	}
}
