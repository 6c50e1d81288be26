package shopify

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"sync"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"
)

// ErrThrottled means Shopify kept answering THROTTLED after the retries,
// or the points needed would not be back before the context's deadline.
// It is worth retrying later.
var ErrThrottled = errors.New("rate limited by Shopify")

// maxThrottleRetries is how often one Query retries a THROTTLED answer.
const maxThrottleRetries = 3

// defaultQueryCost is assumed for a document never sent before: most of
// our reads cost a few to a few dozen points, and the first answer tells
// the real figure.
const defaultQueryCost = 10

// maxCostEntries bounds the per-document cost memory; our documents are
// constants, so reaching it means someone builds documents dynamically.
const maxCostEntries = 4096

// Limiter keeps each shop's GraphQL cost bucket (Shopify's leaky bucket is
// per app and store) as last reported in extensions.cost.throttleStatus,
// and each document's last requestedQueryCost, so a call waits before it
// would be throttled instead of after. Share one per process. The zero
// value is ready to use.
type Limiter struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer. Tests inject
	// both so nothing really sleeps.
	Sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	shops map[string]*bucket
	costs map[uint64]float64
}

// bucket is one shop's state: Shopify's figures observed at time at, plus
// the points reserved by calls not yet answered.
type bucket struct {
	max, available, restore float64
	at                      time.Time
	inflight                float64
}

// reservation is the points one call holds until its answer is observed.
type reservation struct {
	shop string
	doc  uint64
	cost float64
}

// defaultLimiter serves every Admin without its own Limiter, so they still
// share one view of each shop's bucket.
var defaultLimiter = &Limiter{}

// reserve estimates the shop's available points now (what Shopify last
// reported plus what has been restored since, capped at the maximum,
// minus calls in flight), reserves the document's expected cost and waits
// until the estimate covers it. The caller must hand the reservation back
// to observe.
func (l *Limiter) reserve(ctx context.Context, shop, query string) (reservation, error) {
	r := reservation{shop: shop, doc: docKey(query)}
	l.mu.Lock()
	l.init()
	r.cost = defaultQueryCost
	if c, ok := l.costs[r.doc]; ok {
		r.cost = c
	}
	var wait time.Duration
	b := l.shops[shop]
	if b == nil {
		b = &bucket{}
		l.shops[shop] = b
	}
	if b.max > 0 && b.restore > 0 {
		// A document costing more than the whole bucket can never fit;
		// waiting for a full bucket is the best we can do.
		need := math.Min(r.cost, b.max)
		if avail := b.estimate(l.now()); need > avail {
			wait = seconds((need - avail) / b.restore)
		}
	}
	b.inflight += r.cost
	l.mu.Unlock()

	if wait > 0 {
		if err := l.pause(ctx, wait); err != nil {
			l.observe(r, nil)
			return reservation{}, err
		}
	}
	return r, nil
}

// estimate is the bucket's available points at now, in-flight calls
// deducted.
func (b *bucket) estimate(now time.Time) float64 {
	elapsed := max(now.Sub(b.at).Seconds(), 0)
	return min(b.max, b.available+b.restore*elapsed) - b.inflight
}

// observe releases a reservation and records what Shopify reported with
// the answer, if anything.
func (l *Limiter) observe(r reservation, c *goshopify.GraphQLCost) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if b := l.shops[r.shop]; b != nil {
		b.inflight = max(b.inflight-r.cost, 0)
		if c != nil && c.ThrottleStatus.MaximumAvailable > 0 {
			b.max = c.ThrottleStatus.MaximumAvailable
			b.available = c.ThrottleStatus.CurrentlyAvailable
			b.restore = c.ThrottleStatus.RestoreRate
			b.at = l.now()
		}
	}
	if c != nil && c.RequestedQueryCost > 0 {
		if len(l.costs) >= maxCostEntries {
			clear(l.costs)
		}
		l.costs[r.doc] = float64(c.RequestedQueryCost)
	}
}

// pause sleeps d, failing at once if ctx's deadline comes first: there is
// no point sleeping only to time out.
func (l *Limiter) pause(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.DeadlineExceeded
	}
	if l.Sleep != nil {
		return l.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Limiter) init() {
	if l.shops == nil {
		l.shops = make(map[string]*bucket)
		l.costs = make(map[uint64]float64)
	}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// docKey identifies a GraphQL document by its text.
func docKey(query string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(query))
	return h.Sum64()
}

// seconds converts to a Duration, rounding up so that waiting it is always
// enough.
func seconds(s float64) time.Duration {
	return time.Duration(math.Ceil(s * float64(time.Second)))
}
