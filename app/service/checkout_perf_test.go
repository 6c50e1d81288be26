package service_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestPerfCheckout measures the checkout API's own overhead: agents on
// ACPBRIDGE_PERF_CONNS connections (default 32) each run conversations
// (create with an address, update the quantity, GET) for
// ACPBRIDGE_PERF_SECONDS (default 10) against one app on each database,
// with Shopify answered at once by the emulator. It reports requests/s and
// p50/p95/p99 per endpoint. Skipped unless ACPBRIDGE_PERF=1 (see
// docs/benchmarks.md).
func TestPerfCheckout(t *testing.T) {
	if os.Getenv("ACPBRIDGE_PERF") != "1" {
		t.Skip("set ACPBRIDGE_PERF=1 to run the checkout load test (see docs/benchmarks.md)")
	}
	conns := envInt(t, "ACPBRIDGE_PERF_CONNS", 32)
	// ACPBRIDGE_PERF_RATE paces the agents to that many conversations per
	// second in all (an open load: latency without queueing); unset, each
	// connection goes as fast as it can (throughput).
	rate := 0
	if os.Getenv("ACPBRIDGE_PERF_RATE") != "" {
		rate = envInt(t, "ACPBRIDGE_PERF_RATE", 1)
	}
	seconds := envInt(t, "ACPBRIDGE_PERF_SECONDS", 10)
	kinds := []app.DatabaseKind{app.DatabasePostgres, app.DatabaseSQLite}
	if k := os.Getenv("ACPBRIDGE_PERF_DB"); k != "" {
		kinds = []app.DatabaseKind{app.DatabaseKind(k)}
	}
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			e := newCheckoutEnv(t, kind)
			// "Shopify answering at once": no API cost budget in the way,
			// so the figures are the app's own.
			e.emu.SetThrottle(1e9, 1e9)
			http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = conns
			var mu sync.Mutex
			lat := map[string][]time.Duration{}
			errs := map[string]int{}
			record := func(op string, d time.Duration, ok bool) {
				mu.Lock()
				defer mu.Unlock()
				lat[op] = append(lat[op], d)
				if !ok {
					errs[op]++
				}
			}
			stop := time.Now().Add(time.Duration(seconds) * time.Second)
			var ticks <-chan time.Time
			if rate > 0 {
				tk := time.NewTicker(time.Second / time.Duration(rate))
				defer tk.Stop()
				ticks = tk.C
			}
			var wg sync.WaitGroup
			for c := 0; c < conns; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					a := e.agent(t, acp.V20260417)
					a.seq, a.fast = c*1_000_000, true
					for i := 0; time.Now().Before(stop); i++ {
						if ticks != nil {
							<-ticks
						}
						start := time.Now()
						r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
						record("create", time.Since(start), r.status == http.StatusCreated && r.str("status") == "ready_for_payment")
						id := r.str("id")
						start = time.Now()
						u := a.do("POST", "/checkout_sessions/"+id, map[string]any{"line_items": []map[string]any{{"id": strconv.FormatInt(e.items.inStock.ID, 10), "quantity": 2}}})
						record("update", time.Since(start), u.status == http.StatusOK)
						start = time.Now()
						g := a.do("GET", "/checkout_sessions/"+id, nil)
						record("get", time.Since(start), g.status == http.StatusOK)
					}
				}(c)
			}
			wg.Wait()
			elapsed := time.Duration(seconds) * time.Second
			load := "as fast as they go"
			if rate > 0 {
				load = fmt.Sprintf("paced to %d conversations/s", rate)
			}
			t.Logf("%s, %d connections, %s, %v:", kind, conns, load, elapsed)
			for _, op := range []string{"create", "update", "get"} {
				ds := lat[op]
				slices.Sort(ds)
				pct := func(p float64) time.Duration { return ds[min(len(ds)-1, int(float64(len(ds))*p))] }
				line := fmt.Sprintf("%-6s %7.0f req/s  p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  errors %d of %d",
					op, float64(len(ds))/elapsed.Seconds(), ms(pct(0.50)), ms(pct(0.95)), ms(pct(0.99)), errs[op], len(ds))
				t.Log(line)
				if errs[op] > 0 {
					t.Errorf("%s: %d errors", op, errs[op])
				}
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}
