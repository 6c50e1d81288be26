package shopify

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"sync/atomic"
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

// ThrottledError is a call given up for the shop's rate limit, before or
// instead of being run: the points it needs would not be back within its
// deadline or patience (WithPatience), the shop's bucket is down to the
// reserve kept for the money path (WithPriority), or Shopify kept
// answering THROTTLED. errors.Is(err, ErrThrottled) holds. Nothing was
// run, so the same call may be sent again after RetryAfter.
type ThrottledError struct {
	// RetryAfter is when the shop's bucket should hold the points again.
	RetryAfter time.Duration
	// Reason says why the call was given up, for logs.
	Reason string
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s: %s (points back in %s)", ErrThrottled, e.Reason, e.RetryAfter.Round(time.Millisecond))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfter is the wait a throttled err asks for, if it carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var te *ThrottledError
	if errors.As(err, &te) && te.RetryAfter > 0 {
		return te.RetryAfter, true
	}
	return 0, false
}

// Priority says in what order calls get a shop's points when its bucket
// runs low, and whether they may spend the Limiter's reserve.
type Priority int

const (
	// PriorityBackground is the default: work no one waits for (catalog
	// refreshes, webhooks, the admin's reads). It goes after the calls
	// of agents, so that a refresh asking for hundreds of points up front
	// does not hold a burst of agents back; it retries later.
	PriorityBackground Priority = iota
	// PriorityAgent calls answer an agent that is waiting (quotes): they
	// go ahead of background work and leave the reserve alone.
	PriorityAgent
	// PriorityMoney calls (completing a purchase: its last quote, the
	// order write-back) go first and may spend the reserve, so that a
	// buyer who is paying is not starved by agents still browsing.
	PriorityMoney
)

type priorityKey struct{}

// WithPriority marks the Shopify calls made under ctx with p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

func priorityOf(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p
}

type requestKey struct{}

// request is what WithPatience puts in a context: one agent request's
// budget for waiting, and whether its Shopify calls have begun.
type request struct {
	until time.Time
	// started is set once a call of the request was sent: its later
	// calls go ahead of new requests', or the points it spent are lost.
	started atomic.Bool
}

// WithPatience bounds how long the Shopify calls made under ctx may wait
// for the shop's rate-limit points, in all, from now: a call whose points
// would not be back by then fails at once with a *ThrottledError instead
// of waiting (an agent's request answers "retry after" while the agent is
// still there, rather than after it gave up). Without it only ctx's
// deadline bounds the wait. The calls under ctx are one request: once one
// was sent, the others go ahead of requests that have not begun.
func WithPatience(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, requestKey{}, &request{until: time.Now().Add(d)})
}

func requestOf(ctx context.Context) *request {
	rq, _ := ctx.Value(requestKey{}).(*request)
	return rq
}

// waitBudget is how long a call may still wait for points: until ctx's
// deadline or the end of its patience, whichever comes first, and, off the
// money path, never more than the Limiter's MaxWait.
func (l *Limiter) waitBudget(ctx context.Context) time.Duration {
	budget := l.MaxWait
	if budget <= 0 {
		budget = DefaultMaxWait
	}
	if levelOf(ctx) == levelMoney {
		// First in line, and worth the worker it holds: only its
		// deadline and patience bound it.
		budget = time.Duration(math.MaxInt64)
	}
	if dl, has := ctx.Deadline(); has {
		budget = min(budget, time.Until(dl))
	}
	if rq := requestOf(ctx); rq != nil {
		budget = min(budget, time.Until(rq.until))
	}
	return max(budget, 0)
}

// level is a call's place when points are short: its priority, with an
// agent's request that has begun (request.started) between new agents'
// requests and the money path.
type level int

const (
	levelBackground level = iota
	levelAgentNew
	levelAgentStarted
	levelMoney
	levels
)

func levelOf(ctx context.Context) level {
	switch priorityOf(ctx) {
	case PriorityMoney:
		return levelMoney
	case PriorityAgent:
		if rq := requestOf(ctx); rq != nil && rq.started.Load() {
			return levelAgentStarted
		}
		return levelAgentNew
	}
	return levelBackground
}

// DefaultMaxWait is a Limiter's MaxWait when it has none: a background
// job waiting longer holds one of the job queue's few workers that order
// webhooks and agents' events need.
const DefaultMaxWait = 2 * time.Second

// DefaultReserve is the points a Limiter keeps for money-path calls when
// its Reserve is zero: a few order write-backs (an order lookup and an
// orderCreate cost about 12 points each).
const DefaultReserve = 50

// Limiter keeps each shop's GraphQL cost bucket (Shopify's leaky bucket is
// per app and store) as last reported in extensions.cost.throttleStatus,
// and each document's last requestedQueryCost, so a call waits before it
// would be throttled instead of after, and gives up at once when the wait
// would outlast its budget (ctx's deadline, WithPatience). Calls queue in
// the order they arrive within their priority (WithPriority), money-path
// ones first, then agents' (those of requests already begun first), then
// background work. All but the money path leave Reserve points alone, and
// what has not begun leaves half as much again for what has, so that
// points are not spent on quotes that cannot finish. Share one per
// process. The zero value is ready to use.
type Limiter struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done; nil means a timer. Tests inject
	// both so nothing really sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxWait bounds the wait for points of any call off the money path,
	// whatever its deadline (a background job's may be a minute away): a
	// call that would wait longer fails at once with a *ThrottledError
	// and is retried later by its caller, instead of holding a worker
	// meanwhile. 0 means DefaultMaxWait.
	MaxWait time.Duration
	// Reserve is the points the other calls leave in a shop's bucket for
	// PriorityMoney ones; 0 means DefaultReserve, negative none. It is
	// capped at a quarter of the bucket.
	Reserve float64

	mu    sync.Mutex
	shops map[string]*bucket
	costs map[uint64]float64
}

// bucket is one shop's state: Shopify's figures observed at time at, plus
// the points reserved by calls sent and not yet answered (inflight) and by
// calls waiting for their turn (queued, per priority).
type bucket struct {
	max, available, restore float64
	at                      time.Time
	inflight                float64
	queued                  [levels]float64
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
// minus calls in flight and calls queued ahead), reserves the document's
// expected cost and waits until the estimate covers it. A wait longer
// than the call's budget (Limiter.waitBudget) is not begun: reserve fails at once
// with a *ThrottledError. The caller must hand the reservation back to
// observe.
func (l *Limiter) reserve(ctx context.Context, shop, query string) (reservation, error) {
	r := reservation{shop: shop, doc: docKey(query)}
	lv := levelOf(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	r.cost = defaultQueryCost
	if c, ok := l.costs[r.doc]; ok {
		r.cost = c
	}
	b := l.shops[shop]
	if b == nil {
		b = &bucket{}
		l.shops[shop] = b
	}
	// The budget is for the whole wait, however many looks it takes.
	giveUp := l.now().Add(l.waitBudget(ctx))
	for first := true; ; first = false {
		wait := l.waitFor(b, r.cost, lv, first)
		if wait <= 0 {
			b.inflight += r.cost
			return r, nil
		}
		if wait > giveUp.Sub(l.now()) {
			reason := "the points would not be back in time"
			if lv < levelMoney && wait > l.waitFor(b, r.cost, levelMoney, first) {
				reason = "the bucket is down to the reserve kept for completing purchases"
			}
			return reservation{}, &ThrottledError{RetryAfter: wait, Reason: reason}
		}
		// Queued: later calls of this priority or a lower one count
		// these points as taken. After the wait, only calls of a higher
		// priority are counted ahead (those of the same priority queued
		// behind this one).
		b.queued[lv] += r.cost
		l.mu.Unlock()
		err := l.sleep(ctx, wait)
		l.mu.Lock()
		b.queued[lv] = max(b.queued[lv]-r.cost, 0)
		if err != nil {
			return reservation{}, err
		}
	}
}

// waitFor is how long a call of cost at level lv must wait for its points
// in b, as things stand; 0 when it may go now. Every call counts the calls
// of higher levels queued ahead of it, and, on its first look (joining the
// queue), those of its own; all but the money path keep off the reserve,
// and what has not begun (a new agent's request, background work) off half
// as much again. Called with l.mu held.
func (l *Limiter) waitFor(b *bucket, cost float64, lv level, first bool) time.Duration {
	if b.max <= 0 || b.restore <= 0 {
		return 0 // nothing known of the bucket yet: the first answer tells
	}
	free := b.estimate(l.now())
	for above := lv + 1; above < levels; above++ {
		free -= b.queued[above]
	}
	if first {
		free -= b.queued[lv]
	}
	need := cost
	if reserve := l.reservePoints(b); lv < levelMoney {
		need += reserve
		if lv < levelAgentStarted {
			need += reserve / 2
		}
	}
	// A document costing more than the whole bucket can never fit;
	// waiting for a full bucket is the best we can do.
	need = math.Min(need, b.max)
	if free >= need {
		return 0
	}
	return seconds((need - free) / b.restore)
}

// reservePoints is the points calls off the money path leave in b.
func (l *Limiter) reservePoints(b *bucket) float64 {
	r := l.Reserve
	if r == 0 {
		r = DefaultReserve
	}
	return math.Min(math.Max(r, 0), b.max/4)
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

// pause waits out a THROTTLED answer's d before the retry, failing at
// once with a *ThrottledError if the call's budget ends first: there is
// no point sleeping only to time out.
func (l *Limiter) pause(ctx context.Context, d time.Duration) error {
	if l.waitBudget(ctx) < d {
		return &ThrottledError{RetryAfter: d, Reason: "Shopify answered THROTTLED and the points would not be back in time"}
	}
	return l.sleep(ctx, d)
}

// sleep waits d or until ctx is done.
func (l *Limiter) sleep(ctx context.Context, d time.Duration) error {
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
