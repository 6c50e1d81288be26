package bench

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Conversation is how one agent's purchase ended.
type Conversation struct {
	N         int    `json:"n"`
	Item      string `json:"item"`
	SessionID string `json:"session_id,omitempty"`
	// Status is the last session status seen on complete.
	Status  string `json:"status,omitempty"`
	OrderID string `json:"order_id,omitempty"`
	// Total is the session total (minor units) before complete.
	Total int64 `json:"total"`
	// InProgress counts complete answers of complete_in_progress.
	InProgress int `json:"in_progress,omitempty"`
	// ContinueURL is where the buyer paid (Shopify's checkout) and Polls
	// how many GETs read the session after that payment.
	ContinueURL string `json:"continue_url,omitempty"`
	Polls       int    `json:"polls,omitempty"`
	// Err is why the conversation did not complete; empty when it did.
	Err string `json:"error,omitempty"`
}

// Report is what a run measured.
type Report struct {
	// Elapsed is from the first start to the last conversation's end;
	// Issuing is the part during which conversations were started.
	Elapsed, Issuing time.Duration
	Rate             float64
	Concurrency      int
	// Started, Completed and Failed count conversations; Dropped those
	// never started because they were more than MaxStartLag late.
	Started, Completed, Failed, Dropped int
	// Requests counts every HTTP request, retries included.
	Requests int
	// Endpoints has the latency and answers of each endpoint.
	Endpoints map[string]*EndpointStats
	// Errors groups every answer that was not the expected success (and
	// every transport error) by endpoint, status and kind.
	Errors []ErrorGroup
	// Retried groups 2xx answers the agents asked again after (a session
	// not ready because Shopify could not quote), by endpoint and message
	// codes; they are not errors.
	Retried []ErrorGroup
	// StartLag is how late conversations started against the schedule
	// (all workers busy): p50, p99, max.
	StartLag [3]time.Duration
	// Conversations lists every conversation.
	Conversations []Conversation
}

// EndpointStats are one endpoint's figures.
type EndpointStats struct {
	Requests int
	// Errors counts requests that did not answer the expected status.
	Errors int
	// Statuses counts answers by HTTP status (0: transport error).
	Statuses map[int]int
	// P50, P95, P99 and Max are over every request, failed ones included.
	P50, P95, P99, Max time.Duration
}

// ErrorGroup is a kind of error answer with a body sample.
type ErrorGroup struct {
	Endpoint string
	Status   int // 0: transport error
	Kind     string
	Count    int
	Sample   string
}

// recorder collects a run's measurements; safe for concurrent use.
type recorder struct {
	mu       sync.Mutex
	start    time.Time
	issueEnd time.Time
	lat      map[string][]time.Duration
	stats    map[string]*EndpointStats
	errs     map[string]*ErrorGroup
	retries  map[string]*ErrorGroup
	lags     []time.Duration
	convs    []Conversation
	requests int64
	errTotal int64
	dropped  int
}

func (r *recorder) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropped++
}

func newRecorder() *recorder {
	return &recorder{lat: map[string][]time.Duration{}, stats: map[string]*EndpointStats{}, errs: map[string]*ErrorGroup{}, retries: map[string]*ErrorGroup{}}
}

func (r *recorder) request(endpoint string, status int, d time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	r.lat[endpoint] = append(r.lat[endpoint], d)
	st := r.stats[endpoint]
	if st == nil {
		st = &EndpointStats{Statuses: map[int]int{}}
		r.stats[endpoint] = st
	}
	st.Requests++
	st.Statuses[status]++
	if !ok {
		st.Errors++
		r.errTotal++
	}
}

// timing records a duration that is no request (completed_after_pay):
// it has percentiles but does not count as a request.
func (r *recorder) timing(name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat[name] = append(r.lat[name], d)
	st := r.stats[name]
	if st == nil {
		st = &EndpointStats{Statuses: map[int]int{}}
		r.stats[name] = st
	}
	st.Requests++
}

func (r *recorder) errorAnswer(endpoint string, status int, kind string, body []byte) {
	if kind == "" {
		kind = errorCode(body)
	}
	k := fmt.Sprintf("%s|%d|%s", endpoint, status, kind)
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.errs[k]
	if g == nil {
		g = &ErrorGroup{Endpoint: endpoint, Status: status, Kind: kind, Sample: sample(body)}
		r.errs[k] = g
	}
	g.Count++
}

func (r *recorder) retried(endpoint, kind string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.retries[endpoint+"|"+kind]
	if g == nil {
		g = &ErrorGroup{Endpoint: endpoint, Status: 200, Kind: kind, Sample: sample(body)}
		r.retries[endpoint+"|"+kind] = g
	}
	g.Count++
}

func (r *recorder) lag(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lags = append(r.lags, max(d, 0))
}

func (r *recorder) conversation(c Conversation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.convs = append(r.convs, c)
}

func (r *recorder) totals() (requests, errs int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.errTotal
}

func (r *recorder) report(elapsed time.Duration, cfg Config) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &Report{Elapsed: elapsed, Issuing: r.issueEnd.Sub(r.start), Rate: cfg.Rate, Concurrency: cfg.Concurrency,
		Requests: int(r.requests), Endpoints: r.stats, Conversations: slices.Clone(r.convs), Dropped: r.dropped}
	slices.SortFunc(rep.Conversations, func(a, b Conversation) int { return cmp.Compare(a.N, b.N) })
	for _, c := range rep.Conversations {
		rep.Started++
		if c.Err == "" {
			rep.Completed++
		} else {
			rep.Failed++
		}
	}
	for ep, ds := range r.lat {
		slices.Sort(ds)
		st := r.stats[ep]
		st.P50, st.P95, st.P99, st.Max = quantile(ds, 0.50), quantile(ds, 0.95), quantile(ds, 0.99), ds[len(ds)-1]
	}
	slices.Sort(r.lags)
	if len(r.lags) > 0 {
		rep.StartLag = [3]time.Duration{quantile(r.lags, 0.5), quantile(r.lags, 0.99), r.lags[len(r.lags)-1]}
	}
	for _, g := range r.errs {
		rep.Errors = append(rep.Errors, *g)
	}
	for _, g := range r.retries {
		rep.Retried = append(rep.Retried, *g)
	}
	byCount := func(a, b ErrorGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Status, b.Status))
	}
	slices.SortFunc(rep.Errors, byCount)
	slices.SortFunc(rep.Retried, byCount)
	return rep
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// errorCode picks the ACP error's code (or type) out of a body, for
// grouping.
func errorCode(body []byte) string {
	s := string(body)
	for _, f := range []string{`"code":"`, `"code": "`, `"type":"`} {
		if i := strings.Index(s, f); i >= 0 {
			rest := s[i+len(f):]
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				return rest[:j]
			}
		}
	}
	return ""
}

// ErrorAnswers counts every error answer and transport error.
func (r *Report) ErrorAnswers() int {
	n := 0
	for _, g := range r.Errors {
		n += g.Count
	}
	return n
}

// Print writes the report as a human reads it: the totals, a table per
// endpoint, and every error group with a sample.
func (r *Report) Print(w io.Writer) {
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "conversations: %d started, %d completed, %d failed in %.1fs (issued over %.1fs", r.Started, r.Completed, r.Failed, secs, r.Issuing.Seconds())
	if r.Rate > 0 {
		fmt.Fprintf(w, " at %.0f/s", r.Rate)
	}
	fmt.Fprintf(w, ", concurrency %d)\n", r.Concurrency)
	if r.Dropped > 0 {
		fmt.Fprintf(w, "dropped: %d conversations not started (more than the allowed start lag late: the app did not keep up)\n", r.Dropped)
	}
	fmt.Fprintf(w, "throughput: %.1f completed conversations/s, %.1f requests/s\n", float64(r.Completed)/secs, float64(r.Requests)/secs)
	fmt.Fprintf(w, "start lag (queueing in the driver): p50 %s, p99 %s, max %s\n", ms(r.StartLag[0]), ms(r.StartLag[1]), ms(r.StartLag[2]))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\trequests\terrors\tp50 ms\tp95 ms\tp99 ms\tmax ms\tstatuses\t")
	// Both kinds of conversation share the first rows; a run has the rows
	// of its own kind only.
	for _, ep := range append(slices.Clone(Endpoints), HandoffEndpoints[3:]...) {
		st := r.Endpoints[ep]
		if st == nil {
			continue
		}
		codes := make([]int, 0, len(st.Statuses))
		for c := range st.Statuses {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", c, st.Statuses[c]))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", ep, st.Requests, st.Errors, ms(st.P50), ms(st.P95), ms(st.P99), ms(st.Max), strings.Join(parts, " "))
	}
	_ = tw.Flush()
	for _, g := range r.Retried {
		fmt.Fprintf(w, "asked again: %5d × %s answered 200 %s\n", g.Count, g.Endpoint, g.Kind)
	}
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
		return
	}
	fmt.Fprintf(w, "errors: %d answers\n", r.ErrorAnswers())
	for _, g := range r.Errors {
		fmt.Fprintf(w, "  %5d × %s %d %s: %s\n", g.Count, g.Endpoint, g.Status, g.Kind, g.Sample)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
