package maintenance_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/maintenance"
)

// stalledStore answers StalledCompletions with its list, remembering the
// cutoff asked for.
type stalledStore struct {
	maintenance.MaintenanceStore
	stalled []app.ResumeCompletionArgs
	before  []time.Time
}

func (s *stalledStore) StalledCompletions(_ context.Context, before time.Time) ([]app.ResumeCompletionArgs, error) {
	s.before = append(s.before, before)
	return s.stalled, nil
}

type queue struct{ jobs []river.JobArgs }

func (q *queue) EnqueueTx(_ context.Context, args river.JobArgs, _ *river.InsertOpts) error {
	q.jobs = append(q.jobs, args)
	return nil
}

// TestSweepCompletions: the sweep asks for every unfinished completion
// without a live lease as of now (not only those that stood still for
// StalledAfter, as the hourly housekeeping does) and enqueues a resume job
// for each; without a queue it does nothing.
func TestSweepCompletions(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	st := &stalledStore{stalled: []app.ResumeCompletionArgs{{ShopID: 1, SessionID: "cs_a"}, {ShopID: 2, SessionID: "cs_b"}}}
	q := &queue{}
	m := maintenance.New(st, q, nil, maintenance.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n, err := m.SweepCompletions(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if len(st.before) != 1 || !st.before[0].Equal(now) {
		t.Errorf("cutoffs asked: %v, want %v", st.before, now)
	}
	if len(q.jobs) != 2 || q.jobs[0] != st.stalled[0] || q.jobs[1] != st.stalled[1] {
		t.Errorf("enqueued %v, want %v", q.jobs, st.stalled)
	}
	idle := maintenance.New(st, nil, nil, maintenance.Options{Now: func() time.Time { return now }})
	if n, err := idle.SweepCompletions(t.Context()); n != 0 || err != nil || len(st.before) != 1 {
		t.Errorf("sweep without a queue: %d, %v, %d reads", n, err, len(st.before))
	}
}
