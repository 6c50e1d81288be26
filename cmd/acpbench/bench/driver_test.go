package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeACP is a stand-in for the app's checkout API, enough for the driver:
// it checks what every request carries and can fail the first attempt of
// each complete with 503.
type fakeACP struct {
	t        *testing.T
	fail503  bool
	mu       sync.Mutex
	seen     map[string]int // Idempotency-Key -> attempts
	sessions int
}

func (f *fakeACP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer key" || r.Header.Get("API-Version") != "2026-04-17" || r.Header.Get("Idempotency-Key") == "" {
		f.t.Errorf("%s %s: headers %v", r.Method, r.URL.Path, r.Header)
	}
	key := r.Header.Get("Idempotency-Key")
	f.mu.Lock()
	f.seen[key]++
	attempt := f.seen[key]
	f.mu.Unlock()
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	path := strings.TrimPrefix(r.URL.Path, "/acp/shop")
	session := func(status string, extra map[string]any) map[string]any {
		s := map[string]any{"id": "cs_1", "status": status, "line_items": []any{map[string]any{"id": "li_1"}},
			"totals": []any{map[string]any{"type": "total", "amount": 1234}}}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case path == "/checkout_sessions":
		f.mu.Lock()
		f.sessions++
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(session("not_ready_for_payment", nil))
	case strings.HasSuffix(path, "/complete"):
		if f.fail503 && attempt == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"type":"service_unavailable","code":"unavailable","message":"down"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(session("completed", map[string]any{"order": map[string]any{"id": "gid://shopify/Order/1"}}))
	case body["fulfillment_details"] != nil:
		_ = json.NewEncoder(w).Encode(session("ready_for_payment", map[string]any{
			"fulfillment_options": []any{map[string]any{"id": "standard"}, map[string]any{"id": "express"}}}))
	case body["selected_fulfillment_options"] != nil:
		sel := body["selected_fulfillment_options"].([]any)[0].(map[string]any)
		if sel["option_id"] != "express" {
			f.t.Errorf("selected %v, want the last option", sel["option_id"])
		}
		_ = json.NewEncoder(w).Encode(session("ready_for_payment", nil))
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"type":"invalid_request","code":"invalid","message":"unexpected %s"}`, path)
	}
}

func newFake(t *testing.T, fail503 bool) (*fakeACP, Target) {
	f := &fakeACP{t: t, fail503: fail503, seen: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	n := 0
	var mu sync.Mutex
	return f, Target{BaseURLs: []string{srv.URL + "/acp/shop"}, APIKey: "key", Items: []string{"44"},
		Tokens: TokenFunc(func(context.Context) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("spt_%d", n), nil
		})}
}

func TestRunWholeConversations(t *testing.T) {
	t.Parallel()
	f, tg := newFake(t, false)
	rep, err := Run(context.Background(), tg, Config{Concurrency: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started == 0 || rep.Completed != rep.Started || rep.Failed != 0 || len(rep.Errors) != 0 {
		t.Fatalf("started %d, completed %d, failed %d, errors %v", rep.Started, rep.Completed, rep.Failed, rep.Errors)
	}
	for _, ep := range Endpoints {
		st := rep.Endpoints[ep]
		if st == nil || st.Requests != rep.Started || st.P50 <= 0 || st.P99 < st.P50 || st.Max < st.P99 {
			t.Errorf("%s: %+v, want %d requests with ordered percentiles", ep, st, rep.Started)
		}
	}
	if f.sessions != rep.Started {
		t.Errorf("the app saw %d creates, the report %d conversations", f.sessions, rep.Started)
	}
	if rep.Conversations[0].OrderID == "" || rep.Conversations[0].Total != 1234 {
		t.Errorf("conversation: %+v", rep.Conversations[0])
	}
}

func TestRunRetriesWithTheSameKey(t *testing.T) {
	t.Parallel()
	f, tg := newFake(t, true)
	rep, err := Run(context.Background(), tg, Config{Concurrency: 1, Duration: 100 * time.Millisecond, Retry: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started == 0 || rep.Completed != rep.Started {
		t.Fatalf("started %d, completed %d: %v", rep.Started, rep.Completed, rep.Errors)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Status != 503 || rep.Errors[0].Endpoint != EndpointComplete || rep.Errors[0].Count != rep.Started {
		t.Errorf("errors %+v, want one 503 per complete", rep.Errors)
	}
	retried := 0
	for _, n := range f.seen {
		if n == 2 {
			retried++
		}
	}
	if retried != rep.Started {
		t.Errorf("%d keys sent twice, want %d (each complete retried with its key)", retried, rep.Started)
	}

	// Without Retry the first answer counts.
	_, tg = newFake(t, true)
	rep, err = Run(context.Background(), tg, Config{Concurrency: 1, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 0 || rep.Failed != rep.Started {
		t.Errorf("without retry: %d completed, %d failed of %d", rep.Completed, rep.Failed, rep.Started)
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}}
	for _, tt := range tests {
		if got := quantile(ds, tt.q); got != tt.want {
			t.Errorf("quantile(%v)=%v, want %v", tt.q, got, tt.want)
		}
	}
}
