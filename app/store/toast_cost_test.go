package store_test

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestTOASTCost measures what PostgreSQL spends (its backend's CPU, read
// from /proc, so the server must run on this machine) on the two values of
// a conversation's writes that pass the TOAST threshold (issue 17):
//
//   - a stored idempotency answer, sealed as text as before (the 4.4 KB
//     example answer: 5,859 bytes) against deflated and sealed in binary
//     (1,685 bytes);
//   - a session's state (testdata/session_state.json, a state of an acpbench
//     run, 2.3 KB, with a sealed buyer of its size) compressed with pglz
//     against lz4 (migration 00023).
//
// Each is 6 rounds of 4,000 UPDATEs and 4,000 SELECTs of 100 rows per
// variant, alternating; the log gives the medians. Run it alone on a quiet
// machine:
//
//	ACPBRIDGE_TOAST_COST=1 go test ./app/store -run TestTOASTCost -v -count=1
func TestTOASTCost(t *testing.T) {
	if os.Getenv("ACPBRIDGE_TOAST_COST") == "" {
		t.Skip("a measurement: set ACPBRIDGE_TOAST_COST=1")
	}
	st := storetest.Open(t, app.DatabasePostgres)
	ctx := context.Background()
	conn, err := st.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
	if err != nil {
		t.Fatal(err)
	}

	// The answers: the new form as the store writes it, the old one as
	// Seal made it. Only their length matters to PostgreSQL: both are
	// incompressible.
	now := time.Now()
	held, _ := claim(t, st, idemRecord(idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1"), "k", "h", now), now)
	answer := store.SpecAnswer(t)
	if err := st.FinishIdempotencyKey(ctx, held.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: answer}); err != nil {
		t.Fatal(err)
	}
	newForm := storedAnswer(t, st, held.ID)
	oldForm, err := storetest.Keys.Seal(answer, app.IdempotencyResultAAD(held.ID))
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile("testdata/session_state.json")
	if err != nil {
		t.Fatal(err)
	}
	buyer := "v1:test:" + strings.Repeat("x", 516) // a sealed buyer's length on acpbench
	exec(`CREATE TABLE answers_text (LIKE idempotency_keys INCLUDING ALL)`)
	exec(`CREATE TABLE answers_deflated (LIKE idempotency_keys INCLUDING ALL)`)
	exec(`CREATE TABLE sessions_pglz (LIKE checkout_sessions INCLUDING ALL)`)
	exec(`ALTER TABLE sessions_pglz ALTER COLUMN state SET COMPRESSION pglz`)
	exec(`CREATE TABLE sessions_lz4 (LIKE checkout_sessions INCLUDING ALL)`)
	exec(`ALTER TABLE sessions_lz4 ALTER COLUMN state SET COMPRESSION lz4`)
	const rows = 100
	for i := range rows {
		for _, table := range []string{"answers_text", "answers_deflated"} {
			exec(`INSERT INTO `+table+` (id, shop_id, api_key_id, operation, session_id, key, api_version, request_hash, state,
  lease_until, created_at, expires_at) SELECT $1::bigint, shop_id, api_key_id, operation, session_id, key || $1::text,
  api_version, request_hash, state, lease_until, created_at, expires_at FROM idempotency_keys WHERE id = $2`, i, held.ID)
		}
		for _, table := range []string{"sessions_pglz", "sessions_lz4"} {
			exec(`INSERT INTO `+table+` (id, shop_id, api_version, status, currency, state, buyer_sealed, buyer_index,
  row_version, api_key_id, expires_at, created_at, updated_at)
VALUES ($1, $2, '2026-04-17', 'completed', 'USD', $3, $4, $5, 1, 1, now(), now(), now())`,
				sessionID(i), sh.ID, string(state), buyer, strings.Repeat("i", 32))
		}
	}

	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	// Each UPDATE writes a value of its own, as a request does.
	unique := func(b []byte, i int) []byte {
		c := []byte(string(b))
		copy(c[len(c)-8:], fmt.Sprintf("%08d", i))
		return c
	}
	variants := []struct {
		name, update, read string
		value              func(i int) any
		key                func(i int) any
	}{
		{"answer sealed as text", `UPDATE answers_text SET result_session = $1 WHERE id = $2`,
			`SELECT result_session FROM answers_text WHERE id = $1`, func(i int) any { return unique([]byte(oldForm), i) }, func(i int) any { return i }},
		{"answer deflated, binary", `UPDATE answers_deflated SET result_session = $1 WHERE id = $2`,
			`SELECT result_session FROM answers_deflated WHERE id = $1`, func(i int) any { return unique(newForm, i) }, func(i int) any { return i }},
		{"state, pglz", `UPDATE sessions_pglz SET state = $1, row_version = row_version + 1 WHERE id = $2`,
			`SELECT state FROM sessions_pglz WHERE id = $1`, func(i int) any { return stateAt(state, i) }, func(i int) any { return sessionID(i) }},
		{"state, lz4", `UPDATE sessions_lz4 SET state = $1, row_version = row_version + 1 WHERE id = $2`,
			`SELECT state FROM sessions_lz4 WHERE id = $1`, func(i int) any { return stateAt(state, i) }, func(i int) any { return sessionID(i) }},
	}
	const n = 4000
	writes, reads := map[string][]time.Duration{}, map[string][]time.Duration{}
	for round := range 6 {
		for _, v := range variants {
			exec(`VACUUM ` + strings.Fields(v.update)[1]) // each round from the same start
			c0 := backendCPU(t, pid)
			for i := range n {
				exec(v.update, v.value(round*n+i), v.key(i%rows))
			}
			c1 := backendCPU(t, pid)
			var b []byte
			for i := range n {
				if err := conn.QueryRowContext(ctx, v.read, v.key(i%rows)).Scan(&b); err != nil {
					t.Fatal(err)
				}
			}
			writes[v.name] = append(writes[v.name], (c1-c0)/n)
			reads[v.name] = append(reads[v.name], (backendCPU(t, pid)-c1)/n)
		}
	}
	for _, q := range []struct{ table, column string }{{"answers_text", "result_session"}, {"answers_deflated", "result_session"},
		{"sessions_pglz", "state"}, {"sessions_lz4", "state"}} {
		var size float64
		var toast int64
		var method sql.NullString
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT avg(pg_column_size(%s)), max(pg_column_compression(%[1]s)),
  (SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = '%s') FROM %[2]s`, q.column, q.table)).Scan(&size, &method, &toast); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s.%s: %.0f bytes stored (compression %q), TOAST relation %d bytes", q.table, q.column, size, method.String, toast)
	}
	for _, v := range variants {
		t.Logf("%-24s backend CPU per UPDATE %v, per SELECT %v (medians of %d rounds)", v.name, median(writes[v.name]), median(reads[v.name]), len(writes[v.name]))
	}
}

// sessionID is a session id of the app's length (29 characters).
func sessionID(i int) string { return fmt.Sprintf("cs_%026d", i) }

// stateAt is the state with its quote key made unique by i.
func stateAt(state []byte, i int) string {
	s := string(state)
	at := strings.Index(s, `"key":"`) + len(`"key":"`)
	return s[:at] + hex.EncodeToString([]byte(fmt.Sprintf("%08d", i))) + s[at+16:]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// backendCPU is the CPU time a local process has used (utime + stime of
// /proc/PID/stat, in clock ticks of 10 ms).
func backendCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("PostgreSQL's backend is not a local process: %v", err)
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
