package emulator

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// faults are failures injected into API and token requests for tests. They
// have their own lock so a hung request never blocks the store.
type faults struct {
	mu         sync.Mutex
	failN      int
	failStatus int
	latency    time.Duration
	slowN      int // the next slowN requests wait slowFor more
	slowFor    time.Duration
	rate       float64
	rng        *rand.Rand
	// hangFor is how long SetFailureRate's timeouts hold a request
	// (SetFaultHang); 0 means faultHang.
	hangFor time.Duration
	// bulk is the fault the next bulk operation suffers: "" none,
	// BulkFailed or BulkTruncated.
	bulk string
	// loseN is how many of the next GraphQL requests run but lose their
	// answer (LoseNextResponse); loseTo are the texts of the next requests
	// that do (LoseNextResponseTo), one request each.
	loseN  int
	loseTo []string
	// injected counts the requests a fault struck (FaultsInjected).
	injected int
}

// FaultsInjected counts the API and token requests that a fault struck
// (FailNext, SetFailureRate, LoseNextResponse), latency aside.
func (e *Emulator) FaultsInjected() int {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return e.faults.injected
}

// Bulk operation faults for FailNextBulk.
const (
	// BulkFailed: the operation ends FAILED with INTERNAL_SERVER_ERROR.
	BulkFailed = "failed"
	// BulkTruncated: it completes, but its file is cut in the middle of a
	// line, as a download broken off halfway looks.
	BulkTruncated = "truncated"
)

// FailNextBulk makes the next bulk operation suffer the fault.
func (e *Emulator) FailNextBulk(fault string) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.bulk = fault
}

// takeBulkFault returns and clears the pending bulk fault.
func (e *Emulator) takeBulkFault() string {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	f := e.faults.bulk
	e.faults.bulk = ""
	return f
}

// faultResult says what injectFault did: answered the request itself, or asks
// the GraphQL handler to answer THROTTLED.
type faultResult struct {
	handled  bool
	throttle bool
}

// faultHang bounds a simulated timeout, for clients that never time out.
const faultHang = 10 * time.Second

func newRand(seed int64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0x5eed)) }

// FailNext makes the next n API and token requests (GraphQL and
// /admin/oauth/access_token, any shop) answer with status.
func (e *Emulator) FailNext(n int, status int) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.failN, e.faults.failStatus = n, status
}

// SetLatency delays every API and token request by d.
func (e *Emulator) SetLatency(d time.Duration) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.latency = d
}

// SlowNext delays only the next n API and token requests by d, on top of
// SetLatency's delay: a caller's time budget can be tested on one call
// (e.g. a draftOrderCalculate that takes longer than the checkout allows).
func (e *Emulator) SlowNext(n int, d time.Duration) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.slowN, e.faults.slowFor = n, d
}

// LoseNextResponse makes the next GraphQL request (any shop) run in full,
// so a mutation commits and sends its webhooks, and then drops its answer:
// the connection is closed without a response, as when a proxy or the
// network fails after Shopify wrote an order. The client sees a transport
// error (shopify.ErrUnavailable), never the result. It lets a test check
// that a retry looks the order up (orders by source_identifier) before
// creating it again. FailNext, by contrast, fails a request before it runs.
func (e *Emulator) LoseNextResponse() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.loseN++
}

// LoseNextResponseTo is LoseNextResponse for the next GraphQL request whose
// body contains text (an operation's name, a field), whatever other
// requests run meanwhile: a test's background requests (stock refreshes,
// order news) cannot take the fault meant for the request it aims at.
func (e *Emulator) LoseNextResponseTo(text string) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.loseTo = append(e.faults.loseTo, text)
}

// loseResponse runs a GraphQL request into a discarded recorder and aborts
// the real response, when LoseNextResponse or LoseNextResponseTo is armed
// for it; it reports whether it did.
func (e *Emulator) loseResponse(w http.ResponseWriter, r *http.Request) bool {
	if r.Context().Value(losingKey{}) != nil {
		return false // the inner run of a request being lost
	}
	f := &e.faults
	f.mu.Lock()
	aimed := len(f.loseTo) > 0
	f.mu.Unlock()
	var body []byte
	if aimed && r.Body != nil {
		body, _ = io.ReadAll(r.Body) // armed only by a test
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	f.mu.Lock()
	lose := f.loseN > 0
	if lose {
		f.loseN--
	} else {
		for i, text := range f.loseTo {
			if bytes.Contains(body, []byte(text)) {
				f.loseTo = slices.Delete(f.loseTo, i, i+1)
				lose = true
				break
			}
		}
	}
	if lose {
		f.injected++
	}
	f.mu.Unlock()
	if !lose {
		return false
	}
	e.handleGraphQL(&discardWriter{header: http.Header{}}, r.WithContext(context.WithValue(r.Context(), losingKey{}, true)))
	// net/http closes the connection without writing anything: the client
	// gets an EOF, as from a dropped connection.
	panic(http.ErrAbortHandler)
}

// losingKey marks the request a lost response runs.
type losingKey struct{}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// SetFailureRate makes a fraction p of API and token requests fail at random,
// deterministically for a seed: a 500/502/503, a timeout (the request hangs
// until the client gives up, then 504), or, on GraphQL, THROTTLED.
func (e *Emulator) SetFailureRate(p float64, seed int64) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.rate, e.faults.rng = p, newRand(seed)
}

// SetFaultHang sets how long SetFailureRate's timeouts hang before they
// answer 504, when the client does not give up first (default 10 s). A
// short hang keeps a test quick; the app's own time budgets (QUOTE_TIMEOUT,
// the Admin API timeout) still apply when they are shorter.
func (e *Emulator) SetFaultHang(d time.Duration) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.hangFor = d
}

// SetThrottle resets every shop's leaky bucket to maxAvailable points, full,
// restoring restoreRate points per second.
func (e *Emulator) SetThrottle(maxAvailable, restoreRate float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for _, s := range e.shops {
		s.bucket = newBucket(maxAvailable, restoreRate, now)
	}
}

// injectFault applies the configured faults to an API or token request.
func (e *Emulator) injectFault(w http.ResponseWriter, r *http.Request, graphql bool) faultResult {
	if graphql && e.loseResponse(w, r) {
		return faultResult{handled: true}
	}
	f := &e.faults
	f.mu.Lock()
	latency, status, hang, throttle := f.latency, 0, false, false
	hangFor := f.hangFor
	if hangFor <= 0 {
		hangFor = faultHang
	}
	if f.slowN > 0 {
		f.slowN--
		latency += f.slowFor
	}
	switch {
	case f.failN > 0:
		f.failN--
		status = f.failStatus
	case f.rate > 0 && f.rng.Float64() < f.rate:
		kinds := 2
		if graphql {
			kinds = 3
		}
		switch f.rng.IntN(kinds) {
		case 0:
			status = []int{500, 502, 503}[f.rng.IntN(3)]
		case 1:
			hang = true
		default:
			throttle = true
		}
	}
	if status != 0 || hang || throttle {
		f.injected++
	}
	f.mu.Unlock()

	if latency > 0 && !e.wait(r, latency) {
		return faultResult{handled: true}
	}
	switch {
	case hang:
		e.wait(r, hangFor)
		writeJSON(w, http.StatusGatewayTimeout, map[string]string{"errors": "Timeout"})
	case status == http.StatusUnauthorized:
		writeJSON(w, status, map[string]string{"errors": invalidTokenMessage})
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "2.0")
		writeJSON(w, status, map[string]string{"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})
	case status != 0:
		writeJSON(w, status, map[string]string{"errors": http.StatusText(status)})
	default:
		return faultResult{throttle: throttle}
	}
	return faultResult{handled: true}
}

// wait sleeps for d unless the client or the emulator goes away first; it
// reports whether the full time passed.
func (e *Emulator) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-e.ctx.Done():
	}
	return false
}
