package orderevents

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// First attempt inline, River for what fails or is lost (issue 17): an
// event is stored claimed (agent_events.claimed_until) for the process
// that stores it, which attempts the delivery as soon as the transaction
// commits, without a job. If that attempt fails, or its process dies, the
// claim passes and the sweep hands the event to a delivery job (River's
// retries and backoff from then on). A job claims the event too, so an
// event is never sent twice at once, by two replicas or by the first
// attempt and a job.

const (
	// inlineGrace is what the first attempt's claim adds to the delivery
	// timeout: the time it has to start.
	inlineGrace = 20 * time.Second
	// jobClaim is how long a delivery job holds an event: more than
	// River's job timeout (app/jobs), so a job's claim outlives its job
	// only when its process died.
	jobClaim = 6 * time.Minute
	// maxInline bounds the first attempts under way at once in a process;
	// beyond it an event waits for the sweep.
	maxInline = 64
	// sweepBatch is how many events one sweep hands over at most.
	sweepBatch = 500
)

func (s *Service) timeout() time.Duration {
	if s.Timeout <= 0 {
		return 10 * time.Second
	}
	return s.Timeout
}

func (s *Service) inlineClaim() time.Duration { return s.timeout() + inlineGrace }

// deliverSoon makes an event's first delivery attempt, in the background,
// while its claim (taken when it was stored) holds. A failed attempt
// leaves the claim past, for the sweep. set is the shop's ACP settings
// when the caller has them (nil: the attempt reads them).
func (s *Service) deliverSoon(ctx context.Context, ev *Event, set *app.ACPSettings) {
	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
		default:
			s.log(ctx, slog.LevelWarn, "agent event left to a job: too many deliveries under way", ev)
			return
		}
	}
	s.inflight.Add(1)
	go func() {
		defer func() {
			if s.slots != nil {
				<-s.slots
			}
			s.inflight.Done()
		}()
		ctx := context.WithoutCancel(ctx)
		now := s.now()
		if ev.ClaimedUntil == nil || now.Add(s.timeout()).After(*ev.ClaimedUntil) {
			s.log(ctx, slog.LevelWarn, "agent event left to a job: its first attempt started too late", ev)
			return
		}
		if err := s.attempt(ctx, ev, &now, set); err != nil {
			s.log(ctx, slog.LevelInfo, "agent event left to a job", ev, "err", err)
		}
	}()
}

// Drain waits for the first attempts under way, until ctx ends (what is
// cut is left to the sweep), and writes the deliveries they recorded.
func (s *Service) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.drainOutcomes(context.WithoutCancel(ctx))
	return err
}

// Sweep hands the events whose first attempt failed or was lost (pending,
// their claim past) to delivery jobs, in one transaction with clearing
// their claim. It is a periodic job's work.
func (s *Service) Sweep(ctx context.Context) error {
	var n int
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		ids, err := s.Store.HandOverAgentEvents(ctx, s.now(), sweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.Queue.EnqueueTx(ctx, DeliverArgs{EventID: id}, nil); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep agent events: %w", err)
	}
	if n > 0 && s.Logger != nil {
		s.Logger.InfoContext(ctx, "agent events handed to delivery jobs after their first attempt", "count", n)
	}
	return nil
}
