package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// noteArgs is a job kind of these tests' own.
type noteArgs struct {
	Note string `json:"note"`
}

func (noteArgs) Kind() string { return "jobs_test_note" }

// strayArgs is a kind no worker is registered for.
type strayArgs struct{}

func (strayArgs) Kind() string { return "jobs_test_stray" }

// TestQueueHalves: the queue enqueues before its workers exist (the
// use-cases are built with it, the workers after them), inside the
// transaction ctx carries, and once Register has added the workers those
// jobs are worked, and inserts go through the working client (which knows
// the registered kinds).
func TestQueueHalves(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			st := storetest.Open(t, kind)
			ctx := context.Background()
			q, err := jobs.New(jobs.Config{
				Kind: st.Kind(), DB: st.DB(), Logger: slog.New(slog.DiscardHandler), TxFromContext: store.SQLTx,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err == nil {
				t.Fatal("Start before Register succeeded")
			}
			countJobs := func() int {
				t.Helper()
				var n int
				if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = 'jobs_test_note'").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			// Before Register: a job exists exactly when its rows commit.
			errBoom := errors.New("boom")
			err = st.InTx(ctx, func(ctx context.Context) error {
				if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "rolled.myshopify.com"}); err != nil {
					return err
				}
				if err := q.EnqueueTx(ctx, noteArgs{Note: "rolled back"}, nil); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("InTx = %v, want boom", err)
			}
			if n := countJobs(); n != 0 {
				t.Fatalf("jobs after rollback = %d, want 0", n)
			}
			err = st.InTx(ctx, func(ctx context.Context) error {
				if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "kept.myshopify.com"}); err != nil {
					return err
				}
				return q.EnqueueTx(ctx, noteArgs{Note: "before workers"}, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := countJobs(); n != 1 {
				t.Fatalf("jobs after commit = %d, want 1", n)
			}

			worked := make(chan string, 4)
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(_ context.Context, j *river.Job[noteArgs]) error {
				worked <- j.Args.Note
				return nil
			}))
			if err := q.Register(workers); err != nil {
				t.Fatal(err)
			}
			if err := q.Register(workers); err == nil {
				t.Fatal("a second Register succeeded")
			}
			// The working client checks kinds: a kind without a worker is
			// refused rather than left in the queue forever.
			var unknown *river.UnknownJobKindError
			if err := q.EnqueueTx(ctx, strayArgs{}, nil); !errors.As(err, &unknown) {
				t.Fatalf("enqueue of an unregistered kind: err = %v, want UnknownJobKindError", err)
			}

			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := q.Stop(sctx); err != nil {
					t.Error(err)
				}
			})
			if err := q.EnqueueTx(ctx, noteArgs{Note: "after start"}, nil); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			timeout := time.After(20 * time.Second)
			for len(got) < 2 {
				select {
				case n := <-worked:
					got[n] = true
				case <-timeout:
					t.Fatalf("worked %v, want both jobs", got)
				}
			}
			if !got["before workers"] || !got["after start"] {
				t.Fatalf("worked %v", got)
			}
		})
	}
}
