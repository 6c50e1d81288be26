package orderevents

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// batchStore records the batches of delivered attempts it is given, and
// fails them while fail is set.
type batchStore struct {
	Store
	mu      sync.Mutex
	fail    error
	batches [][]Attempt
	written chan struct{}
}

func (s *batchStore) RecordDeliveredAgentEvents(_ context.Context, atts []Attempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, append([]Attempt(nil), atts...))
	select {
	case s.written <- struct{}{}:
	default:
	}
	return nil
}

func (s *batchStore) got() [][]Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

func eventIDs(atts []Attempt) []int64 {
	ids := make([]int64, len(atts))
	for i, a := range atts {
		ids[i] = a.EventID
	}
	return ids
}

// TestDeliveredFirstAttemptsAreBatched: delivered first attempts wait for
// one write of them all, made by the timer within outcomeDelay, at once
// when outcomeBatch are waiting, and by Drain; a write that fails keeps
// for the next the attempts whose claim will still hold, and leaves the
// others to the sweep; once drained, an attempt is written at once.
func TestDeliveredFirstAttemptsAreBatched(t *testing.T) {
	now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	held := now.Add(30 * time.Second) // a first attempt's claim
	ctx := context.Background()
	newService := func() (*Service, *batchStore) {
		st := &batchStore{written: make(chan struct{}, 1)}
		return &Service{Store: st, Now: func() time.Time { return now }}, st
	}
	wait := func(t *testing.T, st *batchStore) {
		t.Helper()
		select {
		case <-st.written:
		case <-time.After(10 * time.Second):
			t.Fatal("no batch was written")
		}
	}

	t.Run("the timer writes one batch", func(t *testing.T) {
		s, st := newService()
		for id := int64(1); id <= 3; id++ {
			if err := s.recordDelivered(ctx, Attempt{EventID: id, StatusCode: 200}, held); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(st.got()); n != 0 {
			t.Fatalf("%d batches written at once, want none before the delay", n)
		}
		wait(t, st)
		if got := st.got(); len(got) != 1 || len(got[0]) != 3 || got[0][0].EventID != 1 || got[0][2].EventID != 3 {
			t.Fatalf("batches %v, want one of events 1–3", got)
		}
		if n := s.pendingOutcomes(); n != 0 {
			t.Errorf("%d still waiting", n)
		}
	})

	t.Run("a full batch is written at once", func(t *testing.T) {
		s, st := newService()
		for id := range int64(outcomeBatch) {
			if err := s.recordDelivered(ctx, Attempt{EventID: id + 1}, held); err != nil {
				t.Fatal(err)
			}
		}
		wait(t, st)
		if got := st.got(); len(got) != 1 || len(got[0]) != outcomeBatch {
			t.Fatalf("%d batches (first %d), want one of %d", len(got), len(got[0]), outcomeBatch)
		}
	})

	t.Run("a failed batch keeps what its claim still holds", func(t *testing.T) {
		s, st := newService()
		st.fail = errors.New("database down")
		short := now.Add(outcomeDelay) // its claim ends before the next try's write
		_ = s.recordDelivered(ctx, Attempt{EventID: 1}, held)
		_ = s.recordDelivered(ctx, Attempt{EventID: 2}, short)
		s.flushOutcomes(ctx)
		if n := s.pendingOutcomes(); n != 1 {
			t.Fatalf("%d kept after a failed write, want 1 (event 1)", n)
		}
		st.mu.Lock()
		st.fail = nil
		st.mu.Unlock()
		_ = s.recordDelivered(ctx, Attempt{EventID: 3}, held)
		if err := s.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if got := st.got(); len(got) != 1 || len(got[0]) != 2 || got[0][0].EventID != 1 || got[0][1].EventID != 3 {
			t.Fatalf("batches %v, want one of events 1 and 3", got)
		}
		// Drained: the next delivered attempt is written at once.
		if err := s.recordDelivered(ctx, Attempt{EventID: 4}, held); err != nil {
			t.Fatal(err)
		}
		if got := st.got(); len(got) != 2 || len(got[1]) != 1 || got[1][0].EventID != 4 || s.pendingOutcomes() != 0 {
			t.Fatalf("after Drain: batches %v, %d waiting; want event 4 written alone at once", got, s.pendingOutcomes())
		}
		// Drained: a failed write keeps nothing for a timer.
		st.mu.Lock()
		st.fail = errors.New("database closed")
		st.mu.Unlock()
		s.outcomes.pending = []pendingOutcome{{att: Attempt{EventID: 5}, claimedUntil: held}}
		s.flushOutcomes(ctx)
		if n := s.pendingOutcomes(); n != 0 || s.outcomes.timer != nil {
			t.Errorf("drained: %d kept, timer %v; want none", n, s.outcomes.timer)
		}
	})
}

// pendingOutcomes counts the delivered first attempts not yet written.
func (s *Service) pendingOutcomes() int {
	s.outcomes.mu.Lock()
	defer s.outcomes.mu.Unlock()
	return len(s.outcomes.pending)
}
