package store_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// dbBackendsCPU is the CPU time the PostgreSQL backends of st's database
// have used so far, by backend pid (from /proc/PID/schedstat, in
// nanoseconds, where backendCPU has 10 ms ticks: the server must run on
// this machine).
func dbBackendsCPU(t *testing.T, st *store.Store) map[int]time.Duration {
	t.Helper()
	rows, err := st.DB().Query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
		if err != nil {
			t.Skipf("PostgreSQL's backends are not readable here: %v", err)
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		out[pid] = time.Duration(ns)
	}
	return out
}

// TestCatalogOfVariantsCPU compares what PostgreSQL spends on the ways of
// reading a cart's catalog page, and on a whole reload of a cart's items
// before and now (issue 17: docs/benchmarks.md), measured as its
// backends' CPU time. Run by hand on a machine whose PostgreSQL is
// local: ACPBRIDGE_PG_CPU=1 go test ./app/store -run TestCatalogOfVariantsCPU -v
func TestCatalogOfVariantsCPU(t *testing.T) {
	if os.Getenv("ACPBRIDGE_PG_CPU") == "" {
		t.Skip("set ACPBRIDGE_PG_CPU=1 to measure")
	}
	st := storetest.Open(t, app.DatabasePostgres)
	sh, _ := checkoutShop(t, st)
	ctx := context.Background()
	n, _ := strconv.Atoi(os.Getenv("ACPBRIDGE_PG_CPU_N"))
	if n == 0 {
		n = 5000
	}
	type reader struct {
		name string
		read func(cart []int64) error
	}
	readers := []reader{
		{"before: products first, then a statement per table (5)", func(cart []int64) error {
			_, err := store.CatalogOfVariantsBefore(st, ctx, sh.ID, cart)
			return err
		}},
		{"a statement per table, products by subquery (4)", func(cart []int64) error {
			_, err := store.CatalogOfVariantsByTable(st, ctx, sh.ID, cart)
			return err
		}},
		{"one statement, UNION ALL of typed rows (1)", func(cart []int64) error {
			_, err := st.CatalogOfVariants(ctx, sh.ID, cart)
			return err
		}},
		{"one statement, json aggregation, not decoded (1)", func(cart []int64) error {
			_, err := store.CatalogOfVariantsJSONText(st, ctx, sh.ID, cart)
			return err
		}},
		// A whole reload of a cart's items, as pricing does it.
		{"reload before: the page, shop, settings, rules (8)", func(cart []int64) error {
			if _, err := store.CatalogOfVariantsBefore(st, ctx, sh.ID, cart); err != nil {
				return err
			}
			if _, err := st.ShopByID(ctx, sh.ID); err != nil {
				return err
			}
			if _, err := st.FeedSettings(ctx, sh.ID); err != nil {
				return err
			}
			_, err := st.FeedRules(ctx, sh.ID)
			return err
		}},
		{"reload now: CheckoutCatalog (1)", func(cart []int64) error {
			_, _, _, err := st.CheckoutCatalog(ctx, sh.ID, cart)
			return err
		}},
		{"reload, two statements: page (1), settings and rules (1)", func(cart []int64) error {
			if _, err := st.CatalogOfVariants(ctx, sh.ID, cart); err != nil {
				return err
			}
			_, _, err := st.FeedSettingsAndRules(ctx, sh.ID)
			return err
		}},
	}
	for _, cart := range [][]int64{{1101}, {1101, 1201, 1301}} {
		cpu, wall := map[string][]time.Duration{}, map[string][]time.Duration{}
		for range 5 {
			for _, r := range readers {
				for range 200 { // warm the connection's caches
					if err := r.read(cart); err != nil {
						t.Fatal(err)
					}
				}
				before, start := dbBackendsCPU(t, st), time.Now()
				for range n {
					if err := r.read(cart); err != nil {
						t.Fatal(err)
					}
				}
				wall[r.name] = append(wall[r.name], time.Since(start)/time.Duration(n))
				var used time.Duration
				for pid, d := range dbBackendsCPU(t, st) {
					used += d - before[pid]
				}
				cpu[r.name] = append(cpu[r.name], used/time.Duration(n))
			}
		}
		for _, r := range readers {
			t.Logf("%d variants, %-50s PostgreSQL CPU %v, wall %v per read (medians of %d rounds of %d)",
				len(cart), r.name+":", median(cpu[r.name]), median(wall[r.name]), len(cpu[r.name]), n)
		}
	}
}
