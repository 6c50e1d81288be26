package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// MaintenanceArgs runs the database housekeeping that has no better home.
type MaintenanceArgs struct{}

// Kind implements river.JobArgs.
func (MaintenanceArgs) Kind() string { return "maintenance" }

// InsertOpts makes one pending maintenance job at a time, whichever replica
// schedules it.
func (MaintenanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 30 * time.Minute}}
}

// Maintainer is the part of the app the maintenance job calls.
type Maintainer interface {
	Maintain(ctx context.Context) error
}

// MaintenanceWorker works MaintenanceArgs.
type MaintenanceWorker struct {
	river.WorkerDefaults[MaintenanceArgs]
	App Maintainer
}

// Work implements river.Worker.
func (w *MaintenanceWorker) Work(ctx context.Context, _ *river.Job[MaintenanceArgs]) error {
	return w.App.Maintain(ctx)
}

// MaintenanceSchedule runs maintenance hourly, and once soon after start.
func MaintenanceSchedule() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return MaintenanceArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// SweepCompletionsArgs hands the checkout completions that stopped with no
// driver to the resume job (Housekeeping.SweepCompletions).
type SweepCompletionsArgs struct{}

// Kind implements river.JobArgs.
func (SweepCompletionsArgs) Kind() string { return "checkout_sweep_completions" }

// InsertOpts: one try; the next sweep comes soon anyway.
func (SweepCompletionsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1}
}

// CompletionSweeper is the part of the app the sweep job calls.
type CompletionSweeper interface {
	SweepCompletions(ctx context.Context) (int, error)
}

// SweepCompletionsWorker works SweepCompletionsArgs.
type SweepCompletionsWorker struct {
	river.WorkerDefaults[SweepCompletionsArgs]
	App CompletionSweeper
}

// Work implements river.Worker.
func (w *SweepCompletionsWorker) Work(ctx context.Context, _ *river.Job[SweepCompletionsArgs]) error {
	_, err := w.App.SweepCompletions(ctx)
	return err
}

// SweepInterval is how often the leader sweeps for completions to resume:
// a completion whose driver died is carried on within about its lease and
// this.
const SweepInterval = 15 * time.Second

// SweepCompletionsSchedule runs the sweep every SweepInterval (River runs
// periodic jobs on the leader only).
func SweepCompletionsSchedule() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(SweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return SweepCompletionsArgs{}, nil }, nil)
}
