package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/logging"
)

func TestIPLimiter(t *testing.T) {
	t.Parallel()
	l := newIPLimiter(5, 10)
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	for i := range 10 {
		if err := l.allow("192.0.2.1", now); err != nil {
			t.Fatalf("request %d of the burst refused: %v", i, err)
		}
	}
	err := l.allow("192.0.2.1", now)
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code != app.CodeRateLimited || ae.RetryAfter <= 0 || ae.RetryAfter > 200*time.Millisecond {
		t.Fatalf("11th request: %v, want rate limited, retry within 200ms", err)
	}
	// The IPv4-mapped spelling is the same client.
	if l.allow("::ffff:192.0.2.1", now) == nil {
		t.Error("::ffff:192.0.2.1 has a bucket of its own")
	}
	if err := l.allow("192.0.2.2", now); err != nil {
		t.Errorf("another address shares the bucket: %v", err)
	}
	// IPv6 counts per /64: the addresses of one subscriber's block share.
	for i := range 10 {
		if err := l.allow(fmt.Sprintf("2001:db8:1:2::%x", i+1), now); err != nil {
			t.Fatalf("IPv6 request %d refused: %v", i, err)
		}
	}
	if l.allow("2001:db8:1:2:ffff::1", now) == nil {
		t.Error("another address of the same /64 escaped the limit")
	}
	if err := l.allow("2001:db8:1:3::1", now); err != nil {
		t.Errorf("another /64 shares the bucket: %v", err)
	}
	if newIPLimiter(0, 0).allow("192.0.2.1", now) != nil {
		t.Error("a zero rate must mean no limit")
	}
}

// TestIPLimiterMemoryBounded: a flood from ever new addresses keeps at
// most max buckets. Idle (refilled) buckets are dropped first, so an
// address in use keeps its bucket through the churn; when every bucket is
// busy the limiter starts over rather than grow.
func TestIPLimiterMemoryBounded(t *testing.T) {
	t.Parallel()
	l := newIPLimiter(1, 2)
	l.max = 100
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	const busy = "198.51.100.1"
	_ = l.allow(busy, now)
	first := l.buckets[busy]
	for i := range 1000 {
		// A new address every 50 ms: a bucket refills 1 s (20 addresses)
		// after its one request, so most of the 100 are idle at a sweep.
		at := now.Add(time.Duration(i) * 50 * time.Millisecond)
		_ = l.allow(net.IPv4(10, 0, byte(i>>8), byte(i)).String(), at)
		_ = l.allow(busy, at) // takes every token that comes back
		if len(l.buckets) > l.max {
			t.Fatalf("%d buckets, max %d", len(l.buckets), l.max)
		}
	}
	if l.buckets[busy] != first {
		t.Error("the busy address's bucket was dropped while idle ones were there to drop")
	}

	// Every address busy at once: start over.
	l = newIPLimiter(1, 2)
	l.max = 100
	for i := range 250 {
		_ = l.allow(net.IPv4(10, 1, byte(i>>8), byte(i)).String(), now)
		if len(l.buckets) > l.max {
			t.Fatalf("%d buckets, max %d", len(l.buckets), l.max)
		}
	}
	if len(l.buckets) >= 100 {
		t.Errorf("%d buckets after 250 busy addresses: no start-over", len(l.buckets))
	}
}

// TestClientAddress: without trusted proxies X-Forwarded-For is ignored by
// the access log (the review found it trusted) and the limits; from a
// trusted proxy, the rightmost address that is not a trusted proxy is the
// client, in the log as in the limits.
func TestClientAddress(t *testing.T) {
	t.Parallel()
	_, proxies, _ := net.ParseCIDR("10.1.0.0/16")
	tests := []struct {
		name    string
		trusted []*net.IPNet
		peer    string
		xff     string
		want    string
	}{
		{"no proxies: header ignored", nil, "203.0.113.5:4000", "198.51.100.7", "203.0.113.5"},
		{"no proxies: private peer is still the client", nil, "10.1.2.3:4000", "198.51.100.7", "10.1.2.3"},
		{"untrusted peer", []*net.IPNet{proxies}, "203.0.113.5:4000", "198.51.100.7", "203.0.113.5"},
		{"loopback peer not trusted unless listed", []*net.IPNet{proxies}, "127.0.0.1:4000", "198.51.100.7", "127.0.0.1"},
		{"trusted proxy", []*net.IPNet{proxies}, "10.1.2.3:4000", "198.51.100.7", "198.51.100.7"},
		{"spoofed left entry", []*net.IPNet{proxies}, "10.1.2.3:4000", "1.2.3.4, 198.51.100.7", "198.51.100.7"},
		{"two trusted hops", []*net.IPNet{proxies}, "10.1.2.3:4000", "198.51.100.7, 10.1.9.9", "198.51.100.7"},
		{"trusted proxy, no header", []*net.IPNet{proxies}, "10.1.2.3:4000", "", "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logs := &strings.Builder{}
			s := New(Config{Logger: logging.New(logs, slog.LevelDebug, "json"), Registry: prometheus.NewRegistry(), TrustedProxies: tt.trusted})
			var seen string
			s.Echo().GET("/test/ip", func(c echo.Context) error { seen = c.RealIP(); return c.NoContent(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/test/ip", nil)
			req.RemoteAddr = tt.peer
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			s.ServeHTTP(httptest.NewRecorder(), req)
			if seen != tt.want {
				t.Errorf("client = %q, want %q", seen, tt.want)
			}
			if !strings.Contains(logs.String(), `"remote":"`+tt.want+`"`) {
				t.Errorf("access log does not name %s:\n%s", tt.want, logs.String())
			}
		})
	}
}
