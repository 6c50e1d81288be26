package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

func testConfig(t *testing.T, db app.DatabaseConfig) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = db
	cfg.HTTPAddr = "127.0.0.1:0"
	// The suite's purchases are charged on the shop's Stripe account
	// (delegated payment), which only a custom-distribution install may
	// use; the tests of App Store distribution set it back.
	cfg.Distribution = app.DistributionCustom
	cfg.ShutdownTimeout = 10 * time.Second
	key, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.EncryptionKey = key
	// The tests' agent webhook receivers and feed targets listen on
	// 127.0.0.1.
	cfg.OutboundAllowLoopback = true
	if os.Getenv("ACPBRIDGE_PERF") == "1" {
		cfg.AgentRate = 0 // load tests measure the app, not the per-key limit
	}
	// Every client of a test (the merchant's browser, agents, the
	// emulators' webhooks) is 127.0.0.1, so the per-address limits would
	// throttle the suite as one client; TestPerIPLimit turns them on.
	cfg.IPRate, cfg.WebhookIPRate = 0, 0
	// /metrics is not public: tests read it on a listener of its own.
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.Billing = testBillingPlan(t) // off, but for billing's own tests
	return cfg
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// TestServiceEndToEnd starts the whole app, as `serve` does, on a fresh
// empty database of each kind: it must migrate itself, answer its probes
// and metrics, run its jobs, and shut down gracefully with a request in
// flight.
func TestServiceEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			svc, err := service.New(ctx, service.Options{
				Config: testConfig(t, storetest.Config(t, kind, false)),
				Logger: storetest.Logger(t),
			})
			if err != nil {
				t.Fatalf("service.New: %v", err)
			}
			started, release := make(chan struct{}), make(chan struct{})
			svc.Web().Echo().GET("/test/slow", func(c echo.Context) error {
				close(started)
				<-release
				return c.String(http.StatusOK, "finished")
			})
			if err := svc.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			base := svc.URL()
			if !strings.HasPrefix(svc.Addr(), "127.0.0.1:") {
				t.Fatalf("listening on %s, want loopback", svc.Addr())
			}

			code, hdr, body := get(t, base+"/healthz")
			if code != http.StatusOK || !strings.Contains(body, `"ok"`) || hdr.Get("X-Request-Id") == "" {
				t.Fatalf("/healthz = %d %q (request id %q)", code, body, hdr.Get("X-Request-Id"))
			}

			code, _, body = get(t, base+"/readyz")
			var ready struct {
				Status string
				Checks map[string]string
			}
			if err := json.Unmarshal([]byte(body), &ready); err != nil || code != http.StatusOK {
				t.Fatalf("/readyz = %d %q", code, body)
			}
			for _, probe := range []string{"database", "migrations", "jobs"} {
				if ready.Checks[probe] != "ok" {
					t.Errorf("/readyz check %s = %q, want ok", probe, ready.Checks[probe])
				}
			}

			// The maintenance job runs once on start: its completion must
			// show in the job metrics, through the real queue.
			deadline := time.Now().Add(20 * time.Second)
			for {
				_, _, body = get(t, svc.MetricsURL())
				if strings.Contains(body, `acpbridge_jobs{kind="maintenance",state="completed"} 1`) &&
					strings.Contains(body, `acpbridge_jobs_finished_total{kind="maintenance",state="completed"} 1`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("maintenance job not reported completed in /metrics:\n%s", grep(body, "acpbridge_job"))
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, want := range []string{
				`acpbridge_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
				`acpbridge_http_request_duration_seconds_bucket{method="GET",route="/readyz"`,
				"go_goroutines",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}

			// Graceful shutdown: a request in flight completes, new
			// connections are refused, then the database closes.
			slow := make(chan string, 1)
			go func() {
				_, _, b := get(t, base+"/test/slow")
				slow <- b
			}()
			<-started
			stopped := make(chan error, 1)
			go func() { stopped <- svc.Shutdown(context.Background()) }()
			waitRefused(t, svc.Addr())
			select {
			case err := <-stopped:
				t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
			default:
			}
			close(release)
			if b := <-slow; b != "finished" {
				t.Fatalf("in-flight request got %q, want it to finish", b)
			}
			if err := <-stopped; err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if err := svc.Store().Ping(ctx); err == nil {
				t.Fatal("database still open after Shutdown")
			}
			if svc.Queue().Running() {
				t.Fatal("job queue still running after Shutdown")
			}
		})
	}
}

// waitRefused waits until the listener is closed.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections during shutdown", addr)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestReadyzReportsPendingMigrations: with AUTO_MIGRATE off and the app's
// schema behind, the replica must say it is not ready.
func TestReadyzReportsPendingMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Config(t, app.DatabaseSQLite, false)
	st, err := store.Open(ctx, db, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	// River's tables only: the queue can start, our schema is missing.
	if err := jobs.Migrate(ctx, st.Kind(), st.DB(), storetest.Logger(t)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	svc, err := service.New(ctx, service.Options{Config: testConfig(t, db), Logger: storetest.Logger(t), SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Shutdown(ctx)
	code, _, body := get(t, svc.URL()+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"migrations":"failing"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("/readyz = %d %s, want 503 with migrations failing", code, body)
	}
}

// countArgs is a job of the test's own, to load the queue.
type countArgs struct {
	N int `json:"n"`
}

func (countArgs) Kind() string { return "count" }

// TestTwoReplicasWorkEachJobOnce runs two app instances on one PostgreSQL
// database, inserts jobs through both, and checks every job was worked
// exactly once.
func TestTwoReplicasWorkEachJobOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Config(t, app.DatabasePostgres, true)
	const total = 400

	var mu sync.Mutex
	worked := map[int]int{}
	perReplica := [2]atomic.Int64{}
	var replicas [2]*service.Service
	for i := range replicas {
		svc, err := service.New(ctx, service.Options{
			Config: testConfig(t, db),
			Logger: storetest.Logger(t),
			AddWorkers: func(w *river.Workers) {
				river.AddWorker(w, river.WorkFunc(func(ctx context.Context, job *river.Job[countArgs]) error {
					mu.Lock()
					worked[job.Args.N]++
					mu.Unlock()
					perReplica[i].Add(1)
					return nil
				}))
			},
		})
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatalf("replica %d start: %v", i, err)
		}
		t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })
		replicas[i] = svc
	}

	for n := range total {
		svc := replicas[n%2]
		err := svc.Store().InTx(ctx, func(ctx context.Context) error {
			return svc.Queue().EnqueueTx(ctx, countArgs{N: n}, nil)
		})
		if err != nil {
			t.Fatalf("enqueue %d: %v", n, err)
		}
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		var done int
		err := replicas[0].Store().DB().QueryRowContext(ctx,
			"SELECT count(*) FROM river_job WHERE kind = 'count' AND state = 'completed'").Scan(&done)
		if err != nil {
			t.Fatal(err)
		}
		if done == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d jobs completed", done, total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Let any (wrong) second execution land before counting.
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(worked) != total {
		t.Fatalf("%d distinct jobs worked, want %d", len(worked), total)
	}
	for n, c := range worked {
		if c != 1 {
			t.Fatalf("job %d worked %d times, want exactly once", n, c)
		}
	}
	t.Logf("replica 0 worked %d jobs, replica 1 worked %d", perReplica[0].Load(), perReplica[1].Load())
}

// TestMaintenanceReindexesFeeds: a shop whose published feed predates the
// search index (a build older than migration 00017, which search cannot
// read) gets a feed build from the hourly housekeeping, so that its
// catalog becomes searchable without waiting for a catalog change.
func TestMaintenanceReindexesFeeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, err := service.New(ctx, service.Options{
		Config: testConfig(t, storetest.Config(t, app.DatabaseSQLite, true)), Logger: storetest.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := svc.Store()
	sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "preindex.myshopify.com"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateBuild(ctx, sh.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	b.Status = app.BuildPublished
	if err := st.FinishBuild(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB().ExecContext(ctx, "UPDATE feed_builds SET finished_at = ? WHERE id = ?", time.Now().UTC().Add(-2*time.Hour), b.ID); err != nil {
		t.Fatal(err)
	}
	builds := func() int {
		var n int
		if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = ?", app.BuildFeedArgs{}.Kind()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := builds(); n != 0 {
		t.Fatalf("%d feed builds queued before housekeeping ran", n)
	}
	// Housekeeping runs when the service starts (and hourly).
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })
	deadline := time.Now().Add(30 * time.Second)
	for builds() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no feed build queued for the shop whose feed search cannot read")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMaintenanceResumesStalledCompletions: the hourly housekeeping hands
// a completion that stood still back to the resume job; it can only when
// the service gives it the queue (a constructor argument now: it was a
// field left nil, so nothing was ever resumed).
func TestMaintenanceResumesStalledCompletions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, err := service.New(ctx, service.Options{
		Config: testConfig(t, storetest.Config(t, app.DatabaseSQLite, true)), Logger: storetest.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })
	st := svc.Store()
	sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "stalled.myshopify.com"})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().UTC().Add(-time.Hour)
	cs := &checkout.Session{ID: "cs_stalled", ShopID: sh.ID, Version: acp.V20260417,
		Status: acp.StatusCompleteInProgress, Currency: "USD", ExpiresAt: old.Add(2 * time.Hour), CreatedAt: old, UpdatedAt: old}
	if err := st.CreateCheckoutSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := st.SavePayment(ctx, &checkout.Payment{SessionID: cs.ID, ShopID: sh.ID, State: checkout.PaymentAuthorizing,
		Attempt: 1, Amount: 100, Currency: "USD", CreatedAt: old, UpdatedAt: old}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Queue().EnqueueTx(ctx, jobs.MaintenanceArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = ?",
			app.ResumeCompletionArgs{}.Kind()).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no resume job for the stalled completion after maintenance")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
