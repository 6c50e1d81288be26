package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// idemHarness is a web.Server whose test routes run the ACP middleware
// order (a stand-in for version negotiation and authentication, then
// acpIdempotency) in front of handlers that count their calls.
type idemHarness struct {
	srv   *Server
	shops map[string]*app.Shop // by path segment
	calls map[string]*atomic.Int32
	// entered and release let a test hold the "slow" handler mid-request.
	entered chan struct{}
	release chan struct{}
	// shift moves the clock of the harness's app.Idempotency forward.
	shift atomic.Int64
	// delay slows the create and update handlers down.
	delay time.Duration
}

func (h *idemHarness) count(route string) int32 { return h.calls[route].Load() }

func newIdemHarness(t *testing.T, idem *idempotency.Idempotency, shops map[string]*app.Shop) *idemHarness {
	t.Helper()
	s := New(Config{Logger: storetest.Logger(t), Registry: prometheus.NewRegistry(), Idempotency: idem})
	h := &idemHarness{srv: s, shops: shops, calls: map[string]*atomic.Int32{},
		entered: make(chan struct{}, 16), release: make(chan struct{})}
	for _, r := range []string{"create", "update", "fail", "panic", "invalid", "slow", "get"} {
		h.calls[r] = &atomic.Int32{}
	}
	// acpContext stands in for version negotiation and authentication.
	acpContext := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if sh := h.shops[c.Param("shop")]; sh != nil {
				c.Set(ctxACPShop, sh)
			}
			v := acp.V20260417
			if pv, ok := acp.ParseVersion(c.Request().Header.Get("API-Version")); ok {
				v = pv
			}
			c.Set(ctxACPVersion, v)
			return next(c)
		}
	}
	created := func(route string) echo.HandlerFunc {
		return func(c echo.Context) error {
			n := h.calls[route].Add(1)
			time.Sleep(h.delay)
			body, _ := io.ReadAll(c.Request().Body)
			if !json.Valid(body) {
				return &app.Error{Code: app.CodeInvalid, Message: "The body is not JSON."}
			}
			c.Response().Header().Set("Location", c.Request().URL.Path+"/cs_1")
			c.Response().Header().Set("X-Handler", "yes")
			return c.JSON(http.StatusCreated, map[string]any{"call": n, "got": json.RawMessage(body)})
		}
	}
	e := s.Echo()
	mw := []echo.MiddlewareFunc{acpContext, s.acpIdempotency}
	e.POST("/acp/:shop/checkout_sessions", created("create"), mw...)
	e.POST("/acp/:shop/checkout_sessions/:id", created("update"), mw...)
	e.GET("/acp/:shop/checkout_sessions/:id", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"call": h.calls["get"].Add(1)})
	}, mw...)
	e.POST("/acp/:shop/fail", func(c echo.Context) error {
		if h.calls["fail"].Add(1) == 1 {
			return errors.New("database went away")
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}, mw...)
	e.POST("/acp/:shop/panic", func(c echo.Context) error {
		if h.calls["panic"].Add(1) == 1 {
			panic("handler bug")
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	}, mw...)
	e.POST("/acp/:shop/invalid", func(c echo.Context) error {
		h.calls["invalid"].Add(1)
		return &app.Error{Code: app.CodeInvalid, Message: "quantity must be at least 1", Field: "$.items[0].quantity"}
	}, mw...)
	e.POST("/acp/:shop/slow", func(c echo.Context) error {
		h.calls["slow"].Add(1)
		h.entered <- struct{}{}
		<-h.release
		return c.JSON(http.StatusOK, map[string]string{"status": "done"})
	}, mw...)
	return h
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

func (h *idemHarness) post(t *testing.T, path, key, version, body string) idemResp {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	if version != "" {
		req.Header.Set("API-Version", version)
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	return idemResp{rec.Code, rec.Header(), rec.Body.String()}
}

// idemEachDB runs fn per database with a store, two shops ("a", "b") and a
// harness over an app.Idempotency whose clock h.shift moves.
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
				shops[name] = sh
			}
			idem := &idempotency.Idempotency{Store: st}
			h := newIdemHarness(t, idem, shops)
			idem.Now = func() time.Time { return time.Now().Add(time.Duration(h.shift.Load())) }
			fn(t, h, st)
		})
	}
}

func TestIdempotencyReplaysTheStoredResponse(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		const path = "/acp/a/checkout_sessions"
		first := h.post(t, path, "key-1", "", `{"items":[{"id":"v1","quantity":1}],"buyer":{"name":"Zoë","email":"z@x.io"}}`)
		if first.status != 201 || first.header.Get(HeaderIdempotencyKey) != "key-1" || first.header.Get(HeaderIdempotentReplayed) != "" {
			t.Fatalf("first = %d %v %s", first.status, first.header, first.body)
		}
		// The same document respelt: keys reordered, 1 as 1.0, escapes.
		for _, body := range []string{
			`{"items":[{"id":"v1","quantity":1}],"buyer":{"name":"Zoë","email":"z@x.io"}}`,
			` {"buyer":{"email":"z@x.io","name":"Zo\u00eb"},"items":[{"quantity":1.0,"id":"v1"}]} `,
			`{"buyer":{"email":"z@x.io","name":"Zoë"},"items":[{"quantity":10e-1,"id":"\u0076\u0031"}]}`,
		} {
			got := h.post(t, path, "key-1", "", body)
			if got.status != 201 || got.body != first.body || got.header.Get(HeaderIdempotentReplayed) != "true" {
				t.Fatalf("replay of %s = %d %q (replayed %q); want 201 %q", body, got.status, got.body, got.header.Get(HeaderIdempotentReplayed), first.body)
			}
			for _, k := range []string{"Content-Type", "Location", "X-Handler"} {
				if got.header.Get(k) != first.header.Get(k) {
					t.Fatalf("replayed %s = %q, want %q", k, got.header.Get(k), first.header.Get(k))
				}
			}
			if got.header.Get(HeaderIdempotencyKey) != "key-1" || got.header.Get(HeaderRequestID) == first.header.Get(HeaderRequestID) {
				t.Fatalf("replay headers %v: want the key echoed and its own request id", got.header)
			}
		}
		if n := h.count("create"); n != 1 {
			t.Fatalf("handler ran %d times, want 1", n)
		}

		// Another body with the same key is a conflict: 422 now, 409 in 2025-09-29.
		for _, tt := range []struct {
			version, body string
			status        int
		}{
			{"2026-04-17", `{"items":[{"id":"v1","quantity":2}],"buyer":{"name":"Zoë","email":"z@x.io"}}`, 422},
			{"2025-09-29", `{"items":[{"id":"v1","quantity":1}],"buyer":{"name":"Zoë","email":"z@x.io","phone":null}}`, 409},
			{"", `{"items":[{"id":"v1","quantity":1}],"buyer":{"name":"Zoë","email":"z@x.io"},"x":1}`, 422},
		} {
			got := h.post(t, path, "key-1", tt.version, tt.body)
			if got.status != tt.status || got.code() != "idempotency_conflict" || got.header.Get(HeaderIdempotentReplayed) != "" {
				t.Fatalf("%s other body = %d %s; want %d idempotency_conflict", tt.version, got.status, got.body, tt.status)
			}
		}
		// Array order matters.
		arr := h.post(t, path, "key-arr", "", `{"items":[{"id":"v1"},{"id":"v2"}]}`)
		if got := h.post(t, path, "key-arr", "", `{"items":[{"id":"v2"},{"id":"v1"}]}`); arr.status != 201 || got.status != 422 {
			t.Fatalf("reordered array = %d then %d, want 201 then 422", arr.status, got.status)
		}
		if n := h.count("create"); n != 2 {
			t.Fatalf("handler ran %d times, want 2", n)
		}

		// A 4xx answer is kept and replayed too, the handler's error rendered.
		inv := h.post(t, "/acp/a/invalid", "key-inv", "", `{}`)
		again := h.post(t, "/acp/a/invalid", "key-inv", "", `{}`)
		if inv.status != 400 || again.status != 400 || again.body != inv.body || again.header.Get(HeaderIdempotentReplayed) != "true" ||
			inv.code() != "invalid" || h.count("invalid") != 1 {
			t.Fatalf("invalid = %d %s, then %d %s (%d calls); want one 400, replayed", inv.status, inv.body, again.status, again.body, h.count("invalid"))
		}
		// So is the answer to a body that is not JSON (hashed as raw bytes).
		bad := h.post(t, path, "key-bad", "", `{"items":`)
		badAgain := h.post(t, path, "key-bad", "", `{"items":`)
		badOther := h.post(t, path, "key-bad", "", `{"items": `)
		if bad.status != 400 || badAgain.status != 400 || badAgain.header.Get(HeaderIdempotentReplayed) != "true" || badOther.status != 422 {
			t.Fatalf("not JSON = %d, %d (replayed %q), other bytes %d; want 400, 400 replayed, 422",
				bad.status, badAgain.status, badAgain.header.Get(HeaderIdempotentReplayed), badOther.status)
		}

		// GET is never tracked, whatever it carries.
		for range 2 {
			req := httptest.NewRequest(http.MethodGet, path+"/cs_1", nil)
			req.Header.Set(HeaderIdempotencyKey, "key-1")
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Header().Get(HeaderIdempotentReplayed) != "" || rec.Header().Get(HeaderIdempotencyKey) != "" {
				t.Fatalf("GET = %d %v", rec.Code, rec.Header())
			}
		}
		if h.count("get") != 2 {
			t.Fatalf("GET handler ran %d times, want 2", h.count("get"))
		}
	})
}

func TestIdempotencyKeyHeader(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		const path = "/acp/a/checkout_sessions"
		// 2026-04-17: required on every POST.
		got := h.post(t, path, "", "2026-04-17", `{}`)
		if got.status != 400 || got.code() != "idempotency_key_required" || h.count("create") != 0 {
			t.Fatalf("no key in 2026-04-17 = %d %s; want 400 idempotency_key_required", got.status, got.body)
		}
		// 2025-09-29: optional; without it nothing is tracked.
		for i := range 2 {
			got := h.post(t, path, "", "2025-09-29", `{}`)
			if got.status != 201 || got.header.Get(HeaderIdempotentReplayed) != "" || got.header.Get(HeaderIdempotencyKey) != "" {
				t.Fatalf("no key in 2025-09-29 (try %d) = %d %v", i, got.status, got.header)
			}
		}
		if h.count("create") != 2 {
			t.Fatalf("untracked handler ran %d times, want 2", h.count("create"))
		}
		// With a key, 2025-09-29 is tracked like 2026-04-17.
		h.post(t, path, "old-key", "2025-09-29", `{}`)
		if got := h.post(t, path, "old-key", "2025-09-29", `{}`); got.header.Get(HeaderIdempotentReplayed) != "true" || h.count("create") != 3 {
			t.Fatalf("2025-09-29 with a key: replayed %q, calls %d", got.header.Get(HeaderIdempotentReplayed), h.count("create"))
		}

		// Malformed keys.
		for _, key := range []string{strings.Repeat("k", 256), "tab\tkey", "ünïcode"} {
			got := h.post(t, path, key, "", `{}`)
			if got.status != 400 || got.code() != "invalid_idempotency_key" || !strings.Contains(got.body, "Idempotency-Key") {
				t.Fatalf("key %q = %d %s; want 400 invalid_idempotency_key", key, got.status, got.body)
			}
		}
		if got := h.post(t, path, strings.Repeat("k", 255), "", `{}`); got.status != 201 {
			t.Fatalf("255-character key = %d %s, want 201", got.status, got.body)
		}
		for _, keys := range [][]string{{""}, {"one", "two"}} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{}`))
			req.Header[HeaderIdempotencyKey] = keys
			rec := httptest.NewRecorder()
			h.srv.ServeHTTP(rec, req)
			if rec.Code != 400 || !strings.Contains(rec.Body.String(), "invalid_idempotency_key") {
				t.Fatalf("Idempotency-Key %q = %d %s; want 400 invalid_idempotency_key", keys, rec.Code, rec.Body)
			}
		}

		// Not authenticated (no shop on the context): the middleware stays out.
		before := h.count("create")
		got = h.post(t, "/acp/nobody/checkout_sessions", "", "", `{}`)
		if got.status != 201 || h.count("create") != before+1 {
			t.Fatalf("unauthenticated = %d %s; want the handler to run", got.status, got.body)
		}
	})
}

func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		firstDone := make(chan idemResp, 1)
		go func() { firstDone <- h.post(t, "/acp/a/slow", "key-slow", "", `{"a":1}`) }()
		<-h.entered

		got := h.post(t, "/acp/a/slow", "key-slow", "", `{"a":1}`)
		if got.status != 409 || got.code() != "idempotency_in_flight" || got.header.Get("Retry-After") != "1" ||
			got.header.Get(HeaderIdempotencyKey) != "key-slow" {
			t.Fatalf("while in flight = %d %v %s; want 409 idempotency_in_flight, Retry-After 1", got.status, got.header, got.body)
		}
		// The key belongs to 2026-04-17: 2025-09-29 is told of a conflict
		// (its 409), not to wait for an answer it would not get; another
		// body is a conflict too.
		if got := h.post(t, "/acp/a/slow", "key-slow", "2025-09-29", `{"a":1}`); got.status != 409 || got.code() != "idempotency_conflict" {
			t.Fatalf("while in flight (2025-09-29) = %d %s", got.status, got.body)
		}
		if got := h.post(t, "/acp/a/slow", "key-slow", "", `{"a":2}`); got.status != 422 || got.code() != "idempotency_conflict" {
			t.Fatalf("other body while in flight = %d %s; want 422", got.status, got.body)
		}

		close(h.release)
		first := <-firstDone
		if first.status != 200 {
			t.Fatalf("first = %d %s", first.status, first.body)
		}
		if got := h.post(t, "/acp/a/slow", "key-slow", "", `{"a":1}`); got.status != 200 || got.body != first.body ||
			got.header.Get(HeaderIdempotentReplayed) != "true" {
			t.Fatalf("after = %d %s", got.status, got.body)
		}
		// Issue 13: a replay under another API-Version got the stored
		// 2026-04-17 answer; now it is refused, and nothing runs again.
		if got := h.post(t, "/acp/a/slow", "key-slow", "2025-09-29", `{"a":1}`); got.status != 409 || got.code() != "idempotency_conflict" ||
			got.header.Get(HeaderIdempotentReplayed) != "" {
			t.Fatalf("replay under 2025-09-29 = %d %s; want 409 idempotency_conflict", got.status, got.body)
		}
		if h.count("slow") != 1 {
			t.Fatalf("slow handler ran %d times, want 1", h.count("slow"))
		}
	})
}

func TestIdempotencyServerErrorsAreNotStored(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, st *store.Store) {
		for _, route := range []string{"fail", "panic"} {
			path := "/acp/a/" + route
			first := h.post(t, path, "key-"+route, "", `{}`)
			if first.status != 500 || first.code() != "internal_error" || strings.Contains(first.body, "database") {
				t.Fatalf("%s first = %d %s; want the bare 500", route, first.status, first.body)
			}
			if _, err := st.IdempotencyRecord(context.Background(), h.shops["a"].ID, "POST "+path, "key-"+route); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("%s: a record survived the 500: %v", route, err)
			}
			retry := h.post(t, path, "key-"+route, "", `{}`)
			if retry.status != 200 || retry.header.Get(HeaderIdempotentReplayed) != "" {
				t.Fatalf("%s retry = %d %v %s; want a fresh 200", route, retry.status, retry.header, retry.body)
			}
			again := h.post(t, path, "key-"+route, "", `{}`)
			if again.status != 200 || again.header.Get(HeaderIdempotentReplayed) != "true" || h.count(route) != 2 {
				t.Fatalf("%s after success = %d replayed %q, %d calls; want the 200 replayed, 2 calls",
					route, again.status, again.header.Get(HeaderIdempotentReplayed), h.count(route))
			}
		}
	})
}

func TestIdempotencyKeyScope(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, _ *store.Store) {
		for _, p := range []string{
			"/acp/a/checkout_sessions", "/acp/b/checkout_sessions", // another shop
			"/acp/a/checkout_sessions/cs_1", "/acp/a/checkout_sessions/cs_2", // another path
		} {
			if got := h.post(t, p, "shared-key", "", `{"x":1}`); got.status != 201 || got.header.Get(HeaderIdempotentReplayed) != "" {
				t.Fatalf("%s = %d replayed %q; want a fresh 201", p, got.status, got.header.Get(HeaderIdempotentReplayed))
			}
		}
		if h.count("create") != 2 || h.count("update") != 2 {
			t.Fatalf("calls create %d update %d, want 2 and 2", h.count("create"), h.count("update"))
		}
	})
}

func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	idemEachDB(t, func(t *testing.T, h *idemHarness, st *store.Store) {
		const path = "/acp/a/checkout_sessions"
		key := "key-exp"
		if got := h.post(t, path, key, "", `{"v":1}`); got.status != 201 {
			t.Fatalf("first = %d", got.status)
		}
		if got := h.post(t, path, key, "", `{"v":1}`); got.header.Get(HeaderIdempotentReplayed) != "true" {
			t.Fatalf("within the TTL: not replayed (%d %s)", got.status, got.body)
		}
		h.shift.Add(int64(idempotency.DefaultIdempotencyTTL + time.Minute))
		// A reused key after the TTL is a new request, whatever its body.
		if got := h.post(t, path, key, "", `{"v":2}`); got.status != 201 || got.header.Get(HeaderIdempotentReplayed) != "" {
			t.Fatalf("after the TTL = %d %s; want a fresh 201", got.status, got.body)
		}
		if h.count("create") != 2 {
			t.Fatalf("handler ran %d times, want 2", h.count("create"))
		}
		// And maintenance prunes what has expired.
		h.shift.Add(int64(idempotency.DefaultIdempotencyTTL + time.Minute))
		if n, err := st.PruneIdempotencyKeys(context.Background(), time.Now().Add(time.Duration(h.shift.Load()))); err != nil || n < 1 {
			t.Fatalf("PruneIdempotencyKeys = %d, %v; want the expired record", n, err)
		}
	})
}

// TestIdempotencyAcrossReplicas sends identical requests at once to two
// servers, each with its own app.Idempotency (and on PostgreSQL its own
// store, as two replicas have), sharing one database: the handler must run
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
				st, err := store.Open(context.Background(), cfg, storetest.Logger(t))
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
			shops := map[string]*app.Shop{"a": sh}
			var calls atomic.Int32
			replicas := make([]*idemHarness, 2)
			for i := range replicas {
				replicas[i] = newIdemHarness(t, &idempotency.Idempotency{Store: stores[i]}, shops)
				replicas[i].calls["create"] = &calls // one count across both
				replicas[i].delay = 50 * time.Millisecond
			}

			for round := range 3 {
				key := "race-" + string(rune('a'+round))
				body := `{"round":` + string(rune('0'+round)) + `}`
				const n = 12
				results := make([]idemResp, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() { results[i] = replicas[i%2].post(t, "/acp/a/checkout_sessions", key, "", body) })
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
					if got := h.post(t, "/acp/a/checkout_sessions", key, "", body); got.body != original || got.header.Get(HeaderIdempotentReplayed) != "true" {
						t.Fatalf("round %d: later retry = %d %s; want the replay", round, got.status, got.body)
					}
				}
			}
		})
	}
}
