package web

import (
	"crypto/subtle"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/acpbridge/acpbridge/app"
)

// ipLimiter gives every client address its own token bucket on the routes
// anyone may call without a credential (install, OAuth callback, the
// bounce page, feed pulls, ACP discovery, the webhook receiver), so one
// address cannot fill oauth_states or keep the database busy. Over the
// limit a request is answered 429 with Retry-After before its handler
// runs. The buckets are per replica. The client address is echo's
// RealIP, which believes X-Forwarded-For only from TRUSTED_PROXIES; IPv6
// addresses count per /64, the block one subscriber usually holds.
type ipLimiter struct {
	rate  rate.Limit
	burst int
	max   int // buckets kept before idle ones are dropped

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// maxIPBuckets bounds the memory of a limiter (about 150 bytes a bucket).
const maxIPBuckets = 100_000

func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Ceil(perSecond))
	}
	return &ipLimiter{rate: rate.Limit(perSecond), burst: burst, max: maxIPBuckets, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token for the address, or says how long until one is free.
func (l *ipLimiter) allow(addr string, now time.Time) error {
	if l == nil {
		return nil
	}
	key := ipKey(addr)
	l.mu.Lock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", RetryAfter: d,
			Message: "too many requests from this address; retry after the time in Retry-After"}
	}
	return nil
}

// evict makes room: a bucket that has refilled is the same as a new one,
// so dropping it forgets nothing. Only when most buckets are busy (a
// flood from very many addresses) does it start over, as keyLimiter does.
// Called with mu held; the sweep runs at most once per quarter of max new
// addresses, so its cost per request stays constant.
func (l *ipLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) > l.max*3/4 {
		clear(l.buckets)
	}
}

// ipKey is the bucket of an address: IPv4 (also IPv4-mapped IPv6) as it
// is, IPv6 by its /64.
func ipKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return addr // not an address (a test's RemoteAddr): its own bucket
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// limitIP is the route middleware of a limiter; nil lets every request by.
func (s *Server) limitIP(l *ipLimiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if l == nil {
			return next
		}
		return func(c echo.Context) error {
			if err := l.allow(c.RealIP(), time.Now()); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// ipExtractor tells echo (RealIP: the access log and the limits) who the
// client is. Without trusted proxies it is the TCP peer and
// X-Forwarded-For is ignored, since any client can send it. With them, the
// header is read from the right, skipping addresses of trusted proxies,
// and the first other address is the client; only the listed networks are
// trusted (echo would otherwise trust every private and loopback address).
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// metricsAuthorized reports whether a request may read /metrics: with a
// token configured, it must carry it as Bearer (compared in constant
// time).
func metricsAuthorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}
