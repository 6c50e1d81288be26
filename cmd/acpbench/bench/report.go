package bench

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Conversation is how one agent's purchase ended.
type Conversation struct {
	N    int    `json:"n"`
	Item string `json:"item"`
	// Transport is how the agent talked to the app: rest or mcp.
	Transport string `json:"transport"`
	SessionID string `json:"session_id,omitempty"`
	// Status is the last session status seen on complete.
	Status  string `json:"status,omitempty"`
	OrderID string `json:"order_id,omitempty"`
	// Total is the session total (minor units) before complete.
	Total int64 `json:"total"`
	// InProgress counts complete answers of complete_in_progress.
	InProgress int `json:"in_progress,omitempty"`
	// ContinueURL is the link the buyer followed, InvoiceURL where it led
	// them to pay (Shopify's checkout), and Polls how many GETs read the
	// session after that payment.
	ContinueURL string `json:"continue_url,omitempty"`
	InvoiceURL  string `json:"invoice_url,omitempty"`
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
	// Transports has the same figures per transport (rest, mcp) when the
	// run spoke MCP (Config.Transport mcp or both); nil for a REST-only
	// run, whose figures are all in Endpoints.
	Transports map[string]map[string]*EndpointStats `json:",omitempty"`
	// Errors groups every answer that was not the expected success (and
	// every transport error) by endpoint, status and kind.
	Errors []ErrorGroup
	// Retried groups 2xx answers the agents asked again after (a session
	// not ready because Shopify could not quote), by endpoint and message
	// codes; they are not errors.
	Retried []ErrorGroup
	// SlowAfter is the latency over which EndpointStats.Slow counts a
	// request (Config.SlowAfter).
	SlowAfter time.Duration
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
	// Slow counts requests that took longer than Config.SlowAfter.
	Slow int
	// NoRetryAfter counts 429 answers without a Retry-After header (REST;
	// the MCP binding has no headers).
	NoRetryAfter int
}

// ErrorGroup is a kind of error answer with a body sample.
type ErrorGroup struct {
	// Transport is set when the run spoke MCP.
	Transport string `json:",omitempty"`
	Endpoint  string
	Status    int // 0: transport error
	Kind      string
	Count     int
	Sample    string
}

// recorder collects a run's measurements; safe for concurrent use.
type recorder struct {
	mu       sync.Mutex
	start    time.Time
	issueEnd time.Time
	lat      map[string][]time.Duration
	stats    map[string]*EndpointStats
	// perTransport splits the figures by transport too: tlat and tstats
	// are keyed by transport, then endpoint.
	perTransport bool
	tlat         map[string]map[string][]time.Duration
	tstats       map[string]map[string]*EndpointStats
	errs         map[string]*ErrorGroup
	retries      map[string]*ErrorGroup
	lags         []time.Duration
	convs        []Conversation
	requests     int64
	errTotal     int64
	dropped      int
}

func (r *recorder) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropped++
}

func newRecorder(perTransport bool) *recorder {
	return &recorder{lat: map[string][]time.Duration{}, stats: map[string]*EndpointStats{}, errs: map[string]*ErrorGroup{}, retries: map[string]*ErrorGroup{},
		perTransport: perTransport, tlat: map[string]map[string][]time.Duration{}, tstats: map[string]map[string]*EndpointStats{}}
}

// request records one request of endpoint over transport tr.
func (r *recorder) request(tr, endpoint string, status int, d time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if !ok {
		r.errTotal++
	}
	r.add(r.lat, r.stats, endpoint, d).count(status, ok)
	if r.perTransport {
		lat, stats := r.transport(tr)
		r.add(lat, stats, endpoint, d).count(status, ok)
	}
}

// timing records a duration that is no request (completed_after_pay):
// it has percentiles but does not count as a request.
func (r *recorder) timing(tr, name string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(r.lat, r.stats, name, d).Requests++
	if r.perTransport {
		lat, stats := r.transport(tr)
		r.add(lat, stats, name, d).Requests++
	}
}

// transport is transport tr's latencies and stats, made if new.
func (r *recorder) transport(tr string) (map[string][]time.Duration, map[string]*EndpointStats) {
	if r.tlat[tr] == nil {
		r.tlat[tr], r.tstats[tr] = map[string][]time.Duration{}, map[string]*EndpointStats{}
	}
	return r.tlat[tr], r.tstats[tr]
}

// add appends d to name's latencies in lat and returns its stats in
// stats, made if new.
func (r *recorder) add(lat map[string][]time.Duration, stats map[string]*EndpointStats, name string, d time.Duration) *EndpointStats {
	lat[name] = append(lat[name], d)
	st := stats[name]
	if st == nil {
		st = &EndpointStats{Statuses: map[int]int{}}
		stats[name] = st
	}
	return st
}

// count counts a request answered status.
func (st *EndpointStats) count(status int, ok bool) {
	st.Requests++
	st.Statuses[status]++
	if !ok {
		st.Errors++
	}
}

// group is the error group of the answer in groups, made if new.
func (r *recorder) group(groups map[string]*ErrorGroup, tr, endpoint string, status int, kind string, body []byte) *ErrorGroup {
	if !r.perTransport {
		tr = ""
	}
	k := fmt.Sprintf("%s|%s|%d|%s", tr, endpoint, status, kind)
	g := groups[k]
	if g == nil {
		g = &ErrorGroup{Transport: tr, Endpoint: endpoint, Status: status, Kind: kind, Sample: sample(body)}
		groups[k] = g
	}
	return g
}

func (r *recorder) errorAnswer(tr, endpoint string, status int, kind string, body []byte) {
	if kind == "" {
		kind = errorCode(body)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.group(r.errs, tr, endpoint, status, kind, body).Count++
}

func (r *recorder) retried(tr, endpoint, kind string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.group(r.retries, tr, endpoint, 200, kind, body).Count++
}

// missingRetryAfter counts a 429 answer of endpoint without Retry-After.
func (r *recorder) missingRetryAfter(tr, endpoint string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats[endpoint].NoRetryAfter++
	if r.perTransport {
		_, stats := r.transport(tr)
		stats[endpoint].NoRetryAfter++
	}
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
	rep.SlowAfter = cfg.SlowAfter
	percentiles(r.lat, r.stats, cfg.SlowAfter)
	if r.perTransport {
		rep.Transports = r.tstats
		for tr, lat := range r.tlat {
			percentiles(lat, r.tstats[tr], cfg.SlowAfter)
		}
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
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Transport, b.Transport))
	}
	slices.SortFunc(rep.Errors, byCount)
	slices.SortFunc(rep.Retried, byCount)
	return rep
}

// percentiles sorts every endpoint's latencies and sets its stats'
// percentiles and its count of requests slower than slow.
func percentiles(lat map[string][]time.Duration, stats map[string]*EndpointStats, slow time.Duration) {
	for ep, ds := range lat {
		slices.Sort(ds)
		st := stats[ep]
		st.P50, st.P95, st.P99, st.Max = quantile(ds, 0.50), quantile(ds, 0.95), quantile(ds, 0.99), ds[len(ds)-1]
		i, _ := slices.BinarySearch(ds, slow+1)
		st.Slow = len(ds) - i
	}
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
	for _, ep := range rows() {
		if st := r.Endpoints[ep]; st != nil {
			fmt.Fprintf(tw, "%s\t%s\t\n", ep, st.row())
		}
	}
	_ = tw.Flush()
	if r.Transports != nil {
		// The same rows per transport, each step's REST and MCP figures
		// next to each other; "call" is the route or the tool.
		fmt.Fprintln(w, "per transport:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "transport\tendpoint\trequests\terrors\tp50 ms\tp95 ms\tp99 ms\tmax ms\tstatuses\tcall\t")
		for _, ep := range rows() {
			for _, tr := range []string{TransportREST, TransportMCP} {
				if st := r.Transports[tr][ep]; st != nil {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", tr, ep, st.row(), callOf(tr, ep))
				}
			}
		}
		_ = tw.Flush()
	}
	for _, g := range r.Retried {
		fmt.Fprintf(w, "asked again: %5d × %s answered 200 %s\n", g.Count, g.where(), g.Kind)
	}
	r.Graceful().print(w, r.SlowAfter)
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
		return
	}
	fmt.Fprintf(w, "errors: %d answers\n", r.ErrorAnswers())
	for _, g := range r.Errors {
		fmt.Fprintf(w, "  %5d × %s %d %s: %s\n", g.Count, g.where(), g.Status, g.Kind, g.Sample)
	}
}

// rows are the report's rows in order: MCP's connection, then the steps.
// Both kinds of conversation share the first steps; a run has the rows of
// its own kind only.
func rows() []string {
	return append(append([]string{EndpointInitialize}, Endpoints...), HandoffEndpoints[3:]...)
}

// row is an endpoint's figures as the tables' cells.
func (st *EndpointStats) row() string {
	codes := make([]int, 0, len(st.Statuses))
	for c := range st.Statuses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", c, st.Statuses[c]))
	}
	return fmt.Sprintf("%d\t%d\t%s\t%s\t%s\t%s\t%s", st.Requests, st.Errors, ms(st.P50), ms(st.P95), ms(st.P99), ms(st.Max), strings.Join(parts, " "))
}

// callOf names what an endpoint's requests are over a transport: the MCP
// tool, or the REST route.
func callOf(tr, ep string) string {
	var op opKind
	switch ep {
	case EndpointCreate:
		op = opCreate
	case EndpointAddress, EndpointShipping:
		op = opUpdate
	case EndpointComplete:
		op = opComplete
	case EndpointGet:
		op = opGet
	case EndpointContinue:
		return "GET continue_url"
	case EndpointPay:
		return "POST its invoice"
	case EndpointInitialize:
		return "initialize"
	default:
		return "-"
	}
	if tr == TransportMCP {
		return tools[op]
	}
	return [...]string{opCreate: "POST /checkout_sessions", opUpdate: "POST /checkout_sessions/{id}",
		opComplete: "POST /checkout_sessions/{id}/complete", opGet: "GET /checkout_sessions/{id}"}[op]
}

// where is the group's endpoint, after its transport if any.
func (g ErrorGroup) where() string {
	if g.Transport == "" {
		return g.Endpoint
	}
	return g.Transport + " " + g.Endpoint
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// Graceful is how the run's answers held up under load, over every
// endpoint: what a burst of agents must never see (5xx, no answer, a wait
// past their patience, a refusal that does not say when to come back) and
// the graceful refusals (429s, recoverable messages asked again).
type Graceful struct {
	// ServerErrors counts 5xx answers; NoAnswer requests without one
	// (timeouts, resets).
	ServerErrors, NoAnswer int
	// NonSuccess counts every answer outside 2xx by status (0: no answer).
	NonSuccess map[int]int
	// NoRetryAfter counts 429s without Retry-After (REST).
	NoRetryAfter int
	// Slow counts requests over Report.SlowAfter; Max is the slowest.
	Slow int
	Max  time.Duration
	// Recoverable counts 2xx answers the agents asked again after (a
	// recoverable message: Shopify could not quote in time).
	Recoverable int
	// CompleteAgain counts completes asked again after a 2xx answer: the
	// completion in progress (its order not written yet), or not ready
	// with a recoverable message.
	CompleteAgain int
}

// Graceful sums the report's answers per Graceful.
func (r *Report) Graceful() Graceful {
	g := Graceful{NonSuccess: map[int]int{}}
	for ep, st := range r.Endpoints {
		if ep == EndpointCompletedAfterPay {
			continue // a wait for the order, no request
		}
		for code, n := range st.Statuses {
			switch {
			case code == 0:
				g.NoAnswer += n
			case code >= 500:
				g.ServerErrors += n
			}
			if !answered(ep, code) {
				g.NonSuccess[code] += n
			}
		}
		g.NoRetryAfter += st.NoRetryAfter
		g.Slow += st.Slow
		g.Max = max(g.Max, st.Max)
	}
	for _, rg := range r.Retried {
		g.Recoverable += rg.Count
	}
	for _, c := range r.Conversations {
		g.CompleteAgain += c.InProgress
	}
	return g
}

// answered reports whether status is the endpoint's successful answer: a
// 2xx, or the continue link's redirect to the checkout page.
func answered(endpoint string, status int) bool {
	if endpoint == EndpointContinue && status == http.StatusSeeOther {
		return true
	}
	return status >= 200 && status <= 299
}

// Problems lists what breaks the burst goal: any 5xx, any request without
// an answer or slower than SlowAfter, any non-2xx other than a 429 with
// Retry-After. Empty when the run was graceful.
func (g Graceful) Problems(slowAfter time.Duration) []string {
	var out []string
	if g.ServerErrors > 0 {
		out = append(out, fmt.Sprintf("%d answers 5xx", g.ServerErrors))
	}
	if g.NoAnswer > 0 {
		out = append(out, fmt.Sprintf("%d requests without an answer", g.NoAnswer))
	}
	if g.Slow > 0 {
		out = append(out, fmt.Sprintf("%d requests over %s", g.Slow, slowAfter))
	}
	for _, code := range slices.Sorted(maps.Keys(g.NonSuccess)) {
		if code != 429 && code != 0 && code < 500 {
			out = append(out, fmt.Sprintf("%d answers %d (not 429)", g.NonSuccess[code], code))
		}
	}
	if g.NoRetryAfter > 0 {
		out = append(out, fmt.Sprintf("%d answers 429 without Retry-After", g.NoRetryAfter))
	}
	return out
}

// print writes the graceful line.
func (g Graceful) print(w io.Writer, slowAfter time.Duration) {
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(g.NonSuccess)) {
		parts = append(parts, fmt.Sprintf("%d×%d", code, g.NonSuccess[code]))
	}
	non := "none"
	if len(parts) > 0 {
		non = strings.Join(parts, " ")
	}
	fmt.Fprintf(w, "graceful: %d answers 5xx, %d without an answer, max latency %s ms (%d over %s), non-2xx by status: %s (%d 429s without Retry-After), %d recoverable answers asked again, %d completes asked again\n",
		g.ServerErrors, g.NoAnswer, ms(g.Max), g.Slow, slowAfter, non, g.NoRetryAfter, g.Recoverable, g.CompleteAgain)
}
