package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/acpbridge/acpbridge/app"
)

// keyLimiter gives every agent API key its own token bucket, so that one
// agent (or a leaked key) cannot crowd out the others: over the limit a
// request is answered 429 with Retry-After before it reaches the database.
// The buckets are per replica: N replicas allow N times the rate.
type keyLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[int64]*rate.Limiter
}

func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(math.Ceil(perSecond))
	}
	return &keyLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[int64]*rate.Limiter{}}
}

// allow takes a token for the key, or says how long until one is free.
func (k *keyLimiter) allow(keyID int64, now time.Time) error {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	b, ok := k.buckets[keyID]
	if !ok {
		if len(k.buckets) > 100_000 { // keys come and go; start over rather than grow
			clear(k.buckets)
		}
		b = rate.NewLimiter(k.rate, k.burst)
		k.buckets[keyID] = b
	}
	k.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", RetryAfter: d,
			Message: "too many requests with this API key; retry after the time in Retry-After"}
	}
	return nil
}
