package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/web"
)

// clientFrom is an HTTP client whose connections leave from the loopback
// address ip (Linux routes all of 127.0.0.0/8 to lo), so a test can be
// several clients; it does not follow redirects.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Transport:     &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// send makes one request and returns its status, headers and body.
func send(t *testing.T, c *http.Client, method, url string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestPerIPLimit attacks the routes without credentials from one address:
// 50 rapid /auth requests are mostly answered 429 with Retry-After and the
// ACP error shape, and then the feed, discovery and bounce routes refuse
// that address too, while another address, the authenticated ACP API and
// the probes are not affected. X-Forwarded-For from an untrusted peer
// changes nothing (rotating it does not buy new buckets); from the trusted
// proxy (TRUSTED_PROXIES) it names the client. The webhook receiver has its
// own, separate bucket.
func TestPerIPLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, storetest.Config(t, app.DatabaseSQLite, true))
	cfg.ShopifyAPIKey, cfg.ShopifyAPISecret = testClientID, testSecret
	// Bursts of 10 (the least) and 10; the per-address bucket refills one
	// request every 5 s, so however slow the machine, what follows the
	// burst below finds it empty.
	cfg.IPRate, cfg.WebhookIPRate = 0.2, 1
	_, trusted, _ := net.ParseCIDR("127.0.0.3/32")
	cfg.TrustedProxies = []*net.IPNet{trusted}
	e := newShopifyEnvOn(t, cfg.Database, &shopifyEnv{cfg: cfg})
	base := e.svc.URL()
	auth := base + "/auth?shop=" + testShop
	attacker, other, proxy := clientFrom("127.0.0.1"), clientFrom("127.0.0.2"), clientFrom("127.0.0.3")

	// The 50 requests go at once, so that they reach the limiter within
	// moments even on a loaded machine; how many may pass is then bounded
	// by the burst plus what refilled while they were sent, measured.
	var (
		mu          sync.Mutex
		ok, limited int
		wg          sync.WaitGroup
	)
	start := time.Now()
	for i := range 50 {
		wg.Go(func() {
			// A new X-Forwarded-For each time: ignored, the peer is not a proxy.
			status, hdr, body := send(t, attacker, "GET", auth, map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i)})
			mu.Lock()
			defer mu.Unlock()
			switch status {
			case http.StatusFound:
				ok++
			case http.StatusTooManyRequests:
				limited++
				var eb struct{ Type, Code, Message string }
				if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Code != "rate_limit_exceeded" || eb.Type != "invalid_request" {
					t.Errorf("429 body %q, want the ACP error shape with rate_limit_exceeded", body)
				}
				if s, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || s < 1 {
					t.Errorf("429 Retry-After = %q, want whole seconds", hdr.Get("Retry-After"))
				}
			default:
				t.Errorf("/auth answered %d %s", status, body)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("50 /auth requests from one address in %v: %d started an install, %d refused", elapsed, ok, limited)
	// A burst of 10, then 0.2/s: at most 10 + what refilled while they went.
	if most := 10 + int(0.2*elapsed.Seconds()) + 1; ok < 10 || ok > most || ok+limited != 50 {
		t.Fatalf("%d allowed, %d refused in %v; want the burst of 10 and at most %d (what refilled) allowed, the rest refused", ok, limited, elapsed, most)
	}
	if limited == 0 {
		t.Fatalf("none of 50 requests sent at once was refused (they took %v)", elapsed)
	}

	// The other unauthenticated routes share the address's bucket.
	for _, path := range []string{
		"/feeds/" + testShop + "/products.jsonl.gz",
		web.ACPBasePath + testShop + "/.well-known/acp.json",
		web.BouncePath + "?shop=" + testShop,
	} {
		if status, _, _ := send(t, attacker, "GET", base+path, nil); status != http.StatusTooManyRequests {
			t.Errorf("GET %s from the limited address: %d, want 429", path, status)
		}
	}
	// Authenticated routes and probes are not per-address limited.
	if status, _, _ := send(t, attacker, "GET", base+web.ACPBasePath+testShop+"/checkout_sessions/cs_x",
		map[string]string{"Authorization": "Bearer acpb_live_nope", "API-Version": "2026-04-17"}); status != http.StatusUnauthorized {
		t.Errorf("ACP API from the limited address: %d, want 401 (its own per-key limit, not the address's)", status)
	}
	if status, _, _ := send(t, attacker, "GET", base+"/healthz", nil); status != http.StatusOK {
		t.Errorf("/healthz from the limited address: %d", status)
	}

	// Another address is not affected.
	if status, _, body := send(t, other, "GET", auth, nil); status != http.StatusFound {
		t.Errorf("/auth from another address: %d %s, want 302", status, body)
	}
	// An untrusted peer cannot pose as a proxy: its X-Forwarded-For is
	// ignored, so rotating it still exhausts the peer's own bucket.
	refused := 0
	for i := range 15 {
		if status, _, _ := send(t, other, "GET", auth, map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}); status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Error("rotating X-Forwarded-For from an untrusted peer escaped the limit")
	}

	// Through the trusted proxy, X-Forwarded-For names the client: one
	// client is limited, another behind the same proxy is not, and the
	// proxy's own address is not the bucket.
	viaProxy := func(client string) int {
		status, _, _ := send(t, proxy, "GET", auth, map[string]string{"X-Forwarded-For": "192.0.2.77, " + client})
		return status
	}
	limited = 0
	for range 20 {
		if viaProxy("203.0.113.200") == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("a client behind the trusted proxy was never limited")
	}
	if status := viaProxy("203.0.113.201"); status != http.StatusFound {
		t.Errorf("another client behind the trusted proxy: %d, want 302", status)
	}
	// The leftmost entry is the client's to write: it is not the key. The
	// bucket refills (one every 5 s), so on a loaded machine a token may come back
	// between draining it and the spoofed request: drain it again right
	// before each try, and count the spoof as escaping only if it gets
	// through every time (a real escape always does).
	escaped := 0
	for range 3 {
		for range 20 {
			if viaProxy("203.0.113.200") == http.StatusTooManyRequests {
				break
			}
		}
		if status, _, _ := send(t, proxy, "GET", auth, map[string]string{"X-Forwarded-For": "203.0.113.201, 203.0.113.200"}); status != http.StatusTooManyRequests {
			escaped++
		}
	}
	if escaped == 3 {
		t.Errorf("a spoofed leftmost X-Forwarded-For escaped the limit %d times of 3", escaped)
	}

	// The webhook receiver's bucket is its own: the address that is out of
	// /auth requests still reaches it (refused: unsigned) until its webhook
	// burst of 10 is spent.
	var hooks []int
	for range 15 {
		status, _, _ := send(t, attacker, "POST", base+web.WebhookPath, map[string]string{"X-Shopify-Topic": "products/update"})
		hooks = append(hooks, status)
	}
	if hooks[0] < 400 || hooks[0] == http.StatusTooManyRequests || hooks[len(hooks)-1] != http.StatusTooManyRequests {
		t.Errorf("webhook statuses from the address = %v, want a refusal of the unsigned body first (its own bucket), 429 once the burst is spent", hooks)
	}
}

// TestAuthFloodKeepsFewStates: the review's 300 /auth requests for one shop
// wrote 304 oauth_states rows. With the per-address limit off (the cap must
// hold by itself, as it does across many addresses), at most
// MaxPendingOAuthStates stay; the merchant's own install, started last,
// still completes.
func TestAuthFloodKeepsFewStates(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		c := clientFrom("127.0.0.1")
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for range 10 {
			wg.Go(func() {
				for range 30 {
					status, _, _ := send(t, c, "GET", e.svc.URL()+"/auth?shop="+testShop, nil)
					mu.Lock()
					statuses[status]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if statuses[http.StatusFound] != 300 {
			t.Fatalf("statuses %v, want 300 installs started", statuses)
		}
		var n int
		if err := e.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM oauth_states WHERE shop = '"+testShop+"'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != shops.MaxPendingOAuthStates {
			t.Fatalf("%d oauth_states rows after 300 /auth requests, want %d", n, shops.MaxPendingOAuthStates)
		}
		if resp := e.installByOAuth(t); resp.StatusCode >= 400 {
			t.Fatalf("install after the flood: %d", resp.StatusCode)
		}
		if sh := e.shop(t); sh.Status != app.ShopActive {
			t.Fatalf("shop %s after the install", sh.Status)
		}
	})
}

// TestMetricsNotPublic: /metrics is served on METRICS_ADDR (what the
// tests and the demo use) or, without it, on the main port to the holder
// of METRICS_TOKEN; with neither it is not served. Nowhere is it readable
// without the token once one is set.
func TestMetricsNotPublic(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789"
	start := func(t *testing.T, addr, tok string, profiles ...bool) *service.Service {
		t.Helper()
		cfg := testConfig(t, storetest.Config(t, app.DatabaseSQLite, false))
		cfg.MetricsAddr, cfg.MetricsToken = addr, tok
		cfg.Pprof = len(profiles) > 0 && profiles[0]
		svc, err := service.New(context.Background(), service.Options{Config: cfg, Logger: storetest.Logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := svc.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
		return svc
	}
	c := clientFrom("127.0.0.1")
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	isMetrics := func(body string) bool { return strings.Contains(body, "go_goroutines") }

	t.Run("separate listener", func(t *testing.T) {
		t.Parallel()
		svc := start(t, "127.0.0.1:0", "")
		if status, _, body := send(t, c, "GET", svc.URL()+"/metrics", nil); status != http.StatusNotFound || isMetrics(body) {
			t.Errorf("main port /metrics: %d, want 404", status)
		}
		u := svc.MetricsURL()
		if strings.HasPrefix(u, svc.URL()) {
			t.Fatalf("MetricsURL %s is on the main port", u)
		}
		if status, _, body := send(t, c, "GET", u, nil); status != http.StatusOK || !isMetrics(body) {
			t.Errorf("metrics listener: %d", status)
		}
		if status, _, _ := send(t, c, "GET", strings.TrimSuffix(u, "/metrics")+"/healthz", nil); status != http.StatusNotFound {
			t.Errorf("metrics listener serves other paths: %d", status)
		}
	})
	t.Run("separate listener with token", func(t *testing.T) {
		t.Parallel()
		svc := start(t, "127.0.0.1:0", token)
		u := svc.MetricsURL()
		for name, hdr := range map[string]map[string]string{"none": nil, "wrong": bearer("metrics-token-wrong-456789")} {
			if status, _, body := send(t, c, "GET", u, hdr); status != http.StatusUnauthorized || isMetrics(body) {
				t.Errorf("%s token on the metrics listener: %d, want 401", name, status)
			}
		}
		if status, _, body := send(t, c, "GET", u, bearer(token)); status != http.StatusOK || !isMetrics(body) {
			t.Errorf("token on the metrics listener: %d", status)
		}
		if status, _, _ := send(t, c, "GET", svc.URL()+"/metrics", bearer(token)); status != http.StatusNotFound {
			t.Errorf("main port /metrics with a separate listener: %d, want 404", status)
		}
	})
	t.Run("profiles", func(t *testing.T) {
		t.Parallel()
		base := func(svc *service.Service) string { return strings.TrimSuffix(svc.MetricsURL(), "/metrics") }
		// Off by default: the metrics listener serves only /metrics.
		off := start(t, "127.0.0.1:0", token)
		if status, _, _ := send(t, c, "GET", base(off)+"/debug/pprof/heap", bearer(token)); status != http.StatusNotFound {
			t.Errorf("profiles without PPROF: %d, want 404", status)
		}
		on := start(t, "127.0.0.1:0", token, true)
		tests := []struct {
			name, path string
			hdr        map[string]string
			status     int
			wantBody   string
		}{
			{"no token", "/debug/pprof/heap?debug=1", nil, http.StatusUnauthorized, ""},
			{"index", "/debug/pprof/", bearer(token), http.StatusOK, "goroutine"},
			{"heap", "/debug/pprof/heap?debug=1", bearer(token), http.StatusOK, "heap profile"},
			{"CPU profile too long", "/debug/pprof/profile?seconds=3600", bearer(token), http.StatusBadRequest, "seconds must be"},
			{"CPU profile", "/debug/pprof/profile?seconds=1", bearer(token), http.StatusOK, ""},
			{"main port", "", bearer(token), http.StatusNotFound, ""},
		}
		for _, tt := range tests {
			u := base(on) + tt.path
			if tt.path == "" {
				u = on.URL() + "/debug/pprof/heap?debug=1"
			}
			status, _, body := send(t, c, "GET", u, tt.hdr)
			if status != tt.status || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s: %d %.80q, want %d with %q", tt.name, status, body, tt.status, tt.wantBody)
			}
		}
	})
	t.Run("token on the main port", func(t *testing.T) {
		t.Parallel()
		svc := start(t, "", token)
		u := svc.MetricsURL()
		if u != svc.URL()+"/metrics" {
			t.Fatalf("MetricsURL = %q", u)
		}
		for name, hdr := range map[string]map[string]string{"none": nil, "wrong": bearer("metrics-token-wrong-456789"), "basic": {"Authorization": "Basic " + token}} {
			status, hdr, body := send(t, c, "GET", u, hdr)
			if status != http.StatusUnauthorized || isMetrics(body) || !strings.Contains(hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s token on the main port: %d %s, want 401 with WWW-Authenticate", name, status, body)
			}
		}
		if status, _, body := send(t, c, "GET", u, bearer(token)); status != http.StatusOK || !isMetrics(body) {
			t.Errorf("token on the main port: %d", status)
		}
	})
	t.Run("neither", func(t *testing.T) {
		t.Parallel()
		svc := start(t, "", "")
		if svc.MetricsURL() != "" {
			t.Errorf("MetricsURL = %q, want none", svc.MetricsURL())
		}
		if status, _, body := send(t, c, "GET", svc.URL()+"/metrics", bearer("anything-at-all-123456")); status != http.StatusNotFound || isMetrics(body) {
			t.Errorf("/metrics without METRICS_ADDR or METRICS_TOKEN: %d, want 404", status)
		}
	})
}
