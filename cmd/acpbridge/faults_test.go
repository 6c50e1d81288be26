package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/cmd/acpbench/bench"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

// These tests run the real binary under the load driver (cmd/acpbench/bench)
// with things going wrong around it. docs/reliability.md has the figures of
// longer runs of the same code (cmd/acpbench).

// TestUpstreamFaults puts agents' whole conversations through an app whose
// Shopify and Stripe fail 20% of their calls at random: 5xx, timeouts,
// throttling, and Stripe answers lost after the charge happened. The agents
// retry as the protocol allows (same Idempotency-Key). Every conversation
// must end completed with exactly one captured charge and one Shopify
// order, and no answer may be a 500: a 5xx the agent gets must be one it
// can retry (502/503/504, with the idempotency key making the retry safe).
func TestUpstreamFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	st := startStack(t, 1)
	st.Shopify.SetFaultHang(300 * time.Millisecond)
	st.Stripe.SetFaultHang(300 * time.Millisecond)
	st.Shopify.SetFailureRate(0.2, 81)
	st.Stripe.SetFailureRate(0.2, 82)
	// 12 conversations by default; ACPBRIDGE_FAULT_SECONDS runs longer at
	// the same rate (docs/reliability.md has a 60 s run of cmd/acpbench).
	// A completion whose orderCreate met a fault waits 20 s for Shopify's
	// order search before it looks again, so the test takes about 30 s
	// whatever the count.
	seconds := 3
	if s := os.Getenv("ACPBRIDGE_FAULT_SECONDS"); s != "" {
		seconds, _ = strconv.Atoi(s)
	}
	rep := drive(t, st.Target(false), bench.Config{Rate: 4, Concurrency: 32, Duration: time.Duration(seconds) * time.Second, Retry: true,
		Timeout: 20 * time.Second, RetryFor: 2 * time.Minute})
	st.Shopify.SetFailureRate(0, 0)
	st.Stripe.SetFailureRate(0, 0)
	faults := st.Stripe.Stats().Faults
	t.Logf("Stripe faults injected: %d", faults)
	if faults == 0 {
		t.Error("no Stripe fault was injected: the test proves nothing")
	}
	if rep.Completed != rep.Started || rep.Started < 4*seconds {
		t.Errorf("%d of %d conversations completed, want all (at least %d)", rep.Completed, rep.Started, 4*seconds)
	}
	for _, g := range rep.Errors {
		if unsafeAnswer(g) {
			t.Errorf("%d × %s answered %d (%s): %s", g.Count, g.Endpoint, g.Status, g.Kind, g.Sample)
		}
	}
	checkAudit(t, st, rep)
}

// TestPostgresOutage runs conversations through an app whose database
// connections all go through a proxy of the test's; midway the proxy drops
// every connection and refuses new ones for 2 s, as a PostgreSQL restart
// does (the shared cluster itself is never touched). The app must recover
// by itself: /readyz is 200 again, and every conversation, retried by its
// agent, ends with exactly one charge and one order.
func TestPostgresOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	storetest.RequirePostgres(t)
	db := storetest.Config(t, app.DatabasePostgres, false)
	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	upstream := u.Host
	if u.Port() == "" {
		upstream += ":5432"
	}
	proxy := newTCPProxy(t, upstream)
	u.Host = proxy.Addr()
	st := startStackOn(t, u.String(), 1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outage := make(chan struct{})
	go func() {
		defer close(outage)
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		proxy.SetDown(true)
		time.Sleep(2 * time.Second)
		proxy.SetDown(false)
	}()
	// An agent gives up after 30 s of retries: far more than the outage,
	// but less than the 60 s an idempotency key stays claimed when the
	// request that holds it cannot release it (the database being down),
	// unless the app releases it once the database is back.
	rep := drive(t, st.Target(false), bench.Config{Rate: 8, Concurrency: 32, Duration: 5 * time.Second, Retry: true,
		Timeout: 20 * time.Second, RetryFor: 30 * time.Second})
	<-outage
	t.Logf("the outage dropped %d connections", proxy.Dropped())
	if proxy.Dropped() == 0 {
		t.Error("the outage dropped no connection: the test proves nothing")
	}
	if rep.Completed != rep.Started || rep.Started < 35 {
		t.Errorf("%d of %d conversations completed, want all (at least 35)", rep.Completed, rep.Started)
	}
	for _, g := range rep.Errors {
		if unsafeAnswer(g) {
			t.Errorf("%d × %s answered %d (%s) during the outage: %s", g.Count, g.Endpoint, g.Status, g.Kind, g.Sample)
		}
	}
	if !st.Ready(0) {
		t.Error("/readyz is not 200 after the outage")
	}
	// A new conversation, not retried, goes through at once.
	after := drive(t, st.Target(false), bench.Config{Rate: 0, Concurrency: 1, Duration: 300 * time.Millisecond})
	if after.Completed == 0 || after.Failed != 0 {
		t.Errorf("after the outage: %d completed, %d failed", after.Completed, after.Failed)
	}
	checkAudit(t, st, rep)
}

// startStack starts replicas of the binary on a fresh PostgreSQL database
// with the emulators in this process.
func startStack(t *testing.T, replicas int) *bench.Stack {
	t.Helper()
	storetest.RequirePostgres(t)
	return startStackOn(t, storetest.Config(t, app.DatabasePostgres, false).URL, replicas)
}

func startStackOn(t *testing.T, dbURL string, replicas int) *bench.Stack {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "acpbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	logs := &testkit.LogBuffer{}
	st, err := bench.StartStack(context.Background(), bench.StackConfig{Binary: bin, DatabaseURL: dbURL, Replicas: replicas,
		Products: 6, Logs: logs, Env: []string{"LOG_LEVEL=warn", "COMPLETION_LEASE=3s"}})
	if err != nil {
		t.Fatalf("start: %v\n%s", err, logs.String())
	}
	t.Cleanup(func() {
		st.Close()
		if t.Failed() {
			t.Logf("the replicas' errors:\n%s", tail(errorLines(logs.String()), 12000))
		}
	})
	return st
}

// drive runs the load driver and logs its report.
func drive(t *testing.T, tg bench.Target, cfg bench.Config) *bench.Report {
	t.Helper()
	rep, err := bench.Run(context.Background(), tg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Print(&b)
	t.Logf("load driver:\n%s", b.String())
	return rep
}

// checkAudit fails the test unless Stripe and Shopify hold exactly one
// captured charge and one order for each completed conversation, and
// nothing for the others.
func checkAudit(t *testing.T, st *bench.Stack, rep *bench.Report) bench.Audit {
	t.Helper()
	// The resume job may still be finishing a completion an agent gave up
	// on; the end state is what counts.
	var a bench.Audit
	deadline := time.Now().Add(20 * time.Second)
	for {
		a = st.Audit(rep.Conversations)
		if len(a.Problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("audit: %d sessions, %d completed, %d charged, %d ordered, %d notified (%d twice)",
		a.Sessions, a.Completed, a.Charged, a.Ordered, a.Notified, a.NotifiedTwice)
	for _, p := range a.Problems {
		t.Error(p)
	}
	if a.Completed != a.Charged || a.Completed != a.Ordered {
		t.Errorf("%d completed, %d charged, %d ordered: want equal", a.Completed, a.Charged, a.Ordered)
	}
	return a
}

// unsafeAnswer reports whether an error answer is not one an agent can
// simply retry: a 500 (an internal error, not a dependency being down) or
// a 4xx other than 409 (in progress) and 429 (throttled). Transport errors
// (status 0, a timeout) are retried with the same key.
func unsafeAnswer(g bench.ErrorGroup) bool {
	return g.Status == 500 || (g.Status >= 400 && g.Status < 500 && g.Status != 409 && g.Status != 429) ||
		strings.HasPrefix(g.Kind, "unexpected")
}

// errorLines keeps the ERROR lines of the replicas' JSON logs.
func errorLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// tcpProxy forwards TCP connections to an upstream address; SetDown(true)
// drops every open connection and refuses new ones until SetDown(false).
type tcpProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	down     bool
	conns    map[net.Conn]struct{}
	dropped  int
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { _ = ln.Close(); p.SetDown(true) })
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(c, up)
		go pipe(up, c)
	}
}

// SetDown drops (true) every connection and refuses new ones, or lets
// them in again (false).
func (p *tcpProxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
			p.dropped++
		}
		clear(p.conns)
	}
}

// Dropped counts connections SetDown closed.
func (p *tcpProxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}
