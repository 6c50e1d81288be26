package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/merchant"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
	"github.com/acpbridge/acpbridge/web"
)

// adminClient opens the merchant's pages and calls their API as Shopify
// admin would: the ID token in ?id_token= for pages, as Bearer for fetches.
type adminClient struct {
	t   *testing.T
	e   *checkoutEnv
	get *http.Client // does not follow redirects
}

func newAdminClient(t *testing.T, e *checkoutEnv) *adminClient {
	return &adminClient{t: t, e: e, get: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page GETs an admin page with a fresh ID token and the app parameters.
func (c *adminClient) page(path string, extra url.Values) (int, http.Header, string) {
	c.t.Helper()
	q := url.Values{"embedded": {"1"}, "shop": {testShop}, "id_token": {c.e.emu.IDToken(testShop, "1")}}
	for k, v := range extra {
		q[k] = v
	}
	return c.raw(path + "?" + q.Encode())
}

func (c *adminClient) raw(pathAndQuery string) (int, http.Header, string) {
	c.t.Helper()
	resp, err := c.get.Get(c.e.svc.URL() + pathAndQuery)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// api calls the admin JSON API with a fresh ID token of shop.
func (c *adminClient) api(method, path, body, shop string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.e.svc.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if shop != "" {
		req.Header.Set("Authorization", "Bearer "+c.e.emu.IDToken(shop, "1"))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// TestAdminPagesAuth: pages need a valid ID token of their shop; without
// one they go through the bounce page; every HTML answer may be framed
// only by the shop's admin.
func TestAdminPagesAuth(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	c := newAdminClient(t, e)
	params := url.Values{"embedded": {"1"}, "shop": {testShop}, "host": {"YWRtaW4"}, "status": {"excluded"}}

	status, h, _ := c.raw("/admin/products?" + params.Encode())
	loc, _ := url.Parse(h.Get("Location"))
	if status != http.StatusFound || loc.Path != web.BouncePath || loc.Query().Get("shop") != testShop {
		t.Fatalf("no token: %d %s", status, h.Get("Location"))
	}
	reload, _ := url.Parse(loc.Query().Get("shopify-reload"))
	if reload.Path != "/admin/products" || reload.Query().Get("status") != "excluded" || reload.Query().Has("id_token") {
		t.Errorf("shopify-reload = %s", reload)
	}
	status, h, body := c.raw(loc.String())
	if status != 200 || !strings.Contains(body, `name="shopify-api-key"`) || !strings.Contains(body, `<script src="`+config.DefaultAppBridgeURL+`"></script>`) {
		t.Errorf("bounce page: %d %s", status, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://"+testShop+" https://admin.shopify.com") {
		t.Errorf("bounce CSP = %q", csp)
	}
	for name, reload := range map[string]string{"another origin": "https://evil.example/admin", "not a URL": "::"} {
		q := url.Values{"shop": {testShop}, "shopify-reload": {reload}}
		if status, _, _ := c.raw(web.BouncePath + "?" + q.Encode()); status != http.StatusBadRequest {
			t.Errorf("bounce to %s: %d", name, status)
		}
	}

	expired := shopify.SignIDToken(shopify.IDTokenClaims{Issuer: "https://" + testShop + "/admin", Dest: "https://" + testShop,
		Audience: testClientID, Subject: "1", Exp: time.Now().Add(-time.Hour).Unix(), Nbf: time.Now().Add(-2 * time.Hour).Unix()}, testSecret)
	forged := shopify.SignIDToken(shopify.IDTokenClaims{Issuer: "https://" + testShop + "/admin", Dest: "https://" + testShop,
		Audience: testClientID, Subject: "1", Exp: time.Now().Add(time.Minute).Unix(), Nbf: time.Now().Unix()}, "not-the-secret")
	for name, tok := range map[string]string{"expired": expired, "forged": forged, "garbage": "a.b.c"} {
		q := url.Values{"embedded": {"1"}, "shop": {testShop}, "id_token": {tok}}
		status, h, body := c.raw("/admin?" + q.Encode())
		if status != http.StatusFound || !strings.HasPrefix(h.Get("Location"), web.BouncePath) || strings.Contains(body, "Base URL") {
			t.Errorf("%s token: %d %s", name, status, h.Get("Location"))
		}
		if status, _ := c.apiWithToken("GET", "/api/agents", tok); status != http.StatusUnauthorized {
			t.Errorf("%s token on the API: %d", name, status)
		}
	}
	// Another shop's valid token on this shop's page.
	q := url.Values{"embedded": {"1"}, "shop": {testShop}, "id_token": {e.emu.IDToken(otherShop, "1")}}
	if status, _, body := c.raw("/admin?" + q.Encode()); status != http.StatusForbidden || strings.Contains(body, testShop+"/.well-known") {
		t.Errorf("another shop's token: %d", status)
	}
	// Outside Shopify admin (no embedded=1): sent into the admin.
	if status, h, _ := c.raw("/admin?shop=" + testShop); status != http.StatusFound || h.Get("Location") != web.AdminAppURL(testClientID)(testShop) {
		t.Errorf("not embedded: %d %s", status, h.Get("Location"))
	}
	if status, _, body := c.raw("/admin?shop=evil.example.com&embedded=1"); status != http.StatusBadRequest || !strings.Contains(body, "myshopify.com") {
		t.Errorf("bad shop: %d %s", status, body)
	}

	for _, path := range []string{"/admin", "/admin/products", "/admin/feed", "/admin/orders", "/admin/settings"} {
		status, h, body := c.page(path, nil)
		if status != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors https://"+testShop+" https://admin.shopify.com") ||
			!strings.Contains(body, `<meta name="shopify-api-key" content="`+testClientID+`">`) || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d CSP %q", path, status, h.Get("Content-Security-Policy"))
		}
		if strings.Contains(body, "id_token=") {
			t.Errorf("%s: a link carries the ID token", path)
		}
	}
	if status, _, body := c.page("/admin/products/999999999", nil); status != http.StatusNotFound || !strings.Contains(body, "no such product") {
		t.Errorf("unknown product: %d", status)
	}
	if status, _, body := c.page("/admin/products", url.Values{"page": {"-3"}}); status != http.StatusBadRequest || !strings.Contains(body, "page") {
		t.Errorf("bad page number: %d %s", status, body)
	}
}

func (c *adminClient) apiWithToken(method, path, tok string) (int, http.Header) {
	req, _ := http.NewRequest(method, c.e.svc.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestAdminSettingsForms: bad values get a clear error naming the field and
// change nothing; cross-site form posts carry no credential and are refused.
func TestAdminSettingsForms(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	c := newAdminClient(t, e)
	ctx := context.Background()
	before, err := e.svc.Feeds().Settings(ctx, e.sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"seller_name": "Demo", "seller_url": "https://demo.example", "store_country": "US",
		"target_countries": []string{"US", "CA"}, "return_policy_url": "https://demo.example/returns", "return_window_days": 14,
		"privacy_policy_url": "https://demo.example/privacy", "terms_url": "https://demo.example/terms",
		"eligible_search": true, "eligible_checkout": true, "field_names": "current"}
	with := func(k string, v any) string {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name, body, field string
	}{
		{"javascript URL", with("return_policy_url", "javascript:alert(1)"), "return_policy_url"},
		{"http URL", with("privacy_policy_url", "http://demo.example/privacy"), "privacy_policy_url"},
		{"return window too long", with("return_window_days", 9999), "return_window_days"},
		{"negative return window", with("return_window_days", -1), "return_window_days"},
		{"seller name too long", with("seller_name", strings.Repeat("x", 71)), "seller_name"},
		{"very long URL", with("terms_url", "https://demo.example/"+strings.Repeat("a", 5000)), "terms_url"},
		{"bad country", with("store_country", "USA"), "store_country"},
		{"checkout without search", with("eligible_search", false), "eligible_checkout"},
		{"unknown field", with("admin", true), "body"},
		{"not JSON", "seller_name=x", "body"},
	} {
		status, out := c.api("POST", "/api/settings/feed", tc.body, testShop)
		if status != http.StatusBadRequest || out["param"] != tc.field || out["message"] == "" {
			t.Errorf("%s: %d %v", tc.name, status, out)
		}
	}
	// A form posted from another site: no ID token.
	req, _ := http.NewRequest("POST", e.svc.URL()+"/api/settings/feed", strings.NewReader("seller_name=Evil&return_window_days=0"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("cross-site form post: %d", resp.StatusCode)
	}
	after, _ := e.svc.Feeds().Settings(ctx, e.sh.ID)
	if after.SellerName != before.SellerName || after.ReturnWindowDays != before.ReturnWindowDays || after.TermsURL != before.TermsURL {
		t.Fatalf("refused input changed the settings: %+v", after)
	}

	if status, out := c.api("POST", "/api/settings/feed", with("seller_name", "  Demo Goods  "), testShop); status != 200 {
		t.Fatalf("save: %d %v", status, out)
	}
	after, _ = e.svc.Feeds().Settings(ctx, e.sh.ID)
	if after.SellerName != "Demo Goods" || after.ReturnWindowDays != 14 || strings.Join(after.TargetCountries, ",") != "US,CA" {
		t.Errorf("saved settings: %+v", after)
	}
	_, _, body := c.page("/admin/settings", nil)
	if !strings.Contains(body, `value="Demo Goods"`) || !strings.Contains(body, `value="US, CA"`) {
		t.Error("the settings page does not show the saved values")
	}

	// Overrides: too long, bad GTIN, then a good one.
	pid := strconv.FormatInt(productOf(t, e, e.items.inStock), 10)
	for name, body := range map[string]string{
		"title too long": `{"title":"` + strings.Repeat("t", 151) + `"}`,
		"bad GTIN":       `{"gtin":"12ab"}`,
	} {
		if status, out := c.api("POST", "/api/products/"+pid+"/overrides", body, testShop); status != 400 {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
	if status, out := c.api("POST", "/api/products/"+pid+"/overrides", `{"title":"Better title","gtin":"0-12345-67890-5"}`, testShop); status != 200 {
		t.Errorf("overrides: %d %v", status, out)
	}
	if status, _ := c.api("POST", "/api/products/"+pid+"/overrides", `{"title":"x"}`, otherShop); status == 200 {
		t.Error("another shop changed this shop's product")
	}
	_, _, body = c.page("/admin/products/"+pid, nil)
	if !strings.Contains(body, `value="Better title"`) {
		t.Error("the product page does not show the override")
	}
}

// productOf is the product id of a seeded variant.
func productOf(t *testing.T, e *checkoutEnv, v emulator.Variant) int64 {
	t.Helper()
	for _, p := range e.emu.Products(testShop) {
		for _, pv := range p.Variants {
			if pv.ID == v.ID {
				return p.ID
			}
		}
	}
	t.Fatalf("variant %d has no product", v.ID)
	return 0
}

// TestAdminProducts: the table shows each product's feed status as the
// next build will have it, its filters agree with that status, excluding a
// product removes it from the next feed, and Shopify's text is escaped.
func TestAdminProducts(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		c := newAdminClient(t, e)
		ctx := context.Background()
		admin := e.svc.Admin()

		// Script injection through a product title from Shopify.
		pid := productOf(t, e, e.items.inStock)
		evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
		if err := e.emu.UpdateProduct(testShop, strconv.FormatInt(pid, 10), func(p *emulator.Product) {
			p.Title = "Mug " + evil
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Catalog().RefreshProduct(ctx, testShop, pid); err != nil {
			t.Fatal(err)
		}
		_, _, body := c.page("/admin/products", url.Values{"q": {"mug <script"}})
		if strings.Contains(body, evil) || !strings.Contains(body, "&lt;script&gt;") {
			t.Fatalf("product title not escaped:\n%s", grep(body, "Mug"))
		}

		all, err := admin.Products(ctx, e.sh.ID, merchant.ProductQuery{PageSize: merchant.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, r := range all.Rows {
			count[r.Status]++
		}
		if count[merchant.ProductPublished] == 0 || count[merchant.ProductExcluded] == 0 || int64(len(all.Rows)) != all.Total {
			t.Fatalf("statuses %v of %d", count, all.Total)
		}
		for _, st := range []string{merchant.ProductPublished, merchant.ProductExcluded} {
			p, err := admin.Products(ctx, e.sh.ID, merchant.ProductQuery{Status: st, PageSize: merchant.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			if int(p.Total) != count[st] {
				t.Errorf("filter %s: %d products, the rows say %d", st, p.Total, count[st])
			}
			for _, r := range p.Rows {
				if r.Status != st {
					t.Errorf("filter %s lists %q, which is %s", st, r.Product.Title, r.Status)
				}
			}
		}
		page2, err := admin.Products(ctx, e.sh.ID, merchant.ProductQuery{PageSize: 2, Page: 2})
		if err != nil || len(page2.Rows) != 2 || page2.Rows[0].Product.ProductID != all.Rows[2].Product.ProductID || page2.Pages() != int(all.Total+1)/2 {
			t.Errorf("page 2 of 5: %v %d rows", err, len(page2.Rows))
		}
		if _, err := admin.Products(ctx, e.sh.ID, merchant.ProductQuery{Search: strings.Repeat("q", 201)}); app.ErrorCode(err) != app.CodeInvalid {
			t.Errorf("very long search: %v", err)
		}
		if p, err := admin.Products(ctx, e.sh.ID, merchant.ProductQuery{Search: "%_"}); err != nil || p.Total != 0 {
			t.Errorf("LIKE wildcards are not escaped: %v, %d", err, p.Total)
		}

		// Exclude it through the API, as the page's bulk form does.
		variant := strconv.FormatInt(e.items.inStock.ID, 10)
		if status, out := c.api("POST", "/api/products/rules", `{"ids":[`+strconv.FormatInt(pid, 10)+`],"exclude":true}`, testShop); status != 200 {
			t.Fatalf("exclude: %d %v", status, out)
		}
		if status, out := c.api("POST", "/api/products/rules", `{"ids":[`+strconv.FormatInt(pid, 10)+`],"exclude":false}`, otherShop); status != 404 {
			t.Errorf("another shop's token on this shop's product: %d %v", status, out)
		}
		if status, out := c.api("POST", "/api/products/rules", `{"ids":[],"exclude":true}`, testShop); status != 400 || out["param"] != "ids" {
			t.Errorf("empty selection: %d %v", status, out)
		}
		if status, _ := c.api("POST", "/api/products/rules", `{"ids":[1],"exclude":true,"scope":"shop"}`, testShop); status != 400 {
			t.Errorf("bad scope: %d", status)
		}
		row, err := admin.Product(ctx, e.sh.ID, pid)
		if err != nil || row.Status != merchant.ProductExcluded {
			t.Fatalf("after exclude: %v %+v", err, row)
		}
		if _, err := e.svc.Feeds().Build(ctx, e.sh.ID); err != nil {
			t.Fatal(err)
		}
		items, err := e.svc.Feeds().PublishedItems(ctx, e.sh.ID, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.ID == variant {
				t.Fatal("the excluded product is still in the feed")
			}
		}
		// The agent can no longer buy it.
		a := e.agent(t, acp.V20260417)
		r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
		if r.status == http.StatusCreated && r.str("status") == "ready_for_payment" {
			t.Error("an excluded product is still sold")
		}
	})
}

// TestAdminOverviewAndOrders: the checklist follows the real state (Stripe,
// policies, feed, keys, a delivered test event), a ChatGPT channel is
// warned about, a test checkout prices and cancels, and a purchase shows
// in the orders list, its timeline and the chart.
func TestAdminOverviewAndOrders(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	c := newAdminClient(t, e)
	ctx := context.Background()

	var stripeDetail string
	steps := func() map[string]bool {
		ov, err := e.svc.Admin().Overview(ctx, e.sh)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, s := range ov.Steps {
			m[s.Key] = s.Done
			if s.Key == "stripe" {
				stripeDetail = s.Detail
			}
		}
		return m
	}
	got := steps()
	if !got["stripe"] || !got["policies"] || !got["feed"] || !got["keys"] || got["webhook"] {
		t.Fatalf("checklist = %v", got)
	}
	// The connected payment account, as the merchant has always seen it.
	if !strings.HasPrefix(stripeDetail, "Stripe account "+testStripeAccount+" verified ") {
		t.Errorf("Stripe step: %q", stripeDetail)
	}
	if _, _, body := c.page("/admin/settings", nil); !strings.Contains(body, "Account <code>"+testStripeAccount+"</code>, verified ") ||
		!strings.Contains(body, "Replace and verify") {
		t.Errorf("settings page's Stripe section:\n%s", grep(body, "stripe"))
	}
	_, _, body := c.page("/admin", nil)
	if strings.Contains(body, "data-channel-warning") {
		t.Error("a warning without a ChatGPT channel")
	}
	// Where agents reach the store over MCP, with a copy button, on the
	// overview (onboarding) and the settings page, and how they sign in.
	mcpURL := web.MCPURL(e.svc.URL(), testShop)
	for page, b := range map[string]string{"overview": body, "settings": func() string { _, _, b := c.page("/admin/settings", nil); return b }()} {
		if !strings.Contains(b, ">"+mcpURL+"</code>") || !strings.Contains(b, `data-copy="`+mcpURL+`"`) || !strings.Contains(b, "Bearer token") {
			t.Errorf("%s: no MCP server URL %s with a copy button and the Bearer line:\n%s", page, mcpURL, grep(b, "mcp"))
		}
	}

	var hits atomic.Int32
	var lastSig atomic.Value
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		lastSig.Store(r.Header.Get("Merchant-Signature"))
		if hits.Load() == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer agent.Close()
	if status, out := c.api("POST", "/api/agents/webhook/test", "{}", testShop); status != 400 || out["param"] != "webhook_url" {
		t.Errorf("test event without a URL: %d %v", status, out)
	}
	if status, out := c.api("POST", "/api/agents/webhook", `{"url":"`+agent.URL+`/events"}`, testShop); status != 200 {
		t.Fatalf("webhook: %d %v", status, out)
	}
	if status, out := c.api("POST", "/api/agents/webhook/test", "{}", testShop); status != http.StatusUnprocessableEntity || !strings.Contains(out["message"].(string), "503") {
		t.Errorf("test event to a failing agent: %d %v", status, out)
	}
	if steps()["webhook"] {
		t.Error("a failed test event checks the step")
	}
	if status, out := c.api("POST", "/api/agents/webhook/test", "{}", testShop); status != 200 || out["status"] != float64(202) {
		t.Errorf("test event: %d %v", status, out)
	}
	if sig, _ := lastSig.Load().(string); !strings.HasPrefix(sig, "t=") || !strings.Contains(sig, ",v1=") {
		t.Errorf("test event signature %q", sig)
	}
	if !steps()["webhook"] {
		t.Error("a delivered test event does not check the step")
	}

	if err := e.emu.SetSalesChannels(testShop, []string{"Online Store", "ChatGPT"}); err != nil {
		t.Fatal(err)
	}
	// The channel check needs read_publications, an optional scope: granted
	// in context (scopes_test.go tests the grant itself).
	if _, err := e.emu.GrantScopes(ctx, testShop, app.ScopeReadPublications); err != nil {
		t.Fatal(err)
	}
	granted, err := e.svc.Shopify().SyncScopes(ctx, testShop)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh replica's admin (the channel list is cached per process).
	ov, err := (&merchant.Admin{Store: e.svc.Store(), Feeds: e.svc.Feeds(), Agents: e.svc.Agents(),
		Channels: &merchant.ShopifyChannels{Shopify: e.svc.Shopify()}}).Overview(ctx, granted)
	if err != nil || len(ov.ChannelWarns) != 1 || ov.ChannelWarns[0] != "ChatGPT" {
		t.Errorf("channel warning: %v %v (%s)", err, ov.ChannelWarns, ov.ChannelError)
	}

	status, out := c.api("POST", "/api/test-checkout", "{}", testShop)
	if status != 200 || len(out["totals"].([]any)) == 0 || out["status"] != string(acp.StatusReadyForPayment) {
		t.Fatalf("test checkout: %d %v", status, out)
	}
	if n := len(e.stripe.Intents(testStripeAccount)); n != 0 {
		t.Errorf("a test checkout charged: %d intents", n)
	}

	// A purchase by the agent.
	a := e.agent(t, acp.V20260417)
	id, total := e.readySession(t, a, 1)
	if r := a.do("POST", "/checkout_sessions/"+id+"/complete", a.paymentBody(e.token(stripeemu.KindApprove))); r.status != 200 {
		t.Fatalf("complete: %d %s", r.status, r.body)
	}
	orders, err := e.svc.Admin().Orders(ctx, e.sh, 1)
	if err != nil || orders.Total != 1 || orders.Sum.Orders != 1 || orders.Sum.Revenue != total ||
		orders.Days[merchant.ChartDays-1].Orders != 1 || orders.Orders[0].KeyLabel != "test agent" {
		t.Fatalf("orders: %v %+v", err, orders)
	}
	_, _, body = c.page("/admin/orders", nil)
	if !strings.Contains(body, orders.Orders[0].OrderName) || !strings.Contains(body, `data-sum-orders>1<`) {
		t.Errorf("orders page:\n%s", grep(body, "data-sum"))
	}
	waitFor(t, "order_create delivered", func() bool {
		d, err := e.svc.Admin().Order(ctx, e.sh.ID, id)
		return err == nil && len(d.Events) == 1 && d.Events[0].Status == orderevents.Delivered
	})
	_, _, body = c.page("/admin/orders/"+id, nil)
	if !strings.Contains(body, "order_create sent to the agent") || !strings.Contains(body, "Order "+orders.Orders[0].OrderName+" created in Shopify") {
		t.Errorf("order timeline:\n%s", grep(body, "timeline"))
	}
	if _, err := e.svc.Admin().Order(ctx, e.sh.ID+1000, id); app.ErrorCode(err) != app.CodeNotFound {
		t.Errorf("another shop reads the order: %v", err)
	}
}

// TestAdminOnboardingFromFreshInstall: a merchant goes from opening the app
// in Shopify admin (which installs it by token exchange) to a published
// feed, a delivered test event and a working test checkout, using only the
// admin pages and the API their forms call.
func TestAdminOnboardingFromFreshInstall(t *testing.T) {
	t.Parallel()
	e := &checkoutEnv{shopifyEnv: newShopifyEnv(t, app.DatabaseSQLite)}
	c := newAdminClient(t, e)
	ctx := context.Background()

	status, _, body := c.page("/admin", nil)
	if status != 200 || !strings.Contains(body, "0 of 5 steps done") {
		t.Fatalf("first page: %d\n%s", status, grep(body, "steps done"))
	}
	e.sh = e.shop(t)
	waitFor(t, "first feed build", func() bool {
		_, err := e.svc.Store().LatestBuild(ctx, e.sh.ID, app.BuildPublished)
		return err == nil
	})

	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer agent.Close()
	fs, err := e.svc.Feeds().Settings(ctx, e.sh.ID) // what the settings form shows
	if err != nil {
		t.Fatal(err)
	}
	settings, _ := json.Marshal(map[string]any{"seller_name": fs.SellerName, "seller_url": fs.SellerURL, "store_country": fs.StoreCountry,
		"target_countries": fs.TargetCountries, "return_policy_url": fs.ReturnPolicyURL, "return_window_days": 30,
		"privacy_policy_url": fs.PrivacyPolicyURL, "terms_url": fs.TermsURL, "eligible_search": true, "eligible_checkout": true})
	var apiKey string
	for _, step := range []struct{ path, body string }{
		{"/api/agents/stripe", `{"key":"` + e.stripe.RestrictedKey(testStripeAccount) + `"}`},
		{"/api/settings/feed", string(settings)},
		{"/api/feed/token", `{}`},
		{"/api/agents/keys", `{"label":"ChatGPT"}`},
		{"/api/agents/webhook", `{"url":"` + agent.URL + `"}`},
		{"/api/agents/webhook/test", `{}`},
	} {
		status, out := c.api("POST", step.path, step.body, testShop)
		if status/100 != 2 {
			t.Fatalf("%s: %d %v", step.path, status, out)
		}
		if k, ok := out["api_key"].(string); ok {
			apiKey = k
		}
	}
	_, _, body = c.page("/admin", nil)
	if !strings.Contains(body, "5 of 5 steps done") {
		t.Fatalf("after onboarding:\n%s", grep(body, "Done"))
	}
	status, out := c.api("POST", "/api/test-checkout", "{}", testShop)
	if status != 200 || out["status"] != string(acp.StatusReadyForPayment) {
		t.Fatalf("test checkout: %d %v", status, out)
	}
	// The agent's own first call with the key made on the settings page.
	e.key = apiKey
	a := e.agent(t, acp.V20260417)
	items, err := e.svc.Feeds().PublishedItems(ctx, e.sh.ID, 50)
	if err != nil || len(items) == 0 {
		t.Fatalf("published items: %v %d", err, len(items))
	}
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{{ID: items[0].ID, Quantity: 1}}, true, californiaAddress()))
	if r.status != http.StatusCreated {
		t.Fatalf("agent create: %d %s", r.status, r.body)
	}
}
