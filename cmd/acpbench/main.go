// Command acpbench is a load driver for acpbridge's ACP checkout API. It
// plays many agents, each holding one whole conversation (create → update
// the address → select a shipping option → complete with a fresh Shared
// Payment Token), at a chosen rate and concurrency, and reports requests/s,
// p50/p95/p99 per endpoint and every error answer.
//
// With --completion shopify_checkout (--db only) the shop sells through
// Shopify's checkout instead: after the shipping option the session
// answers requires_escalation with a continue_url, the buyer follows it
// (the app writes the session's draft order and redirects to its invoice,
// the "continue" row), pays there (POST to the Shopify emulator's checkout
// page, the "pay" row) and the
// agent GETs the session until the app has completed it from Shopify's
// webhooks ("get" and "completed_after_pay" rows). The audit then wants,
// per completed conversation, one Shopify order of the session's total and
// one order_create event, and no Stripe request at all. Either way the
// run's Shopify API use (requests and cost points, from the emulator) is
// printed per conversation.
//
// With --transport mcp the agents speak the ACP MCP binding instead of
// REST: the same steps as tools/call of create_checkout_session,
// update_checkout_session, complete_checkout_session and
// get_checkout_session on the shop's MCP server (<app>/mcp/<shop>), one
// MCP client session per conversation (its connection is the "initialize"
// row). --transport both makes every other conversation an MCP one, so
// that both transports are measured in the same run, under the same load,
// and the report adds a table of every row per transport.
//
// With --shopify-plan standard|advanced|plus (--db only) the emulated shop
// has that plan's GraphQL Admin API budget once the stack is ready (the
// default, unlimited, puts none in the way). The report then adds a
// budget line: the points spent per completed conversation and completed
// purchases/s against the plan's restore rate ÷ points per conversation.
// Every run prints the Shopify points and THROTTLED answers per GraphQL
// operation, and a graceful line: 5xx answers, requests without an
// answer, the slowest request and how many took over --slow-after,
// non-2xx answers by status (429s without Retry-After apart) and the
// recoverable answers asked again. --burst-check makes any of those that
// breaks the burst goal (and a throughput below the budget's) exit 1.
//
// Two ways to point it at an app:
//
//	acpbench --demo demo-data/demo.json [flags]
//	    a running `acpbridge demo` (SQLite, emulators in the demo process);
//	    tokens come from the demo's Stripe emulator test helper.
//
//	acpbench --db postgres://…/postgres [--replicas 3] [flags]
//	acpbench --db sqlite:/tmp/bench.db [flags]
//	    starts the Shopify and Stripe emulators in this process and N
//	    replicas of the real binary (`acpbridge serve`, built from this
//	    module unless --bin is given) on that database, installs the app
//	    through OAuth, lets an agent in, runs the load and then counts the
//	    Stripe charges and Shopify orders of every conversation. With
//	    PostgreSQL a fresh database is created on the server and dropped at
//	    the end (--fresh-db=false uses the URL's database as it is).
//
// See docs/benchmarks.md for the measured figures and the commands.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	_ "net/http/pprof" // --pprof
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for --fresh-db

	"github.com/acpbridge/acpbridge/cmd/acpbench/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("GOGC") == "" {
		// The driver and the emulators share the machine with what they
		// measure: collect less often, as acpbridge serve does.
		debug.SetGCPercent(400)
	}
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acpbench:", err)
	}
	os.Exit(code)
}

// options are the command line.
type options struct {
	demo, db, bin, jsonOut, logs, version string
	completion, transport, shopifyPlan    string
	pprofAddr, logLevel                   string
	replicas, concurrency, products       int
	rate, faultRate, pointsPerConv        float64
	duration, timeout, faultHang, maxLag  time.Duration
	slowAfter                             time.Duration
	retry, viaLB, freshDB, audit          bool
	burstCheck                            bool
	seed                                  int64
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("acpbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.demo, "demo", "", "demo.json of a running `acpbridge demo`")
	fs.StringVar(&o.db, "db", "", "start the app on this DATABASE_URL (postgres://… or sqlite:PATH) with the emulators in this process")
	fs.StringVar(&o.bin, "bin", "", "acpbridge binary for --db (default: go build ./cmd/acpbridge)")
	fs.IntVar(&o.replicas, "replicas", 1, "replicas of `acpbridge serve` for --db (PostgreSQL)")
	fs.BoolVar(&o.viaLB, "via-lb", false, "send the load through the stack's round-robin balancer instead of to the replicas in turn")
	fs.BoolVar(&o.freshDB, "fresh-db", true, "with a postgres --db, run on a new database created (and dropped) on that server")
	fs.IntVar(&o.products, "products", 10, "products seeded in the emulated shop (--db)")
	fs.Float64Var(&o.rate, "rate", 200, "conversations started per second (0: as fast as --concurrency allows)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "most conversations in flight")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "how long conversations start")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.DurationVar(&o.maxLag, "max-start-lag", 5*time.Second, "drop (and count) a conversation that cannot start this long after its scheduled time; 0 queues without limit")
	fs.BoolVar(&o.retry, "retry", false, "retry as an agent would: transport errors, 409, 429 and 5xx with the same Idempotency-Key, complete_in_progress with a new one")
	fs.Float64Var(&o.faultRate, "fault-rate", 0, "fraction of Shopify and Stripe calls failing at random (5xx, timeouts, throttling; --db only)")
	fs.DurationVar(&o.faultHang, "fault-hang", 2*time.Second, "how long an injected timeout hangs")
	fs.Int64Var(&o.seed, "seed", 1, "seed for the item choice and the faults")
	fs.StringVar(&o.completion, "completion", bench.CompletionDelegated, "how conversations end: delegated (complete with a Shared Payment Token) or shopify_checkout (the buyer pays at the session's continue_url; --db only)")
	fs.StringVar(&o.transport, "transport", bench.TransportREST, "how the agents talk to the app: rest (the checkout API), mcp (the ACP MCP binding's tools) or both (every other conversation over MCP, reported per transport)")
	fs.StringVar(&o.version, "api-version", "2026-04-17", "ACP version (2026-04-17 or 2025-09-29)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the report (with every conversation) as JSON to this file")
	fs.StringVar(&o.logs, "logs", "", "write the replicas' output to this file (--db)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "the replicas' LOG_LEVEL (debug shows every Shopify call with its cost)")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve this process's pprof (the emulators' CPU and lock contention) on this loopback address, e.g. 127.0.0.1:6062")
	fs.BoolVar(&o.audit, "audit", true, "count charges and orders per conversation at the end (--db)")
	fs.StringVar(&o.shopifyPlan, "shopify-plan", bench.PlanUnlimited, "the shop's Shopify API budget during the run (--db): standard (bucket 2000 points, 100/s back), advanced (4000, 200/s), plus (20000, 1000/s) or unlimited")
	fs.DurationVar(&o.slowAfter, "slow-after", 3*time.Second, "a request slower than this counts as slow (the graceful line, --burst-check)")
	fs.BoolVar(&o.burstCheck, "burst-check", false, "fail (exit 1) unless the run was graceful: no 5xx, no request without an answer or slower than --slow-after, every non-2xx a 429 with Retry-After, and, on a plan with a budget, completed purchases/s at least the plan's restore rate ÷ points per conversation")
	fs.Float64Var(&o.pointsPerConv, "points-per-conversation", 0, "Shopify cost points of one whole conversation for --burst-check's throughput goal (default: this run's points per completed conversation)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if (o.demo == "") == (o.db == "") {
		return o, errors.New("give exactly one of --demo and --db")
	}
	if o.completion != bench.CompletionDelegated && o.completion != bench.CompletionShopifyCheckout {
		return o, fmt.Errorf("--completion: want %s or %s, got %q", bench.CompletionDelegated, bench.CompletionShopifyCheckout, o.completion)
	}
	switch o.transport {
	case bench.TransportREST, bench.TransportMCP, bench.TransportBoth:
	default:
		return o, fmt.Errorf("--transport: want %s, %s or %s, got %q", bench.TransportREST, bench.TransportMCP, bench.TransportBoth, o.transport)
	}
	if o.completion == bench.CompletionShopifyCheckout && o.db == "" {
		return o, errors.New("--completion shopify_checkout needs --db (the stack sets its shop to Shopify's checkout)")
	}
	if o.faultRate > 0 && o.db == "" {
		return o, errors.New("--fault-rate needs --db (the emulators must run in this process)")
	}
	if _, err := bench.LookupPlan(o.shopifyPlan); err != nil {
		return o, fmt.Errorf("--shopify-plan: %w", err)
	}
	if o.shopifyPlan != bench.PlanUnlimited && o.db == "" {
		return o, errors.New("--shopify-plan needs --db (the Shopify emulator must run in this process)")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	o, err := parse(args, stderr)
	if err != nil {
		return 2, err
	}
	if o.pprofAddr != "" {
		if err := servePprof(o.pprofAddr); err != nil {
			return 2, err
		}
	}
	var (
		tg    bench.Target
		stack *bench.Stack
	)
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	if o.demo != "" {
		if tg, err = demoTarget(ctx, o.demo, int(o.rate*o.duration.Seconds())+o.concurrency, logf); err != nil {
			return 1, err
		}
	} else {
		var stop func()
		if stack, stop, err = startStack(ctx, o, logf); err != nil {
			return 1, err
		}
		defer stop()
		tg = stack.Target(o.viaLB)
	}

	if stack != nil {
		p := stack.Plan()
		logf("Shopify plan: %s (bucket %.0f points, %.0f points/s back)", p.Name, p.Bucket, p.Restore)
	}
	logf("load: %.0f conversations/s, concurrency %d, %s, transport %s; load average %s", o.rate, o.concurrency, o.duration, o.transport, loadavg())
	fi, _ := os.Stderr.Stat()
	pl := &progressLine{w: stderr, terminal: stderr == os.Stderr && fi != nil && fi.Mode()&os.ModeCharDevice != 0}
	var pids []int
	if stack != nil {
		pids = stack.PIDs()
	}
	var shopify0 bench.ShopifyUsage
	if stack != nil {
		shopify0 = stack.ShopifyUsage()
	}
	cpu0, t0 := readCPU(pids), time.Now()
	rep, err := bench.Run(ctx, tg, bench.Config{Rate: o.rate, Concurrency: o.concurrency, Duration: o.duration,
		Timeout: o.timeout, SlowAfter: o.slowAfter, Retry: o.retry, MaxStartLag: o.maxLag, APIVersion: o.version, Seed: uint64(o.seed),
		Completion: o.completion, Transport: o.transport, Progress: pl.show})
	if pl.terminal {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return 1, err
	}
	if stack != nil && o.faultRate > 0 {
		st := stack.Stripe.Stats()
		fmt.Fprintf(stdout, "faults injected: Shopify %d requests, Stripe %d of %d requests\n", stack.Shopify.FaultsInjected(), st.Faults, st.Requests)
	}
	if stack != nil {
		// Let the faults stop and the resume job finish what is still in
		// flight, so the audit sees the end state.
		stack.Shopify.SetFailureRate(0, 0)
		stack.Stripe.SetFailureRate(0, 0)
	}
	cpu1, wall := readCPU(pids), time.Since(t0)
	rep.Print(stdout)
	if a, pg, b := cpuShare(cpu0, cpu1, wall); stack != nil {
		fmt.Fprintf(stdout, "CPU used during the run, in cores (of %d): app %.2f, postgres %.2f (lower bound), acpbench (driver and emulators) %.2f\n", runtime.NumCPU(), a, pg, b)
		if rep.Started > 0 {
			per := func(cores float64) float64 { return cores * wall.Seconds() * 1000 / float64(rep.Started) }
			fmt.Fprintf(stdout, "CPU per conversation started, in ms: app %.1f, postgres %.1f, acpbench %.1f\n", per(a), per(pg), per(b))
			fmt.Fprintf(stdout, "app context switches per conversation started: %.0f\n", float64(cpu1.appSwitches-cpu0.appSwitches)/float64(rep.Started))
		}
	}
	pl.mu.Lock()
	fmt.Fprintf(stdout, "load average (1, 5, 15 min) every 10 s: %s; at the end: %s\n", strings.Join(pl.loads, " | "), loadavg())
	pl.mu.Unlock()
	code := 0
	if rep.Failed > 0 || rep.Dropped > 0 || rep.ErrorAnswers() > 0 && !o.retry {
		code = 1
	}
	var audit *bench.Audit
	if stack != nil && o.audit {
		a := stack.Audit(rep.Conversations)
		audit = &a
		if printAudit(stdout, a) {
			code = 1
		}
	}
	if stack != nil {
		// After the audit, which waits for the last events: the webhooks'
		// Shopify reads are the conversations' too.
		u := stack.ShopifyUsage().Since(shopify0)
		printShopifyUsage(stdout, u, rep.Started)
		if !printBudget(stdout, stack.Plan(), u, rep, o.pointsPerConv) && o.burstCheck {
			code = 1
		}
	}
	if o.burstCheck {
		if probs := rep.Graceful().Problems(rep.SlowAfter); len(probs) > 0 {
			fmt.Fprintf(stdout, "burst check failed: %s\n", strings.Join(probs, "; "))
			code = 1
		}
	}
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, rep, audit); err != nil {
			return 1, err
		}
	}
	return code, nil
}

// writeJSON writes the report (with every conversation) and the audit, if
// any, as JSON to path.
func writeJSON(path string, rep *bench.Report, audit *bench.Audit) error {
	b, _ := json.MarshalIndent(struct {
		Report *bench.Report
		Audit  *bench.Audit `json:",omitempty"`
	}{rep, audit}, "", "  ")
	return os.WriteFile(path, b, 0o644)
}

// servePprof serves this process's pprof, with mutex and block profiling
// on, at addr, which must be a loopback address.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--pprof: want a loopback address such as 127.0.0.1:6062, got %q", addr)
	}
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(100_000)
	go func() { _ = http.ListenAndServe(addr, nil) }()
	return nil
}

// startStack starts the --db stack: a fresh database if asked, the
// acpbridge binary (built unless --bin), the replicas' log file, the
// emulators with their faults. stop undoes it all, in reverse order.
func startStack(ctx context.Context, o options, logf func(string, ...any)) (stack *bench.Stack, stop func(), err error) {
	var undo []func()
	undoAll := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		// Not stop: a failed start returns a nil stop.
		if err != nil {
			undoAll()
		}
	}()
	dbURL := o.db
	if o.freshDB && strings.HasPrefix(dbURL, "postgres") {
		var drop func()
		if dbURL, drop, err = freshDatabase(ctx, dbURL); err != nil {
			return nil, nil, err
		}
		undo = append(undo, drop)
	}
	bin := o.bin
	if bin == "" {
		dir, err := os.MkdirTemp("", "acpbench")
		if err != nil {
			return nil, nil, err
		}
		undo = append(undo, func() { os.RemoveAll(dir) })
		bin = filepath.Join(dir, "acpbridge")
		logf("building acpbridge …")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/acpbridge/acpbridge/cmd/acpbridge").CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	var logs io.Writer = io.Discard
	if o.logs != "" {
		f, err := os.Create(o.logs)
		if err != nil {
			return nil, nil, err
		}
		undo = append(undo, func() { f.Close() })
		logs = &lockedWriter{w: f}
	}
	stack, err = bench.StartStack(ctx, bench.StackConfig{Binary: bin, DatabaseURL: dbURL, Replicas: o.replicas,
		Products: o.products, Completion: o.completion, ShopifyPlan: o.shopifyPlan, Logs: logs, Env: []string{"LOG_LEVEL=" + o.logLevel}, Logf: logf})
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, stack.Close)
	if o.faultRate > 0 {
		stack.Shopify.SetFaultHang(o.faultHang)
		stack.Shopify.SetFailureRate(o.faultRate, o.seed)
		stack.Stripe.SetFaultHang(o.faultHang)
		stack.Stripe.SetFailureRate(o.faultRate, o.seed)
	}
	return stack, undoAll, nil
}

// progressLine shows the run's progress on w: rewritten in place on a
// terminal, else a line every 10 s. It keeps the load average of every
// 10 s for the report.
type progressLine struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
	loads    []string
}

func (pl *progressLine) show(p bench.Progress) {
	la := loadavg()
	if int(p.Elapsed.Seconds())%10 == 0 {
		pl.mu.Lock()
		pl.loads = append(pl.loads, la)
		pl.mu.Unlock()
	}
	line := fmt.Sprintf("%5.0fs  started %d  completed %d  failed %d  requests %d  error answers %d  in flight %d  load %s",
		p.Elapsed.Seconds(), p.Started, p.Completed, p.Failed, p.Requests, p.ErrorAnswers, p.InFly, la)
	switch {
	case pl.terminal:
		fmt.Fprint(pl.w, "\r"+line+"   ")
	case int(p.Elapsed.Seconds())%10 == 0:
		fmt.Fprintln(pl.w, line)
	}
}

// printShopifyUsage prints the shop's Shopify Admin API use during the
// run, per conversation started. It
// counts everything the app asked in that time (background jobs
// included), which under a steady load is what a conversation costs.
func printShopifyUsage(w io.Writer, u bench.ShopifyUsage, conversations int) {
	calls, cost, throttled := u.Requests, u.Cost, u.Throttled
	per := func(n int) string {
		if conversations == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(n)/float64(conversations))
	}
	fmt.Fprintf(w, "Shopify API during the run: %d GraphQL requests (%s per conversation), %d cost points (%s per conversation), %d throttled\n",
		calls, per(calls), cost, per(cost), throttled)
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(u.Operations)) {
		op := u.Operations[name]
		p := fmt.Sprintf("%s %d calls %d points", name, op.Calls, op.Cost)
		if op.Throttled > 0 {
			p += fmt.Sprintf(" (%d THROTTLED)", op.Throttled)
		}
		parts = append(parts, p)
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "Shopify API by operation: %s\n", strings.Join(parts, "; "))
	}
}

// printBudget prints the run's throughput against the plan's budget:
// completed purchases/s against what the restore rate pays for at the
// points one conversation costs (ref, or this run's points per completed
// conversation when ref is 0). It reports whether the throughput reached
// that (always true without a budget).
func printBudget(w io.Writer, plan bench.ShopifyPlan, u bench.ShopifyUsage, rep *bench.Report, ref float64) bool {
	secs := rep.Elapsed.Seconds()
	if plan.Unlimited() || secs <= 0 {
		return true
	}
	perDone := 0.0
	if rep.Completed > 0 {
		perDone = float64(u.Cost) / float64(rep.Completed)
	}
	points, from := ref, "--points-per-conversation"
	if points <= 0 {
		points, from = perDone, "this run's points per completed conversation"
	}
	done := float64(rep.Completed) / secs
	goal := 0.0
	if points > 0 {
		goal = plan.Restore / points
	}
	fmt.Fprintf(w, "budget (%s plan, %.0f points/s back): %.0f points spent, %.1f per completed conversation; completed %.2f purchases/s, goal %.0f ÷ %.1f (%s) = %.2f/s\n",
		plan.Name, plan.Restore, float64(u.Cost), perDone, done, plan.Restore, points, from, goal)
	return rep.Completed > 0 && done >= goal
}

// printAudit prints the audit's counts and its first 20 problems; it says
// whether there were any.
func printAudit(w io.Writer, a bench.Audit) bool {
	if a.Completion == bench.CompletionShopifyCheckout {
		fmt.Fprintf(w, "audit (Shopify checkout): %d sessions, %d completed, %d with a Shopify order (%d of the session's total), %d order_create events delivered (%d twice), %d with a captured charge, %d Stripe requests, %d problems\n",
			a.Sessions, a.Completed, a.Ordered, a.TotalsMatched, a.Notified, a.NotifiedTwice, a.Charged, a.StripeRequests, len(a.Problems))
	} else {
		fmt.Fprintf(w, "audit: %d sessions, %d completed, %d with a captured charge, %d with a Shopify order, %d order_create events delivered (%d twice), %d problems\n",
			a.Sessions, a.Completed, a.Charged, a.Ordered, a.Notified, a.NotifiedTwice, len(a.Problems))
	}
	for i, p := range a.Problems {
		if i == 20 {
			fmt.Fprintf(w, "  … %d more\n", len(a.Problems)-20)
			break
		}
		fmt.Fprintln(w, "  "+p)
	}
	return len(a.Problems) > 0
}

// demoTarget reads demo.json and pre-grants the tokens the run needs.
func demoTarget(ctx context.Context, path string, tokens int, logf func(string, ...any)) (bench.Target, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return bench.Target{}, err
	}
	var m struct {
		ACP struct {
			BaseURL string `json:"base_url"`
			APIKey  string `json:"api_key"`
		} `json:"acp"`
		MCP struct {
			URL string `json:"url"`
		} `json:"mcp"`
		Payment struct {
			StripeURL     string `json:"stripe_url"`
			StripeTestKey string `json:"stripe_test_key"`
		} `json:"payment"`
		Items []struct {
			ID               string `json:"id"`
			Available        bool   `json:"available"`
			Inventory        int    `json:"inventory"`
			RequiresShipping bool   `json:"requires_shipping"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return bench.Target{}, fmt.Errorf("%s: %w", path, err)
	}
	tg := bench.Target{BaseURLs: []string{m.ACP.BaseURL}, APIKey: m.ACP.APIKey}
	if m.MCP.URL != "" {
		tg.MCPURLs = []string{m.MCP.URL}
	}
	for _, it := range m.Items {
		// Orders do not take stock from the emulated shop, so any item in
		// stock can be bought again and again.
		if it.Available && it.RequiresShipping && it.Inventory > 3 {
			tg.Items = append(tg.Items, it.ID)
		}
	}
	tokSrc := &bench.HelperTokens{StripeURL: m.Payment.StripeURL, SecretKey: m.Payment.StripeTestKey}
	t0 := time.Now()
	if err := tokSrc.Prefill(ctx, tokens); err != nil {
		return bench.Target{}, err
	}
	logf("granted %d payment tokens in %s", tokens, time.Since(t0).Round(time.Millisecond))
	tg.Tokens = tokSrc
	return tg, nil
}

// freshDatabase creates a new database on the server of a postgres URL and
// returns its URL and a function that drops it.
func freshDatabase(ctx context.Context, raw string) (string, func(), error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("acpbench_%d_%d", os.Getpid(), time.Now().Unix())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}, nil
}

// loadavg is /proc/loadavg's three load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// lockedWriter serialises the replicas' writes to one file.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
