package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// TestSQLiteKeepsCompiledStatements: the SQLite connection compiles a
// statement once and runs it again, also inside transactions; a statement
// whose rows are still being read is not run again under them; one that
// failed is compiled again; the cache stays bounded; and the connection
// closes with its statements.
func TestSQLiteKeepsCompiledStatements(t *testing.T) {
	ctx := context.Background()
	db := sql.OpenDB(stmtConnector{dsn: filepath.Join(t.TempDir(), "s.db") + sqliteParams})
	db.SetMaxOpenConns(1)
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
	const insert = "INSERT INTO t (k, v) VALUES (?, ?)"
	for k := 1; k <= 5; k++ {
		mustExec(insert, k, fmt.Sprintf("v%d", k))
	}
	// cached is the compiled statement the connection keeps for q.
	cached := func(q string) *cachedStmt {
		t.Helper()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var cs *cachedStmt
		if err := conn.Raw(func(dc any) error { cs = dc.(*stmtConn).stmts[q]; return nil }); err != nil {
			t.Fatal(err)
		}
		return cs
	}
	values := func(q querier, from int) []string {
		t.Helper()
		rows, err := q.QueryContext(ctx, "SELECT v FROM t WHERE k >= ? ORDER BY k", from)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const sel = "SELECT v FROM t WHERE k >= ? ORDER BY k"

	t.Run("compiled once, run again with other arguments", func(t *testing.T) {
		first := cached(insert)
		if first == nil {
			t.Fatal("the INSERT run five times is not kept")
		}
		mustExec(insert, 6, "v6")
		if got := cached(insert); got != first {
			t.Error("the INSERT was compiled again")
		}
		if got := values(db, 5); !slices.Equal(got, []string{"v5", "v6"}) {
			t.Errorf("rows from 5: %v", got)
		}
		if got := values(db, 6); !slices.Equal(got, []string{"v6"}) {
			t.Errorf("rows from 6, the same statement again: %v", got)
		}
	})

	t.Run("kept across transactions", func(t *testing.T) {
		before := cached(sel)
		for i := range 2 {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := values(tx, 6); !slices.Equal(got, []string{"v6"}) {
				t.Errorf("transaction %d: %v", i, got)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if before == nil || cached(sel) != before {
			t.Error("a transaction compiled the SELECT again")
		}
	})

	t.Run("not run again while its rows are read", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(ctx, sel, 1)
		if err != nil {
			t.Fatal(err)
		}
		var outer, inner []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			outer = append(outer, v)
			inner = append(inner, values(tx, 6)...)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if want := []string{"v1", "v2", "v3", "v4", "v5", "v6"}; !slices.Equal(outer, want) {
			t.Errorf("outer rows %v, want %v", outer, want)
		}
		if len(inner) != 6 || slices.ContainsFunc(inner, func(v string) bool { return v != "v6" }) {
			t.Errorf("inner rows %v, want v6 six times", inner)
		}
	})

	t.Run("compiled again after a failure", func(t *testing.T) {
		before := cached(insert)
		if _, err := db.ExecContext(ctx, insert, 1, "again"); err == nil {
			t.Fatal("a duplicate key was inserted")
		}
		if cached(insert) != nil {
			t.Error("the statement that failed is still kept")
		}
		mustExec(insert, 7, "v7")
		if after := cached(insert); after == nil || after == before {
			t.Errorf("after the failure: kept %v, the same as before %v", after != nil, after == before)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		for i := range maxCachedStatements + 10 {
			values(db, i) // one text
			if _, err := db.ExecContext(ctx, fmt.Sprintf("SELECT %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		_ = conn.Raw(func(dc any) error { n = len(dc.(*stmtConn).stmts); return nil })
		conn.Close()
		if n == 0 || n > maxCachedStatements {
			t.Errorf("%d statements kept, want 1 to %d", n, maxCachedStatements)
		}
	})

	if err := db.Close(); err != nil {
		t.Errorf("close with statements kept: %v", err)
	}
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
