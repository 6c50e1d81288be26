package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/acpbridge/acpbridge/app"
)

// keyedLimiter gives every key (an agent's API key, a client's address) its
// own token bucket: over the limit a request is answered 429 with
// Retry-After before it reaches the database. The buckets are per replica:
// N replicas allow N times the rate. A nil *keyedLimiter lets everything by.
type keyedLimiter[K comparable] struct {
	rate    rate.Limit
	burst   int
	max     int    // buckets kept before idle ones are dropped
	refused string // the 429's message: what the client shares a bucket by

	mu      sync.Mutex
	buckets map[K]*rate.Limiter
}

// maxBuckets bounds the memory of a limiter (about 150 bytes a bucket).
const maxBuckets = 100_000

// newKeyedLimiter returns a limiter of perSecond requests a key, in bursts
// of burst (at least one second's worth when burst < 1), or nil when
// perSecond is not positive: no limit.
func newKeyedLimiter[K comparable](perSecond float64, burst int, refused string) *keyedLimiter[K] {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Ceil(perSecond))
	}
	return &keyedLimiter[K]{rate: rate.Limit(perSecond), burst: burst, max: maxBuckets, refused: refused, buckets: map[K]*rate.Limiter{}}
}

// allow takes a token for the key, or says how long until one is free.
func (l *keyedLimiter[K]) allow(key K, now time.Time) error {
	if l == nil {
		return nil
	}
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
		r.CancelAt(now) // a refused request does not spend a token
		return &app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", RetryAfter: d, Message: l.refused}
	}
	return nil
}

// evict makes room: a bucket that has refilled is the same as a new one,
// so dropping it forgets nothing. Only when most buckets are busy (a
// flood from very many keys) does it start over rather than grow.
// Called with mu held; the sweep runs at most once per quarter of max new
// keys, so its cost per request stays constant.
func (l *keyedLimiter[K]) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) > l.max*3/4 {
		clear(l.buckets)
	}
}

// keyLimiter gives every agent API key its own bucket, so that one agent
// (or a leaked key) cannot crowd out the others.
type keyLimiter = keyedLimiter[int64]

func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	return newKeyedLimiter[int64](perSecond, burst,
		"too many requests with this API key; retry after the time in Retry-After")
}

// keyRateLimiter is a keyLimiter as the ACP pipeline asks it
// (acpapi.RateLimiter), once it knows the request's key.
type keyRateLimiter struct{ *keyLimiter }

func (k keyRateLimiter) AllowKey(apiKeyID int64) error { return k.allow(apiKeyID, time.Now()) }
