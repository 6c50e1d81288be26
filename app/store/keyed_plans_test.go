package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestKeyedStatementsUseTheKey checks how PostgreSQL plans the statements
// that find a session or cart by its key, on tables that have never held
// a row (a new database): each must reach the row by the primary key.
// With the shop compared as plain shop_id, the planner rated the
// (shop_id, created_at) index as cheap, and a connection kept that plan,
// reading every session of the shop on each write (issue 17). The plan
// checked is the generic one, which a pooled connection keeps.
func TestKeyedStatementsUseTheKey(t *testing.T) {
	storetest.RequirePostgres(t)
	st := storetest.Open(t, app.DatabasePostgres)
	ctx := context.Background()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	i := 0
	for name, sql := range store.KeyedStatements() {
		i++
		stmt := fmt.Sprintf("keyed_%d", i)
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			n := 0
			for _, r := range sql {
				if r == '?' {
					n++
					fmt.Fprintf(&b, "$%d", n)
					continue
				}
				b.WriteRune(r)
			}
			if _, err := conn.ExecContext(ctx, "PREPARE "+stmt+" AS "+b.String()); err != nil {
				t.Fatalf("prepare: %v", err)
			}
			defer conn.ExecContext(ctx, "DEALLOCATE "+stmt)
			args := strings.TrimSuffix(strings.Repeat("NULL,", n), ",")
			rows, err := conn.QueryContext(ctx, "EXPLAIN EXECUTE "+stmt+"("+args+")")
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			text := strings.Join(plan, "\n")
			byKey := strings.Contains(text, "Index Scan using checkout_sessions_pkey") ||
				strings.Contains(text, "Index Scan using carts_pkey")
			if !byKey || strings.Contains(text, "_shop_created_idx") {
				t.Errorf("the session or cart is not reached by its key:\n%s", text)
			}
		})
	}
}
