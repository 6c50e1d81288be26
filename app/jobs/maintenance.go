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
