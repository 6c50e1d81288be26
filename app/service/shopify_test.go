package service_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/logging"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

const (
	testShop = "demo-shop.myshopify.com"
	// otherShop is a second seeded shop, for tests of one shop's
	// credentials against another's data.
	otherShop    = "other-shop.myshopify.com"
	testClientID = "test-client-id"
	testSecret   = "test-client-secret-0123456789"
	// testStripeAccount is the merchant's account at the Stripe emulator.
	testStripeAccount = "acct_1TestShop"
)

// loggedJWT matches a JSON Web Token such as an App Bridge ID token.
var loggedJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)

// shopifyEnv is one app instance wired to a dev-store emulator.
type shopifyEnv struct {
	// faults injects failures into chosen Shopify calls (failShopify).
	faults  *faultTransport
	svc     *service.Service
	emu     *emulator.Emulator
	stripe  *stripeemu.Emulator
	browser *http.Client // a merchant's browser: cookies, follows redirects into the emulator
	db      *sql.DB
	cfg     config.Config
	// logs is everything the app logged.
	logs *testkit.LogBuffer
}

func newShopifyEnv(t *testing.T, kind app.DatabaseKind) *shopifyEnv {
	t.Helper()
	return newShopifyEnvOn(t, storetest.Config(t, kind, true), nil)
}

// newReplica starts a second app instance on e's database and emulator,
// configured as replicas are: the same settings, encryption key included.
func newReplica(t *testing.T, e *shopifyEnv) *shopifyEnv {
	t.Helper()
	return newShopifyEnvOn(t, e.cfg.Database, e)
}

// newShopifyEnvOn starts an app on db; with like set, it is a replica of
// like (same emulator, same configuration).
func newShopifyEnvOn(t *testing.T, db app.DatabaseConfig, like *shopifyEnv) *shopifyEnv {
	t.Helper()
	var emu *emulator.Emulator
	var stripe *stripeemu.Emulator
	if like != nil {
		emu, stripe = like.emu, like.stripe
	}
	if stripe == nil {
		var err error
		if stripe, err = stripeemu.New(stripeemu.Config{Accounts: []string{testStripeAccount}, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		if err := stripe.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stripe.Close() })
	}
	ctx := context.Background()
	if emu == nil {
		var err error
		emu, err = emulator.New(emulator.Config{
			APIKey: testClientID, APISecret: testSecret, Logger: storetest.Logger(t), Products: 5, Seed: 1,
			Shops:  []string{testShop, otherShop},
			Scopes: strings.Split(config.DefaultScopes, ","), OptionalScopes: strings.Split(config.OptionalScopes, ","),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := emu.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
	}
	cfg := testConfig(t, db)
	cfg.ShopifyAPIKey, cfg.ShopifyAPISecret = testClientID, testSecret
	if like != nil {
		cfg = like.cfg
	}
	logs := &testkit.LogBuffer{}
	var logOut io.Writer = io.MultiWriter(logs, testWriter{t})
	level := slog.LevelDebug
	if os.Getenv("ACPBRIDGE_PERF") == "1" { // benchmarks: no per-request log lines
		logOut, level = logs, slog.LevelWarn
	}
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: level}))
	faults := &faultTransport{next: emu.Transport(nil), emu: emu}
	svc, err := service.New(ctx, service.Options{
		Config: cfg, Logger: logging.Wrap(logger), ShopifyTransport: faults,
		RebuildDelay: -1, SyncPoll: 200 * time.Millisecond, StripeURL: stripe.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = svc.Shutdown(context.Background())
		// The emulator flags a query using what the 2026-10 schema
		// deprecates, as Shopify does: none of the app's may (the test that
		// sends one on purpose clears the flag).
		if d := svc.ShopifyDeprecations(); len(d) > 0 && !t.Failed() && !deprecationsExpected(t) {
			t.Errorf("the app's Admin API calls used deprecated parts of %s: %+v", shopify.APIVersion, d)
		}
		// Nothing secret in any log line the app wrote, at debug level.
		for _, secret := range []string{testSecret, "shpat_", "shprt_", "Hmac", "hmac=", "v1="} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the app logged %q", secret)
			}
		}
		// An ID token (a JWT: two base64url JSON parts). Not just "eyJ":
		// random Stripe ids contain it by chance, about once a suite.
		if m := loggedJWT.FindString(logs.String()); m != "" {
			t.Errorf("the app logged an ID token: %q…", m[:12])
		}
		// Agent keys and secrets, payment tokens, Stripe keys: "spt_[redacted]"
		// is fine, "spt_okNIYsYrblvy" is not.
		if m := loggedCredential.FindString(logs.String()); m != "" {
			t.Errorf("the app logged a credential: %q…", m[:min(len(m), 12)])
		}
	})
	emu.SetAppURL(svc.URL())

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{
		Jar:       jar,
		Transport: emu.Transport(nil),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "admin.shopify.com" { // the real admin is not reachable: stop there
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return &shopifyEnv{faults: faults, svc: svc, emu: emu, stripe: stripe, browser: browser, db: svc.Store().DB(), cfg: cfg, logs: logs}
}

// loggedCredential matches the credentials the app handles, whole.
var loggedCredential = regexp.MustCompile(`(acpb_live|acpb_sig|acpb_whsec|acpf|spt|sk_test|rk_test|sk_live|rk_live)_[A-Za-z0-9_-]{8,}`)

// faultTransport carries the app's Shopify requests to the emulator and
// can fail the next ones whose GraphQL document names an operation: with
// an HTTP status before Shopify sees them, or by losing Shopify's answer
// after the operation ran (emulator.LoseNextResponse).
type faultTransport struct {
	next  http.RoundTripper
	emu   *emulator.Emulator
	mu    sync.Mutex
	rules []*faultRule
	// points sums the actualQueryCost of every answer (the Shopify API
	// points the app spent).
	points int
}

type faultRule struct {
	operation string
	n, status int
	lose      bool
	hits      int
}

// failShopify fails the next n calls of a GraphQL operation (e.g.
// "orderCreate") with status, or, when status is 0, loses their answers.
func (e *shopifyEnv) failShopify(operation string, n, status int) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.rules = append(e.faults.rules, &faultRule{operation: operation, n: n, status: status, lose: status == 0})
}

// shopifyFaultHits counts the injected Shopify faults that were hit.
func (e *shopifyEnv) shopifyFaultHits() int {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	n := 0
	for _, r := range e.faults.rules {
		n += r.hits
	}
	return n
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || !strings.HasSuffix(req.URL.Path, "/graphql.json") {
		return f.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	var hit *faultRule
	for _, r := range f.rules {
		if r.n > 0 && bytes.Contains(body, []byte(r.operation)) {
			r.n--
			r.hits++
			hit = r
			break
		}
	}
	f.mu.Unlock()
	switch {
	case hit == nil:
		resp, err := f.next.RoundTrip(req)
		if err == nil {
			f.count(resp)
		}
		return resp, err
	case hit.lose:
		// This request's answer, not that of whichever request reaches
		// the emulator next (a stock refresh may run meanwhile).
		f.emu.LoseNextResponseTo(hit.operation)
		return f.next.RoundTrip(req)
	}
	return &http.Response{StatusCode: hit.status, Status: http.StatusText(hit.status), Header: http.Header{"Content-Type": {"text/plain"}},
		Body: io.NopCloser(strings.NewReader("injected failure")), Request: req}, nil
}

// count adds an answer's actualQueryCost to the points spent.
func (f *faultTransport) count(resp *http.Response) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return
	}
	var ans struct {
		Extensions struct {
			Cost struct {
				ActualQueryCost int `json:"actualQueryCost"`
			} `json:"cost"`
		} `json:"extensions"`
	}
	if json.Unmarshal(b, &ans) == nil {
		f.mu.Lock()
		f.points += ans.Extensions.Cost.ActualQueryCost
		f.mu.Unlock()
	}
}

// shopifyPoints is the Shopify API points the app has spent so far.
func (e *shopifyEnv) shopifyPoints() int {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return e.faults.points
}

// installByOAuth runs the authorization-code grant as a merchant's browser.
func (e *shopifyEnv) installByOAuth(t *testing.T) *http.Response {
	t.Helper()
	resp, err := e.browser.Get(e.svc.URL() + "/auth?shop=" + testShop)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	resp.Body.Close()
	return resp
}

// quiesce waits for the install's follow-up jobs (shop details, first
// sync, first build), which call Shopify too, so a test's counts and
// injected faults are its own.
func (e *shopifyEnv) quiesce(t *testing.T) {
	t.Helper()
	waitFor(t, "install follow-up", func() bool {
		_, err := e.svc.Store().LatestBuild(context.Background(), e.shop(t).ID, app.BuildPublished)
		return err == nil
	})
}

func (e *shopifyEnv) shop(t *testing.T) *app.Shop {
	t.Helper()
	sh, err := e.svc.Store().ShopByDomain(context.Background(), testShop)
	if err != nil {
		t.Fatalf("shop: %v", err)
	}
	return sh
}

// testWriter sends log output to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// waitForStartupHousekeeping waits until the housekeeping the service
// runs at start is over: a test that moves a clock must not let a run still
// going (on a loaded machine it can start late) act on the moved time.
func waitForStartupHousekeeping(t *testing.T, db *sql.DB) {
	t.Helper()
	waitFor(t, "the start-up housekeeping done", func() bool {
		var pending, done int
		err := db.QueryRow(`SELECT COALESCE(SUM(CASE WHEN state NOT IN ('completed', 'cancelled', 'discarded') THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), 0) FROM river_job WHERE kind = 'maintenance'`).Scan(&pending, &done)
		return err == nil && pending == 0 && done > 0
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("waited %s for %s", time.Since(start).Round(time.Millisecond), what)
}

func eachKind(t *testing.T, fn func(t *testing.T, kind app.DatabaseKind)) {
	t.Helper()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

func TestInstallByAuthorizationCode(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		resp := e.installByOAuth(t)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://admin.shopify.com/store/demo-shop/apps/") {
			t.Fatalf("callback answered %d Location %q, want a redirect into the admin", resp.StatusCode, resp.Header.Get("Location"))
		}
		sh := e.shop(t)
		if sh.Status != app.ShopActive || sh.AccessTokenExpiresAt == nil || sh.RefreshTokenSealed == "" {
			t.Fatalf("shop after install = %+v; want active with an expiring token and a refresh token", sh)
		}
		// The follow-up job fetched the shop's details through the Admin API.
		waitFor(t, "shop details", func() bool { return e.shop(t).CurrencyCode != "" })
		if sh := e.shop(t); sh.Name == "" || sh.ShopifyGID == "" || sh.CountryCode == "" {
			t.Fatalf("shop details not stored: %+v", sh)
		}
		// Tokens are stored sealed: the plaintext appears nowhere in the row.
		token, err := e.svc.Shopify().AccessToken(context.Background(), testShop)
		if err != nil || !strings.HasPrefix(token, "shpat_") {
			t.Fatalf("AccessToken = %q, %v", token, err)
		}
		var row string
		if err := e.db.QueryRow(rebind(kind, "SELECT access_token_sealed || ' ' || refresh_token_sealed FROM shops WHERE domain = ?"), testShop).Scan(&row); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(row, token) || strings.Contains(row, "shprt_") {
			t.Fatalf("plaintext token in the shops table: %q", row)
		}
	})
}

// rebind turns ? placeholders into $N for PostgreSQL.
func rebind(kind app.DatabaseKind, q string) string {
	if kind != app.DatabasePostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + string(rune('0'+n)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestOAuthCallbackAttacks(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t, app.DatabaseSQLite)
	noFollow := &http.Client{Transport: e.emu.Transport(nil), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Start a flow by hand to capture a genuine callback URL and cookie.
	jar, _ := cookiejar.New(nil)
	noFollow.Jar = jar
	resp, err := noFollow.Get(e.svc.URL() + "/auth?shop=" + testShop)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("begin: %v %v", resp, err)
	}
	resp, err = noFollow.Get(resp.Header.Get("Location")) // Shopify's consent, auto-approved
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %v %v", resp, err)
	}
	callback, _ := url.Parse(resp.Header.Get("Location"))

	get := func(c *http.Client, u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tamper := func(key, val string) string {
		u := *callback
		q := u.Query()
		q.Set(key, val)
		u.RawQuery = q.Encode()
		return u.String()
	}
	otherBrowser := &http.Client{CheckRedirect: noFollow.CheckRedirect}

	cases := []struct {
		name   string
		client *http.Client
		url    string
		status int
		code   string
	}{
		{"forged hmac", noFollow, tamper("hmac", strings.Repeat("0", 64)), 401, "unauthorized"},
		{"tampered shop", noFollow, tamper("shop", "other.myshopify.com"), 401, "unauthorized"},
		{"another browser (no state cookie)", otherBrowser, callback.String(), 403, "forbidden"},
		{"shop outside myshopify", noFollow, e.svc.URL() + "/auth?shop=evil.example.com", 400, "invalid"},
	}
	for _, c := range cases {
		status, body := get(c.client, c.url)
		if status != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if _, err := e.svc.Store().ShopByDomain(context.Background(), testShop); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("a rejected callback installed the shop (err %v)", err)
	}

	// The genuine callback works once; replaying it is refused.
	if status, body := get(noFollow, callback.String()); status != http.StatusFound {
		t.Fatalf("genuine callback: %d %s", status, body)
	}
	if status, body := get(noFollow, callback.String()); status != http.StatusForbidden || !strings.Contains(body, "state") {
		t.Fatalf("replayed callback: %d %s, want 403 about the state", status, body)
	}
}

func TestSessionByTokenExchange(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		session := func(token string) (int, http.Header, string) {
			req, _ := http.NewRequest(http.MethodGet, e.svc.URL()+"/api/session", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, string(b)
		}
		// Shopify down during the exchange: 503 with Retry-After, not 500;
		// Shopify refusing our client credentials: 401 (the operator's
		// problem, logged as an error), not 500.
		e.emu.FailNext(1, http.StatusBadGateway)
		if status, hdr, body := session(e.emu.IDToken(testShop, "1")); status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("exchange while Shopify is down: %d %s (Retry-After %q), want 503 with Retry-After", status, body, hdr.Get("Retry-After"))
		}
		e.emu.FailNext(1, http.StatusUnauthorized)
		if status, hdr, body := session(e.emu.IDToken(testShop, "1")); status != http.StatusUnauthorized || hdr.Get("X-Shopify-Retry-Invalid-Session-Request") != "1" {
			t.Errorf("exchange refused (invalid client): %d %s, want 401 with the retry header", status, body)
		}
		status, _, body := session(e.emu.IDToken(testShop, "1"))
		if status != 200 || !strings.Contains(body, `"status":"active"`) {
			t.Fatalf("session = %d %s", status, body)
		}
		grants := e.emu.Stats(testShop).TokenGrants
		// A second request with a valid offline token makes no new exchange.
		if status, _, _ := session(e.emu.IDToken(testShop, "1")); status != 200 || e.emu.Stats(testShop).TokenGrants != grants {
			t.Fatalf("second session: %d, grants %d -> %d", status, grants, e.emu.Stats(testShop).TokenGrants)
		}
		forged := shopify.SignIDToken(shopify.IDTokenClaims{
			Issuer: "https://" + testShop + "/admin", Dest: "https://" + testShop, Audience: testClientID,
			Exp: time.Now().Add(time.Minute).Unix(), Nbf: time.Now().Unix(),
		}, "not-the-secret")
		expired := shopify.SignIDToken(shopify.IDTokenClaims{
			Issuer: "https://" + testShop + "/admin", Dest: "https://" + testShop, Audience: testClientID,
			Exp: time.Now().Add(-time.Minute).Unix(), Nbf: time.Now().Add(-2 * time.Minute).Unix(),
		}, testSecret)
		otherApp := shopify.SignIDToken(shopify.IDTokenClaims{
			Issuer: "https://" + testShop + "/admin", Dest: "https://" + testShop, Audience: "other-app",
			Exp: time.Now().Add(time.Minute).Unix(), Nbf: time.Now().Unix(),
		}, testSecret)
		// Correctly signed, but living ten years (the review's token): refused
		// before anything is looked up.
		longLived := shopify.SignIDToken(shopify.IDTokenClaims{
			Issuer: "https://" + testShop + "/admin", Dest: "https://" + testShop, Audience: testClientID,
			Iat: time.Now().Unix(), Nbf: time.Now().Unix(), Exp: time.Now().Add(10 * 365 * 24 * time.Hour).Unix(),
		}, testSecret)
		// Correctly signed for a shop Shopify does not know: the exchange
		// is refused (404), which answered 500 before.
		unknownShop := shopify.SignIDToken(shopify.IDTokenClaims{
			Issuer: "https://nosuch-shop.myshopify.com/admin", Dest: "https://nosuch-shop.myshopify.com", Audience: testClientID,
			Iat: time.Now().Unix(), Nbf: time.Now().Unix(), Exp: time.Now().Add(time.Minute).Unix(),
		}, testSecret)
		for name, tok := range map[string]string{"none": "", "forged": forged, "expired": expired, "other app": otherApp, "garbage": "x.y.z",
			"ten-year": longLived, "unknown shop": unknownShop} {
			status, hdr, body := session(tok)
			if status != 401 || hdr.Get("X-Shopify-Retry-Invalid-Session-Request") != "1" {
				t.Errorf("%s token: %d %s (retry header %q), want 401 with the retry header", name, status, body, hdr.Get("X-Shopify-Retry-Invalid-Session-Request"))
			}
		}
	})
}

func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		ctx := context.Background()
		e.quiesce(t)
		sh := e.shop(t)
		before := e.emu.Stats(testShop).Refreshes

		// Make our record say the token is about to expire: every worker
		// that needs it now will want to refresh.
		soon := time.Now().Add(time.Minute)
		if err := e.svc.Store().UpdateShopTokens(ctx, sh.ID, app.SealedTokens{
			Access: sh.AccessTokenSealed, AccessExpiresAt: &soon, Refresh: sh.RefreshTokenSealed, RefreshExpiresAt: sh.RefreshTokenExpiresAt,
		}); err != nil {
			t.Fatal(err)
		}
		// Workers on two replicas race (on SQLite one process owns the
		// file, so the second "replica" is a second worker in it).
		var workers []*shops.Shopify
		workers = append(workers, e.svc.Shopify())
		if kind == app.DatabasePostgres {
			workers = append(workers, newReplica(t, e).svc.Shopify())
		} else {
			workers = append(workers, e.svc.Shopify())
		}
		var wg sync.WaitGroup
		tokens := make([]string, 8)
		errs := make([]error, 8)
		for i := range tokens {
			wg.Go(func() { tokens[i], errs[i] = workers[i%2].AccessToken(ctx, testShop) })
		}
		wg.Wait()
		for i := range tokens {
			if errs[i] != nil || tokens[i] != tokens[0] {
				t.Fatalf("worker %d: %q, %v; want the one refreshed token", i, tokens[i], errs[i])
			}
		}
		if got := e.emu.Stats(testShop).Refreshes - before; got != 1 {
			t.Fatalf("%d refreshes for 8 racing workers, want exactly 1 (a refresh token is single-use)", got)
		}

		// Shopify expires the token early: a 401 triggers one refresh and a retry.
		e.emu.ExpireAccessTokens(testShop)
		var out struct{ Shop struct{ Name string } }
		if err := e.svc.Shopify().Query(ctx, testShop, `query { shop { name } }`, nil, &out); err != nil || out.Shop.Name == "" {
			t.Fatalf("query after server-side expiry: %v (%+v)", err, out)
		}
		if got := e.emu.Stats(testShop).Refreshes - before; got != 2 {
			t.Fatalf("refreshes = %d, want 2", got)
		}

		// Shopify revokes everything: the shop needs re-authorisation.
		e.emu.RevokeTokens(testShop)
		err := e.svc.Shopify().Query(ctx, testShop, `query { shop { name } }`, nil, &out)
		if !errors.Is(err, app.ErrReauthRequired) {
			t.Fatalf("query after revocation: %v, want ErrReauthRequired", err)
		}
		if sh := e.shop(t); sh.Status != app.ShopReauthRequired || sh.AccessTokenSealed != "" {
			t.Fatalf("shop after revocation: %+v", sh)
		}
		// Opening the app again (token exchange) restores it.
		if _, _, err := e.svc.Shopify().Authenticate(ctx, e.emu.IDToken(testShop, "1")); err != nil {
			t.Fatalf("re-authorise: %v", err)
		}
		if sh := e.shop(t); sh.Status != app.ShopActive {
			t.Fatalf("shop after re-authorisation: %s", sh.Status)
		}
	})
}

// postWebhook sends a webhook as Shopify would, with the given signature,
// an event id of its own ("ev-" and the webhook id) and triggered now.
func postWebhook(t *testing.T, e *shopifyEnv, topic, shop, webhookID string, body []byte, hmac string) (int, string) {
	t.Helper()
	h := map[string]string{"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop, "X-Shopify-Webhook-Id": webhookID,
		"X-Shopify-Event-Id": "ev-" + webhookID, "X-Shopify-Hmac-Sha256": hmac,
		"X-Shopify-Triggered-At": time.Now().UTC().Format(time.RFC3339Nano)}
	if webhookID == "" {
		delete(h, "X-Shopify-Webhook-Id")
	}
	return postWebhookHeaders(t, e, h, body)
}

// postWebhookHeaders posts a webhook body with exactly these headers
// (an empty value leaves the header out).
func postWebhookHeaders(t *testing.T, e *shopifyEnv, h map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.svc.URL()+"/webhooks/shopify", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// storedTopic is a topic whose deliveries are stored before they are
// processed (and redeliveries recognised by that row): order news. A
// products/update is processed first and, having nothing left to do, not
// stored at all (shops.ProcessFirstTopics).
const storedTopic = "orders/updated"

// countEvents counts stored storedTopic deliveries (the install's own
// sync stores a bulk_operations/finish delivery too).
func countEvents(t *testing.T, e *shopifyEnv) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow("SELECT count(*) FROM webhook_events WHERE topic = '" + storedTopic + "'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWebhooks(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		ctx := context.Background()

		d, err := e.emu.SendWebhook(ctx, testShop, storedTopic, map[string]any{"id": 1, "admin_graphql_api_id": "gid://shopify/Order/1"})
		if err != nil || d.Status != 200 {
			t.Fatalf("delivery: %+v %v", d, err)
		}
		if err := e.emu.Redeliver(ctx, d); err != nil || d.Status != 200 {
			t.Fatalf("redelivery: %+v %v", d, err)
		}
		if n := countEvents(t, e); n != 1 {
			t.Fatalf("%d events stored after a delivery and its redelivery, want 1", n)
		}
		stored := func() *app.WebhookEvent {
			evs, _ := e.svc.Store().WebhookEvents(ctx, testShop, 50)
			for _, ev := range evs {
				if ev.Topic == storedTopic {
					return ev
				}
			}
			return nil
		}
		waitFor(t, "webhook processed", func() bool {
			ev := stored()
			return ev != nil && ev.ProcessedAt != nil
		})
		if ev := stored(); string(ev.Payload) != "{}" {
			t.Fatalf("processed payload kept: %s", ev.Payload)
		}

		body := []byte(`{"id":2}`)
		good := shopify.SignWebhook(body, testSecret)
		cases := []struct {
			name, topic, shop, id string
			body                  []byte
			hmac                  string
			status                int
		}{
			{"forged hmac", "products/update", testShop, "w1", body, shopify.SignWebhook(body, "wrong"), 401},
			{"missing hmac", "products/update", testShop, "w2", body, "", 401},
			{"body changed after signing", "products/update", testShop, "w3", []byte(`{"id":3}`), good, 401},
			{"not json", "products/update", testShop, "w4", []byte("not json"), shopify.SignWebhook([]byte("not json"), testSecret), 400},
			{"json array", "products/update", testShop, "w5", []byte(`[1]`), shopify.SignWebhook([]byte(`[1]`), testSecret), 400},
			{"no webhook id", "products/update", testShop, "", body, good, 400},
			{"unknown topic", "carts/update", testShop, "w6", body, good, 400},
			{"bad shop domain", "products/update", "evil.example.com", "w7", body, good, 400},
			{"unknown shop", "products/update", "nobody.myshopify.com", "w8", body, good, 404},
		}
		for _, c := range cases {
			status, resp := postWebhook(t, e, c.topic, c.shop, c.id, c.body, c.hmac)
			if status != c.status || !strings.Contains(resp, `"type":"invalid_request"`) {
				t.Errorf("%s: %d %s, want %d in the ACP error shape", c.name, status, resp, c.status)
			}
		}
		if n := countEvents(t, e); n != 1 {
			t.Fatalf("%d events stored after rejected deliveries, want still 1", n)
		}

		// The same event under a new webhook id (Shopify's event id names
		// the event) is acknowledged as a duplicate and not stored again.
		headers := func(d *emulator.Delivery) map[string]string {
			return map[string]string{"X-Shopify-Topic": d.Topic, "X-Shopify-Shop-Domain": d.Shop, "X-Shopify-Webhook-Id": d.ID,
				"X-Shopify-Event-Id": d.EventID, "X-Shopify-Hmac-Sha256": shopify.SignWebhook(d.Body, testSecret),
				"X-Shopify-Triggered-At": d.TriggeredAt.UTC().Format(time.RFC3339Nano)}
		}
		again := headers(d)
		again["X-Shopify-Webhook-Id"] = "another-delivery-of-the-same-event"
		if status, resp := postWebhookHeaders(t, e, again, d.Body); status != 200 || !strings.Contains(resp, `"duplicate":true`) {
			t.Fatalf("same event, new webhook id: %d %s, want 200 duplicate", status, resp)
		}
		if n := countEvents(t, e); n != 1 {
			t.Fatalf("%d events stored after the same event under a new webhook id, want 1", n)
		}

		// A delivery triggered longer ago than deliveries are remembered
		// is refused, and says why.
		stale := headers(d)
		stale["X-Shopify-Webhook-Id"], stale["X-Shopify-Event-Id"] = "stale-1", "stale-1"
		stale["X-Shopify-Triggered-At"] = time.Now().Add(-shops.WebhookMaxAge - time.Hour).UTC().Format(time.RFC3339)
		if status, resp := postWebhookHeaders(t, e, stale, d.Body); status != 400 || !strings.Contains(resp, "no longer recognised as redeliveries") {
			t.Fatalf("stale delivery: %d %s, want 400 saying it is too old", status, resp)
		}
		for _, missing := range []string{"X-Shopify-Triggered-At", "X-Shopify-Event-Id"} {
			h := headers(d)
			h["X-Shopify-Webhook-Id"], h["X-Shopify-Event-Id"] = "no-"+missing, "no-"+missing
			h[missing] = ""
			if status, resp := postWebhookHeaders(t, e, h, d.Body); status != 400 || !strings.Contains(resp, missing) {
				t.Fatalf("without %s: %d %s, want 400 naming it", missing, status, resp)
			}
		}
		if n := countEvents(t, e); n != 1 {
			t.Fatalf("%d events stored after refused deliveries, want 1", n)
		}

		// Refused before the body is read: the request announces a body
		// and never sends it, so an answer at all proves the app did not
		// wait for it. (The announced 1 MiB is over what net/http drains
		// of an unread body before answering, 256 KiB, so the server
		// answers at once too; it is under the app's ceiling.)
		good64 := shopify.SignWebhook(body, testSecret)
		for _, c := range []struct {
			name, hmac string
			length     int
			status     int
		}{
			{"no signature header", "", 1 << 20, 401},
			{"a signature header that is no HMAC-SHA256", "bm90LWEtbWFj", 1 << 20, 401},
			{"a signature of 16 bytes", "AAAAAAAAAAAAAAAAAAAAAA==", 1 << 20, 401},
			{"a length over the ceiling", good64, shops.MaxWebhookBody + 1, 413},
		} {
			if got := webhookWithoutBody(t, e, c.hmac, c.length); got != c.status {
				t.Errorf("%s: %d, want %d without reading the body", c.name, got, c.status)
			}
		}
	})
}

// webhookWithoutBody sends a webhook's headers, announcing length bytes
// of body, and none of the body; it returns the status the app answers.
func webhookWithoutBody(t *testing.T, e *shopifyEnv, hmac string, length int) int {
	t.Helper()
	u, _ := url.Parse(e.svc.URL())
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Only a guard against a hang (the failure this looks for), not a
	// timing assertion.
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	head := "POST /webhooks/shopify HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n" +
		"X-Shopify-Topic: products/update\r\nX-Shopify-Shop-Domain: " + testShop + "\r\nX-Shopify-Webhook-Id: nobody-1\r\n" +
		"X-Shopify-Event-Id: nobody-1\r\nX-Shopify-Triggered-At: " + time.Now().UTC().Format(time.RFC3339) + "\r\n" +
		"Content-Length: " + strconv.Itoa(length) + "\r\n"
	if hmac != "" {
		head += "X-Shopify-Hmac-Sha256: " + hmac + "\r\n"
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body was withheld: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestUninstallAndReinstall(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		ctx := context.Background()
		sh := e.shop(t)
		if _, err := e.svc.Store().CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: "h", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.emu.Uninstall(ctx, testShop); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "uninstall processed", func() bool { return e.shop(t).Status == app.ShopUninstalled })
		if sh := e.shop(t); sh.AccessTokenSealed != "" || sh.RefreshTokenSealed != "" {
			t.Fatalf("tokens kept after uninstall: %+v", sh)
		}
		if _, err := e.svc.Store().ShopByAPIKeyHash(ctx, "h"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("API key works after uninstall: %v", err)
		}
		if _, err := e.svc.Shopify().AccessToken(ctx, testShop); !errors.Is(err, app.ErrShopInactive) {
			t.Fatalf("AccessToken after uninstall: %v", err)
		}
		// Catalog webhooks for an uninstalled shop are refused; privacy ones are not.
		body := []byte(`{"id":1}`)
		if status, _ := postWebhook(t, e, "products/update", testShop, "late-1", body, shopify.SignWebhook(body, testSecret)); status != 404 {
			t.Fatalf("products/update after uninstall: %d, want 404", status)
		}
		// Reinstall through the embedded admin.
		if _, _, err := e.svc.Shopify().Authenticate(ctx, e.emu.IDToken(testShop, "1")); err != nil {
			t.Fatalf("reinstall: %v", err)
		}
		if again := e.shop(t); again.ID != sh.ID || again.Status != app.ShopActive || again.UninstalledAt != nil {
			t.Fatalf("reinstalled shop: %+v", again)
		}
	})
}

func TestComplianceWebhooks(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		e.quiesce(t)
		ctx := context.Background()
		const email = "buyer@example.com"

		// An unprocessed delivery that names the customer: held personal data.
		if _, _, err := e.svc.Store().InsertWebhookEvent(ctx, app.WebhookEvent{
			WebhookID: "held-1", Shop: testShop, Topic: "orders/updated",
			Payload: []byte(`{"id":9,"email":"` + email + `","customer":{"admin_graphql_api_id":"gid://shopify/Customer/77"}}`),
		}); err != nil {
			t.Fatal(err)
		}
		send := func(topic string, payload any) {
			t.Helper()
			d, err := e.emu.SendWebhook(ctx, testShop, topic, payload)
			if err != nil || d.Status != 200 {
				t.Fatalf("%s: %+v %v", topic, d, err)
			}
		}
		records := func() []*app.ComplianceRequest {
			r, err := e.svc.Store().ComplianceRequests(ctx, testShop)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}

		send("customers/data_request", e.emu.CustomersDataRequestPayload(testShop, email))
		waitFor(t, "data request handled", func() bool { return len(records()) == 1 && records()[0].CompletedAt != nil })
		var report struct{ Held map[string]int }
		if err := json.Unmarshal(records()[0].Report, &report); err != nil || report.Held["webhook_events"] != 1 {
			t.Fatalf("data request report = %s (%v), want 1 webhook event held", records()[0].Report, err)
		}
		if bytes.Contains(records()[0].Report, []byte(email)) {
			t.Fatalf("the report repeats the customer's email: %s", records()[0].Report)
		}

		send("customers/redact", e.emu.CustomersRedactPayload(testShop, email))
		waitFor(t, "redact handled", func() bool { return len(records()) == 2 && records()[0].CompletedAt != nil })
		var payload string
		if err := e.db.QueryRow(rebind(kind, "SELECT payload FROM webhook_events WHERE webhook_id = ?"), "held-1").Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(payload, email) {
			t.Fatalf("customer's data survives customers/redact: %s", payload)
		}

		if _, err := e.emu.Uninstall(ctx, testShop); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "uninstall", func() bool { return e.shop(t).Status == app.ShopUninstalled })
		uninstalledAgo(t, e, shops.ShopRedactDelay+time.Minute) // Shopify sends shop/redact 48 h after
		send("shop/redact", e.emu.ShopRedactPayload(testShop))
		waitFor(t, "shop redact", func() bool {
			_, err := e.svc.Store().ShopByDomain(ctx, testShop)
			return errors.Is(err, app.ErrNotFound)
		})
		var left int
		if err := e.db.QueryRow(rebind(kind, "SELECT count(*) FROM webhook_events WHERE shop = ? AND topic <> 'shop/redact'"), testShop).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Fatalf("%d deliveries of the shop left after shop/redact", left)
		}
		waitFor(t, "shop redact recorded", func() bool { return len(records()) == 3 && records()[0].Topic == "shop/redact" })
	})
}

// uninstalledAgo moves the shop's uninstall time back, as if it had
// uninstalled that long ago.
func uninstalledAgo(t *testing.T, e *shopifyEnv, ago time.Duration) {
	t.Helper()
	at := time.Now().Add(-ago).UTC()
	if _, err := e.db.Exec(rebind(e.cfg.Database.Kind, "UPDATE shops SET uninstalled_at = ? WHERE domain = ? AND status = 'uninstalled'"), at, testShop); err != nil {
		t.Fatal(err)
	}
}

// webhookOutcome is the outcome recorded on a shop's latest delivery of a
// topic, and whether it is processed.
func webhookOutcome(t *testing.T, e *shopifyEnv, shop, topic string) (string, bool) {
	t.Helper()
	evs, err := e.svc.Store().WebhookEvents(context.Background(), shop, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Topic == topic {
			return ev.Outcome, ev.ProcessedAt != nil
		}
	}
	return "", false
}

// TestForgedShopRedact is the attack of issue 13: Shopify's HMAC covers
// the body only, so a genuine signed body of shop A (any topic) was
// re-sent as shop/redact with shop B's domain, and B's data and API keys
// were deleted. Now such a delivery is refused and B keeps everything; a
// genuine shop/redact deletes nothing while the shop is installed or
// uninstalled for less than 48 h (the delivery waits, its outcome says
// so), and deletes the shop once it has been uninstalled for 48 h.
func TestForgedShopRedact(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		e.quiesce(t)
		ctx := context.Background()
		if _, _, err := e.svc.Shopify().Authenticate(ctx, e.emu.IDToken(otherShop, "1")); err != nil {
			t.Fatalf("install B: %v", err)
		}
		var b *app.Shop
		waitFor(t, "B's install follow-up", func() bool {
			var err error
			if b, err = e.svc.Store().ShopByDomain(ctx, otherShop); err != nil || b.ShopifyGID == "" {
				return false
			}
			_, err = e.svc.Store().LatestBuild(ctx, b.ID, app.BuildPublished)
			return err == nil
		})
		if _, err := e.svc.Store().CreateAPIKey(ctx, app.APIKey{ShopID: b.ID, Hash: "b-key", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}
		bIntact := func(when string) {
			t.Helper()
			if sh, err := e.svc.Store().ShopByAPIKeyHash(ctx, "b-key"); err != nil || sh.ID != b.ID {
				t.Fatalf("%s: shop B's API key no longer works: %v", when, err)
			}
			if sh, err := e.svc.Store().ShopByDomain(ctx, otherShop); err != nil || sh.Status != app.ShopActive {
				t.Fatalf("%s: shop B = %+v, %v", when, sh, err)
			}
		}

		// A genuine delivery of shop A, captured on the wire.
		captured, err := e.emu.SendWebhook(ctx, testShop, "products/update", map[string]any{"id": 1, "title": "x"})
		if err != nil || captured.Status != 200 {
			t.Fatalf("delivery: %+v %v", captured, err)
		}
		shopRedactA, _ := json.Marshal(e.emu.ShopRedactPayload(testShop))
		customersRedactA, _ := json.Marshal(e.emu.CustomersRedactPayload(testShop, "ann@example.com"))
		for i, c := range []struct {
			name, topic string
			body        []byte
			status      int
		}{
			{"A's products/update as B's shop/redact", shops.TopicShopRedact, captured.Body, 400},
			{"A's shop/redact with B's domain", shops.TopicShopRedact, shopRedactA, 403},
			{"A's customers/redact as B's shop/redact", shops.TopicShopRedact, customersRedactA, 400},
			{"A's customers/redact with B's domain", shops.TopicCustomersRedact, customersRedactA, 403},
			{"A's products/update as B's app/uninstalled", shops.TopicAppUninstalled, captured.Body, 400},
		} {
			id := "forged-" + strconv.Itoa(i)
			status, resp := postWebhook(t, e, c.topic, otherShop, id, c.body, shopify.SignWebhook(c.body, testSecret))
			if status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, status, resp, c.status)
			}
			var n int
			if err := e.db.QueryRow(rebind(kind, "SELECT count(*) FROM webhook_events WHERE webhook_id = ?"), id).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s: stored (%d, %v)", c.name, n, err)
			}
		}
		e.quiesce(t)
		bIntact("after the forgeries")

		// B's own genuine shop/redact while B is installed: acknowledged,
		// nothing deleted, the outcome recorded.
		if d, err := e.emu.SendWebhook(ctx, otherShop, shops.TopicShopRedact, e.emu.ShopRedactPayload(otherShop)); err != nil || d.Status != 200 {
			t.Fatalf("B's shop/redact: %+v %v", d, err)
		}
		waitFor(t, "B's shop/redact processed", func() bool { _, done := webhookOutcome(t, e, otherShop, shops.TopicShopRedact); return done })
		if out, _ := webhookOutcome(t, e, otherShop, shops.TopicShopRedact); out != "deleted nothing: the shop is installed (0 rows)" {
			t.Fatalf("outcome of B's shop/redact: %q", out)
		}
		bIntact("after B's shop/redact while installed")

		// A uninstalls; a shop/redact an hour later deletes nothing yet.
		if _, err := e.emu.Uninstall(ctx, testShop); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "A uninstalled", func() bool { return e.shop(t).Status == app.ShopUninstalled })
		uninstalledAgo(t, e, time.Hour)
		if d, err := e.emu.SendWebhook(ctx, testShop, shops.TopicShopRedact, e.emu.ShopRedactPayload(testShop)); err != nil || d.Status != 200 {
			t.Fatalf("A's early shop/redact: %+v %v", d, err)
		}
		waitFor(t, "A's early shop/redact looked at", func() bool {
			out, _ := webhookOutcome(t, e, testShop, shops.TopicShopRedact)
			return out != ""
		})
		if out, done := webhookOutcome(t, e, testShop, shops.TopicShopRedact); done || !strings.HasPrefix(out, "waiting: the shop was uninstalled less than 48 h ago") {
			t.Fatalf("A's early shop/redact: outcome %q, processed %v; want waiting", out, done)
		}
		var scheduled int
		if err := e.db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'shopify_webhook' AND state = 'scheduled'`).Scan(&scheduled); err != nil || scheduled != 1 {
			t.Fatalf("%d scheduled webhook jobs (%v), want the one looking again in 47 h", scheduled, err)
		}
		if sh := e.shop(t); sh.Status != app.ShopUninstalled {
			t.Fatalf("A after an early shop/redact: %+v", sh)
		}

		// 48 h after the uninstall, shop/redact deletes A, and only A.
		uninstalledAgo(t, e, shops.ShopRedactDelay+time.Minute)
		if d, err := e.emu.SendWebhook(ctx, testShop, shops.TopicShopRedact, e.emu.ShopRedactPayload(testShop)); err != nil || d.Status != 200 {
			t.Fatalf("A's shop/redact: %+v %v", d, err)
		}
		waitFor(t, "A deleted", func() bool {
			_, err := e.svc.Store().ShopByDomain(ctx, testShop)
			return errors.Is(err, app.ErrNotFound)
		})
		bIntact("after A's deletion")
	})
}

func TestAdminThrottlingAndFailures(t *testing.T) {
	t.Parallel()
	e := newShopifyEnv(t, app.DatabaseSQLite)
	e.installByOAuth(t)
	e.quiesce(t)
	ctx := context.Background()
	const q = `query { shop { name currencyCode } }`

	// A tiny API budget: the client must pace itself, and every query
	// must still succeed.
	e.emu.SetThrottle(12, 200)
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Go(func() {
			var out struct{ Shop struct{ Name string } }
			errs[i] = e.svc.Shopify().Query(ctx, testShop, q, nil, &out)
			if errs[i] == nil && out.Shop.Name == "" {
				errs[i] = errors.New("empty answer")
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("query %d under throttling: %v", i, err)
		}
	}
	t.Logf("30 queries on a 12-point bucket: %d answered THROTTLED by the emulator", e.emu.Stats(testShop).Throttled)

	// An upstream failure comes back as retryable, and the next call works.
	e.emu.SetThrottle(2000, 100)
	e.emu.FailNext(1, http.StatusServiceUnavailable)
	var out struct{ Shop struct{ Name string } }
	err := e.svc.Shopify().Query(ctx, testShop, q, nil, &out)
	if !errors.Is(err, shopify.ErrUnavailable) || !shopify.IsRetryable(err) {
		t.Fatalf("query during an outage: %v, want ErrUnavailable", err)
	}
	if err := e.svc.Shopify().Query(ctx, testShop, q, nil, &out); err != nil {
		t.Fatalf("query after the outage: %v", err)
	}
	// A query with a field Shopify's schema lacks fails as it would in production.
	err = e.svc.Shopify().Query(ctx, testShop, `query { shop { nmae } }`, nil, &out)
	var gqlErr *shopify.GraphQLError
	if !errors.As(err, &gqlErr) {
		t.Fatalf("misspelled field: %v, want a GraphQL validation error", err)
	}
}

// expectDeprecations names the tests that send a deprecated query on
// purpose, so newShopifyEnv's cleanup does not count it against the app.
var expectDeprecations sync.Map

func deprecationsExpected(t *testing.T) bool {
	_, ok := expectDeprecations.Load(t.Name())
	return ok
}

// TestShopifyDeprecationsWatched: an Admin API answer flagged with
// X-Shopify-API-Deprecated-Reason (the emulator sets it, as Shopify does,
// for a field the 2026-10 schema deprecates) is counted on /metrics by
// operation and reason and logged once, not once per call.
func TestShopifyDeprecationsWatched(t *testing.T) {
	t.Parallel()
	expectDeprecations.Store(t.Name(), true)
	e := newShopifyEnv(t, app.DatabaseSQLite)
	e.installByOAuth(t)
	e.quiesce(t)
	ctx := context.Background()
	const q = `query OldShopFields { shop { name billingAddress { city } } }`
	for range 3 {
		// The emulator may not resolve the deprecated field; the header
		// comes either way, which is what is watched here.
		var out struct{ Shop struct{ Name string } }
		_ = e.svc.Shopify().Query(ctx, testShop, q, nil, &out)
	}
	got := e.svc.ShopifyDeprecations()
	if len(got) != 1 || got[0].Operation != "OldShopFields" || got[0].Calls != 3 ||
		!strings.Contains(got[0].Reason, "Shop.billingAddress: Use `shopAddress` instead.") {
		t.Fatalf("deprecations = %+v, want OldShopFields ×3 flagged for Shop.billingAddress", got)
	}
	if n := strings.Count(e.logs.String(), "deprecated API use"); n != 1 {
		t.Errorf("the warning was logged %d times, want once", n)
	}
	status, _, body := get(t, e.svc.MetricsURL())
	want := `acpbridge_shopify_deprecated_calls_total{operation="OldShopFields",reason="Shop.billingAddress: Use ` + "`shopAddress`" + ` instead."} 3`
	if status != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("/metrics (%d) lacks %s:\n%s", status, want, grep(body, "deprecated"))
	}
}
