package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// SweepArgs hands to jobs the work whose first attempt, made inline
// without a job, failed or was lost: webhook deliveries left unprocessed,
// order events left undelivered, checkout completions whose driver's lease
// lapsed (issue 17).
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "inline_sweep" }

// InsertOpts: a sweep is never retried (the next one comes soon).
func (SweepArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// SweepEvery is how often the sweep runs (on the leader only, as every
// periodic job): a failed first attempt is retried within about the claim
// it left plus this.
const SweepEvery = 15 * time.Second

// Sweeper is a use-case the sweep calls (shops.Shopify.SweepWebhooks,
// orderevents.Service.Sweep, maintenance.Housekeeping.SweepCompletions).
type Sweeper interface {
	Sweep(ctx context.Context) error
}

// SweeperFunc makes a function a Sweeper.
type SweeperFunc func(ctx context.Context) error

// Sweep implements Sweeper.
func (f SweeperFunc) Sweep(ctx context.Context) error { return f(ctx) }

// SweepWorker runs every sweeper, each whatever the others did.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Sweepers []Sweeper
}

// Work implements river.Worker.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	var errs []error
	for _, s := range w.Sweepers {
		errs = append(errs, s.Sweep(ctx))
	}
	return errors.Join(errs...)
}

// SweepSchedule runs the sweep every SweepEvery, and once at start (what
// a previous process left).
func SweepSchedule() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepEvery),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
