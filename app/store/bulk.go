package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/app"
)

// upsertRows writes n rows into table with one multi-row INSERT … ON
// CONFLICT DO UPDATE per chunk, through database/sql directly: the catalog
// ingest writes millions of rows, and gorm's per-row reflection cost more
// than the database work (it allocated ~19 GB for a 1M-variant sync). Both
// databases speak this upsert; only the placeholders differ. row(i, dst)
// appends row i's values in column order.
func (s *Store) upsertRows(ctx context.Context, table string, cols, keys []string, n int, row func(i int, dst []any) []any) error {
	if n == 0 {
		return nil
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		tx, ok := SQLTx(ctx)
		if !ok {
			return fmt.Errorf("upsert %s: no transaction", table)
		}
		// Stay well under both databases' bound-parameter limits.
		per := max(1, 30000/len(cols))
		var updates []string
		for _, c := range cols {
			if !slices.Contains(keys, c) {
				updates = append(updates, c+" = excluded."+c)
			}
		}
		suffix := " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(updates, ", ")
		prefix := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
		args := make([]any, 0, per*len(cols))
		var stmts = map[int]*sql.Stmt{}
		defer func() {
			for _, st := range stmts {
				_ = st.Close()
			}
		}()
		for start := 0; start < n; start += per {
			end := min(n, start+per)
			args = args[:0]
			for i := start; i < end; i++ {
				args = row(i, args)
			}
			k := end - start
			st, ok := stmts[k]
			if !ok {
				var err error
				if st, err = tx.PrepareContext(ctx, prefix+s.valuesList(k, len(cols))+suffix); err != nil {
					return translate(err, "upsert "+table)
				}
				stmts[k] = st
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return translate(err, "upsert "+table)
			}
		}
		return nil
	})
}

// valuesList renders "(…),(…)" placeholders for rows×cols values.
// queryer is the transaction ctx carries, or the pool: reads inside a
// transaction must use it (SQLite has a single connection).
func (s *Store) queryer(ctx context.Context) interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
} {
	if tx, ok := SQLTx(ctx); ok {
		return tx
	}
	return s.sqlDB
}

// rebind turns ? placeholders into PostgreSQL's $N.
func (s *Store) rebind(q string) string {
	if s.kind != app.DatabasePostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *Store) valuesList(rows, cols int) string {
	var b strings.Builder
	p := 1
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			if s.kind == app.DatabasePostgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}
