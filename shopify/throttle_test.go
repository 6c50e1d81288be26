package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

func TestLimiterWaitsBeforeQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		available float64       // what the first answer leaves
		advance   time.Duration // time passing before the second call
		want      []time.Duration
	}{
		{"needs 150, has 50, restores 100/s", 50, 0, []time.Duration{time.Second}},
		{"half restored meanwhile", 50, 500 * time.Millisecond, []time.Duration{500 * time.Millisecond}},
		{"enough", 900, 0, nil},
		{"exactly enough", 150, 0, nil},
		{"empty but long restored, capped at maximum", 0, 10 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: []reply{{status: 200, body: okBody(150, tt.available)}, {status: 200, body: okBody(150, 850)}}}
			a, clock := newAdmin(t, h)
			for i := range 2 {
				if i == 1 {
					clock.Advance(tt.advance)
				}
				if err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{}); err != nil {
					t.Fatalf("Query %d: %v", i, err)
				}
			}
			if got := clock.Slept(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("slept %v, want %v", got, tt.want)
			}
			if n := h.count(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
		})
	}
}

func TestLimiterCountsCallsInFlight(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	var (
		mu sync.Mutex
		n  int
	)
	a, clock := newAdmin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 2
		mu.Unlock()
		if first {
			// Hold the second call in flight while the third is planned.
			close(arrived)
			<-release
		}
		io.WriteString(w, okBody(150, 200))
	}))
	query := func() error {
		return a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
	}
	if err := query(); err != nil { // learns: cost 150, 200 available
		t.Fatalf("priming Query: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- query() }()
	<-arrived
	// 200 available minus 150 in flight leaves 50: 100 more at 100/s.
	if err := query(); err != nil {
		t.Fatalf("third Query: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("second Query: %v", err)
	}
	if got, want := clock.Slept(), []time.Duration{time.Second}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("slept %v, want %v", got, want)
	}
}

func TestAdminThrottled(t *testing.T) {
	t.Parallel()
	// 75 of 150 at 100/s is 750ms: go-shopify's own RetryAfter would round
	// it up to 1s, so this shows the wait comes from extensions.cost.
	throttled := reply{status: 200, body: throttledBody(150, 75)}
	tests := []struct {
		name         string
		replies      []reply
		wantErr      error
		wantRequests int
		wantSlept    []time.Duration
	}{
		{
			name:         "retried after the wait, then succeeds",
			replies:      []reply{throttled, {status: 200, body: okBody(150, 0)}},
			wantRequests: 2,
			wantSlept:    []time.Duration{750 * time.Millisecond},
		},
		{
			name:         "four in a row",
			replies:      []reply{throttled},
			wantErr:      shopify.ErrThrottled,
			wantRequests: 4,
			wantSlept:    []time.Duration{750 * time.Millisecond, 750 * time.Millisecond, 750 * time.Millisecond},
		},
		{
			name:         "HTTP 429 with Retry-After",
			replies:      []reply{{status: 429, header: map[string]string{"Retry-After": "2"}}, {status: 200, body: okBody(150, 0)}},
			wantRequests: 2,
			wantSlept:    []time.Duration{2 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: tt.replies}
			a, clock := newAdmin(t, h)
			var out shopName
			err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &out)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && out.Shop.Name != "Demo" {
				t.Errorf("shop name = %q, want Demo", out.Shop.Name)
			}
			if err != nil && !shopify.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = false, want true", err)
			}
			if n := h.count(); n != tt.wantRequests {
				t.Errorf("requests = %d, want %d", n, tt.wantRequests)
			}
			if got := clock.Slept(); fmt.Sprint(got) != fmt.Sprint(tt.wantSlept) {
				t.Errorf("slept %v, want %v", got, tt.wantSlept)
			}
		})
	}
}

func TestAdminThrottledPastDeadline(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: throttledBody(150, 50)}}}
	a, clock := newAdmin(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := a.Query(ctx, "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
	// 100 points short at 100/s: back in 1 s, past the deadline.
	if wait, ok := shopify.RetryAfter(err); !errors.Is(err, shopify.ErrThrottled) || !ok || wait != time.Second {
		t.Errorf("err = %v (retry after %v), want ErrThrottled after 1s", err, wait)
	}
	if got := clock.Slept(); len(got) != 0 {
		t.Errorf("slept %v, want nothing: the wait outlasts the deadline", got)
	}
	if n := h.count(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

// TestLimiterBudgetAndReserve primes the shop's bucket (the first answer
// leaves `available` of 1,000 points, 100/s back; the query costs 20),
// then makes a second call with the case's priority and patience, and
// checks whether it was sent, how long it waited, and what it failed with.
func TestLimiterBudgetAndReserve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		available float64
		priority  shopify.Priority
		patience  time.Duration // 0: none
		maxWait   time.Duration // the Limiter's; 0: its default
		wantSlept []time.Duration
		wantAfter time.Duration // > 0: fails at once, throttled, with this wait
	}{
		// A new agent's request keeps off the reserve (50) and half as
		// much again (25): 95 with the call's 20.
		{name: "agent, above the reserve", available: 95, priority: shopify.PriorityAgent},
		{name: "agent, into the reserve, waits", available: 85, priority: shopify.PriorityAgent, wantSlept: []time.Duration{100 * time.Millisecond}},
		{name: "agent, into the reserve, no patience for it", available: 85, priority: shopify.PriorityAgent, patience: 50 * time.Millisecond, wantAfter: 100 * time.Millisecond},
		{name: "background work keeps off it too", available: 85, priority: shopify.PriorityBackground, wantSlept: []time.Duration{100 * time.Millisecond}},
		{name: "background, no patience, past the Limiter's MaxWait", available: 0, priority: shopify.PriorityBackground, maxWait: 500 * time.Millisecond, wantAfter: 950 * time.Millisecond},
		{name: "money, no patience, MaxWait does not bound it", available: 0, priority: shopify.PriorityMoney, maxWait: 100 * time.Millisecond, wantSlept: []time.Duration{200 * time.Millisecond}},
		{name: "money may use the reserve", available: 20, priority: shopify.PriorityMoney, patience: 50 * time.Millisecond},
		{name: "money, short of its own cost, waits within patience", available: 0, priority: shopify.PriorityMoney, patience: time.Second, wantSlept: []time.Duration{200 * time.Millisecond}},
		{name: "money, short past its patience", available: 0, priority: shopify.PriorityMoney, patience: 100 * time.Millisecond, wantAfter: 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: []reply{{status: 200, body: okBody(20, tt.available)}, {status: 200, body: okBody(20, 500)}}}
			clock := newFakeClock()
			a := &shopify.Admin{HTTPClient: shopServer(t, h), Limiter: &shopify.Limiter{Now: clock.Now, Sleep: clock.Sleep, Reserve: 50, MaxWait: tt.maxWait}}
			if err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{}); err != nil {
				t.Fatalf("priming Query: %v", err)
			}
			ctx := shopify.WithPriority(context.Background(), tt.priority)
			if tt.patience > 0 {
				ctx = shopify.WithPatience(ctx, tt.patience)
			}
			err := a.Query(ctx, "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
			wantRequests := 2
			if tt.wantAfter > 0 {
				wantRequests = 1
				if after, ok := shopify.RetryAfter(err); !errors.Is(err, shopify.ErrThrottled) || !ok || after != tt.wantAfter {
					t.Errorf("err = %v (retry after %v), want throttled, retry after %v", err, after, tt.wantAfter)
				}
			} else if err != nil {
				t.Errorf("Query: %v", err)
			}
			if n := h.count(); n != wantRequests {
				t.Errorf("requests = %d, want %d", n, wantRequests)
			}
			if got := clock.Slept(); fmt.Sprint(got) != fmt.Sprint(tt.wantSlept) {
				t.Errorf("slept %v, want %v", got, tt.wantSlept)
			}
		})
	}
}

// TestLimiterMoneyGoesAheadOfQueuedCalls holds an agent's call waiting for
// points (the bucket is empty: 1,000 at most, 100/s back, each call costs
// 20, the reserve is 50) and shows that a money-path call waits only for
// its own 20 points, counting neither the queued call nor the reserve,
// while another agent's call queues behind the first and, with too little
// patience for that, fails at once.
func TestLimiterMoneyGoesAheadOfQueuedCalls(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okBody(20, 0)}}}
	clock := newFakeClock()
	var (
		mu    sync.Mutex
		waits = map[string][]time.Duration{}
		once  sync.Once
	)
	asleep, wake := make(chan struct{}), make(chan struct{})
	lim := &shopify.Limiter{Now: clock.Now, Reserve: 50, Sleep: func(ctx context.Context, d time.Duration) error {
		name, _ := ctx.Value(callName{}).(string)
		mu.Lock()
		waits[name] = append(waits[name], d)
		mu.Unlock()
		held := false
		if name == "first" {
			// The test moves the clock while this one sleeps.
			once.Do(func() { held = true; close(asleep); <-wake })
		}
		if !held {
			clock.Advance(d)
		}
		return nil
	}}
	a := &shopify.Admin{HTTPClient: shopServer(t, h), Limiter: lim}
	query := func(name string, p shopify.Priority, patience time.Duration) error {
		ctx := shopify.WithPatience(shopify.WithPriority(context.WithValue(context.Background(), callName{}, name), p), patience)
		return a.Query(ctx, "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
	}
	if err := query("priming", shopify.PriorityAgent, time.Minute); err != nil { // leaves 0
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- query("first", shopify.PriorityAgent, time.Minute) }() // needs 20 + 50 + 25: 950ms
	<-asleep
	if err := query("money", shopify.PriorityMoney, 250*time.Millisecond); err != nil { // needs 20: 200ms
		t.Errorf("money call: %v", err)
	}
	// 0 left again; the first call's 20 queued ahead, then 95: 1150ms.
	err := query("second", shopify.PriorityAgent, 500*time.Millisecond)
	if after, ok := shopify.RetryAfter(err); !ok || after != 1150*time.Millisecond || !strings.Contains(err.Error(), "reserve") {
		t.Errorf("second agent call: %v (retry after %v), want throttled at once, retry after 1150ms, for the reserve", err, after)
	}
	// The first call wakes 950ms after it began (750ms after the money
	// call): 75 points are back, it needs 95, so it waits 200ms more.
	clock.Advance(750 * time.Millisecond)
	close(wake)
	if err := <-done; err != nil {
		t.Errorf("first call: %v", err)
	}
	want := map[string][]time.Duration{"first": {950 * time.Millisecond, 200 * time.Millisecond}, "money": {200 * time.Millisecond}}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v (the first call looks again after the money call took the points)", waits, want)
	}
	if n := h.count(); n != 3 {
		t.Errorf("requests = %d, want 3 (priming, money, first)", n)
	}
}

type callName struct{}

// TestLimiterAgentsGoAheadOfBackground holds a background call (a catalog
// refresh: no priority set) waiting for points on an empty bucket and
// shows an agent's call not counting it: it waits for its own 20 points
// and what a new request keeps off (75: 950ms, within its 1s of
// patience), where behind the background call it would need 1150ms and
// give up. The background call then needs 950ms more, past the 1.5s the
// Limiter lets any call wait in all: it gives up, to be retried later.
func TestLimiterAgentsGoAheadOfBackground(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okBody(20, 0)}}}
	clock := newFakeClock()
	var (
		mu    sync.Mutex
		waits = map[string][]time.Duration{}
		once  sync.Once
	)
	asleep, wake := make(chan struct{}), make(chan struct{})
	lim := &shopify.Limiter{Now: clock.Now, Reserve: 50, MaxWait: 1500 * time.Millisecond, Sleep: func(ctx context.Context, d time.Duration) error {
		name, _ := ctx.Value(callName{}).(string)
		mu.Lock()
		waits[name] = append(waits[name], d)
		mu.Unlock()
		held := false
		if name == "background" {
			once.Do(func() { held = true; close(asleep); <-wake })
		}
		if !held {
			clock.Advance(d)
		}
		return nil
	}}
	a := &shopify.Admin{HTTPClient: shopServer(t, h), Limiter: lim}
	query := func(ctx context.Context, name string) error {
		return a.Query(context.WithValue(ctx, callName{}, name), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
	}
	if err := query(context.Background(), "priming"); err != nil { // leaves 0
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- query(context.Background(), "background") }() // 20 + 75: 950ms
	<-asleep
	agentCtx := shopify.WithPatience(shopify.WithPriority(context.Background(), shopify.PriorityAgent), time.Second)
	if err := query(agentCtx, "agent"); err != nil {
		t.Errorf("agent's call: %v; want it sent after 950ms, ahead of the background call", err)
	}
	close(wake) // the agent's call took the points: 950ms more, 550ms left
	if after, ok := shopify.RetryAfter(<-done); !ok || after != 950*time.Millisecond {
		t.Errorf("background call: retry after %v (%v), want throttled, 950ms", after, ok)
	}
	want := map[string][]time.Duration{"agent": {950 * time.Millisecond}, "background": {950 * time.Millisecond}}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	if n := h.count(); n != 2 {
		t.Errorf("requests = %d, want 2 (priming, agent)", n)
	}
}

// TestLimiterStartedRequestsFinishFirst: with 80 points left, a new
// agent's request (needing its 20, the reserve of 50 and 25 more) gives up
// at once, while the next call of a request that has begun (20 and the
// reserve) goes: the points it spent already are not wasted.
func TestLimiterStartedRequestsFinishFirst(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okBody(20, 100)}, {status: 200, body: okBody(20, 80)}, {status: 200, body: okBody(20, 60)}}}
	clock := newFakeClock()
	a := &shopify.Admin{HTTPClient: shopServer(t, h), Limiter: &shopify.Limiter{Now: clock.Now, Sleep: clock.Sleep, Reserve: 50}}
	query := func(ctx context.Context) error {
		return a.Query(ctx, "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
	}
	agent := func() context.Context {
		return shopify.WithPatience(shopify.WithPriority(context.Background(), shopify.PriorityAgent), 100*time.Millisecond)
	}
	if err := query(context.Background()); err != nil { // leaves 100
		t.Fatal(err)
	}
	begun := agent()
	if err := query(begun); err != nil { // 100 ≥ 95: sent, leaves 80
		t.Fatalf("first call of a request: %v", err)
	}
	if after, ok := shopify.RetryAfter(query(agent())); !ok || after != 150*time.Millisecond {
		t.Errorf("a new request on 80 points: retry after %v (%v), want throttled, 150ms", after, ok)
	}
	if err := query(begun); err != nil {
		t.Errorf("the begun request's second call on 80 points: %v, want it sent", err)
	}
	if n := h.count(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	if got := clock.Slept(); len(got) != 0 {
		t.Errorf("slept %v, want nothing", got)
	}
}
