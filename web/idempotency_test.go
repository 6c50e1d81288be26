package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// idemHarness is a web.Server serving the real ACP routes through the
// pipeline (app/acpapi) with a real app.Idempotency, in front of a stand-in
// checkout whose operations count their calls and, by the first line item's
// id, fail ("fail"), panic ("panic"), refuse ("invalid") or wait for the
// test ("slow").
type idemHarness struct {
	srv   *Server
	shops map[string]*app.Shop // by domain
	calls map[string]*atomic.Int32
	// entered and release let a test hold the "slow" call mid-request.
	entered chan struct{}
	release chan struct{}
	// shift moves the clock of the harness's app.Idempotency forward.
	shift atomic.Int64
	// delay slows the create and update calls down.
	delay time.Duration
}

func (h *idemHarness) count(route string) int32 { return h.calls[route].Load() }

// harnessAgents authenticates "Bearer key-<n>" as API key n of the shop in
// the path, when the harness knows the shop; signatures are not required.
type harnessAgents struct{ h *idemHarness }

func (a harnessAgents) Authenticate(_ context.Context, shop, authorization string) (*app.Agent, error) {
	sh := a.h.shops[shop]
	id, err := strconv.ParseInt(strings.TrimPrefix(authorization, "Bearer key-"), 10, 64)
	if sh == nil || err != nil {
		return nil, &app.Error{Code: app.CodeUnauthorized, Message: "unknown API key"}
	}
	return &app.Agent{Shop: sh, Key: &app.APIKey{ID: id, ShopID: sh.ID}, Settings: &app.ACPSettings{ShopID: sh.ID}}, nil
}

func (harnessAgents) VerifySignature(*app.Agent, string, string, []byte) error { return nil }
func (harnessAgents) ConsumeSignature(context.Context, *app.Agent, string, string, agents.SignedRequest) error {
	return nil
}

// harnessCheckout is the stand-in checkout of idemHarness.
type harnessCheckout struct {
	CheckoutService // Discovery: never called
	h               *idemHarness
}

func (k harnessCheckout) session(v acp.Version, id string, n int32) *checkout.Session {
	return &checkout.Session{ID: id, Version: v, Status: acp.StatusNotReadyForPayment, Currency: "USD",
		State: checkout.State{Quote: checkout.Quote{Lines: []checkout.QuotedLine{
			{ItemID: "v1", VariantID: 1, ProductID: 1, Quantity: 1, UnitAmount: 100, Title: fmt.Sprintf("call %d", n)}}}}}
}

func (k harnessCheckout) Create(_ context.Context, ag *app.Agent, v acp.Version, in *acp.CreateSessionInput) (*checkout.Session, error) {
	h := k.h
	route := "create"
	if len(in.Items) > 0 && h.calls[in.Items[0].ID] != nil {
		route = in.Items[0].ID
	}
	n := h.calls[route].Add(1)
	switch route {
	case "fail":
		if n == 1 {
			return nil, errors.New("database went away")
		}
	case "panic":
		if n == 1 {
			panic("handler bug")
		}
	case "invalid":
		return nil, &app.Error{Code: app.CodeInvalid, Message: "quantity must be at least 1", Field: "$.line_items[0].quantity"}
	case "slow":
		h.entered <- struct{}{}
		<-h.release
	}
	time.Sleep(h.delay)
	return k.session(v, fmt.Sprintf("cs_%s%d", route, n), n), nil
}

func (k harnessCheckout) Get(_ context.Context, _ *app.Agent, id string) (*checkout.Session, error) {
	return k.session(acp.V20260417, id, k.h.calls["get"].Add(1)), nil
}

func (k harnessCheckout) Update(_ context.Context, _ *app.Agent, v acp.Version, id string, _ *acp.UpdateSessionInput) (*checkout.Session, error) {
	n := k.h.calls["update"].Add(1)
	time.Sleep(k.h.delay)
	return k.session(v, id, n), nil
}

func (k harnessCheckout) Complete(_ context.Context, _ *app.Agent, v acp.Version, id string, _ *acp.CompleteSessionInput) (*checkout.Session, error) {
	return k.session(v, id, k.h.calls["complete"].Add(1)), nil
}

func (k harnessCheckout) Cancel(_ context.Context, _ *app.Agent, id string, _ *acp.CancelSessionInput) (*checkout.Session, error) {
	return k.session(acp.V20260417, id, k.h.calls["cancel"].Add(1)), nil
}

func newIdemHarness(t *testing.T, idem *idempotency.Keys, shops map[string]*app.Shop) *idemHarness {
	t.Helper()
	h := &idemHarness{shops: shops, calls: map[string]*atomic.Int32{},
		entered: make(chan struct{}, 16), release: make(chan struct{})}
	for _, r := range []string{"create", "update", "complete", "cancel", "fail", "panic", "invalid", "slow", "get"} {
		h.calls[r] = &atomic.Int32{}
	}
	h.srv = New(Config{Logger: storetest.Logger(t), Registry: prometheus.NewRegistry(), Idempotency: idem,
		Checkout: harnessCheckout{h: h}, Agents: harnessAgents{h: h}, AppURL: func() string { return "http://127.0.0.1" }})
	return h
}

// Create bodies of each version, by the first line item's id.
func create26(item string) string {
	return `{"line_items":[{"id":"` + item + `","quantity":1}],"currency":"usd","capabilities":{}}`
}

func create25(item string) string {
	return `{"items":[{"id":"` + item + `","quantity":1}]}`
}

type idemResp struct {
	status int
	header http.Header
	body   string
}

func (r idemResp) code() string {
	var b struct{ Code string }
	_ = json.Unmarshal([]byte(r.body), &b)
	return b.Code
}

// post sends body to path as API key 1 of the shop; version "" is 2026-04-17.
func (h *idemHarness) post(t *testing.T, path, key, version, body string) idemResp {
	t.Helper()
	return h.postAs(t, 1, path, key, version, body)
}

func (h *idemHarness) postAs(t *testing.T, apiKey int, path, key, version, body string) idemResp {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", fmt.Sprintf("Bearer key-%d", apiKey))
	if key != "" {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	if version == "" {
		version = "2026-04-17"
	}
	req.Header.Set("API-Version", version)
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return idemResp{rec.Code, rec.Header(), rec.Body.String()}
}

// idemEachDB runs fn per database with a store, two shops
// ("a.myshopify.com", "b.myshopify.com") and a harness over an
// app.Idempotency whose clock h.shift moves.
func idemEachDB(t *testing.T, fn func(t *testing.T, h *idemHarness, st *store.Store)) {
	t.Helper()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			st := storetest.Open(t, kind)
			shops := map[string]*app.Shop{}
			for _, name := range []string{"a", "b"} {
				sh, err := st.SaveShopInstall(context.Background(), app.Shop{Domain: name + ".myshopify.com"})
				if err != nil {
					t.Fatal(err)
				}
				shops[sh.Domain] = sh
			}
			idem := &idempotency.Keys{Store: st}
			h := newIdemHarness(t, idem, shops)
			idem.Now = func() time.Time { return time.Now().Add(time.Duration(h.shift.Load())) }
			fn(t, h, st)
		})
	}
}

func TestIdempotencyReplaysTheStoredResponse(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		const path = "/acp/a.myshopify.com/checkout_sessions"
		const body = `{"line_items":[{"id":"v1","quantity":1}],"currency":"usd","capabilities":{},"buyer":{"first_name":"Zoë","email":"z@x.io"}}`
		first := h.post(t, path, "key-1", "", body)
		if first.status != 201 || first.header.Get(HeaderIdempotencyKey) != "key-1" || first.header.Get(HeaderIdempotentReplayed) != "" {
			t.Fatalf("first = %d %v %s", first.status, first.header, first.body)
		}
		// The same document respelt: keys reordered, 1 as 1.0, escapes.
		for _, body := range []string{
			body,
			` {"buyer":{"email":"z@x.io","first_name":"Zo\u00eb"},"capabilities":{},"currency":"usd","line_items":[{"quantity":1.0,"id":"v1"}]} `,
			`{"buyer":{"email":"z@x.io","first_name":"Zoë"},"currency":"usd","capabilities":{},"line_items":[{"quantity":10e-1,"id":"\u0076\u0031"}]}`,
		} {
			got := h.post(t, path, "key-1", "", body)
			if got.status != 201 || got.body != first.body || got.header.Get(HeaderIdempotentReplayed) != "true" {
				t.Fatalf("replay of %s = %d %q (replayed %q); want 201 %q", body, got.status, got.body, got.header.Get(HeaderIdempotentReplayed), first.body)
			}
			if got.header.Get("Content-Type") != first.header.Get("Content-Type") {
				t.Fatalf("replayed Content-Type = %q, want %q", got.header.Get("Content-Type"), first.header.Get("Content-Type"))
			}
			if got.header.Get(HeaderIdempotencyKey) != "key-1" || got.header.Get(HeaderRequestID) == first.header.Get(HeaderRequestID) {
				t.Fatalf("replay headers %v: want the key echoed and its own request id", got.header)
			}
		}
		if n := h.count("create"); n != 1 {
			t.Fatalf("create ran %d times, want 1", n)
		}

		// Another body with the same key is a conflict: 422 now, 409 in 2025-09-29.
		for _, tt := range []struct {
			version, body string
			status        int
		}{
			{"2026-04-17", `{"line_items":[{"id":"v1","quantity":2}],"currency":"usd","capabilities":{},"buyer":{"first_name":"Zoë","email":"z@x.io"}}`, 422},
			{"2025-09-29", `{"items":[{"id":"v1","quantity":1}],"buyer":{"first_name":"Zoë","last_name":"X","email":"z@x.io"}}`, 409},
			{"", `{"line_items":[{"id":"v1","quantity":1}],"currency":"usd","capabilities":{},"buyer":{"first_name":"Zoë","email":"z@x.io"},"x":1}`, 422},
		} {
			got := h.post(t, path, "key-1", tt.version, tt.body)
			if got.status != tt.status || got.code() != "idempotency_conflict" || got.header.Get(HeaderIdempotentReplayed) != "" {
				t.Fatalf("%s other body = %d %s; want %d idempotency_conflict", tt.version, got.status, got.body, tt.status)
			}
		}
		// Array order matters.
		two := func(a, b string) string {
			return `{"line_items":[{"id":"` + a + `","quantity":1},{"id":"` + b + `","quantity":1}],"currency":"usd","capabilities":{}}`
		}
		arr := h.post(t, path, "key-arr", "", two("v1", "v2"))
		if got := h.post(t, path, "key-arr", "", two("v2", "v1")); arr.status != 201 || got.status != 422 {
			t.Fatalf("reordered array = %d then %d, want 201 then 422", arr.status, got.status)
		}
		if n := h.count("create"); n != 2 {
			t.Fatalf("create ran %d times, want 2", n)
		}

		// A refusal is kept and replayed too, rendered as the first one was.
		inv := h.post(t, path, "key-inv", "", create26("invalid"))
		again := h.post(t, path, "key-inv", "", create26("invalid"))
		if inv.status != 400 || again.status != 400 || again.body != inv.body || again.header.Get(HeaderIdempotentReplayed) != "true" ||
			inv.code() != "invalid" || h.count("invalid") != 1 {
			t.Fatalf("invalid = %d %s, then %d %s (%d calls); want one 400, replayed", inv.status, inv.body, again.status, again.body, h.count("invalid"))
		}
		// So is the answer to a body that is not JSON (hashed as raw bytes).
		bad := h.post(t, path, "key-bad", "", `{"line_items":`)
		badAgain := h.post(t, path, "key-bad", "", `{"line_items":`)
		badOther := h.post(t, path, "key-bad", "", `{"line_items": `)
		if bad.status != 400 || badAgain.status != 400 || badAgain.body != bad.body || badAgain.header.Get(HeaderIdempotentReplayed) != "true" || badOther.status != 422 {
			t.Fatalf("not JSON = %d, %d (replayed %q), other bytes %d; want 400, 400 replayed, 422",
				bad.status, badAgain.status, badAgain.header.Get(HeaderIdempotentReplayed), badOther.status)
		}

		// GET is never tracked, whatever it carries.
		for range 2 {
			req := httptest.NewRequest(http.MethodGet, path+"/cs_1", nil)
			req.Header.Set(HeaderIdempotencyKey, "key-1")
			req.Header.Set("Authorization", "Bearer key-1")
			req.Header.Set("API-Version", "2026-04-17")
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Header().Get(HeaderIdempotentReplayed) != "" || rec.Header().Get(HeaderIdempotencyKey) != "" {
				t.Fatalf("GET = %d %v", rec.Code, rec.Header())
			}
		}
		if h.count("get") != 2 {
			t.Fatalf("GET ran %d times, want 2", h.count("get"))
		}
	})
}

func TestIdempotencyKeyHeader(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, st *store.Store) {
		const path = "/acp/a.myshopify.com/checkout_sessions"
		// 2026-04-17: required on every POST.
		got := h.post(t, path, "", "2026-04-17", create26("v1"))
		if got.status != 400 || got.code() != "idempotency_key_required" || h.count("create") != 0 {
			t.Fatalf("no key in 2026-04-17 = %d %s; want 400 idempotency_key_required", got.status, got.body)
		}
		// 2025-09-29: optional; without it nothing is tracked.
		for i := range 2 {
			got := h.post(t, path, "", "2025-09-29", create25("v1"))
			if got.status != 201 || got.header.Get(HeaderIdempotentReplayed) != "" || got.header.Get(HeaderIdempotencyKey) != "" {
				t.Fatalf("no key in 2025-09-29 (try %d) = %d %v %s", i, got.status, got.header, got.body)
			}
		}
		if h.count("create") != 2 {
			t.Fatalf("untracked create ran %d times, want 2", h.count("create"))
		}
		// With a key, 2025-09-29 is tracked like 2026-04-17.
		h.post(t, path, "old-key", "2025-09-29", create25("v1"))
		if got := h.post(t, path, "old-key", "2025-09-29", create25("v1")); got.header.Get(HeaderIdempotentReplayed) != "true" || h.count("create") != 3 {
			t.Fatalf("2025-09-29 with a key: replayed %q, calls %d", got.header.Get(HeaderIdempotentReplayed), h.count("create"))
		}

		// Malformed keys.
		for _, key := range []string{strings.Repeat("k", 256), "tab\tkey", "ünïcode"} {
			got := h.post(t, path, key, "", create26("v1"))
			if got.status != 400 || got.code() != "invalid_idempotency_key" || !strings.Contains(got.body, "Idempotency-Key") {
				t.Fatalf("key %q = %d %s; want 400 invalid_idempotency_key", key, got.status, got.body)
			}
		}
		if got := h.post(t, path, strings.Repeat("k", 255), "", create26("v1")); got.status != 201 {
			t.Fatalf("255-character key = %d %s, want 201", got.status, got.body)
		}
		for _, keys := range [][]string{{""}, {"one", "two"}} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(create26("v1")))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer key-1")
			req.Header.Set("API-Version", "2026-04-17")
			req.Header[HeaderIdempotencyKey] = keys
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			if rec.Code != 400 || !strings.Contains(rec.Body.String(), "invalid_idempotency_key") {
				t.Fatalf("Idempotency-Key %q = %d %s; want 400 invalid_idempotency_key", keys, rec.Code, rec.Body)
			}
		}

		// Not authenticated: refused before idempotency, which records
		// nothing and echoes no key.
		before := h.count("create")
		got = h.post(t, "/acp/nobody.myshopify.com/checkout_sessions", "key-nobody", "", create26("v1"))
		if got.status != 401 || h.count("create") != before || got.header.Get(HeaderIdempotencyKey) != "" {
			t.Fatalf("unauthenticated = %d %v %s; want 401 before idempotency", got.status, got.header, got.body)
		}
	})
}

func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		const path = "/acp/a.myshopify.com/checkout_sessions"
		slow := create26("slow")
		firstDone := make(chan idemResp, 1)
		go func() { firstDone <- h.post(t, path, "key-slow", "", slow) }()
		<-h.entered

		got := h.post(t, path, "key-slow", "", slow)
		if got.status != 409 || got.code() != "idempotency_in_flight" || got.header.Get("Retry-After") != "1" ||
			got.header.Get(HeaderIdempotencyKey) != "key-slow" {
			t.Fatalf("while in flight = %d %v %s; want 409 idempotency_in_flight, Retry-After 1", got.status, got.header, got.body)
		}
		// The key belongs to 2026-04-17: 2025-09-29 is told of a conflict
		// (its 409), not to wait for an answer it would not get; another
		// body is a conflict too.
		if got := h.post(t, path, "key-slow", "2025-09-29", slow); got.status != 409 || got.code() != "idempotency_conflict" {
			t.Fatalf("while in flight (2025-09-29) = %d %s", got.status, got.body)
		}
		if got := h.post(t, path, "key-slow", "", strings.Replace(slow, `"quantity":1`, `"quantity":2`, 1)); got.status != 422 || got.code() != "idempotency_conflict" {
			t.Fatalf("other body while in flight = %d %s; want 422", got.status, got.body)
		}

		close(h.release)
		first := <-firstDone
		if first.status != 201 {
			t.Fatalf("first = %d %s", first.status, first.body)
		}
		if got := h.post(t, path, "key-slow", "", slow); got.status != 201 || got.body != first.body ||
			got.header.Get(HeaderIdempotentReplayed) != "true" {
			t.Fatalf("after = %d %s", got.status, got.body)
		}
		// Issue 13: a replay under another API-Version got the stored
		// 2026-04-17 answer; now it is refused, and nothing runs again.
		if got := h.post(t, path, "key-slow", "2025-09-29", slow); got.status != 409 || got.code() != "idempotency_conflict" ||
			got.header.Get(HeaderIdempotentReplayed) != "" {
			t.Fatalf("replay under 2025-09-29 = %d %s; want 409 idempotency_conflict", got.status, got.body)
		}
		if h.count("slow") != 1 {
			t.Fatalf("slow create ran %d times, want 1", h.count("slow"))
		}
	})
}

func TestIdempotencyServerErrorsAreNotStored(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, st *store.Store) {
		const path = "/acp/a.myshopify.com/checkout_sessions"
		for _, route := range []string{"fail", "panic"} {
			first := h.post(t, path, "key-"+route, "", create26(route))
			if first.status != 500 || first.code() != "internal_error" || strings.Contains(first.body, "database") {
				t.Fatalf("%s first = %d %s; want the bare 500", route, first.status, first.body)
			}
			// Answered like any error of the call: the key echoed, the
			// version's error shape (no encoder newline).
			if first.header.Get(HeaderIdempotencyKey) != "key-"+route || strings.HasSuffix(first.body, "\n") {
				t.Fatalf("%s first: key %q, body %q; want the key echoed, the ACP error shape", route, first.header.Get(HeaderIdempotencyKey), first.body)
			}
			scope := idempotency.Scope{ShopID: h.shops["a.myshopify.com"].ID, APIKeyID: 1, Operation: idempotency.OpCreateSession}
			if _, err := st.IdempotencyRecord(context.Background(), scope, "key-"+route); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("%s: a record survived the 500: %v", route, err)
			}
			retry := h.post(t, path, "key-"+route, "", create26(route))
			if retry.status != 201 || retry.header.Get(HeaderIdempotentReplayed) != "" {
				t.Fatalf("%s retry = %d %v %s; want a fresh 201", route, retry.status, retry.header, retry.body)
			}
			again := h.post(t, path, "key-"+route, "", create26(route))
			if again.status != 201 || again.header.Get(HeaderIdempotentReplayed) != "true" || h.count(route) != 2 {
				t.Fatalf("%s after success = %d replayed %q, %d calls; want the 201 replayed, 2 calls",
					route, again.status, again.header.Get(HeaderIdempotentReplayed), h.count(route))
			}
		}
	})
}

// TestIdempotencyKeyScope: a key is unique within one shop, API key,
// operation and session; the same key anywhere else is a new request.
func TestIdempotencyKeyScope(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		for _, tt := range []struct {
			apiKey     int
			path, body string
			status     int
		}{
			{1, "/acp/a.myshopify.com/checkout_sessions", create26("v1"), 201},
			{1, "/acp/b.myshopify.com/checkout_sessions", create26("v1"), 201},   // another shop
			{2, "/acp/a.myshopify.com/checkout_sessions", create26("v1"), 201},   // another agent
			{1, "/acp/a.myshopify.com/checkout_sessions/cs_1", `{}`, 200},        // another operation
			{1, "/acp/a.myshopify.com/checkout_sessions/cs_2", `{}`, 200},        // another session
			{1, "/acp/a.myshopify.com/checkout_sessions/cs_1/cancel", `{}`, 200}, // another operation on it
		} {
			if got := h.postAs(t, tt.apiKey, tt.path, "shared-key", "", tt.body); got.status != tt.status || got.header.Get(HeaderIdempotentReplayed) != "" {
				t.Fatalf("key %d %s = %d %s replayed %q; want a fresh %d", tt.apiKey, tt.path, got.status, got.body, got.header.Get(HeaderIdempotentReplayed), tt.status)
			}
		}
		if h.count("create") != 3 || h.count("update") != 2 || h.count("cancel") != 1 {
			t.Fatalf("calls create %d update %d cancel %d, want 3, 2 and 1", h.count("create"), h.count("update"), h.count("cancel"))
		}
	})
}

func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, st *store.Store) {
		const path = "/acp/a.myshopify.com/checkout_sessions"
		key := "key-exp"
		if got := h.post(t, path, key, "", create26("v1")); got.status != 201 {
			t.Fatalf("first = %d %s", got.status, got.body)
		}
		if got := h.post(t, path, key, "", create26("v1")); got.header.Get(HeaderIdempotentReplayed) != "true" {
			t.Fatalf("within the TTL: not replayed (%d %s)", got.status, got.body)
		}
		h.shift.Add(int64(idempotency.DefaultTTL + time.Minute))
		// A reused key after the TTL is a new request, whatever its body.
		if got := h.post(t, path, key, "", create26("v2")); got.status != 201 || got.header.Get(HeaderIdempotentReplayed) != "" {
			t.Fatalf("after the TTL = %d %s; want a fresh 201", got.status, got.body)
		}
		if h.count("create") != 2 {
			t.Fatalf("create ran %d times, want 2", h.count("create"))
		}
		// And maintenance prunes what has expired.
		h.shift.Add(int64(idempotency.DefaultTTL + time.Minute))
		if n, err := st.PruneIdempotencyKeys(context.Background(), time.Now().Add(time.Duration(h.shift.Load()))); err != nil || n < 1 {
			t.Fatalf("PruneIdempotencyKeys = %d, %v; want the expired record", n, err)
		}
	})
}

// TestIdempotencyAcrossReplicas sends identical requests at once to two
// servers, each with its own app.Idempotency (and on PostgreSQL its own
// store, as two replicas have), sharing one database: the create must run
// exactly once, and every other request be told to wait or get the replay.
func TestIdempotencyAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			cfg := storetest.Config(t, kind, true)
			var stores []*store.Store
			for i := range 2 {
				if kind == app.DatabaseSQLite && i == 1 {
					stores = append(stores, stores[0]) // one process owns the file
					continue
				}
				st, err := store.Open(context.Background(), cfg, storetest.Logger(t), store.WithKeys(storetest.Keys))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				stores = append(stores, st)
			}
			sh, err := stores[0].SaveShopInstall(context.Background(), app.Shop{Domain: "a.myshopify.com"})
			if err != nil {
				t.Fatal(err)
			}
			shops := map[string]*app.Shop{sh.Domain: sh}
			var calls atomic.Int32
			replicas := make([]*idemHarness, 2)
			for i := range replicas {
				replicas[i] = newIdemHarness(t, &idempotency.Keys{Store: stores[i]}, shops)
				replicas[i].calls["create"] = &calls // one count across both
				replicas[i].delay = 50 * time.Millisecond
			}

			for round := range 3 {
				key := "race-" + string(rune('a'+round))
				body := create26(fmt.Sprintf("r%d", round))
				const n = 12
				results := make([]idemResp, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { results[i] = replicas[i%2].post(t, "/acp/a.myshopify.com/checkout_sessions", key, "", body) })
				}
				wg.Wait()
				originals, original := 0, ""
				for _, r := range results {
					switch {
					case r.status == 201 && r.header.Get(HeaderIdempotentReplayed) == "":
						originals++
						original = r.body
					case r.status == 201, r.status == 409 && r.code() == "idempotency_in_flight":
					default:
						t.Fatalf("round %d: unexpected answer %d %s", round, r.status, r.body)
					}
				}
				if originals != 1 || calls.Load() != int32(round+1) {
					t.Fatalf("round %d: %d original answers, handler ran %d times in all; want 1 and %d", round, originals, calls.Load(), round+1)
				}
				for i, r := range results {
					if r.status == 201 && r.body != original {
						t.Fatalf("round %d: answer %d = %s, want the original %s", round, i, r.body, original)
					}
				}
				for _, h := range replicas {
					if got := h.post(t, "/acp/a.myshopify.com/checkout_sessions", key, "", body); got.body != original || got.header.Get(HeaderIdempotentReplayed) != "true" {
						t.Fatalf("round %d: later retry = %d %s; want the replay", round, got.status, got.body)
					}
				}
			}
		})
	}
}
