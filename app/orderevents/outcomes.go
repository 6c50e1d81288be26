package orderevents

import (
	"context"
	"sync"
	"time"
)

// A first attempt that delivers its event is recorded with others, in one
// statement at most every outcomeDelay (issue 17: at 20 purchases a second
// the single-row record was one statement in seven of a conversation's).
// The record is not needed for the event to be safe: the event stays
// claimed by this process (agent_events.claimed_until, the delivery
// timeout plus inlineGrace, so at least 20 s after the answer) until the
// batch lands, and nothing else sends it while it is claimed. If the
// process dies first, the claim passes and the sweep sends the event again,
// as it would when a process dies between the agent's answer and a
// single-row record: order events are delivered at least once, and agents
// tell them apart by the event's id (Request-Id). Failures, and a job's
// attempts, are still recorded at once.

const (
	// outcomeDelay is how long a delivered first attempt waits for others
	// before its batch is written: what the merchant's event list lags.
	outcomeDelay = time.Second
	// outcomeBatch writes a batch at once when it holds this many.
	outcomeBatch = 256
	// outcomeWrite bounds one batch's write.
	outcomeWrite = 5 * time.Second
)

// outcomes are the delivered first attempts waiting for their batch. The
// zero value is ready.
type outcomes struct {
	mu      sync.Mutex
	pending []pendingOutcome
	timer   *time.Timer
	// writing keeps one batch write at a time, in order.
	writing sync.Mutex
	// drained: the process is stopping (Drain); what a failed batch
	// kept is left to the sweep instead of waiting for a timer.
	drained bool
}

type pendingOutcome struct {
	att Attempt
	// claimedUntil is the event's claim: a batch that failed keeps the
	// attempt for the next only while the claim would still hold then.
	claimedUntil time.Time
}

// recordDelivered queues a delivered first attempt for the next batch,
// which is written within outcomeDelay (at once when the batch is full).
func (s *Service) recordDelivered(ctx context.Context, att Attempt, claimedUntil time.Time) error {
	o := &s.outcomes
	o.mu.Lock()
	if o.drained {
		// Stopping: no batch will come; this attempt finished late.
		o.mu.Unlock()
		return s.Store.RecordDeliveredAgentEvents(ctx, []Attempt{att})
	}
	o.pending = append(o.pending, pendingOutcome{att: att, claimedUntil: claimedUntil})
	full := len(o.pending) >= outcomeBatch
	if !full && o.timer == nil {
		o.timer = time.AfterFunc(outcomeDelay, func() { s.flushOutcomes(context.Background()) })
	}
	o.mu.Unlock()
	if full {
		go s.flushOutcomes(context.Background())
	}
	return nil
}

// flushOutcomes writes the waiting delivered attempts in one statement. A
// batch that fails is kept for the next, but only the attempts whose
// event's claim will still hold by then; the rest are left to the sweep,
// which sends their events again.
func (s *Service) flushOutcomes(ctx context.Context) {
	o := &s.outcomes
	o.writing.Lock()
	defer o.writing.Unlock()
	o.mu.Lock()
	batch := o.pending
	o.pending = nil
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	o.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	atts := make([]Attempt, len(batch))
	for i, p := range batch {
		atts[i] = p.att
	}
	wctx, cancel := context.WithTimeout(ctx, outcomeWrite)
	err := s.Store.RecordDeliveredAgentEvents(wctx, atts)
	cancel()
	if err == nil {
		return
	}
	// Kept while the claim outlasts the next try and its write.
	horizon := s.now().Add(outcomeDelay + outcomeWrite)
	var kept []pendingOutcome
	for _, p := range batch {
		if p.claimedUntil.After(horizon) {
			kept = append(kept, p)
		}
	}
	if s.Logger != nil {
		s.Logger.WarnContext(ctx, "agent event deliveries not recorded; kept for the next batch while claimed, else left to the sweep",
			"attempts", len(batch), "kept", len(kept), "err", err)
	}
	o.mu.Lock()
	if len(kept) == 0 || o.drained {
		o.mu.Unlock()
		return
	}
	o.pending = append(kept, o.pending...)
	if o.timer == nil {
		o.timer = time.AfterFunc(outcomeDelay, func() { s.flushOutcomes(context.Background()) })
	}
	o.mu.Unlock()
}

// drainOutcomes writes the waiting delivered attempts as the process
// stops: a batch that fails is left to the sweep.
func (s *Service) drainOutcomes(ctx context.Context) {
	s.outcomes.mu.Lock()
	s.outcomes.drained = true
	s.outcomes.mu.Unlock()
	s.flushOutcomes(ctx)
}
