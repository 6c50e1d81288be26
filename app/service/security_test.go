package service_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/logging"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
	"github.com/acpbridge/acpbridge/web"
)

// The cross-shop test: two shops installed on one app, every route of the
// server tried with shop B's credentials against shop A's resources. See
// docs/security.md.

const (
	secShopA    = testShop
	secShopB    = "sec-b-shop.myshopify.com"
	secAccountA = "acct_1SecShopA"
	secAccountB = "acct_1SecShopB"
	// secMarker starts every distinctive value seeded into shop A (product
	// titles, key labels): none may appear in an answer to shop B.
	secMarker = "Zqxa"
)

// routeClass is how a route authenticates, and so how it is attacked.
type routeClass string

const (
	classPublic    routeClass = "public"     // no credentials; nothing of a shop's private data
	classWebhook   routeClass = "webhook"    // Shopify's HMAC over the body (the app's client secret)
	classOAuth     routeClass = "oauth"      // the authorization-code grant: signed query, state cookie
	classFeed      routeClass = "feed"       // /feeds/:shop/:file with the shop's feed token
	classACP       routeClass = "acp"        // /acp/:shop/... with the shop's agent API key
	classMCP       routeClass = "mcp"        // /mcp/:shop: the same calls as MCP tools, with the same key
	classAdminAPI  routeClass = "admin-api"  // /api/... with an App Bridge ID token as Bearer
	classAdminPage routeClass = "admin-page" // GET / and /admin/... with the ID token in ?id_token=
	classMetrics   routeClass = "metrics"    // GET /metrics: served on METRICS_ADDR, 404 on the main port
	classContinue  routeClass = "continue"   // a handoff session's continue_url: its random token is the credential
)

// routeTable classifies every route of the server ("METHOD /path" as echo
// lists it). TestCrossShopAccess fails on a route missing here, so a route
// added later must be classified, and so attacked. Any GET under /admin is
// an admin page without being listed.
var routeTable = map[string]routeClass{
	"GET /healthz":                             classPublic,
	"GET /readyz":                              classPublic,
	"GET /metrics":                             classMetrics,
	"GET /static/*":                            classPublic,
	"GET " + web.BouncePath:                    classPublic,
	"GET /acp/:shop/.well-known/acp.json":      classPublic,
	"POST " + web.WebhookPath:                  classWebhook,
	"GET /auth":                                classOAuth,
	"GET /auth/callback":                       classOAuth,
	"GET /feeds/:shop/:file":                   classFeed,
	"HEAD /feeds/:shop/:file":                  classFeed,
	"GET " + checkout.ContinuePath + ":token":  classContinue,
	"POST " + checkout.ContinuePath + ":token": classContinue,

	"POST /acp/:shop/checkout_sessions":              classACP,
	"GET /acp/:shop/checkout_sessions/:id":           classACP,
	"POST /acp/:shop/checkout_sessions/:id":          classACP,
	"POST /acp/:shop/checkout_sessions/:id/complete": classACP,
	"POST /acp/:shop/checkout_sessions/:id/cancel":   classACP,
	"POST /acp/:shop/carts":                          classACP,
	"GET /acp/:shop/carts/:id":                       classACP,
	"PUT /acp/:shop/carts/:id":                       classACP,
	"POST /acp/:shop/carts/:id/cancel":               classACP,
	"POST /mcp/:shop":                                classMCP,

	"GET /api/session":                          classAdminAPI,
	"GET /api/catalog":                          classAdminAPI,
	"POST /api/catalog/sync":                    classAdminAPI,
	"GET /api/agents":                           classAdminAPI,
	"POST /api/agents/keys":                     classAdminAPI,
	"DELETE /api/agents/keys/:id":               classAdminAPI,
	"POST /api/agents/signing-secret":           classAdminAPI,
	"POST /api/agents/webhook":                  classAdminAPI,
	"POST /api/agents/stripe":                   classAdminAPI,
	"POST /api/agents/completion-method":        classAdminAPI,
	"POST /api/settings/feed":                   classAdminAPI,
	"POST /api/products/rules":                  classAdminAPI,
	"POST /api/products/:id/overrides":          classAdminAPI,
	"POST /api/feed/token":                      classAdminAPI,
	"POST /api/feed/targets":                    classAdminAPI,
	"POST /api/feed/build":                      classAdminAPI,
	"POST /api/agents/webhook/test":             classAdminAPI,
	"POST /api/test-checkout":                   classAdminAPI,
	"GET /api/privacy/data-requests":            classAdminAPI,
	"POST /api/billing/upgrade":                 classAdminAPI,
	"POST /api/scopes/sync":                     classAdminAPI,
	"GET /api/privacy/data-requests/:id/export": classAdminAPI,

	"GET /": classAdminPage,
}

// classifyRoute returns a route's class, or "" when the table lacks it.
func classifyRoute(r *echo.Route) routeClass {
	if r.Method == echo.RouteNotFound {
		// Echo's catch-all of a group with middleware: it runs the group's
		// middleware (for /acp/:shop, the shop and then the API key).
		if strings.HasPrefix(r.Path, web.ACPBasePath) {
			return classACP
		}
		return ""
	}
	if c, ok := routeTable[r.Method+" "+r.Path]; ok {
		return c
	}
	if r.Method == http.MethodGet && (r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/")) {
		return classAdminPage
	}
	return ""
}

// secEnv is one app with two installed shops, A and B, each with every
// credential the routes take, and a record of every secret the test used
// (scanned for in the app's logs at the end).
type secEnv struct {
	*shopifyEnv
	logs    *testkit.LogBuffer
	mu      sync.Mutex
	secrets map[string]string // value → what it is
	a, b    *secShop
	client  *http.Client // records the credentials it sends
	jars    []secJar     // the browsers of OAuth flows started by callback
}

// secShop is one shop's credentials and distinctive data.
type secShop struct {
	domain     string
	sh         *app.Shop
	apiKey     string
	keyID      int64
	feedToken  string
	signing    string
	webhookSec string
	stripeKey  string
	sessionID  string // a completed checkout session (an order)
	openID     string // a session still open
	orderGID   string
	productIDs []int64
	variantID  string
	targetID   int64
	markers    []string // values only this shop's answers may contain
}

func (e *secEnv) used(what, value string) {
	if value == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets[value] = what
}

// recordingTransport notes every credential a request carries.
type recordingTransport struct {
	next http.RoundTripper
	env  *secEnv
}

func (rt recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, h := range []string{"Authorization", "X-Shopify-Hmac-Sha256", "Signature"} {
		if v := req.Header.Get(h); v != "" {
			rt.env.used(h+" header", v)
			if _, tok, ok := strings.Cut(v, " "); ok {
				rt.env.used(h+" credential", tok)
			}
		}
	}
	for _, p := range []string{"id_token", "hmac", "code", "state"} {
		if v := req.URL.Query().Get(p); len(v) >= 8 {
			rt.env.used(p+" parameter", v)
		}
	}
	for _, c := range req.Cookies() {
		if len(c.Value) >= 8 {
			rt.env.used("cookie "+c.Name, c.Value)
		}
	}
	return rt.next.RoundTrip(req)
}

// newSecEnv starts an app with its own log capture on a fresh database of
// kind, with an emulator seeding shops A and B and a Stripe emulator with
// an account for each, installs both shops through OAuth, syncs them and
// gives each every credential.
func newSecEnv(t *testing.T, kind app.DatabaseKind) *secEnv {
	t.Helper()
	e := newSecApp(t, kind, nil)
	e.a = e.setUpShop(t, secShopA, secAccountA)
	e.b = e.setUpShop(t, secShopB, secAccountB)
	return e
}

// newSecApp starts the app and the emulators (see newSecEnv); tune, when
// set, adjusts the app's configuration first.
func newSecApp(t *testing.T, kind app.DatabaseKind, tune func(*config.Config)) *secEnv {
	t.Helper()
	ctx := context.Background()
	stripe, err := stripeemu.New(stripeemu.Config{Accounts: []string{secAccountA, secAccountB}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := stripe.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stripe.Close() })
	emu, err := emulator.New(emulator.Config{
		APIKey: testClientID, APISecret: testSecret, Logger: storetest.Logger(t), Products: 5, Seed: 1,
		Shops: []string{secShopA, secShopB}, Scopes: strings.Split(config.DefaultScopes, ","),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	// Shop A's titles are distinctive, so that they are recognised in any
	// answer.
	for i, p := range emu.Products(secShopA) {
		if err := emu.UpdateProduct(secShopA, "gid://shopify/Product/"+strconv.FormatInt(p.ID, 10), func(p *emulator.Product) {
			p.Title = fmt.Sprintf("%s Product %d %s", secMarker, i, p.Title)
		}); err != nil {
			t.Fatal(err)
		}
	}

	cfg := testConfig(t, storetest.Config(t, kind, true))
	cfg.ShopifyAPIKey, cfg.ShopifyAPISecret = testClientID, testSecret
	if tune != nil {
		tune(&cfg)
	}
	e := &secEnv{logs: &testkit.LogBuffer{}, secrets: map[string]string{}}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(e.logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := service.New(ctx, service.Options{
		Config: cfg, Logger: logging.Wrap(logger), ShopifyTransport: emu.Transport(nil),
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
		e.scanLogs(t)
	})
	emu.SetAppURL(svc.URL())
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: recordingTransport{emu.Transport(nil), e},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "admin.shopify.com" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	e.shopifyEnv = &shopifyEnv{svc: svc, emu: emu, stripe: stripe, browser: browser, db: svc.Store().DB(), cfg: cfg}
	e.client = &http.Client{Transport: recordingTransport{http.DefaultTransport, e},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e.used("encryption key", cfg.EncryptionKey)
	if _, k, ok := strings.Cut(cfg.EncryptionKey, ":"); ok {
		e.used("encryption key", k)
	}
	e.used("Shopify client secret", testSecret)
	e.used("Stripe secret key of A", stripe.SecretKey(secAccountA))
	e.used("Stripe secret key of B", stripe.SecretKey(secAccountB))
	return e
}

// setUpShop installs a shop by OAuth, waits for its catalog and feed, and
// gives it an API key, a feed token, a signing and a webhook secret,
// Stripe, a feed target, an open session and a completed purchase.
func (e *secEnv) setUpShop(t *testing.T, domain, account string) *secShop {
	t.Helper()
	ctx := context.Background()
	s := e.installShop(t, domain)
	access, err := e.svc.Shopify().AccessToken(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	e.used("Shopify access token of "+domain, access)
	fs, err := e.svc.Feeds().Settings(ctx, s.sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	fs.ReturnWindowDays = 30
	if err := e.svc.Feeds().SaveSettings(ctx, *fs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Feeds().Build(ctx, s.sh.ID); err != nil {
		t.Fatal(err)
	}
	label := "key of " + domain
	if domain == secShopA {
		label = secMarker + " agent key label"
		s.markers = append(s.markers, label)
	}
	key, k, err := e.svc.Agents().CreateAPIKey(ctx, s.sh.ID, label)
	if err != nil {
		t.Fatal(err)
	}
	s.apiKey, s.keyID = key, k.ID
	if s.feedToken, err = e.svc.Feeds().RotateToken(ctx, s.sh.ID); err != nil {
		t.Fatal(err)
	}
	if s.signing, err = e.svc.Agents().RotateSigningSecret(ctx, s.sh.ID, false); err != nil {
		t.Fatal(err)
	}
	// The agent's order-event receiver answers at once, so that no
	// delivery is still being retried when the attacks start.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	t.Cleanup(hook.Close)
	if s.webhookSec, err = e.svc.Agents().RotateWebhookSecret(ctx, s.sh.ID, hook.URL+"/"+domain+"/hook"); err != nil {
		t.Fatal(err)
	}
	s.stripeKey = e.stripe.RestrictedKey(account)
	if _, err := e.svc.Agents().ConnectPayment(ctx, s.sh.ID, payment.ProviderName, s.stripeKey); err != nil {
		t.Fatal(err)
	}
	for what, v := range map[string]string{"API key": s.apiKey, "feed token": s.feedToken, "signing secret": s.signing,
		"webhook secret": s.webhookSec, "Stripe key": s.stripeKey} {
		e.used(what+" of "+domain, v)
	}

	// A feed target, through the admin API as the merchant.
	targetToken := "tgt_" + strings.ReplaceAll(domain, ".", "_") + "_0123456789abcdef"
	e.used("feed target token of "+domain, targetToken)
	status, out := e.adminAPI(t, "POST", "/api/feed/targets", e.emu.IDToken(domain, "1"),
		`{"kind":"acp","base_url":"http://127.0.0.1:9/acp","feed_id":"feed_1","target_country":"US","token":"`+targetToken+`","enabled":false}`)
	if status != http.StatusOK {
		t.Fatalf("%s: save target: %d %v", domain, status, out)
	}
	s.targetID = int64(out["id"].(float64))

	// Catalog ids, and a purchase.
	var inStock emulator.Variant
	var inStockProduct int64
	for _, p := range e.emu.Products(domain) {
		s.productIDs = append(s.productIDs, p.ID)
		if domain == secShopA {
			s.markers = append(s.markers, p.Title)
		}
		if p.Status != "ACTIVE" || !p.Published {
			continue
		}
		for _, v := range p.Variants {
			if v.Tracked && v.InventoryQuantity >= 5 && v.RequiresShipping && inStock.ID == 0 {
				inStock, inStockProduct = v, p.ID
			}
		}
	}
	if inStock.ID == 0 {
		t.Fatalf("%s has no variant in stock", domain)
	}
	s.variantID = variantID(inStock)
	a := &agent{t: t, base: web.ACPBaseURL(e.svc.URL(), domain), key: s.apiKey, version: acp.V20260417}
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(inStock, 1)}, true, californiaAddress()))
	if r.status != http.StatusCreated || r.str("status") != "ready_for_payment" {
		t.Fatalf("%s: create: %d %s", domain, r.status, r.body)
	}
	s.sessionID = r.str("id")
	spt := e.stripe.GrantToken(account, stripeemu.KindApprove, "usd", 1_000_000, time.Time{})
	e.used("payment token of "+domain, spt)
	r = a.do("POST", "/checkout_sessions/"+s.sessionID+"/complete", a.paymentBody(spt))
	if r.str("status") != "completed" || r.str("order", "id") == "" {
		t.Fatalf("%s: complete: %d %s", domain, r.status, r.body)
	}
	s.orderGID = r.str("order", "id")
	// A merchant's override (a feed rule), whose GTIN the build reports as
	// a problem.
	override := "override of " + domain
	if domain == secShopA {
		override = secMarker + " override title"
		s.markers = append(s.markers, override)
	}
	if status, out := e.adminAPI(t, "POST", "/api/products/"+strconv.FormatInt(inStockProduct, 10)+"/overrides", e.emu.IDToken(domain, "1"),
		`{"title":"`+override+`","gtin":"4006381333931"}`); status != http.StatusOK {
		t.Fatalf("%s: save overrides: %d %v", domain, status, out)
	}
	if _, err := e.svc.Feeds().Build(ctx, s.sh.ID); err != nil {
		t.Fatal(err)
	}
	r = a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(inStock, 1)}, false, nil))
	if r.status != http.StatusCreated {
		t.Fatalf("%s: create: %d %s", domain, r.status, r.body)
	}
	s.openID = r.str("id")
	if domain == secShopA {
		s.markers = append(s.markers, s.sessionID, s.openID, s.orderGID)
	}
	s.sh, _ = e.svc.Store().ShopByDomain(ctx, domain)
	return s
}

// installShop installs a shop through OAuth in the merchant's browser and
// waits for its first sync and feed build.
func (e *secEnv) installShop(t *testing.T, domain string) *secShop {
	t.Helper()
	ctx := context.Background()
	resp, err := e.browser.Get(e.svc.URL() + "/auth?shop=" + domain)
	if err != nil {
		t.Fatalf("install %s: %v", domain, err)
	}
	resp.Body.Close()
	s := &secShop{domain: domain}
	waitFor(t, "first build of "+domain, func() bool {
		sh, err := e.svc.Store().ShopByDomain(ctx, domain)
		if err != nil {
			return false
		}
		s.sh = sh
		_, err = e.svc.Store().LatestBuild(ctx, sh.ID, app.BuildPublished)
		return err == nil
	})
	return s
}

// adminAPI calls the admin JSON API with an ID token.
func (e *secEnv) adminAPI(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.svc.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// scanLogs fails the test when any secret it used appears in the app's
// logs: as it is, hex-encoded, or base64-encoded.
func (e *secEnv) scanLogs(t *testing.T) {
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(logs) < 1000 {
		t.Errorf("only %d bytes of logs captured", len(logs))
	}
	for v, what := range e.secrets {
		for _, form := range []string{v, hex.EncodeToString([]byte(v)), base64.StdEncoding.EncodeToString([]byte(v))} {
			if len(form) >= 8 && strings.Contains(logs, form) {
				t.Errorf("the app logged the %s (%d bytes of logs scanned)", what, len(logs))
			}
		}
	}
	if m := loggedCredential.FindString(logs); m != "" {
		t.Errorf("the app logged a credential: %q…", m[:min(len(m), 12)])
	}
	t.Logf("logs: %d bytes scanned for %d secrets", len(logs), len(e.secrets))
}

// snapshot is every row the database holds for shop A, as text, by table.
// oauth_states (pending handshakes, which anyone may start) and River's
// tables are left out.
func (e *secEnv) snapshot(t *testing.T, s *secShop) map[string][]string {
	t.Helper()
	kind := e.cfg.Database.Kind
	out := map[string][]string{}
	for _, table := range e.tables(t) {
		if strings.HasPrefix(table, "river_") || table == "oauth_states" || table == "goose_db_version" {
			continue
		}
		cols := secColumns(t, e.db, table)
		var where string
		var arg any
		switch {
		case table == "shops":
			where, arg = "id = ?", s.sh.ID
		case slices.Contains(cols, "shop_id"):
			where, arg = "shop_id = ?", s.sh.ID
		case slices.Contains(cols, "shop"):
			where, arg = "shop = ?", s.domain
		default:
			continue
		}
		out[table] = e.rowsText(t, table, cols, rebind(kind, `SELECT * FROM "`+table+`" WHERE `+where), arg)
	}
	return out
}

// tables lists the database's tables.
func (e *secEnv) tables(t *testing.T) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if e.cfg.Database.Kind == app.DatabasePostgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := e.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	sort.Strings(tables)
	return tables
}

// rowsText runs a query and returns each row as "col=value …", sorted.
func (e *secEnv) rowsText(t *testing.T, table string, cols []string, query string, args ...any) []string {
	t.Helper()
	rs, err := e.db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		out = append(out, b.String())
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// scanDatabase fails the test when any credential it used is stored in
// plaintext (as text, hex or base64) in any row of any table, and reports
// the tables that held no row (so that a scan that saw nothing is noticed).
func (e *secEnv) scanDatabase(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	secrets := maps.Clone(e.secrets)
	e.mu.Unlock()
	var empty []string
	rows := 0
	tables := e.tables(t)
	for _, table := range tables {
		text := e.rowsText(t, table, secColumns(t, e.db, table), `SELECT * FROM "`+table+`"`)
		if len(text) == 0 {
			empty = append(empty, table)
		}
		rows += len(text)
		all := strings.Join(text, "\n")
		for v, what := range secrets {
			for _, form := range []string{v, hex.EncodeToString([]byte(v)), base64.StdEncoding.EncodeToString([]byte(v))} {
				if len(form) >= 8 && strings.Contains(all, form) {
					t.Errorf("table %s holds the %s in plaintext", table, what)
				}
			}
		}
	}
	t.Logf("database: %d rows of %d tables scanned for %d secrets; tables without rows: %v", rows, len(tables), len(secrets), empty)
}

func secColumns(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rs, err := db.Query(`SELECT * FROM "` + table + `" WHERE 1 = 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	return cols
}

// settledSnapshot waits until shop A's rows stop changing (follow-up jobs
// of the set-up) and returns them.
func (e *secEnv) settledSnapshot(t *testing.T, s *secShop) map[string][]string {
	t.Helper()
	prev := e.snapshot(t, s)
	for i := 0; i < 50; i++ {
		time.Sleep(200 * time.Millisecond)
		cur := e.snapshot(t, s)
		if fmt.Sprint(cur) == fmt.Sprint(prev) {
			return cur
		}
		prev = cur
	}
	t.Fatal("shop A's rows never settled")
	return nil
}

// secAttack is one request of shop B against shop A.
type secAttack struct {
	name   string
	method string
	path   string // with the query, if any
	header map[string]string
	body   string
	// want are the acceptable statuses; empty means "refused": 401, 403
	// or 404.
	want []int
	// bodyHas, when set, must be in the answer (a JSON-RPC refusal comes
	// with 200).
	bodyHas string
}

var secRefused = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}

// TestCrossShopAccess lists the server's routes from its router, fails on
// one its table does not classify, and tries each with shop B's
// credentials against shop A's resources (A's shop in the path, A's key,
// session, product, order and target ids): each attempt must be refused
// (401, 403 or 404) or, where the shop comes from B's own credential (the
// admin API), act on B only. No answer to B may contain A's distinctive
// data, and every row the database holds for A must be unchanged after
// all of them. A's own credentials still work at the end. The app's logs
// are then scanned for every credential the test used.
func TestCrossShopAccess(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newSecEnv(t, kind)
		a := e.a
		before := e.settledSnapshot(t, a)
		if len(before["checkout_sessions"]) != 2 || len(before["api_keys"]) != 1 || len(before["catalog_products"]) == 0 || len(before["feed_targets"]) != 1 {
			t.Fatalf("shop A's rows are not as set up: %d sessions, %d keys, %d products, %d targets", len(before["checkout_sessions"]),
				len(before["api_keys"]), len(before["catalog_products"]), len(before["feed_targets"]))
		}

		routes := e.svc.Web().Echo().Routes()
		sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
		counts := map[routeClass]int{}
		tried := 0
		for _, r := range routes {
			class := classifyRoute(r)
			if class == "" {
				t.Errorf("route %s %s is not classified: add it to routeTable in security_test.go", r.Method, r.Path)
				continue
			}
			counts[class]++
			if class == classWebhook {
				continue // last: the privacy webhooks are among its attacks
			}
			for _, at := range e.attacks(t, r, class) {
				e.try(t, r, class, at)
				tried++
			}
		}
		// Every credential so far, against every row, before the webhook
		// attacks (a shop/redact that got through would delete rows).
		e.scanDatabase(t)
		for _, r := range routes {
			if classifyRoute(r) == classWebhook {
				for _, at := range e.attacks(t, r, classWebhook) {
					e.try(t, r, classWebhook, at)
					tried++
				}
			}
		}
		for key := range routeTable {
			if !slices.ContainsFunc(routes, func(r *echo.Route) bool { return r.Method+" "+r.Path == key }) {
				t.Errorf("routeTable lists %s, which the server no longer has", key)
			}
		}
		if counts[classACP] < 5 || counts[classMCP] != 1 || counts[classAdminAPI] < 10 || counts[classFeed] < 2 || counts[classOAuth] < 2 || counts[classWebhook] != 1 {
			t.Errorf("routes by class %v: fewer than the server has today", counts)
		}

		// B's jobs (its sync, build, redaction) run; A is untouched.
		waitFor(t, "B's webhooks processed", func() bool {
			var pending int
			err := e.db.QueryRow(`SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NULL`).Scan(&pending)
			return err == nil && pending == 0
		})
		// Shopify sends shop/redact 48 h after an uninstall: B's, sent
		// while B is installed, deleted nothing (and A's rows are checked
		// below).
		for _, sh := range []string{e.b.domain} {
			if _, err := e.svc.Store().ShopByDomain(context.Background(), sh); err != nil {
				t.Errorf("shop/redact of the installed shop %s deleted it: %v", sh, err)
			}
			evs, _ := e.svc.Store().WebhookEvents(context.Background(), sh, 100)
			if i := slices.IndexFunc(evs, func(ev *app.WebhookEvent) bool { return ev.Topic == shops.TopicShopRedact }); i < 0 ||
				evs[i].Outcome != "deleted nothing: the shop is installed (0 rows)" {
				t.Errorf("%s's shop/redact was not recorded as keeping the shop", sh)
			}
		}
		after := e.settledSnapshot(t, a)
		for table, rows := range before {
			if fmt.Sprint(rows) != fmt.Sprint(after[table]) {
				t.Errorf("shop A's %s changed:\nbefore %q\nafter  %q", table, rows, after[table])
			}
		}
		for table := range after {
			if _, ok := before[table]; !ok {
				t.Errorf("shop A has new rows in %s: %q", table, after[table])
			}
		}

		// A's credentials still work.
		ag := &agent{t: t, base: web.ACPBaseURL(e.svc.URL(), a.domain), key: a.apiKey, version: acp.V20260417}
		if r := ag.do("GET", "/checkout_sessions/"+a.sessionID, nil); r.status != 200 || r.str("status") != "completed" {
			t.Errorf("A's key on A's session after the attacks: %d %s", r.status, r.body)
		}
		if status := e.status(t, "GET", "/feeds/"+a.domain+"/products.jsonl.gz", map[string]string{"Authorization": "Bearer " + a.feedToken}, ""); status != 200 {
			t.Errorf("A's feed token after the attacks: %d", status)
		}
		if sh, err := e.svc.Store().ShopByDomain(context.Background(), a.domain); err != nil || sh.Status != app.ShopActive {
			t.Errorf("shop A after the attacks: %+v, %v", sh, err)
		}
		t.Logf("%d routes (%v), %d requests of shop B against shop A", len(routes), counts, tried)
		e.scanDatabase(t)
	})
}

// status sends one request and returns its status.
func (e *secEnv) status(t *testing.T, method, path string, header map[string]string, body string) int {
	t.Helper()
	code, _ := e.send(t, method, path, header, body)
	return code
}

func (e *secEnv) send(t *testing.T, method, path string, header map[string]string, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.svc.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// try sends one attack and checks its answer.
func (e *secEnv) try(t *testing.T, r *echo.Route, class routeClass, at secAttack) {
	t.Helper()
	status, body := e.send(t, at.method, at.path, at.header, at.body)
	want := at.want
	if len(want) == 0 {
		want = secRefused
	}
	if !slices.Contains(want, status) {
		t.Errorf("%s %s (%s) %s: %d, want one of %v: %.300s", r.Method, r.Path, class, at.name, status, want, body)
	}
	if at.bodyHas != "" && !strings.Contains(body, at.bodyHas) {
		t.Errorf("%s %s (%s) %s: the answer lacks %s: %.300s", r.Method, r.Path, class, at.name, at.bodyHas, body)
	}
	for _, m := range append(slices.Clone(e.a.markers), e.a.apiKey, e.a.feedToken, e.a.signing, e.a.webhookSec, e.a.stripeKey) {
		if strings.Contains(body, m) {
			t.Errorf("%s %s (%s) %s: the answer to shop B shows shop A's %q", r.Method, r.Path, class, at.name, m)
		}
	}
}

// fill puts shop A's values into a route's path parameters.
func (e *secEnv) fill(path string, shop string, id string) string {
	path = strings.ReplaceAll(path, ":shop", shop)
	path = strings.ReplaceAll(path, ":file", "products.jsonl.gz")
	path = strings.ReplaceAll(path, ":id", id)
	return strings.ReplaceAll(path, "*", "zz")
}

// foreignIDToken is an ID token for shop A signed with another app's secret.
func (e *secEnv) foreignIDToken(shop string) string {
	now := time.Now()
	return shopify.SignIDToken(shopify.IDTokenClaims{
		Issuer: "https://" + shop + "/admin", Dest: "https://" + shop, Audience: testClientID, Subject: "1",
		Exp: now.Add(time.Minute).Unix(), Nbf: now.Unix(),
	}, "another-apps-secret-0123456789")
}

// attacks are shop B's requests against shop A on one route.
func (e *secEnv) attacks(t *testing.T, r *echo.Route, class routeClass) []secAttack {
	t.Helper()
	a, b := e.a, e.b
	switch class {
	case classPublic:
		path := e.fill(r.Path, a.domain, "")
		if r.Path == "/static/*" {
			path = "/static/admin.css"
		}
		if r.Path == web.BouncePath {
			path += "?" + url.Values{"shop": {a.domain}, "embedded": {"1"}, "shopify-reload": {e.svc.URL() + "/admin?shop=" + a.domain}}.Encode()
		}
		return []secAttack{{name: "with shop B's key and ID token", method: r.Method, path: path, want: []int{200},
			header: map[string]string{"Authorization": "Bearer " + b.apiKey, "API-Version": string(acp.V20260417)}}}

	case classContinue:
		// Nothing but the session's own link (its random secret) opens
		// it: not the session id, nor any key of B's.
		var out []secAttack
		for _, id := range []string{a.sessionID, a.openID} {
			out = append(out,
				secAttack{name: "A's session id as the token", method: r.Method, path: checkout.ContinuePath + id, want: []int{http.StatusNotFound}},
				secAttack{name: "A's session id with B's key", method: r.Method, path: checkout.ContinuePath + id, want: []int{http.StatusNotFound},
					header: map[string]string{"Authorization": "Bearer " + b.apiKey}})
		}
		return append(out, secAttack{name: "a made-up token", method: r.Method, path: checkout.ContinuePath + "AR1jc19hYWFhYWFhYWFhYWFhYWFh",
			want: []int{http.StatusNotFound}})

	case classMetrics:
		// The tests serve metrics on a listener of their own (METRICS_ADDR),
		// so the main port does not serve them to anyone.
		return []secAttack{
			{name: "with shop B's key", method: r.Method, path: r.Path, want: []int{http.StatusNotFound},
				header: map[string]string{"Authorization": "Bearer " + b.apiKey}},
			{name: "without credentials", method: r.Method, path: r.Path, want: []int{http.StatusNotFound}},
		}

	case classFeed:
		var out []secAttack
		for _, file := range []string{"products.jsonl.gz", "products.csv.gz", "products.tsv.gz"} {
			out = append(out,
				secAttack{name: "B's feed token on A's " + file, method: r.Method, path: "/feeds/" + a.domain + "/" + file,
					header: map[string]string{"Authorization": "Bearer " + b.feedToken}},
				secAttack{name: "B's API key on A's " + file, method: r.Method, path: "/feeds/" + a.domain + "/" + file,
					header: map[string]string{"Authorization": "Bearer " + b.apiKey}},
				secAttack{name: "A's domain upper-cased", method: r.Method, path: "/feeds/" + strings.ToUpper(a.domain) + "/" + file,
					header: map[string]string{"Authorization": "Bearer " + b.feedToken}})
		}
		return out

	case classACP:
		h := func(key string) map[string]string {
			return map[string]string{"Authorization": "Bearer " + key, "API-Version": string(acp.V20260417),
				"Content-Type": "application/json", "Idempotency-Key": fmt.Sprintf("sec-%d", time.Now().UnixNano())}
		}
		var body string
		switch {
		case strings.HasSuffix(r.Path, "/complete"):
			spt := e.stripe.GrantToken(secAccountB, stripeemu.KindApprove, "usd", 1_000_000, time.Time{})
			e.used("payment token of B", spt)
			body = `{"payment_data":{"handler_id":"` + acp.StripeSPTHandlerID + `","instrument":{"type":"card","credential":{"type":"spt","token":"` + spt + `"}}}}`
		case strings.HasSuffix(r.Path, "/cancel"):
			body = `{}`
		case strings.HasPrefix(r.Path, "/acp/:shop/carts"):
			body = `{"line_items":[{"id":"` + a.variantID + `","quantity":1}]}`
		case strings.HasSuffix(r.Path, "/:id"):
			body = `{"fulfillment_details":{"name":"Mallory","address":{"name":"Mallory","line_one":"1 Evil St","city":"San Francisco","state":"CA","country":"US","postal_code":"94105"}}}`
		default:
			body = `{"line_items":[{"id":"` + a.variantID + `","quantity":1}],"currency":"usd","capabilities":{}}`
		}
		method := r.Method
		if method == echo.RouteNotFound {
			method = http.MethodGet
		}
		var out []secAttack
		for _, id := range []string{a.sessionID, a.openID} {
			out = append(out,
				secAttack{name: "B's key, A's shop and session " + id, method: method, path: e.fill(r.Path, a.domain, id), header: h(b.apiKey), body: body},
				secAttack{name: "B's key, B's shop, A's session " + id, method: method, path: e.fill(r.Path, b.domain, id), header: h(b.apiKey), body: body,
					want: acpOwnShopStatuses(r)},
				secAttack{name: "B's signed request, A's shop", method: method, path: e.fill(r.Path, a.domain, id), body: body,
					header: secSignature(h(b.apiKey), b.signing, body)})
		}
		return out

	case classMCP:
		// Each of A's sessions through every tool that names one: with B's
		// key at A's MCP server (refused before any method), and at B's
		// own (a JSON-RPC not_found, nothing of A's).
		// B's admin may have rotated its signing secret (and required
		// signatures) by now: B takes a fresh one.
		signing, err := e.svc.Agents().RotateSigningSecret(context.Background(), b.sh.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		e.used("signing secret of B", signing)
		var out []secAttack
		for _, id := range []string{a.sessionID, a.openID} {
			for _, tool := range []string{"get_checkout_session", "update_checkout_session", "complete_checkout_session", "cancel_checkout_session"} {
				payload := `{}`
				switch tool {
				case "update_checkout_session":
					payload = `{"fulfillment_details":{"name":"Mallory","address":{"name":"Mallory","line_one":"1 Evil St","city":"San Francisco","state":"CA","country":"US","postal_code":"94105"}}}`
				case "complete_checkout_session":
					spt := e.stripe.GrantToken(secAccountB, stripeemu.KindApprove, "usd", 1_000_000, time.Time{})
					e.used("payment token of B", spt)
					payload = `{"payment_data":{"handler_id":"` + acp.StripeSPTHandlerID + `","instrument":{"type":"card","credential":{"type":"spt","token":"` + spt + `"}}}}`
				}
				// B's shop requires signatures: B signs its payload (none
				// for a read), with an RFC 3339 timestamp as the binding's
				// meta.timestamp is, unique so that no signature repeats.
				ts := time.Now().UTC().Format(time.RFC3339Nano)
				signed := payload
				if tool == "get_checkout_session" {
					signed = ""
				}
				sig := base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(signing), ts, []byte(signed)))
				body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"meta":{"api_version":"2026-04-17","idempotency_key":"sec-` +
					strconv.FormatInt(time.Now().UnixNano(), 10) + `","timestamp":"` + ts + `","signature":"` + sig + `"},"id":"` + id + `","payload":` + payload + `}}}`
				h := map[string]string{"Authorization": "Bearer " + b.apiKey, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
				out = append(out,
					secAttack{name: "B's key, A's MCP server, " + tool + " of " + id, method: r.Method, path: e.fill(r.Path, a.domain, ""), header: h, body: body},
					secAttack{name: "B's key, B's MCP server, " + tool + " of A's " + id, method: r.Method, path: e.fill(r.Path, b.domain, ""), header: h, body: body,
						want: []int{http.StatusOK}, bodyHas: `"code":"not_found"`})
			}
		}
		return out

	case classAdminAPI:
		tokB := e.emu.IDToken(b.domain, "1")
		path := r.Path
		var body string
		var want []int
		switch r.Method + " " + r.Path {
		case "DELETE /api/agents/keys/:id":
			path, want = e.fill(path, "", strconv.FormatInt(a.keyID, 10)), secRefused
		case "POST /api/products/:id/overrides":
			path, body, want = e.fill(path, "", strconv.FormatInt(a.productIDs[0], 10)), `{"title":"Mallory was here"}`, secRefused
		case "POST /api/products/rules":
			ids, _ := json.Marshal(a.productIDs)
			body, want = `{"scope":"product","ids":`+string(ids)+`,"exclude":true,"checkout":false}`, []int{200, 400, 404}
		case "POST /api/feed/targets":
			body, want = `{"id":`+strconv.FormatInt(a.targetID, 10)+`,"kind":"acp","base_url":"http://127.0.0.1:9/mallory","feed_id":"m","target_country":"US","token":"mallory-token-0123456789","enabled":true}`, secRefused
		case "POST /api/agents/signing-secret":
			body, want = `{"require":true}`, []int{200}
		case "POST /api/agents/webhook":
			body, want = `{"url":"http://127.0.0.1:9/mallory"}`, []int{200}
		case "POST /api/agents/stripe":
			body, want = `{"key":"rk_test_notarealkey123456"}`, []int{400}
		case "POST /api/agents/completion-method":
			// B switches its own shop; A's settings row is in the snapshot.
			body, want = `{"completion_method":"shopify_checkout"}`, []int{200}
		case "POST /api/agents/keys":
			body, want = `{"label":"mallory"}`, []int{201}
		case "POST /api/settings/feed":
			body, want = `{"seller_name":"Mallory","seller_url":"https://mallory.example","store_country":"US","target_countries":["US"],"return_policy_url":"https://mallory.example/returns","return_window_days":5,"privacy_policy_url":"https://mallory.example/p","terms_url":"https://mallory.example/t","eligible_search":true,"eligible_checkout":false,"field_names":"current"}`, []int{200}
		case "POST /api/agents/webhook/test":
			body, want = `{}`, []int{200, 422} // B's own webhook URL, which does not answer
		case "POST /api/test-checkout":
			body, want = `{}`, []int{200, 201, 400, 404, 409, 422}
		case "GET /api/privacy/data-requests/:id/export":
			path, want = e.fill(path, "", "1"), secRefused
		default:
			body, want = `{}`, []int{200, 201, 202, 204, 400, 409}
		}
		shopAQuery := "?shop=" + a.domain
		return []secAttack{
			{name: "B's ID token (A's shop in the query)", method: r.Method, path: path + shopAQuery, body: body, want: want,
				header: map[string]string{"Authorization": "Bearer " + tokB, "Content-Type": "application/json", "X-Shopify-Shop-Domain": a.domain}},
			{name: "an ID token for A signed by another app", method: r.Method, path: path, body: body,
				header: map[string]string{"Authorization": "Bearer " + e.foreignIDToken(a.domain), "Content-Type": "application/json"},
				want:   []int{http.StatusUnauthorized}},
			{name: "B's API key as Bearer", method: r.Method, path: path, body: body,
				header: map[string]string{"Authorization": "Bearer " + b.apiKey, "Content-Type": "application/json"},
				want:   []int{http.StatusUnauthorized}},
		}

	case classAdminPage:
		ids := []string{"1"}
		switch {
		case strings.Contains(r.Path, "/products/:id"):
			ids = nil
			for _, id := range a.productIDs {
				ids = append(ids, strconv.FormatInt(id, 10))
			}
		case strings.Contains(r.Path, "/orders/:id"):
			ids = []string{a.sessionID, a.openID, a.orderGID}
		}
		var out []secAttack
		for _, id := range ids {
			path := e.fill(r.Path, "", id)
			page := func(shop, token string) string {
				return path + "?" + url.Values{"embedded": {"1"}, "shop": {shop}, "id_token": {token}}.Encode()
			}
			tokB := e.emu.IDToken(b.domain, "1")
			own := []int{200, 404}
			if !strings.Contains(r.Path, ":id") {
				own = []int{200}
			}
			out = append(out,
				secAttack{name: "B's id_token, A's shop parameter, id " + id, method: r.Method, path: page(a.domain, tokB)},
				secAttack{name: "B's id_token on B's page, A's id " + id, method: r.Method, path: page(b.domain, tokB), want: own},
				secAttack{name: "an id_token for A signed by another app, id " + id, method: r.Method, path: page(a.domain, e.foreignIDToken(a.domain)),
					want: []int{http.StatusFound, http.StatusUnauthorized, http.StatusForbidden}},
				secAttack{name: "no id_token, A's shop, id " + id, method: r.Method, path: path + "?shop=" + a.domain,
					want: []int{http.StatusFound, http.StatusUnauthorized, http.StatusForbidden}})
		}
		return out

	case classOAuth:
		if r.Path == "/auth" {
			// Anyone may start an install; it changes nothing of A's.
			return []secAttack{{name: "start an install of A", method: r.Method, path: "/auth?shop=" + a.domain, want: []int{http.StatusFound}}}
		}
		cb := e.callback(t, b.domain)
		q := cb.Query()
		q.Set("shop", a.domain)
		tampered := *cb
		tampered.RawQuery = q.Encode()
		cbA := e.callback(t, a.domain) // started by another browser
		return []secAttack{
			{name: "B's callback with A's shop", method: r.Method, path: tampered.RequestURI(), header: map[string]string{"Cookie": e.cookieHeader(cb)}},
			{name: "A's callback in B's browser", method: r.Method, path: cbA.RequestURI(), header: map[string]string{"Cookie": e.cookieHeader(cb)}},
		}

	case classWebhook:
		sign := func(body, secret string) string { return shopify.SignWebhook([]byte(body), secret) }
		hook := func(topic, shop, body, hmac string) map[string]string {
			id := fmt.Sprintf("sec-%d", time.Now().UnixNano())
			return map[string]string{"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop, "Content-Type": "application/json",
				"X-Shopify-Webhook-Id": id, "X-Shopify-Event-Id": id, "X-Shopify-Hmac-Sha256": hmac,
				"X-Shopify-Triggered-At": time.Now().UTC().Format(time.RFC3339Nano)}
		}
		marshal := func(v any) string { b, _ := json.Marshal(v); return string(b) }
		uninstall := `{"id":1,"domain":"` + a.domain + `"}`
		del := fmt.Sprintf(`{"id":%d}`, a.productIDs[0])
		inv := `{"inventory_item_id":1,"location_id":1,"available":0}`
		// A's genuine privacy requests (Shopify signs them for A) sent
		// with B's domain in the unsigned header, and B's own.
		redactCustomerA := marshal(e.emu.CustomersRedactPayload(a.domain, "ada@example.com"))
		redactShopA := marshal(e.emu.ShopRedactPayload(a.domain))
		redactCustomerB := marshal(e.emu.CustomersRedactPayload(b.domain, "ada@example.com"))
		redactShopB := marshal(e.emu.ShopRedactPayload(b.domain))
		var bulkA string
		if err := e.db.QueryRow(rebind(e.cfg.Database.Kind, "SELECT bulk_operation_id FROM catalog_syncs WHERE shop_id = ? ORDER BY id DESC LIMIT 1"), a.sh.ID).Scan(&bulkA); err != nil || bulkA == "" {
			t.Fatalf("shop A's bulk operation: %q, %v", bulkA, err)
		}
		bulk := `{"admin_graphql_api_id":"` + bulkA + `","status":"completed","type":"query"}`
		return []secAttack{
			{name: "A's uninstall signed with another app's secret", method: r.Method, path: r.Path, body: uninstall,
				header: hook("app/uninstalled", a.domain, uninstall, sign(uninstall, "another-apps-secret-0123456789"))},
			{name: "A's uninstall with B's delivery's HMAC", method: r.Method, path: r.Path, body: uninstall,
				header: hook("app/uninstalled", a.domain, uninstall, sign(`{"id":2}`, testSecret))},
			{name: "B's products/delete naming A's product", method: r.Method, path: r.Path, body: del,
				header: hook("products/delete", b.domain, del, sign(del, testSecret)), want: []int{200}},
			{name: "B's inventory_levels/update", method: r.Method, path: r.Path, body: inv,
				header: hook("inventory_levels/update", b.domain, inv, sign(inv, testSecret)), want: []int{200}},
			{name: "B's bulk_operations/finish naming A's bulk operation", method: r.Method, path: r.Path, body: bulk,
				header: hook("bulk_operations/finish", b.domain, bulk, sign(bulk, testSecret)), want: []int{200}},
			{name: "A's customers/redact under B's domain", method: r.Method, path: r.Path, body: redactCustomerA,
				header: hook(shops.TopicCustomersRedact, b.domain, redactCustomerA, sign(redactCustomerA, testSecret))},
			{name: "A's shop/redact under B's domain", method: r.Method, path: r.Path, body: redactShopA,
				header: hook(shops.TopicShopRedact, b.domain, redactShopA, sign(redactShopA, testSecret))},
			{name: "B's products/delete body as B's shop/redact", method: r.Method, path: r.Path, body: del,
				header: hook(shops.TopicShopRedact, b.domain, del, sign(del, testSecret)), want: []int{http.StatusBadRequest}},
			{name: "B's customers/redact of A's buyer's email", method: r.Method, path: r.Path, body: redactCustomerB,
				header: hook(shops.TopicCustomersRedact, b.domain, redactCustomerB, sign(redactCustomerB, testSecret)), want: []int{200}},
			{name: "B's shop/redact while B is installed", method: r.Method, path: r.Path, body: redactShopB,
				header: hook(shops.TopicShopRedact, b.domain, redactShopB, sign(redactShopB, testSecret)), want: []int{200}},
		}
	}
	t.Fatalf("no attacks for class %s", class)
	return nil
}

// acpOwnShopStatuses: with B's own shop in the path, B's key passes, and
// A's session is then unknown (404); echo's catch-all answers 404 or 405.
func acpOwnShopStatuses(r *echo.Route) []int {
	if r.Method == echo.RouteNotFound {
		return []int{http.StatusNotFound, http.StatusMethodNotAllowed}
	}
	if r.Path == "/acp/:shop/checkout_sessions" || r.Path == "/acp/:shop/carts" {
		// B creates its own session (or cart); A's item is unknown in B's
		// catalog.
		return []int{http.StatusCreated, http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity}
	}
	return []int{http.StatusNotFound}
}

func secSignature(h map[string]string, secret, body string) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h["Timestamp"] = ts
	h["Signature"] = base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(secret), ts, []byte(body)))
	return h
}

// callback runs an authorization-code install of shop up to Shopify's
// redirect back to the app, in a fresh browser, and returns the callback
// URL (its state cookie stays in that browser's jar, see cookieHeader).
func (e *secEnv) callback(t *testing.T, shop string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: recordingTransport{e.emu.Transport(nil), e},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.svc.URL() + "/auth?shop=" + shop)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("begin install of %s: %v %v", shop, resp, err)
	}
	resp.Body.Close()
	resp, err = c.Get(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize %s: %v %v", shop, resp, err)
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.jars = append(e.jars, secJar{cb, jar})
	e.mu.Unlock()
	for _, p := range []string{"code", "state", "hmac"} {
		e.used("OAuth "+p, cb.Query().Get(p))
	}
	return cb
}

// cookieHeader is the Cookie header the browser that got cb would send.
func (e *secEnv) cookieHeader(cb *url.URL) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range e.jars {
		if j.cb == cb {
			var parts []string
			for _, c := range j.jar.Cookies(cb) {
				e.secrets[c.Value] = "cookie " + c.Name
				parts = append(parts, c.Name+"="+c.Value)
			}
			return strings.Join(parts, "; ")
		}
	}
	return ""
}

type secJar struct {
	cb  *url.URL
	jar *cookiejar.Jar
}

// TestAgentRateLimitThroughTheRoute: the per-key limit (AGENT_RATE_LIMIT)
// on the real ACP routes, at 0.5 requests per second (a burst of one): the
// second request of a key at once is answered 429 with Retry-After (whole
// seconds, at most the refill time) and the protocol's error shape, before
// any work: a refused create does not record its Idempotency-Key, so the
// same request sent again after Retry-After runs. Another key of the same
// shop, and an unknown key, are not held back by it.
func TestAgentRateLimitThroughTheRoute(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newSecApp(t, kind, func(c *config.Config) { c.AgentRate = 0.5 })
		ctx := context.Background()
		s := e.installShop(t, secShopA)
		fs, err := e.svc.Feeds().Settings(ctx, s.sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		fs.ReturnWindowDays = 30
		if err := e.svc.Feeds().SaveSettings(ctx, *fs); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Feeds().Build(ctx, s.sh.ID); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, label := range []string{"one", "two"} {
			k, _, err := e.svc.Agents().CreateAPIKey(ctx, s.sh.ID, label)
			if err != nil {
				t.Fatal(err)
			}
			e.used("API key "+label, k)
			keys = append(keys, k)
		}
		var variant emulator.Variant
		for _, p := range e.emu.Products(secShopA) {
			for _, v := range p.Variants {
				if p.Status == "ACTIVE" && p.Published && v.Tracked && v.InventoryQuantity >= 5 && variant.ID == 0 {
					variant = v
				}
			}
		}
		one := &agent{t: t, base: web.ACPBaseURL(e.svc.URL(), secShopA), key: keys[0], version: acp.V20260417,
			headers: map[string]string{"Idempotency-Key": "rate-limited-create"}}
		two := &agent{t: t, base: one.base, key: keys[1], version: acp.V20260417}
		unknown := &agent{t: t, base: one.base, key: agents.APIKeyPrefix + "_unknownkey0123456789abcdefghijklmnopqrstuvw", version: acp.V20260417}
		create := one.createBody([]acp.ItemInput{item(variant, 1)}, false, nil)

		if r := one.do("GET", "/checkout_sessions/cs_nosuchsession", nil); r.status != http.StatusNotFound {
			t.Fatalf("first request of key one: %d %s", r.status, r.body)
		}
		r := one.do("POST", "/checkout_sessions", create)
		retry, err := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != http.StatusTooManyRequests || r.str("code") != "rate_limit_exceeded" || err != nil || retry < 1 || retry > 2 {
			t.Fatalf("second request of key one at once: %d, Retry-After %q: %s; want 429 rate_limit_exceeded with Retry-After 1 or 2",
				r.status, r.header.Get("Retry-After"), r.body)
		}
		if r := two.do("GET", "/checkout_sessions/cs_nosuchsession", nil); r.status != http.StatusNotFound {
			t.Errorf("key two of the same shop, meanwhile: %d %s", r.status, r.body)
		}
		for i := 0; i < 3; i++ {
			if r := unknown.do("GET", "/checkout_sessions/cs_nosuchsession", nil); r.status != http.StatusUnauthorized {
				t.Errorf("an unknown key: %d %s", r.status, r.body)
			}
		}
		time.Sleep(time.Duration(retry) * time.Second)
		r = one.do("POST", "/checkout_sessions", create)
		if r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("the refused create sent again after Retry-After: %d (replayed %q) %s", r.status, r.header.Get("Idempotent-Replayed"), r.body)
		}
		if r := one.do("GET", "/checkout_sessions/"+r.str("id"), nil); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Errorf("the next request at once: %d %s, want 429 again", r.status, r.body)
		}
	})
}
