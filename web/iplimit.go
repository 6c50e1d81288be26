package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
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
	*keyedLimiter[string]
}

func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	l := newKeyedLimiter[string](perSecond, burst,
		"too many requests from this address; retry after the time in Retry-After")
	if l == nil {
		return nil
	}
	return &ipLimiter{l}
}

// allow takes a token for the address's bucket (see ipKey), or says how
// long until one is free.
func (l *ipLimiter) allow(addr string, now time.Time) error {
	if l == nil {
		return nil
	}
	return l.keyedLimiter.allow(ipKey(addr), now)
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
