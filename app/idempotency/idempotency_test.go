package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, true},
		{`{"a":{"x":[1,2],"y":null}}`, " {\n\t\"a\" : { \"y\":null , \"x\":[ 1 ,2 ] } }\n", true},
		{`1`, `1.0`, true},
		{`1`, `1.000e0`, true},
		{`100`, `1e2`, true},
		{`100`, `1E+2`, true},
		{`1.5`, `15e-1`, true},
		{`0.1`, `1e-1`, true},
		{`0`, `-0`, true},
		{`0`, `0.0e10`, true},
		{`-1.50`, `-15E-1`, true},
		{`123456789012345678901234567890`, `1.2345678901234567890123456789e29`, true},
		{`1e400`, `10e399`, true}, // beyond float64, still exact
		{`"é"`, `"\u00e9"`, true},
		{`"/"`, `"\/"`, true},
		{`"😀"`, `"\ud83d\ude00"`, true},
		{`"a\"b\\c\n"`, `"a\u0022b\u005cc\u000a"`, true},
		{`{"é":1}`, `{"\u00e9":1}`, true},

		{`[1,2]`, `[2,1]`, false},                               // array order matters
		{`{"a":null}`, `{}`, false},                             // null is not absent
		{`{"a":null}`, `{"a":false}`, false},                    // nor false
		{`1`, `"1"`, false},                                     // a number is not a string
		{`true`, `"true"`, false},                               // nor a boolean
		{`1`, `-1`, false},                                      // the sign counts
		{`12345678901234567890`, `12345678901234567891`, false}, // float64 would say equal
		{`0.1`, `0.10000000000000001`, false},                   // so would this
		{`1e2`, `1e3`, false},
		{`{"a":1}`, `{"A":1}`, false},
		{`"a"`, `"a "`, false},
		{`[]`, `{}`, false},
		{`[[]]`, `[]`, false},
		{`{"a":[1]}`, `{"a":1}`, false},
	}
	for _, tt := range tests {
		ha, hb := idempotency.CanonicalJSONHash([]byte(tt.a)), idempotency.CanonicalJSONHash([]byte(tt.b))
		if (ha == hb) != tt.same {
			ca, _ := idempotency.CanonicalJSON([]byte(tt.a))
			cb, _ := idempotency.CanonicalJSON([]byte(tt.b))
			t.Errorf("%s vs %s: same hash = %v, want %v (canonical %s vs %s)", tt.a, tt.b, ha == hb, tt.same, ca, cb)
		}
	}
}

func TestCanonicalJSONForm(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{` {"b":[1.0, 2e2, -0.50, 0], "a":"x\u0001\/"} `, `{"a":"x\u0001/","b":[1,2e2,-5e-1,0]}`},
		{`{"z":{"b":true,"a":null}}`, `{"z":{"a":null,"b":true}}`},
		{`1000000`, `1e6`},
		{`0.00012300`, `123e-6`},
	}
	for _, tt := range tests {
		got, ok := idempotency.CanonicalJSON([]byte(tt.in))
		if !ok || string(got) != tt.want {
			t.Errorf("CanonicalJSON(%s) = %s, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
	// Not canonicalizable: hashed as raw bytes, so only identical bytes match.
	for _, in := range []string{
		``, ` `, `{`, `{"a":1}x`, `{"a":1} {"a":1}`, `{"a":1,"a":1}`, `{"a":1,"b":{"c":1,"c":2}}`,
		"\"\xff\"", `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `nul`, `01`,
	} {
		if got, ok := idempotency.CanonicalJSON([]byte(in)); ok {
			t.Errorf("CanonicalJSON(%q) = %s, want not ok", in, got)
		}
	}
	deep := ""
	for range 65 {
		deep = "[" + deep + "]"
	}
	if _, ok := idempotency.CanonicalJSON([]byte(deep)); ok {
		t.Error("65 levels deep: want not ok")
	}
	if _, ok := idempotency.CanonicalJSON([]byte(deep[1 : len(deep)-1])); !ok {
		t.Error("64 levels deep: want ok")
	}
	// Raw and canonical hashes are different domains; raw bytes compare exactly.
	if idempotency.CanonicalJSONHash([]byte(`{"a":1,"a":1}`)) == idempotency.CanonicalJSONHash([]byte(`{"a":1, "a":1}`)) {
		t.Error("raw bodies that differ hash alike")
	}
	if idempotency.CanonicalJSONHash([]byte(`not json`)) != idempotency.CanonicalJSONHash([]byte(`not json`)) {
		t.Error("raw hash is not deterministic")
	}
}

func TestValidateIdempotencyKey(t *testing.T) {
	t.Parallel()
	long := make([]byte, 256)
	for i := range long {
		long[i] = 'k'
	}
	for _, tt := range []struct {
		key string
		ok  bool
	}{
		{"6f1c2a8e-0c1b-4d3e-9f6a-2b7c8d9e0f1a", true},
		{"a", true},
		{string(long[:255]), true},
		{"with space~!", true},
		{"", false},
		{string(long), false},
		{"tab\there", false},
		{"nl\n", false},
		{"del\x7f", false},
		{"é", false},
	} {
		err := idempotency.ValidateKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateIdempotencyKey(%q) = %v, want ok %v", tt.key, err, tt.ok)
		}
		var ae *app.Error
		if err != nil && (!errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Reason != idempotency.ReasonInvalidIdempotencyKey) {
			t.Errorf("ValidateIdempotencyKey(%q) = %#v, want invalid_idempotency_key", tt.key, err)
		}
	}
}

func wantAppError(t *testing.T, err error, code app.Code, reason string) *app.Error {
	t.Helper()
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code != code || ae.Reason != reason {
		t.Fatalf("err = %#v, want code %s reason %s", err, code, reason)
	}
	return ae
}

func TestIdempotencyBegin(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		clk := testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		idem := &idempotency.Keys{Store: st, Now: clk.Now}
		scope := idempotency.Scope{ShopID: sh.ID, APIKeyID: 3, Operation: idempotency.OpCreateSession}

		// Missing key: required in 2026-04-17, untracked in 2025-09-29.
		_, _, err := idem.Begin(ctx, scope, "", acp.V20260417, []byte(`{}`))
		wantAppError(t, err, app.CodeInvalid, idempotency.ReasonIdempotencyKeyRequired)
		if r, c, err := idem.Begin(ctx, scope, "", acp.V20250929, []byte(`{}`)); r != nil || c != nil || err != nil {
			t.Fatalf("2025-09-29 without a key = %v, %v, %v; want untracked", r, c, err)
		}
		_, _, err = idem.Begin(ctx, scope, "bad\x01key", acp.V20250929, []byte(`{}`))
		wantAppError(t, err, app.CodeInvalid, idempotency.ReasonInvalidIdempotencyKey)

		// First use claims; a second one while in flight is told to wait.
		replay, claim, err := idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"a":1,"b":[1,2]}`))
		if err != nil || replay != nil || claim == nil {
			t.Fatalf("first Begin = %v, %v, %v; want a claim", replay, claim, err)
		}
		_, _, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"b":[1.0,2],"a":1}`))
		if ae := wantAppError(t, err, app.CodeConflict, idempotency.ReasonIdempotencyInFlight); ae.RetryAfter <= 0 {
			t.Fatalf("in flight without RetryAfter: %#v", ae)
		}
		// Another body is a conflict even while in flight: 422, or 409 in 2025-09-29.
		_, _, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"a":1,"b":[2,1]}`))
		wantAppError(t, err, app.CodeUnprocessable, idempotency.ReasonIdempotencyConflict)
		_, _, err = idem.Begin(ctx, scope, "k1", acp.V20250929, []byte(`{"a":1,"b":[2,1]}`))
		wantAppError(t, err, app.CodeConflict, idempotency.ReasonIdempotencyConflict)

		resp := idempotency.StoredResult{Outcome: idempotency.OutcomeCreated, Session: []byte(`{"id":"cs_1"}`)}
		if err := claim.Finish(ctx, resp); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		// The same body, however spelt, replays.
		replay, claim, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(` {"b":[1,2.00],"a":1e0} `))
		if err != nil || claim != nil || replay == nil || replay.Outcome != idempotency.OutcomeCreated || string(replay.Session) != `{"id":"cs_1"}` {
			t.Fatalf("Begin after Finish = %+v, %v, %v; want the stored session", replay, claim, err)
		}
		_, _, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"a":1,"b":[1,2],"c":null}`))
		wantAppError(t, err, app.CodeUnprocessable, idempotency.ReasonIdempotencyConflict)

		// After the TTL the key is new.
		clk.Advance(idempotency.DefaultTTL)
		_, claim, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"other":true}`))
		if err != nil || claim == nil {
			t.Fatalf("Begin after the TTL = %v, %v; want a fresh claim", claim, err)
		}
		// A server failure is never stored: the caller releases, and the
		// retry runs afresh.
		if _, ok := idempotency.RefusalOf(&app.Error{Code: app.CodeUnavailable, Message: "down"}); ok {
			t.Fatal("RefusalOf(unavailable) = ok; a server failure must not be stored")
		}
		if err := claim.Release(ctx); err != nil {
			t.Fatalf("Release after a failure: %v", err)
		}
		_, claim, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"other":true}`))
		if err != nil || claim == nil {
			t.Fatalf("Begin after a 503 = %v, %v; want a fresh claim", claim, err)
		}
		// Release (a panic, say) frees the key too.
		if err := claim.Release(ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
		_, claim, err = idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"another":1}`))
		if err != nil || claim == nil {
			t.Fatalf("Begin after Release = %v, %v; want a fresh claim", claim, err)
		}

		// A claim whose holder died (no renewal, lease lapsed) is taken over;
		// the dead holder's late Finish is refused.
		clk.Advance(idempotency.DefaultLease + time.Second)
		_, taken, err := idem.Begin(ctx, scope, "k1", acp.V20260417, []byte(`{"another":1}`))
		if err != nil || taken == nil {
			t.Fatalf("Begin after the lease lapsed = %v, %v; want a fresh claim", taken, err)
		}
		if err := claim.Finish(ctx, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned}); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("late Finish of a lost claim: %v, want ErrNotFound", err)
		}
		if err := taken.Finish(ctx, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned}); err != nil {
			t.Fatal(err)
		}

		// Keys are scoped by operation, session and API key.
		for _, other := range []idempotency.Scope{
			{ShopID: sh.ID, APIKeyID: 3, Operation: idempotency.OpUpdateSession, SessionID: "cs_1"},
			{ShopID: sh.ID, APIKeyID: 3, Operation: idempotency.OpUpdateSession, SessionID: "cs_2"},
			{ShopID: sh.ID, APIKeyID: 4, Operation: idempotency.OpCreateSession},
		} {
			if _, c, err := idem.Begin(ctx, other, "k1", acp.V20260417, []byte(`{}`)); err != nil || c == nil {
				t.Fatalf("same key, scope %+v = %v, %v; want a claim", other, c, err)
			}
		}
	})
}

// TestIdempotencyKeyBoundToAPIVersion: a replay under another API-Version
// (issue 13: a 2025-09-29 request got the stored 2026-04-17 answer) is
// refused as idempotency_conflict in the status of the asking version, and
// never runs again; the first version still replays.
func TestIdempotencyKeyBoundToAPIVersion(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		idem := &idempotency.Keys{Store: st}
		scope := idempotency.Scope{ShopID: sh.ID, APIKeyID: 3, Operation: idempotency.OpCreateSession}
		body := []byte(`{"line_items":[{"id":"1","quantity":1}]}`)
		tests := []struct {
			first, then acp.Version
			code        app.Code
		}{
			{acp.V20260417, acp.V20250929, app.CodeConflict},      // 409 in 2025-09-29
			{acp.V20250929, acp.V20260417, app.CodeUnprocessable}, // 422 in 2026-04-17
		}
		for i, tt := range tests {
			key := fmt.Sprintf("version-%d", i)
			_, claim, err := idem.Begin(ctx, scope, key, tt.first, body)
			if err != nil || claim == nil {
				t.Fatalf("first Begin = %v, %v", claim, err)
			}
			// In flight under another version: a conflict, not "wait".
			_, _, err = idem.Begin(ctx, scope, key, tt.then, body)
			wantAppError(t, err, tt.code, idempotency.ReasonIdempotencyConflict)
			resp := idempotency.StoredResult{Outcome: idempotency.OutcomeCreated, Session: []byte(`{"answer":"` + string(tt.first) + `"}`)}
			if err := claim.Finish(ctx, resp); err != nil {
				t.Fatal(err)
			}
			replay, c, err := idem.Begin(ctx, scope, key, tt.then, body)
			if ae := wantAppError(t, err, tt.code, idempotency.ReasonIdempotencyConflict); replay != nil || c != nil ||
				!strings.Contains(ae.Message, string(tt.first)) {
				t.Fatalf("Begin under %s = %+v, %v, %q; want a conflict naming %s", tt.then, replay, c, ae.Message, tt.first)
			}
			replay, c, err = idem.Begin(ctx, scope, key, tt.first, body)
			if err != nil || c != nil || replay == nil || string(replay.Session) != string(resp.Session) {
				t.Fatalf("Begin under %s again = %+v, %v, %v; want the stored answer", tt.first, replay, c, err)
			}
			rec, err := st.IdempotencyRecord(ctx, scope, key)
			if err != nil || rec.APIVersion != string(tt.first) {
				t.Fatalf("record %+v, %v; want version %s", rec, err, tt.first)
			}
		}
	})
}

// TestIdempotencyLeaseRenews checks that a long request keeps its key: the
// claim renews its short lease while it runs.
func TestIdempotencyLeaseRenews(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		idem := &idempotency.Keys{Store: st, Lease: 300 * time.Millisecond}
		scope := idempotency.Scope{ShopID: sh.ID, APIKeyID: 3, Operation: idempotency.OpCreateSession}
		_, claim, err := idem.Begin(ctx, scope, "k", acp.V20260417, []byte(`{}`))
		if err != nil || claim == nil {
			t.Fatalf("Begin = %v, %v", claim, err)
		}
		time.Sleep(time.Second) // more than three leases
		_, _, err = idem.Begin(ctx, scope, "k", acp.V20260417, []byte(`{}`))
		wantAppError(t, err, app.CodeConflict, idempotency.ReasonIdempotencyInFlight)
		if err := claim.Finish(ctx, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: []byte("ok")}); err != nil {
			t.Fatalf("Finish after renewals: %v", err)
		}
		// Once finished, renewals stop: the record stays completed.
		time.Sleep(400 * time.Millisecond)
		replay, _, err := idem.Begin(ctx, scope, "k", acp.V20260417, []byte(`{}`))
		if err != nil || replay == nil || string(replay.Session) != "ok" {
			t.Fatalf("replay = %v, %v", replay, err)
		}
	})
}

// TestRefusalRebuildsTheError: a stored refusal gives back the error it was
// made from, so a replay renders as the first answer did; server failures
// are not refusals.
func TestRefusalRebuildsTheError(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&app.Error{Code: app.CodeConflict, Reason: "concurrent_update", Message: "retry", RetryAfter: time.Second},
		&app.Error{Code: app.CodeNotFound, Message: "no such checkout session", Field: "$.id"},
		&acp.Error{Type: acp.ErrInvalidRequest, Code: acp.CodeUnknownField, Message: "unknown", Param: "$.x"},
	} {
		for _, wrapped := range []error{err, fmt.Errorf("checkout: %w", err)} {
			r, ok := idempotency.RefusalOf(wrapped)
			if !ok {
				t.Fatalf("RefusalOf(%v) not ok", wrapped)
			}
			b, _ := json.Marshal(r)
			var back idempotency.Refusal
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if got := back.Err(); !reflect.DeepEqual(got, err) {
				t.Fatalf("refusal of %#v rebuilt as %#v", err, got)
			}
		}
	}
	for _, err := range []error{errors.New("database went away"), &app.Error{Code: app.CodeUnavailable, Message: "later"},
		&app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", Message: "busy", RetryAfter: time.Second}} {
		if r, ok := idempotency.RefusalOf(err); ok {
			t.Fatalf("RefusalOf(%v) = %+v; a server failure or a rate limit is not stored", err, r)
		}
	}
}
