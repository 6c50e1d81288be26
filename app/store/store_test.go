package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// eachDB runs fn as a parallel subtest per database kind, each with its own
// fresh migrated database.
func eachDB(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Open(t, kind))
		})
	}
}

func TestShopInstallLifecycle(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		sh, err := st.SaveShopInstall(ctx, app.Shop{
			Domain: "a.myshopify.com", Name: "A", Scopes: "read_products",
			AccessTokenSealed: "v1:k1:access", AccessTokenExpiresAt: &exp, RefreshTokenSealed: "v1:k1:refresh",
		})
		if err != nil {
			t.Fatalf("SaveShopInstall: %v", err)
		}
		if sh.ID == 0 || sh.Status != app.ShopActive || sh.AccessTokenSealed != "v1:k1:access" || !sh.AccessTokenExpiresAt.Equal(exp) {
			t.Fatalf("installed shop = %+v", sh)
		}

		key, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: "hash-a", Fingerprint: "sha256:aaaa"})
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
		if got, err := st.ShopByAPIKeyHash(ctx, "hash-a"); err != nil || got.ID != sh.ID {
			t.Fatalf("ShopByAPIKeyHash = %v, %v; want shop %d", got, err, sh.ID)
		}

		// Uninstall: tokens and keys go at once, the row stays.
		if err := st.UninstallShop(ctx, sh.Domain); err != nil {
			t.Fatalf("UninstallShop: %v", err)
		}
		if err := st.UninstallShop(ctx, sh.Domain); err != nil {
			t.Fatalf("UninstallShop again (must be idempotent): %v", err)
		}
		got, err := st.ShopByDomain(ctx, sh.Domain)
		if err != nil {
			t.Fatalf("ShopByDomain: %v", err)
		}
		if got.Status != app.ShopUninstalled || got.AccessTokenSealed != "" || got.RefreshTokenSealed != "" || got.UninstalledAt == nil {
			t.Fatalf("after uninstall shop = %+v", got)
		}
		if _, err := st.ShopByAPIKeyHash(ctx, "hash-a"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("key after uninstall: err = %v, want ErrNotFound", err)
		}
		if keys, _ := st.APIKeys(ctx, sh.ID); len(keys) != 0 {
			t.Fatalf("keys after uninstall = %d, want 0 (key %d should be deleted)", len(keys), key.ID)
		}

		// Reinstall reactivates the same row with the new tokens.
		again, err := st.SaveShopInstall(ctx, app.Shop{Domain: sh.Domain, Name: "A2", Scopes: "read_products,write_orders", AccessTokenSealed: "v1:k1:new"})
		if err != nil {
			t.Fatalf("reinstall: %v", err)
		}
		if again.ID != sh.ID || again.Status != app.ShopActive || again.UninstalledAt != nil || again.AccessTokenSealed != "v1:k1:new" || again.Name != "A2" {
			t.Fatalf("reinstalled shop = %+v, want id %d active with new token", again, sh.ID)
		}
	})
}

func TestShopNotFound(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if _, err := st.ShopByDomain(ctx, "nope.myshopify.com"); !errors.Is(err, app.ErrNotFound) || app.ErrorCode(err) != app.CodeNotFound {
			t.Fatalf("err = %v, want not found", err)
		}
		if err := st.UninstallShop(ctx, "nope.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("uninstall unknown: err = %v, want not found", err)
		}
	})
}

func TestConcurrentInstallsMakeOneShop(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		ids := make([]int64, 8)
		errs := make([]error, 8)
		for i := range ids {
			wg.Go(func() {
				sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "race.myshopify.com", AccessTokenSealed: fmt.Sprint("t", i)})
				if err == nil {
					ids[i] = sh.ID
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil {
				t.Fatalf("install %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("install %d got shop id %d, install 0 got %d: want one row", i, ids[i], ids[0])
			}
		}
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		b, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "b.myshopify.com"})
		k1, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: a.ID, Hash: "h1", Fingerprint: "f1", Label: "old"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: a.ID, Hash: "h2", Fingerprint: "f2", Label: "new"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: b.ID, Hash: "h1", Fingerprint: "f1"}); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("duplicate hash: err = %v, want ErrConflict", err)
		}

		// Two live keys during rotation: both authenticate as shop a.
		for _, h := range []string{"h1", "h2"} {
			if got, err := st.ShopByAPIKeyHash(ctx, h); err != nil || got.ID != a.ID {
				t.Fatalf("key %s: shop %v, err %v; want shop a", h, got, err)
			}
		}
		// Shop b cannot revoke shop a's key.
		if err := st.RevokeAPIKey(ctx, b.ID, k1.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("cross-shop revoke: err = %v, want not found", err)
		}
		if err := st.RevokeAPIKey(ctx, a.ID, k1.ID); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if _, err := st.ShopByAPIKeyHash(ctx, "h1"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("revoked key: err = %v, want not found", err)
		}
		keys, err := st.APIKeys(ctx, a.ID)
		if err != nil || len(keys) != 2 || keys[0].Label != "new" || keys[1].RevokedAt == nil {
			t.Fatalf("APIKeys = %+v, %v; want [new, old(revoked)]", keys, err)
		}

		// Pruning deletes only keys revoked before the cutoff.
		if n, err := st.PruneRevokedAPIKeys(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("prune (cutoff before revocation) = %d, %v; want 0", n, err)
		}
		if n, err := st.PruneRevokedAPIKeys(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune = %d, %v; want 1", n, err)
		}
		if keys, _ := st.APIKeys(ctx, a.ID); len(keys) != 1 || keys[0].Hash != "h2" {
			t.Fatalf("after prune keys = %+v, want only h2", keys)
		}
		if err := st.Optimize(ctx); err != nil {
			t.Fatalf("Optimize: %v", err)
		}
	})
}

// testJobArgs is a job kind of the tests' own.
type testJobArgs struct {
	Note string `json:"note"`
}

func (testJobArgs) Kind() string { return "store_test" }

// TestJobInsertedInSameTransaction proves the pattern every use-case relies
// on: a River job inserted through the gorm transaction commits and rolls
// back with the rows around it, on both databases.
func TestJobInsertedInSameTransaction(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[testJobArgs]) error { return nil }))
		q, err := jobs.New(jobs.Config{
			Kind: st.Kind(), DB: st.DB(), Logger: slog.New(slog.DiscardHandler),
			TxFromContext: store.SQLTx,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Register(workers); err != nil {
			t.Fatal(err)
		}
		countJobs := func() int {
			var n int
			if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = 'store_test'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		errBoom := errors.New("boom")
		err = st.InTx(ctx, func(ctx context.Context) error {
			if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "rolled.myshopify.com"}); err != nil {
				return err
			}
			if err := q.EnqueueTx(ctx, testJobArgs{Note: "rolled back"}, nil); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx err = %v, want boom", err)
		}
		if n := countJobs(); n != 0 {
			t.Fatalf("jobs after rollback = %d, want 0", n)
		}
		if _, err := st.ShopByDomain(ctx, "rolled.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("shop after rollback: err = %v, want not found", err)
		}

		err = st.InTx(ctx, func(ctx context.Context) error {
			if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "kept.myshopify.com"}); err != nil {
				return err
			}
			// A nested InTx joins the outer transaction.
			return st.InTx(ctx, func(ctx context.Context) error {
				return q.EnqueueTx(ctx, testJobArgs{Note: "committed"}, nil)
			})
		})
		if err != nil {
			t.Fatalf("InTx: %v", err)
		}
		if n := countJobs(); n != 1 {
			t.Fatalf("jobs after commit = %d, want 1", n)
		}
		if _, err := st.ShopByDomain(ctx, "kept.myshopify.com"); err != nil {
			t.Fatalf("shop after commit: %v", err)
		}
	})
}

func TestMigrationsUpAndDown(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := store.Open(ctx, storetest.Config(t, kind, false), storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()

			before, err := st.Migrations(ctx)
			if err != nil {
				t.Fatalf("status on empty database: %v", err)
			}
			if before.Current != 0 || len(before.Pending) == 0 {
				t.Fatalf("empty database status = %+v, want version 0 with pending migrations", before)
			}
			if err := jobs.MigrationsCurrent(ctx, st.Kind(), st.DB()); err == nil {
				t.Fatal("River schema reported current on an empty database")
			}

			for round := range 2 { // up, down, and up again: down must leave a clean slate
				if err := st.Migrate(ctx); err != nil {
					t.Fatalf("round %d up: %v", round, err)
				}
				if err := jobs.Migrate(ctx, st.Kind(), st.DB(), storetest.Logger(t)); err != nil {
					t.Fatalf("round %d river up: %v", round, err)
				}
				after, err := st.Migrations(ctx)
				if err != nil || after.Current != after.Latest || len(after.Pending) != 0 {
					t.Fatalf("round %d after up: %+v, %v", round, after, err)
				}
				if err := jobs.MigrationsCurrent(ctx, st.Kind(), st.DB()); err != nil {
					t.Fatalf("round %d river current: %v", round, err)
				}
				if got := tables(t, st); !contains(got, "shops") || !contains(got, "api_keys") || !contains(got, "river_job") {
					t.Fatalf("round %d tables after up = %v", round, got)
				}

				if err := st.MigrateDown(ctx, 0); err != nil {
					t.Fatalf("round %d down: %v", round, err)
				}
				if err := jobs.MigrateDown(ctx, st.Kind(), st.DB(), storetest.Logger(t)); err != nil {
					t.Fatalf("round %d river down: %v", round, err)
				}
				got := tables(t, st)
				for _, name := range got {
					if name != "goose_db_version" && name != "river_migration" {
						t.Fatalf("round %d tables after down = %v, want only bookkeeping", round, got)
					}
				}
			}
		})
	}
}

// TestSchemasMatch checks that the PostgreSQL and SQLite migrations end at
// the same tables and columns (types differ by dialect, names must not).
func TestSchemasMatch(t *testing.T) {
	t.Parallel()
	pg := storetest.Open(t, app.DatabasePostgres)
	lite := storetest.Open(t, app.DatabaseSQLite)
	got, want := columns(t, lite), columns(t, pg)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("SQLite schema differs from PostgreSQL:\nsqlite:   %v\npostgres: %v", got, want)
	}
	if len(want) < 10 {
		t.Fatalf("only %d columns found: the schema query is broken", len(want))
	}
}

func tables(t *testing.T, st *store.Store) []string {
	t.Helper()
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	if st.Kind() == app.DatabaseSQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	}
	out := queryStrings(t, st, q)
	sort.Strings(out)
	return out
}

// queryStrings runs q, which selects one text column, and returns its
// values in the order read.
func queryStrings(t *testing.T, st *store.Store, q string) []string {
	t.Helper()
	rows, err := st.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// columns lists "table.column" for our own tables (River's are River's).
func columns(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for _, tbl := range tables(t, st) {
		// feed_items_fts (and its shadow tables) is SQLite's FTS5 index of
		// feed_items, its stand-in for PostgreSQL's GIN index, which is not
		// a table: indexes are not compared.
		if strings.HasPrefix(tbl, "river_") || tbl == "goose_db_version" || strings.HasPrefix(tbl, "feed_items_fts") {
			continue
		}
		q := "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
		if st.Kind() == app.DatabaseSQLite {
			q = "SELECT name FROM pragma_table_info(?)"
		}
		rows, err := st.DB().Query(q, tbl)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, tbl+"."+c)
		}
		rows.Close()
	}
	sort.Strings(out)
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
