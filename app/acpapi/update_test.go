package acpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// claimFirst hides whether the wrapped Checkout claims an update's key
// with its write: the pipeline then claims it first, the ordinary way.
type claimFirst struct{ acpapi.Checkout }

// TestUpdateClaimsWithSession: an update of a session this replica
// remembers runs first and claims its key with the session's write (its
// record inserted completed), and answers byte for byte what the ordinary
// path (claim, read, write) answers for the same calls on a twin session,
// refusals included (those are stored the ordinary way); a retry replays
// the stored answer and writes nothing; the key with another body is an
// idempotency_conflict; a session changed behind the memory's back goes
// the ordinary way, with one record and the right answer; racing updates
// of one key and body write once and all answer it (or in flight).
func TestUpdateClaimsWithSession(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			svc, _, item := startApp(t, kind)
			ctx := context.Background()
			st := svc.Store()
			sh, apiKey, key := shopAgent(t, svc, "agent")
			keys := &idempotency.Keys{Store: st}
			fast := &acpapi.Pipeline{Checkout: svc.Checkout(), Agents: svc.Agents(), Idempotency: keys}
			plain := &acpapi.Pipeline{Checkout: claimFirst{svc.Checkout()}, Agents: svc.Agents(), Idempotency: keys}
			call := func(p *acpapi.Pipeline, op acpapi.Operation, sessionID, idemKey string, body any) acpapi.Result {
				b, err := json.Marshal(body)
				if err != nil {
					t.Error(err)
				}
				var keys []string
				if idemKey != "" {
					keys = []string{idemKey}
				}
				return p.Run(ctx, acpapi.Request{
					Shop: testShop, Operation: op, SessionID: sessionID, APIVersion: string(acp.V20260417),
					Authorization: "Bearer " + apiKey, IdempotencyKeys: keys, Body: b,
					Binding: agentsBinding(op, sessionID, idemKey),
				})
			}
			record := func(sessionID, idemKey string) *idempotency.Record {
				t.Helper()
				rec, err := st.IdempotencyRecord(ctx, idempotency.Scope{ShopID: sh.ID, APIKeyID: key.ID,
					Operation: idempotency.OpUpdateSession, SessionID: sessionID}, idemKey)
				if err != nil {
					t.Fatalf("record %s %s: %v", sessionID, idemKey, err)
				}
				return rec
			}
			// claimedWithWrite: the record was inserted completed, by the
			// session's write (the ordinary claim is in flight first, under a lease).
			claimedWithWrite := func(rec *idempotency.Record) bool { return !rec.LeaseUntil.After(rec.CreatedAt) }
			rowVersion := func(id string) int64 {
				t.Helper()
				var v int64
				q := fmt.Sprintf(`SELECT row_version FROM checkout_sessions WHERE id = '%s'`, id)
				if err := st.DB().QueryRowContext(ctx, q).Scan(&v); err != nil {
					t.Fatal(err)
				}
				return v
			}
			createBody := map[string]any{
				"line_items": []any{map[string]any{"id": item.ID, "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{},
				"buyer": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
			}
			// Twins: a, updated the ordinary way; b, by the one-write path.
			var twins [2]struct{ ID string }
			for i := range twins {
				res := call(fast, acpapi.OpCreate, "", fmt.Sprintf("create-%d", i), createBody)
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				if err := json.Unmarshal(res.Session, &twins[i]); err != nil {
					t.Fatal(err)
				}
			}
			a, b := twins[0], twins[1]
			// The twins' answers are the same bytes but for the id and the
			// times (made a few ms apart).
			times := regexp.MustCompile(`"(created_at|updated_at|expires_at)":"[^"]*"`)
			norm := func(res []byte, id string) []byte {
				return times.ReplaceAll(bytes.ReplaceAll(res, []byte(id), []byte("cs_twin")), []byte(`"$1":"T"`))
			}
			same := func(what string, got, want acpapi.Result) {
				t.Helper()
				if got.Outcome != want.Outcome || !bytes.Equal(norm(got.Session, b.ID), norm(want.Session, a.ID)) ||
					(got.Err == nil) != (want.Err == nil) || want.Err != nil && got.Err.Error() != want.Err.Error() {
					t.Fatalf("%s = %s, %v\n%s\nwant %s, %v\n%s", what, got.Outcome, got.Err, norm(got.Session, b.ID),
						want.Outcome, want.Err, norm(want.Session, a.ID))
				}
			}

			steps := []struct {
				name string
				body map[string]any
				ok   bool // a session write (else a refusal)
			}{
				{"items", map[string]any{"line_items": []any{map[string]any{"id": item.ID, "quantity": 2}}}, true},
				{"address", map[string]any{"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": testAddress()}}, true},
				{"unknown option", map[string]any{"selected_fulfillment_options": []any{map[string]any{"type": "shipping", "option_id": "nope",
					"item_ids": []any{item.ID}}}}, false},
				{"discount code", map[string]any{"discounts": map[string]any{"codes": []any{"NOPE10"}}}, true},
				{"buyer and items", map[string]any{"buyer": map[string]any{"first_name": "Grace", "email": "grace@example.com"},
					"line_items": []any{map[string]any{"id": item.ID, "quantity": 3}}}, true},
			}
			var last acpapi.Result
			for i, step := range steps {
				idemKey := fmt.Sprintf("u%d", i)
				want := call(plain, acpapi.OpUpdate, a.ID, idemKey, step.body)
				got := call(fast, acpapi.OpUpdate, b.ID, idemKey, step.body)
				same(step.name, got, want)
				if (want.Err == nil) != step.ok {
					t.Fatalf("%s = %v; want a write %v", step.name, want.Err, step.ok)
				}
				if claimedWithWrite(record(a.ID, idemKey)) {
					t.Fatalf("%s: the ordinary path's record was inserted completed", step.name)
				}
				if rec := record(b.ID, idemKey); claimedWithWrite(rec) != step.ok || !bytes.Equal(rec.Result.Session, got.Session) {
					t.Fatalf("%s: record claimed with the write %v, want %v; stored answer the same %v", step.name,
						claimedWithWrite(rec), step.ok, bytes.Equal(rec.Result.Session, got.Session))
				}
				if rowVersion(a.ID) != rowVersion(b.ID) {
					t.Fatalf("%s: row versions %d and %d", step.name, rowVersion(a.ID), rowVersion(b.ID))
				}
				if step.ok {
					last = got
					// The session as read back answers the same bytes: the
					// update priced the session as the database holds it.
					if read := call(fast, acpapi.OpGet, b.ID, "", nil); read.Err != nil || !bytes.Equal(read.Session, got.Session) {
						t.Fatalf("%s: read back = %v\n%s\nwant the update's answer\n%s", step.name, read.Err, read.Session, got.Session)
					}
				}
			}

			// A retry replays, writes nothing; another body is a conflict.
			version := rowVersion(b.ID)
			lastKey := fmt.Sprintf("u%d", len(steps)-1)
			again := call(fast, acpapi.OpUpdate, b.ID, lastKey, steps[len(steps)-1].body)
			if !again.Replayed || again.Err != nil || !bytes.Equal(again.Session, last.Session) {
				t.Fatalf("retry = replayed %v, %v; same answer %v", again.Replayed, again.Err, bytes.Equal(again.Session, last.Session))
			}
			if res := call(fast, acpapi.OpUpdate, b.ID, lastKey, steps[0].body); idemReason(res.Err) != idempotency.ReasonIdempotencyConflict ||
				res.Err.(*app.Error).Code != app.CodeUnprocessable {
				t.Fatalf("same key, other body = %v; want a 422 %s", res.Err, idempotency.ReasonIdempotencyConflict)
			}
			if v := rowVersion(b.ID); v != version {
				t.Fatalf("row version %d after the retries, want %d", v, version)
			}

			// Another writer moves both twins behind the memory: the update
			// goes the ordinary way, one record, the same answer as a's.
			for _, id := range []string{a.ID, b.ID} {
				if _, err := st.DB().ExecContext(ctx, fmt.Sprintf(`UPDATE checkout_sessions SET row_version = row_version + 1 WHERE id = '%s'`, id)); err != nil {
					t.Fatal(err)
				}
			}
			if !svc.Checkout().ClaimsUpdateKey(sh.ID, b.ID) {
				t.Fatal("the twin is not remembered")
			}
			stale := map[string]any{"line_items": []any{map[string]any{"id": item.ID, "quantity": 1}}}
			want := call(plain, acpapi.OpUpdate, a.ID, "stale", stale)
			got := call(fast, acpapi.OpUpdate, b.ID, "stale", stale)
			same("update of a moved session", got, want)
			if got.Err != nil {
				t.Fatal(got.Err)
			}
			if rec := record(b.ID, "stale"); claimedWithWrite(rec) || !bytes.Equal(rec.Result.Session, got.Session) {
				t.Fatalf("update of a moved session: record %+v; want the ordinary claim, with the answer", rec)
			}
			if v := rowVersion(b.ID); v != version+2 {
				t.Fatalf("row version %d, want %d", v, version+2)
			}
			// The ordinary path's read is remembered: the next goes one-write.
			next := call(fast, acpapi.OpUpdate, b.ID, "next", steps[0].body)
			if next.Err != nil || !claimedWithWrite(record(b.ID, "next")) {
				t.Fatalf("update after the fallback = %v, claimed with the write %v", next.Err, claimedWithWrite(record(b.ID, "next")))
			}

			// Racing updates of one key and body.
			version = rowVersion(b.ID)
			results := make([]acpapi.Result, 8)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() { results[i] = call(fast, acpapi.OpUpdate, b.ID, "race", steps[1].body) })
			}
			wg.Wait()
			if v := rowVersion(b.ID); v != version+1 {
				t.Fatalf("racing updates moved the row version by %d, want 1", v-version)
			}
			rec := record(b.ID, "race")
			fresh := 0
			for i, res := range results {
				switch {
				case idemReason(res.Err) == idempotency.ReasonIdempotencyInFlight:
				case res.Err != nil || res.Outcome != idempotency.OutcomeReturned || !bytes.Equal(res.Session, rec.Result.Session):
					t.Errorf("racer %d = %s, %v\n%s\nwant the stored answer\n%s", i, res.Outcome, res.Err, res.Session, rec.Result.Session)
				case !res.Replayed:
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d racers answered as the first, want 1", fresh)
			}
			var _ checkout.UpdateClaimingStore = st
		})
	}
}
