package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestSessionStateLZ4: on a PostgreSQL server with lz4, migration 00023
// has a session's state compressed with it, a session written then holds
// an lz4 state, and the migration's down goes back to the default.
func TestSessionStateLZ4(t *testing.T) {
	t.Parallel()
	st := openBefore(t, app.DatabasePostgres, 23)
	ctx := context.Background()
	var hasLZ4 bool
	if err := st.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_settings
  WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))`).Scan(&hasLZ4); err != nil {
		t.Fatal(err)
	}
	method := func() string {
		t.Helper()
		var m string
		if err := st.DB().QueryRowContext(ctx, `SELECT attcompression::text FROM pg_attribute
  WHERE attrelid = 'checkout_sessions'::regclass AND attname = 'state'`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := method(); m != "" {
		t.Fatalf("before 00023: state compression %q, want the default", m)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if !hasLZ4 {
		if m := method(); m != "" {
			t.Fatalf("a server without lz4: state compression %q, want the default", m)
		}
		t.Skip("this PostgreSQL has no lz4: the migration was a no-op, as it should be")
	}
	if m := method(); m != "l" {
		t.Fatalf("after 00023: state compression %q, want l (lz4)", m)
	}
	sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
	if err != nil {
		t.Fatal(err)
	}
	cs := newSession("cs_lz4", sh.ID, time.Now())
	// A state past the TOAST threshold, as sessions' are (about 2.3 KB).
	for i := range 30 {
		cs.State.Links = append(cs.State.Links, acp.Link{Type: "terms_of_use", URL: fmt.Sprintf("https://a.example/policies/terms-%d", i)})
	}
	if err := st.CreateCheckoutSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	var got sql.NullString
	if err := st.DB().QueryRowContext(ctx, `SELECT pg_column_compression(state) FROM checkout_sessions WHERE id = 'cs_lz4'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got.String != "lz4" {
		t.Errorf("a session's state is stored with compression %q, want lz4", got.String)
	}
	// Down to just before 00023, whatever came after it.
	var above int
	if err := st.DB().QueryRowContext(ctx, `SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id >= 23`).Scan(&above); err != nil {
		t.Fatal(err)
	}
	if err := st.MigrateDown(ctx, above); err != nil {
		t.Fatal(err)
	}
	if m := method(); m != "" {
		t.Errorf("after 00023's down: state compression %q, want the default", m)
	}
}
