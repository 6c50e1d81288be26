package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/delivery/deliverytest"
)

// product returns a valid Feed API product.
// loopbackClient reaches the test Feed API servers on 127.0.0.1 (a nil
// client is the strict policy, which refuses them).
var loopbackClient = deliverytest.LoopbackPolicy.Client(0, nil)

func product(i int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(
		`{"id":"prod_%d","title":"Product %d","variants":[{"id":"var_%d","title":"Product %d - Default","price":{"amount":%d,"currency":"USD"}}]}`,
		i, i, i, i, 1000+i))
}

// products yields n products, then io.EOF.
func products(n int) func() (json.RawMessage, error) {
	return fromLines(n, product)
}

func fromLines(n int, line func(int) json.RawMessage) func() (json.RawMessage, error) {
	i := 0
	return func() (json.RawMessage, error) {
		if i == n {
			return nil, io.EOF
		}
		i++
		return line(i), nil
	}
}

// sleeps records the waits PushACPFeed asks for instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// startFeedAPI starts a server and a target for it with fake sleeps.
func startFeedAPI(t *testing.T) (*deliverytest.FeedAPIServer, delivery.ACPFeedTarget, *sleeps) {
	t.Helper()
	srv := deliverytest.StartFeedAPI(t, deliverytest.FeedAPIConfig{Token: "tok-never-logged"})
	s := &sleeps{}
	tgt := srv.Target()
	tgt.TargetCountry = "US"
	tgt.Sleep = s.sleep
	return srv, tgt, s
}

func TestPushACPFeedCreatesFeedAndBatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		products    int
		batchSize   int
		wantBatches int
	}{
		{"1234 in batches of 500", 1234, 500, 3},
		{"default batch size", 1234, 0, 3},
		{"exact multiple", 1000, 500, 2},
		{"one by one", 3, 1, 3},
		{"no products", 0, 500, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt, sl := startFeedAPI(t)
			res, err := delivery.PushACPFeed(t.Context(), loopbackClient, tgt, products(tt.products), tt.batchSize)
			if err != nil {
				t.Fatalf("PushACPFeed() error = %v", err)
			}
			if feeds := srv.Feeds(); len(feeds) != 1 || feeds[0] != res.FeedID {
				t.Fatalf("server feeds = %q, want just %q", feeds, res.FeedID)
			}
			if res.Batches != tt.wantBatches || res.Accepted != tt.products {
				t.Errorf("result = %+v, want %d batches, %d accepted", res, tt.wantBatches, tt.products)
			}
			got := srv.Products(res.FeedID)
			if len(got) != tt.products {
				t.Fatalf("server holds %d products, want %d", len(got), tt.products)
			}
			for i := 1; i <= tt.products; i++ {
				if p := got[fmt.Sprintf("prod_%d", i)]; string(p) != string(product(i)) {
					t.Fatalf("product %d on server = %s, want %s", i, p, product(i))
				}
			}
			if n := srv.Requests(); n != 1+tt.wantBatches {
				t.Errorf("server saw %d requests, want %d", n, 1+tt.wantBatches)
			}
			if w := sl.waits(); len(w) != 0 {
				t.Errorf("slept %v, want no waits", w)
			}
		})
	}
}

func TestPushACPFeedExistingFeed(t *testing.T) {
	t.Parallel()
	srv, tgt, _ := startFeedAPI(t)
	tgt.FeedID = srv.AddFeed("US")
	res, err := delivery.PushACPFeed(t.Context(), loopbackClient, tgt, products(10), 4)
	if err != nil {
		t.Fatalf("PushACPFeed() error = %v", err)
	}
	if res.FeedID != tgt.FeedID || len(srv.Feeds()) != 1 {
		t.Errorf("feed = %q, server feeds %q: want the existing feed reused", res.FeedID, srv.Feeds())
	}
	if n := srv.Requests(); n != 3 {
		t.Errorf("server saw %d requests, want 3 PATCHes and no create", n)
	}
}

func TestPushACPFeedRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		failN      int
		status     int
		retryAfter time.Duration
		wantErr    bool
		wantWaits  int
		check      func(t *testing.T, waits []time.Duration)
	}{
		{name: "503 twice then success", failN: 2, status: http.StatusServiceUnavailable, wantWaits: 2},
		{
			name: "429 with Retry-After", failN: 1, status: http.StatusTooManyRequests, retryAfter: 7 * time.Second, wantWaits: 1,
			check: func(t *testing.T, w []time.Duration) {
				if w[0] != 7*time.Second {
					t.Errorf("waited %s, want the server's 7s", w[0])
				}
			},
		},
		{
			name: "backoff grows", failN: 3, status: http.StatusBadGateway, wantWaits: 3,
			check: func(t *testing.T, w []time.Duration) {
				for i, d := range w {
					if lo, hi := time.Second<<i/2, time.Second<<i; d < lo || d > hi {
						t.Errorf("wait %d = %s, want within [%s, %s]", i, d, lo, hi)
					}
				}
			},
		},
		{name: "gives up after 4 attempts", failN: 10, status: http.StatusInternalServerError, wantErr: true, wantWaits: 3},
		{name: "Retry-After too long", failN: 1, status: http.StatusTooManyRequests, retryAfter: 10 * time.Minute, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt, sl := startFeedAPI(t)
			tgt.FeedID = srv.AddFeed("US")
			srv.FailNext(tt.failN, tt.status)
			srv.SetRetryAfter(tt.retryAfter)
			res, err := delivery.PushACPFeed(t.Context(), loopbackClient, tgt, products(5), 500)
			waits := sl.waits()
			if len(waits) != tt.wantWaits {
				t.Errorf("waited %v, want %d waits", waits, tt.wantWaits)
			}
			if tt.check != nil && len(waits) == tt.wantWaits {
				tt.check(t, waits)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("PushACPFeed() error = %v", err)
				}
				if res.Accepted != 5 || len(srv.Products(tgt.FeedID)) != 5 || srv.Applied() != 1 {
					t.Errorf("result %+v, server holds %d products after %d applications; want 5 after 1",
						res, len(srv.Products(tgt.FeedID)), srv.Applied())
				}
				return
			}
			var apiErr *delivery.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status {
				t.Fatalf("PushACPFeed() error = %v, want an APIError with status %d", err, tt.status)
			}
			if !delivery.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = false, want true", err)
			}
			if res == nil || res.FeedID != tgt.FeedID || res.Accepted != 0 {
				t.Errorf("partial result = %+v, want the feed id and nothing accepted", res)
			}
		})
	}
}

func TestPushACPFeedRejectedBatchFailsAtOnce(t *testing.T) {
	t.Parallel()
	srv, tgt, sl := startFeedAPI(t)
	lines := fromLines(3, func(i int) json.RawMessage {
		if i == 2 {
			return json.RawMessage(`{"id":"prod_2","title":"No variants","variants":[]}`)
		}
		return product(i)
	})
	res, err := delivery.PushACPFeed(t.Context(), loopbackClient, tgt, lines, 500)
	var apiErr *delivery.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("PushACPFeed() error = %v, want an APIError", err)
	}
	if apiErr.Status != http.StatusBadRequest || apiErr.Code != "invalid_product_payload" ||
		apiErr.Param != "$.products[1].variants" || !strings.Contains(err.Error(), "variants must be a non-empty array") {
		t.Errorf("APIError = %+v, want the server's 400 with its message and param", apiErr)
	}
	if delivery.IsRetryable(err) {
		t.Error("IsRetryable() = true for a 400")
	}
	if w := sl.waits(); len(w) != 0 {
		t.Errorf("waited %v before failing, want no retry", w)
	}
	if n := srv.Requests(); n != 2 {
		t.Errorf("server saw %d requests, want create + one PATCH", n)
	}
	if res == nil || res.FeedID == "" {
		t.Errorf("result = %+v, want the created feed's id", res)
	}
}

func TestPushACPFeedLostResponseNotReapplied(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing bool // drop hits the first PATCH instead of the create
	}{
		{"lost create answer", false},
		{"lost batch answer", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt, _ := startFeedAPI(t)
			if tt.existing {
				tgt.FeedID = srv.AddFeed("US")
			}
			srv.DropNext(1)
			res, err := delivery.PushACPFeed(t.Context(), loopbackClient, tgt, products(12), 5)
			if err != nil {
				t.Fatalf("PushACPFeed() error = %v", err)
			}
			if feeds := srv.Feeds(); len(feeds) != 1 {
				t.Errorf("server holds feeds %q, want one", feeds)
			}
			if got := srv.Applied(); got != 3 {
				t.Errorf("server applied %d batches, want 3 (a retried batch applied once)", got)
			}
			if got := srv.Replayed(); got != 1 {
				t.Errorf("server replayed %d answers, want 1", got)
			}
			if res.Batches != 3 || len(srv.Products(res.FeedID)) != 12 {
				t.Errorf("result %+v with %d products on the server, want 3 batches and 12", res, len(srv.Products(res.FeedID)))
			}
		})
	}
}

func TestPushACPFeedPermanentFailures(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("catalog read failed")
	tests := []struct {
		name     string
		mutate   func(*deliverytest.FeedAPIServer, *delivery.ACPFeedTarget)
		next     func() (json.RawMessage, error)
		wantIs   error
		wantText string
	}{
		{
			name:   "bad token",
			mutate: func(_ *deliverytest.FeedAPIServer, t *delivery.ACPFeedTarget) { t.Token = "wrong-token" },
			wantIs: delivery.ErrAuthFailed,
		},
		{
			name:   "unknown feed",
			mutate: func(_ *deliverytest.FeedAPIServer, t *delivery.ACPFeedTarget) { t.FeedID = "feed_gone" },
			wantIs: delivery.ErrFeedNotFound,
		},
		{
			name:     "unsupported API version",
			mutate:   func(_ *deliverytest.FeedAPIServer, t *delivery.ACPFeedTarget) { t.APIVersion = "2020-01-01" },
			wantText: "unsupported_api_version",
		},
		{
			name: "source error",
			next: func() func() (json.RawMessage, error) {
				n := 0
				return func() (json.RawMessage, error) {
					if n++; n == 3 {
						return nil, errBoom
					}
					return product(n), nil
				}
			}(),
			wantIs: errBoom,
		},
		{name: "not JSON", next: fromLines(1, func(int) json.RawMessage { return json.RawMessage(`{"id":`) }), wantText: "not valid JSON"},
		{name: "not an object", next: fromLines(1, func(int) json.RawMessage { return json.RawMessage(`["x"]`) }), wantText: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt, sl := startFeedAPI(t)
			if tt.mutate != nil {
				tt.mutate(srv, &tgt)
			}
			next := tt.next
			if next == nil {
				next = products(3)
			}
			_, err := delivery.PushACPFeed(t.Context(), loopbackClient, tgt, next, 2)
			if err == nil {
				t.Fatal("PushACPFeed() succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("PushACPFeed() error = %v, want it to wrap %v", err, tt.wantIs)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("PushACPFeed() error = %v, want it to mention %q", err, tt.wantText)
			}
			if delivery.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = true", err)
			}
			if len(sl.waits()) != 0 {
				t.Errorf("waited %v before a permanent failure", sl.waits())
			}
			if strings.Contains(err.Error(), "tok-never-logged") {
				t.Error("error message contains the token")
			}
			if srv.Applied() != 0 && tt.name != "source error" {
				t.Errorf("server applied %d batches, want none", srv.Applied())
			}
		})
	}
}

func TestPushACPFeedContextCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	srv, tgt, _ := startFeedAPI(t)
	srv.FailNext(5, http.StatusServiceUnavailable)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tgt.Sleep = func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}
	_, err := delivery.PushACPFeed(ctx, loopbackClient, tgt, products(1), 0)
	if !errors.Is(err, context.Canceled) || delivery.IsRetryable(err) {
		t.Fatalf("PushACPFeed() error = %v, want context.Canceled, not retryable", err)
	}
	if n := srv.Requests(); n != 1 {
		t.Errorf("server saw %d requests after the cancel, want 1", n)
	}
}

func TestACPFeedTargetValidate(t *testing.T) {
	t.Parallel()
	valid := delivery.ACPFeedTarget{BaseURL: "https://feeds.example.com/acp", Token: "tok"}
	tests := []struct {
		name    string
		mutate  func(*delivery.ACPFeedTarget)
		wantErr string
	}{
		{"valid", func(*delivery.ACPFeedTarget) {}, ""},
		{"loopback http", func(t *delivery.ACPFeedTarget) { t.BaseURL = "http://127.0.0.1:8080" }, ""},
		{"localhost http", func(t *delivery.ACPFeedTarget) { t.BaseURL = "http://localhost:8080/" }, ""},
		{"full target", func(t *delivery.ACPFeedTarget) {
			t.FeedID, t.TargetCountry, t.APIVersion = "feed_1", "DE", "2026-04-17"
		}, ""},
		{"missing base URL", func(t *delivery.ACPFeedTarget) { t.BaseURL = "" }, "BaseURL is required"},
		{"relative base URL", func(t *delivery.ACPFeedTarget) { t.BaseURL = "/feeds" }, "BaseURL"},
		{"remote http", func(t *delivery.ACPFeedTarget) { t.BaseURL = "http://feeds.example.com" }, "https"},
		{"ftp", func(t *delivery.ACPFeedTarget) { t.BaseURL = "ftp://feeds.example.com" }, "https"},
		{"credentials in URL", func(t *delivery.ACPFeedTarget) { t.BaseURL = "https://u:p@feeds.example.com" }, "credentials"},
		{"query", func(t *delivery.ACPFeedTarget) { t.BaseURL = "https://feeds.example.com?x=1" }, "query"},
		{"missing token", func(t *delivery.ACPFeedTarget) { t.Token = "" }, "Token is required"},
		{"token with newline", func(t *delivery.ACPFeedTarget) { t.Token = "a\nb" }, "Token"},
		{"lower-case country", func(t *delivery.ACPFeedTarget) { t.TargetCountry = "us" }, "TargetCountry"},
		{"three-letter country", func(t *delivery.ACPFeedTarget) { t.TargetCountry = "USA" }, "TargetCountry"},
		{"bad version", func(t *delivery.ACPFeedTarget) { t.APIVersion = "latest" }, "APIVersion"},
		{"control in feed id", func(t *delivery.ACPFeedTarget) { t.FeedID = "a\x00" }, "FeedID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tgt := valid
			tt.mutate(&tgt)
			err := tgt.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() error = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() error = %v, want one mentioning %q", err, tt.wantErr)
			case tt.wantErr != "" && !errors.Is(err, delivery.ErrInvalidTarget):
				t.Errorf("Validate() error = %v does not wrap ErrInvalidTarget", err)
			}
		})
	}
}

func TestACPFeedTargetRedactsToken(t *testing.T) {
	t.Parallel()
	tgt := delivery.ACPFeedTarget{BaseURL: "https://x.example", Token: "sk-very-secret"}
	for _, out := range []string{fmt.Sprint(tgt), fmt.Sprintf("%+v", tgt), fmt.Sprintf("%#v", tgt), tgt.LogValue().String()} {
		if strings.Contains(out, "sk-very-secret") {
			t.Errorf("output leaks the token: %s", out)
		}
	}
}
