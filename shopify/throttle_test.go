package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	if !errors.Is(err, shopify.ErrThrottled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrThrottled and DeadlineExceeded", err)
	}
	if got := clock.Slept(); len(got) != 0 {
		t.Errorf("slept %v, want nothing: the wait outlasts the deadline", got)
	}
	if n := h.count(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}
