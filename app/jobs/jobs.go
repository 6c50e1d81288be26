// Package jobs runs the app's background work as River jobs in the app's own
// database, so a job survives restarts and is worked by exactly one replica.
//
// Job arguments are small structs with a Kind; workers are thin: they decode
// the arguments, call one app use-case and return its error (River retries
// with backoff). Jobs are enqueued in the same transaction as the rows that
// cause them (Queue.EnqueueTx), so there is never a row without its job or a
// job without its row. The exceptions are Shopify's webhooks of cheap
// topics and the order events to agents, whose first attempt is made
// inline, without a job: their rows carry a claim, and the sweep
// (SweepArgs, every SweepEvery on the leader) enqueues the job of each row
// whose first attempt failed or was lost, in the transaction that clears
// its claim.
//
// The Queue is built in two steps, because the use-cases enqueue jobs and
// the workers call the use-cases: New gives the enqueuing half (River
// inserts without workers), which the use-cases' constructors take as their
// app.Enqueuer; Register adds the workers once the use-cases exist, and
// Start runs them.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/logging"
)

// Driver returns River's driver for the database kind. Both work on the
// *sql.DB gorm uses, so a gorm transaction's *sql.Tx can insert jobs.
func Driver(kind app.DatabaseKind, db *sql.DB) riverdriver.Driver[*sql.Tx] {
	if kind == app.DatabaseSQLite {
		return riversqlite.New(db)
	}
	return riverdatabasesql.New(db)
}

// Migrate applies River's own migrations (its tables live beside ours).
func Migrate(ctx context.Context, kind app.DatabaseKind, db *sql.DB, logger *slog.Logger) error {
	m, err := rivermigrate.New(Driver(kind, db), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate up: %w", err)
	}
	return nil
}

// MigrateDown removes River's tables entirely.
func MigrateDown(ctx context.Context, kind app.DatabaseKind, db *sql.DB, logger *slog.Logger) error {
	m, err := rivermigrate.New(Driver(kind, db), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		return fmt.Errorf("river migrate down: %w", err)
	}
	return nil
}

// MigrationsCurrent reports whether River's schema is at the version this
// binary expects.
func MigrationsCurrent(ctx context.Context, kind app.DatabaseKind, db *sql.DB) error {
	m, err := rivermigrate.New(Driver(kind, db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("river migrations pending: %v", res.Messages)
	}
	return nil
}

// Config configures a Queue.
type Config struct {
	Kind   app.DatabaseKind
	DB     *sql.DB
	Logger *slog.Logger
	// Periodic lists scheduled jobs (run by the working half).
	Periodic []*river.PeriodicJob
	// MaxWorkers is how many jobs this replica works at once.
	MaxWorkers int
	// TxFromContext finds the *sql.Tx of the transaction a use-case runs
	// in (store.SQLTx), so EnqueueTx joins it.
	TxFromContext func(ctx context.Context) (*sql.Tx, bool)
	// Metrics, when set, counts finished jobs.
	Metrics *Metrics
}

// Queue is the app's job queue: River's client plus what the app needs of
// it. It comes in two halves, because the use-cases enqueue jobs and the
// workers call the use-cases: New builds the enqueuing half (a River client
// without workers, which River lets insert), so the queue exists before the
// use-cases that take it as their app.Enqueuer; Register adds the working
// half once they exist, and Start runs it.
type Queue struct {
	cfg      Config
	inserter *river.Client[*sql.Tx]
	// client is the working client once Register has built it; EnqueueTx
	// uses it from then on, so River checks that a worker exists for each
	// kind inserted and wakes this replica's fetcher for a job inserted
	// outside a transaction, as a single client did.
	client  atomic.Pointer[river.Client[*sql.Tx]]
	running atomic.Bool
}

// New builds the enqueuing half of the queue; Register adds the workers and
// Start begins working jobs.
func New(cfg Config) (*Queue, error) {
	inserter, err := river.NewClient(Driver(cfg.Kind, cfg.DB), &river.Config{
		Logger: logging.AtLeast(cfg.Logger.With("component", "jobs"), slog.LevelWarn),
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{cfg: cfg, inserter: inserter}, nil
}

// Register builds the working half of the queue with the app's workers
// (each calls one use-case); call it once, before Start.
func (q *Queue) Register(workers *river.Workers) error {
	cfg := q.cfg
	maxWorkers := cfg.MaxWorkers
	if maxWorkers <= 0 {
		maxWorkers = 10
	}
	rc := &river.Config{
		// River narrates its routine at info; its warnings and errors matter.
		Logger:       logging.AtLeast(cfg.Logger.With("component", "jobs"), slog.LevelWarn),
		Workers:      workers,
		PeriodicJobs: cfg.Periodic,
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		// A job that hangs is cancelled rather than holding a worker forever.
		JobTimeout: 5 * time.Minute,
	}
	// Neither driver on database/sql has LISTEN/NOTIFY, so River polls:
	// often enough that a job a request inserts starts within a fraction of
	// a second, which costs one cheap indexed query per interval per replica.
	// SQLite polled every 100 ms until issue 17: on its one connection each
	// poll is a statement compiled anew, 0.5 ms of the app's CPU per
	// conversation at 20 conversations/s, and requests queue behind it.
	rc.FetchPollInterval = 250 * time.Millisecond
	client, err := river.NewClient(Driver(cfg.Kind, cfg.DB), rc)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if !q.client.CompareAndSwap(nil, client) {
		return errors.New("job queue: workers registered twice")
	}
	return nil
}

// Start begins working jobs; it returns once River has started.
func (q *Queue) Start(ctx context.Context) error {
	client := q.client.Load()
	if client == nil {
		return errors.New("start job queue: no workers registered")
	}
	var events <-chan *river.Event
	var cancel func()
	if q.cfg.Metrics != nil {
		events, cancel = client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
			river.EventKindJobCancelled, river.EventKindJobSnoozed)
	}
	if err := client.Start(ctx); err != nil {
		if cancel != nil {
			cancel()
		}
		return fmt.Errorf("start job queue: %w", err)
	}
	q.running.Store(true)
	if events != nil {
		go func() {
			defer cancel()
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						return
					}
					q.cfg.Metrics.observe(ev)
					if ev.Kind == river.EventKindJobFailed && ev.Job != nil && len(ev.Job.Errors) > 0 {
						last := ev.Job.Errors[len(ev.Job.Errors)-1]
						q.cfg.Logger.WarnContext(ctx, "job failed", "kind", ev.Job.Kind, "job_id", ev.Job.ID,
							"attempt", ev.Job.Attempt, "max_attempts", ev.Job.MaxAttempts, "err", last.Error)
					}
				case <-client.Stopped():
					return
				}
			}
		}()
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones to finish, up to
// ctx's deadline; after that it cancels them (River retries them later).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.running.Swap(false) {
		return nil
	}
	client := q.client.Load()
	err := client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = client.StopAndCancel(cctx)
	}
	return err
}

// Running reports whether the queue is working jobs.
func (q *Queue) Running() bool { return q.running.Load() }

// EnqueueTx inserts a job in the transaction ctx carries; without one it
// inserts on its own. Unique options in args (InsertOpts) are honoured.
func (q *Queue) EnqueueTx(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	client := q.Client()
	var err error
	if tx, ok := q.cfg.TxFromContext(ctx); ok {
		_, err = client.InsertTx(ctx, tx, args, opts)
	} else {
		_, err = client.Insert(ctx, args, opts)
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Client exposes River's client for tests and the CLI: the working one once
// Register has built it, the insert-only one before.
func (q *Queue) Client() *river.Client[*sql.Tx] {
	if c := q.client.Load(); c != nil {
		return c
	}
	return q.inserter
}
