package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestDatabaseUnavailable: when PostgreSQL drops the store's connections
// (every backend of the database terminated, as a restart does), a call
// fails with app.CodeUnavailable, which the HTTP edge answers 503 with
// Retry-After, not as an internal error; and the store recovers by itself
// on the next calls. Before the fix the error had no code (a 500).
func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	cfg := storetest.Config(t, app.DatabasePostgres, true)
	ctx := context.Background()
	st, err := store.Open(ctx, cfg, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.ShopByDomain(ctx, "a.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("ShopByDomain before: %v, want not found", err)
	}

	admin, err := sql.Open("pgx", cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no backend to terminate: the store holds no connection")
	}

	_, err = st.ShopByDomain(ctx, "a.myshopify.com")
	if got := app.ErrorCode(err); got != app.CodeUnavailable {
		t.Fatalf("ShopByDomain on a dropped connection: %v (code %q), want code %q", err, got, app.CodeUnavailable)
	}
	var ae *app.Error
	if errors.As(err, &ae) && ae.RetryAfter <= 0 {
		t.Errorf("RetryAfter=%v, want positive", ae.RetryAfter)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = st.ShopByDomain(ctx, "a.myshopify.com")
		if errors.Is(err, app.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
