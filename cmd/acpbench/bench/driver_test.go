package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fakeACP is a stand-in for the app's checkout API, enough for the driver:
// it checks what every request carries and can fail the first attempt of
// each complete with 503.
type fakeACP struct {
	t       *testing.T
	fail503 bool
	// failStatus, when set, is the status of that first failure instead
	// of 503; noRetryAfter leaves its Retry-After out.
	failStatus   int
	noRetryAfter bool
	mu           sync.Mutex
	seen         map[string]int // Idempotency-Key -> attempts
	sessions     int
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
			if !f.noRetryAfter {
				w.Header().Set("Retry-After", "0")
			}
			w.WriteHeader(cmp.Or(f.failStatus, http.StatusServiceUnavailable))
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

// TestGracefulCountsRefusals fails each complete's first attempt with
// the case's status and checks what the graceful summary makes of it: a
// 429 with Retry-After is a graceful refusal, one without it or a 5xx is
// a problem, and every request over SlowAfter is counted.
func TestGracefulCountsRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		status       int
		noRetryAfter bool
		slowAfter    time.Duration
		wantProblem  string // "" for a graceful run
	}{
		{name: "429 with Retry-After", status: 429, slowAfter: time.Hour},
		{name: "429 without Retry-After", status: 429, noRetryAfter: true, slowAfter: time.Hour, wantProblem: "429 without Retry-After"},
		{name: "503", status: 503, slowAfter: time.Hour, wantProblem: "answers 5xx"},
		{name: "every request slow", status: 429, slowAfter: time.Nanosecond, wantProblem: "requests over 1ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, tg := newFake(t, true)
			f.failStatus, f.noRetryAfter = tc.status, tc.noRetryAfter
			rep, err := Run(context.Background(), tg, Config{Concurrency: 1, Duration: 100 * time.Millisecond, Retry: true, SlowAfter: tc.slowAfter})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Started == 0 || rep.Completed != rep.Started {
				t.Fatalf("started %d, completed %d: %v", rep.Started, rep.Completed, rep.Errors)
			}
			g := rep.Graceful()
			if g.NonSuccess[tc.status] != rep.Started || len(g.NonSuccess) != 1 {
				t.Errorf("non-2xx %v, want %d×%d", g.NonSuccess, rep.Started, tc.status)
			}
			if want := map[bool]int{true: rep.Started}[tc.status >= 500]; g.ServerErrors != want {
				t.Errorf("5xx %d, want %d", g.ServerErrors, want)
			}
			if want := map[bool]int{true: rep.Started}[tc.noRetryAfter]; g.NoRetryAfter != want {
				t.Errorf("429s without Retry-After %d, want %d", g.NoRetryAfter, want)
			}
			if want := map[bool]int{true: rep.Requests}[tc.slowAfter == time.Nanosecond]; g.Slow != want {
				t.Errorf("slow %d, want %d", g.Slow, want)
			}
			probs := strings.Join(g.Problems(tc.slowAfter), "; ")
			if tc.wantProblem == "" && probs != "" || !strings.Contains(probs, tc.wantProblem) {
				t.Errorf("problems %q, want %q", probs, tc.wantProblem)
			}
			var out strings.Builder
			rep.Print(&out)
			if want := fmt.Sprintf("non-2xx by status: %d×%d", tc.status, rep.Started); !strings.Contains(out.String(), want) {
				t.Errorf("the report lacks %q:\n%s", want, out.String())
			}
		})
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

// fakeHandoff is a stand-in for a shop selling through Shopify's checkout:
// the session answers requires_escalation with a continue_url on the same
// server, which redirects (303) to the checkout page, whose POST pays; the
// session reads in_progress for the first pendingGets GETs after the
// payment, then completed.
type fakeHandoff struct {
	t           *testing.T
	url         string
	pendingGets int
	mu          sync.Mutex
	sessions    int
	follows     int
	paid        map[string]bool
	gets        map[string]int
	payHeaders  []http.Header
}

func (f *fakeHandoff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/continue/") {
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
			f.t.Errorf("continue_url: %s with Authorization %q, want the buyer's GET", r.Method, r.Header.Get("Authorization"))
		}
		f.follows++
		w.Header().Set("Location", "/checkouts/"+strings.TrimPrefix(r.URL.Path, "/continue/"))
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/checkouts/") {
		if r.Method != http.MethodPost {
			f.t.Errorf("checkout page: %s, want the buyer's POST", r.Method)
		}
		f.payHeaders = append(f.payHeaders, r.Header.Clone())
		id := strings.TrimPrefix(r.URL.Path, "/checkouts/")
		if f.paid[id] {
			w.WriteHeader(http.StatusConflict)
			return
		}
		f.paid[id] = true
		_, _ = w.Write([]byte("<p>Thank you!</p>"))
		return
	}
	if r.Header.Get("Authorization") != "Bearer key" || r.Header.Get("API-Version") != "2026-04-17" {
		f.t.Errorf("%s %s: headers %v", r.Method, r.URL.Path, r.Header)
	}
	if (r.Method == http.MethodPost) != (r.Header.Get("Idempotency-Key") != "") {
		f.t.Errorf("%s %s: Idempotency-Key %q (POST only)", r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"))
	}
	path := strings.TrimPrefix(r.URL.Path, "/acp/shop")
	id := "cs_" + strings.TrimPrefix(strings.TrimPrefix(path, "/checkout_sessions"), "/cs_")
	session := func(status string) map[string]any {
		return map[string]any{"id": id, "status": status, "line_items": []any{map[string]any{"id": "li_1"}},
			"fulfillment_options": []any{map[string]any{"id": "standard"}},
			"continue_url":        f.url + "/continue/" + id, "totals": []any{map[string]any{"type": "total", "amount": 1234}}}
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case path == "/checkout_sessions" && r.Method == http.MethodPost:
		f.sessions++
		id = fmt.Sprintf("cs_%d", f.sessions)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(session("not_ready_for_payment"))
	case strings.HasSuffix(path, "/complete"):
		f.t.Errorf("complete called on a handoff session")
		w.WriteHeader(http.StatusBadRequest)
	case r.Method == http.MethodGet:
		if !f.paid[id] {
			f.t.Errorf("GET %s before the payment", id)
		}
		f.gets[id]++
		if f.gets[id] <= f.pendingGets {
			_ = json.NewEncoder(w).Encode(session("requires_escalation"))
			return
		}
		s := session("completed")
		s["order"] = map[string]any{"id": "gid://shopify/Order/" + id}
		_ = json.NewEncoder(w).Encode(s)
	default:
		_ = json.NewEncoder(w).Encode(session("requires_escalation"))
	}
}

func TestRunHandoffPaysAtContinueURLAndWaitsForCompleted(t *testing.T) {
	t.Parallel()
	f := &fakeHandoff{t: t, pendingGets: 2, paid: map[string]bool{}, gets: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	// No token source: a Shopify-checkout run never pays with a token.
	tg := Target{BaseURLs: []string{srv.URL + "/acp/shop"}, APIKey: "key", Items: []string{"44"}}
	rep, err := Run(context.Background(), tg, Config{Concurrency: 2, Duration: 200 * time.Millisecond,
		Completion: CompletionShopifyCheckout, PollEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started == 0 || rep.Completed != rep.Started || len(rep.Errors) != 0 {
		t.Fatalf("started %d, completed %d, errors %v", rep.Started, rep.Completed, rep.Errors)
	}
	for _, ep := range HandoffEndpoints {
		st := rep.Endpoints[ep]
		want := rep.Started
		if ep == EndpointGet {
			want = 3 * rep.Started // two reads before completed, then completed
		}
		if st == nil || st.Requests != want || st.P99 < st.P50 || st.Max < st.P99 {
			t.Errorf("%s: %+v, want %d with ordered percentiles", ep, st, want)
		}
	}
	if rep.Endpoints[EndpointComplete] != nil {
		t.Errorf("complete was called: %+v", rep.Endpoints[EndpointComplete])
	}
	// completed_after_pay is a timing, not a request.
	if rep.Requests != 8*rep.Started {
		t.Errorf("requests %d, want %d (create, address, shipping, continue, pay and 3 GETs per conversation)", rep.Requests, 8*rep.Started)
	}
	c := rep.Conversations[0]
	if c.OrderID == "" || c.Status != "completed" || c.Polls != 3 || c.Total != 1234 || !strings.HasPrefix(c.ContinueURL, srv.URL+"/continue/") ||
		!strings.HasPrefix(c.InvoiceURL, srv.URL+"/checkouts/") {
		t.Errorf("conversation: %+v", c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.follows != rep.Started {
		t.Errorf("%d continue_urls followed for %d conversations", f.follows, rep.Started)
	}
	if len(f.payHeaders) != rep.Started {
		t.Errorf("%d payments for %d conversations", len(f.payHeaders), rep.Started)
	}
	for _, h := range f.payHeaders {
		if h.Get("Authorization") != "" {
			t.Errorf("the buyer's payment carries the agent's key")
		}
	}
}

func TestRunHandoffFailsWithoutContinueURLOrCompletion(t *testing.T) {
	t.Parallel()
	// A delegated shop answers ready_for_payment: not what a handoff run
	// wants.
	_, tg := newFake(t, false)
	rep, err := Run(context.Background(), tg, Config{Concurrency: 1, Duration: 50 * time.Millisecond, Completion: CompletionShopifyCheckout})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started == 0 || rep.Failed != rep.Started || len(rep.Errors) == 0 || rep.Errors[0].Endpoint != EndpointAddress {
		t.Errorf("against a delegated shop: %d started, %d failed, errors %+v", rep.Started, rep.Failed, rep.Errors)
	}

	// A session that never completes after the payment fails once
	// RetryFor has passed.
	f := &fakeHandoff{t: t, pendingGets: 1 << 30, paid: map[string]bool{}, gets: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	tg = Target{BaseURLs: []string{srv.URL + "/acp/shop"}, APIKey: "key", Items: []string{"44"}}
	rep, err = Run(context.Background(), tg, Config{Concurrency: 1, Duration: 50 * time.Millisecond,
		Completion: CompletionShopifyCheckout, PollEvery: 5 * time.Millisecond, RetryFor: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started == 0 || rep.Failed != rep.Started || rep.Endpoints[EndpointCompletedAfterPay] != nil {
		t.Errorf("never completed: %d started, %d failed, %+v", rep.Started, rep.Failed, rep.Endpoints[EndpointCompletedAfterPay])
	}
	if _, err := Run(context.Background(), tg, Config{Completion: "stripe"}); err == nil {
		t.Error("an unknown completion method was accepted")
	}
}

// fakeMCP serves the binding's tools over the SDK's stateless server by
// replaying each call as its REST request to h (a fakeACP): a REST error
// answer becomes the binding's -32000 with the ACP error object as data.
func fakeMCP(t *testing.T, h http.Handler) string {
	srv := mcp.NewServer(&mcp.Implementation{Name: "fake", Version: "1"}, nil)
	routes := map[string]func(id string) (string, string){
		"create_checkout_session":   func(string) (string, string) { return http.MethodPost, "/checkout_sessions" },
		"update_checkout_session":   func(id string) (string, string) { return http.MethodPost, "/checkout_sessions/" + id },
		"complete_checkout_session": func(id string) (string, string) { return http.MethodPost, "/checkout_sessions/" + id + "/complete" },
		"get_checkout_session":      func(id string) (string, string) { return http.MethodGet, "/checkout_sessions/" + id },
	}
	for name, route := range routes {
		srv.AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var args struct {
				ID      string          `json:"id"`
				Payload json.RawMessage `json:"payload"`
			}
			if err := json.Unmarshal(req.Params.Arguments, &args); err != nil {
				t.Errorf("%s: arguments %s: %v", name, req.Params.Arguments, err)
			}
			var meta map[string]map[string]any
			_ = json.Unmarshal(req.Params.Arguments, &meta)
			method, path := route(args.ID)
			r := httptest.NewRequestWithContext(ctx, method, "/acp/shop"+path, strings.NewReader(string(args.Payload)))
			r.Header.Set("Authorization", req.Extra.Header.Get("Authorization"))
			r.Header.Set("API-Version", fmt.Sprint(meta["meta"]["api_version"]))
			if k, ok := meta["meta"]["idempotency_key"].(string); ok {
				r.Header.Set("Idempotency-Key", k)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 300 {
				return nil, &jsonrpc.Error{Code: -32000, Message: "refused", Data: w.Body.Bytes()}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: w.Body.String()}}}, nil
		})
	}
	mh := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer key" {
			t.Errorf("MCP %s without the key", r.Method)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mh.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return MCPURL(hs.URL, "shop")
}

func TestRunBothTransportsRetriesToolErrorsAsREST(t *testing.T) {
	t.Parallel()
	// Every complete's first attempt answers 503, over REST a status, over
	// MCP a tool error: both are retried with the same key.
	f, tg := newFake(t, true)
	tg.MCPURLs = []string{fakeMCP(t, f)}
	rep, err := Run(context.Background(), tg, Config{Concurrency: 2, Duration: 200 * time.Millisecond, Retry: true, Transport: TransportBoth})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Started < 2 || rep.Completed != rep.Started {
		t.Fatalf("started %d, completed %d: %v", rep.Started, rep.Completed, rep.Errors)
	}
	per := map[string]int{}
	for _, c := range rep.Conversations {
		per[c.Transport]++
		if want := []string{TransportREST, TransportMCP}[c.N%2]; c.Transport != want || c.OrderID == "" {
			t.Errorf("conversation %d: %+v, want over %s with an order", c.N, c, want)
		}
	}
	for _, tr := range []string{TransportREST, TransportMCP} {
		for _, ep := range Endpoints {
			st := rep.Transports[tr][ep]
			want := per[tr]
			if ep == EndpointComplete {
				want *= 2
			}
			if st == nil || st.Requests != want || st.P99 < st.P50 {
				t.Errorf("%s %s: %+v, want %d requests", tr, ep, st, want)
			}
		}
	}
	if st := rep.Transports[TransportMCP][EndpointInitialize]; st == nil || st.Requests != per[TransportMCP] || st.Errors != 0 {
		t.Errorf("MCP initialize: %+v, want one per MCP conversation (%d)", st, per[TransportMCP])
	}
	if rep.Transports[TransportREST][EndpointInitialize] != nil {
		t.Error("REST conversations initialized an MCP session")
	}
	for _, g := range rep.Errors {
		if g.Status != 503 || g.Endpoint != EndpointComplete || g.Count != per[g.Transport] {
			t.Errorf("error group %+v, want one 503 per complete of its transport", g)
		}
	}
	if len(rep.Errors) != 2 {
		t.Errorf("error groups %+v, want one per transport", rep.Errors)
	}
	retried := 0
	for _, n := range f.seen {
		if n == 2 {
			retried++
		}
	}
	if retried != rep.Started {
		t.Errorf("%d keys sent twice, want %d (each complete retried with its key, over either transport)", retried, rep.Started)
	}
	if _, err := Run(context.Background(), Target{BaseURLs: tg.BaseURLs, APIKey: "key", Items: tg.Items, Tokens: tg.Tokens}, Config{Transport: TransportMCP}); err == nil {
		t.Error("an MCP run without MCP URLs was accepted")
	}
	if _, err := Run(context.Background(), tg, Config{Transport: "grpc"}); err == nil {
		t.Error("an unknown transport was accepted")
	}
}

func TestMCPStatusIsRESTStatusOfTheACPError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		data string
		want int
	}{
		{`{"type":"invalid_request","code":"idempotency_in_flight","message":"m"}`, 409},
		{`{"type":"invalid_request","code":"concurrent_update","message":"m"}`, 409},
		{`{"type":"invalid_request","code":"idempotency_conflict","message":"m"}`, 422},
		{`{"type":"invalid_request","code":"rate_limited","message":"m"}`, 429},
		{`{"type":"invalid_request","code":"rate_limit_exceeded","message":"m"}`, 429},
		{`{"type":"invalid_request","code":"not_found","message":"m"}`, 404},
		{`{"type":"invalid_request","code":"invalid_api_key","message":"m"}`, 401},
		{`{"type":"service_unavailable","code":"unavailable","message":"m"}`, 503},
		{`{"type":"processing_error","code":"internal_error","message":"m"}`, 500},
		{`{"type":"invalid_request","code":"missing_required_field","message":"m"}`, 400},
		{`not json`, 400},
	}
	for _, tt := range tests {
		if got := mcpStatus(json.RawMessage(tt.data)); got != tt.want {
			t.Errorf("mcpStatus(%s) = %d, want %d", tt.data, got, tt.want)
		}
	}
}

// TestGracefulContinueRedirect: the continue link's 303 is its successful
// answer, so a burst of buyers following links is graceful; any other
// redirect or non-2xx still counts.
func TestGracefulContinueRedirect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		endpoint    string
		status      int
		wantProblem string
	}{
		{"continue 303", EndpointContinue, 303, ""},
		{"continue 429", EndpointContinue, 429, ""},
		{"continue 302", EndpointContinue, 302, "answers 302 (not 429)"},
		{"create 303", EndpointCreate, 303, "answers 303 (not 429)"},
		{"continue 404", EndpointContinue, 404, "answers 404 (not 429)"},
	} {
		rep := &Report{Endpoints: map[string]*EndpointStats{tc.endpoint: {Statuses: map[int]int{tc.status: 5}}}}
		probs := strings.Join(rep.Graceful().Problems(time.Hour), "; ")
		if tc.wantProblem == "" && probs != "" || !strings.Contains(probs, tc.wantProblem) {
			t.Errorf("%s: problems %q, want %q", tc.name, probs, tc.wantProblem)
		}
	}
}
