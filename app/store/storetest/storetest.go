// Package storetest gives tests real databases: a fresh PostgreSQL database
// (cloned from a migrated template with pgtestdb) and a fresh SQLite file,
// so every store test runs the same cases on both.
//
// PostgreSQL comes from TEST_DATABASE_URL, else DATABASE_URL when it is a
// postgres:// URL, else postgres://postgres@127.0.0.1:5432/postgres. When it
// cannot be reached the PostgreSQL cases are skipped with a message, except
// with CI=true, where that is a failure: CI must never pass by skipping.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/migrations"
)

// DefaultPostgresURL is used when neither TEST_DATABASE_URL nor a postgres
// DATABASE_URL is set: the local cluster `.ci/run` starts.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Kinds lists the databases every store test runs on.
var Kinds = []app.DatabaseKind{app.DatabasePostgres, app.DatabaseSQLite}

// PostgresURL returns the server URL tests use.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	if u := os.Getenv("DATABASE_URL"); u != "" {
		if c, err := config.ParseDatabaseURL(u); err == nil && c.Kind == app.DatabasePostgres {
			return u
		}
	}
	return DefaultPostgresURL
}

var (
	pgOnce sync.Once
	pgErr  error
)

// RequirePostgres skips tb (or fails it under CI=true) when PostgreSQL
// does not answer.
func RequirePostgres(tb testing.TB) {
	tb.Helper()
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	if pgErr == nil {
		return
	}
	msg := fmt.Sprintf("PostgreSQL at %s is not reachable (%v); `make test` starts the local cluster, or set TEST_DATABASE_URL", redact(PostgresURL()), pgErr)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Config returns a fresh, empty-or-migrated database of the given kind for
// tb, dropped (PostgreSQL) or deleted (SQLite) when tb ends.
func Config(tb testing.TB, kind app.DatabaseKind, migrated bool) app.DatabaseConfig {
	tb.Helper()
	if kind == app.DatabaseSQLite {
		path := filepath.Join(tb.TempDir(), "test.db")
		if migrated {
			st := open(tb, app.DatabaseConfig{Kind: kind, Path: path})
			migrate(tb, st)
			if err := st.Close(); err != nil {
				tb.Fatalf("close: %v", err)
			}
		}
		return app.DatabaseConfig{Kind: kind, Path: path}
	}

	RequirePostgres(tb)
	u, err := url.Parse(PostgresURL())
	if err != nil {
		tb.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	pw, _ := u.User.Password()
	conf := pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       u.Port(),
		User:       u.User.Username(),
		Password:   pw,
		Database:   trimSlash(u.Path),
		Options:    u.RawQuery,
		// Our River clients and pools are closed by the tests, but a failed
		// test may leave one behind; never let that block the drop.
		ForceTerminateConnections: true,
	}
	if conf.Port == "" {
		conf.Port = "5432"
	}
	var m pgtestdb.Migrator = pgtestdb.NoopMigrator{}
	if migrated {
		m = migrator{}
	}
	inst := pgtestdb.Custom(tb, conf, m)
	return app.DatabaseConfig{Kind: app.DatabasePostgres, URL: inst.URL()}
}

// Open returns a store on a fresh migrated database, closed when tb ends.
func Open(tb testing.TB, kind app.DatabaseKind) *store.Store {
	tb.Helper()
	st := open(tb, Config(tb, kind, true))
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// EachShop runs fn as a parallel subtest, named after the kind, on a fresh
// store of every kind in Kinds, each already holding one installed shop
// (a.myshopify.com): the setup most tests of a shop-scoped service start from.
func EachShop(t *testing.T, fn func(t *testing.T, st *store.Store, shop *app.Shop)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			st := Open(t, kind)
			sh, err := st.SaveShopInstall(context.Background(), app.Shop{Domain: "a.myshopify.com"})
			if err != nil {
				t.Fatal(err)
			}
			fn(t, st, sh)
		})
	}
}

// Keys is the keyring of the stores Open returns (buyers' personal data is
// sealed with it): a fixed test key, so that a test may open what the
// store sealed.
var Keys = func() *secret.Keyring {
	k, err := secret.ParseKeyring("test:" + base64.StdEncoding.EncodeToString([]byte("storetest-key-0123456789abcdefgh")))
	if err != nil {
		panic(err)
	}
	return k
}()

func open(tb testing.TB, cfg app.DatabaseConfig) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), cfg, Logger(tb), store.WithKeys(Keys))
	if err != nil {
		tb.Fatalf("store.Open: %v", err)
	}
	return st
}

func migrate(tb testing.TB, st *store.Store) {
	tb.Helper()
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	if err := jobs.Migrate(ctx, st.Kind(), st.DB(), slog.New(slog.DiscardHandler)); err != nil {
		tb.Fatalf("river migrate: %v", err)
	}
}

// Logger returns a logger that writes into the test's log.
func Logger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Helper()
	w.tb.Log(string(p))
	return len(p), nil
}

// migrator builds pgtestdb's template: our schema and River's.
type migrator struct{}

// Hash names the template by the migration files and River's version, so a
// changed migration or a River upgrade gets a new template.
func (migrator) Hash() (string, error) {
	h := sha256.New()
	fsys, err := migrations.FS(migrations.Postgres)
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/riverqueue/river" {
				fmt.Fprintf(h, "river %s", dep.Version)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	st, err := store.Open(ctx, app.DatabaseConfig{Kind: app.DatabasePostgres, URL: conf.URL()}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	return jobs.Migrate(ctx, st.Kind(), st.DB(), slog.New(slog.DiscardHandler))
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}
