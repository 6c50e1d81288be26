package stripeemu

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// faults are failures injected into API requests (every /v1 path except the
// test helpers) for tests. They have their own lock so a hung request never
// blocks the store.
//
// A "before" fault (FailNext, SlowNext, SetLatency) happens before the
// request is processed: a failed request changed nothing, and a slow one is
// processed only if its client is still waiting when the delay ends. An
// "after" fault (FailAfterProcessing, DropAfterProcessing,
// SlowAfterProcessing) hits the next POST requests once they have been
// processed and their idempotent result stored: the charge (or capture,
// refund...) happened, but the client cannot know it. That is the "unknown
// outcome" a client must resolve by retrying with the same Idempotency-Key
// or by looking the object up, never by charging again.
type faults struct {
	mu         sync.Mutex
	latency    time.Duration
	failN      int
	failStatus int
	slowN      int
	slowFor    time.Duration
	after      []afterFault // queue, one per coming POST
	// rate is the fraction of API requests SetFailureRate strikes, drawn
	// from rng; hang is how long its timeouts hold a request.
	rate float64
	rng  *rand.Rand
	hang time.Duration
}

// afterFault is what happens to one processed POST's response.
type afterFault struct {
	kind  string // "fail", "drop" or "slow"
	delay time.Duration
}

// faultHang is how long a "hung" request waits when the client never gives
// up: long enough for any client timeout, short enough to end a test.
const faultHang = 30 * time.Second

// FailNext makes the next n API requests answer status before doing
// anything, with a Stripe error body: api_error for 5xx, rate_limit for 429,
// lock_timeout for 409, invalid_request_error otherwise. Nothing is stored
// for their Idempotency-Key, so a retry is processed normally.
func (e *Emulator) FailNext(n int, status int) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.failN, e.faults.failStatus = n, status
}

// SetLatency delays every API request by d before it is processed.
func (e *Emulator) SetLatency(d time.Duration) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.latency = d
}

// SlowNext delays the next n API requests by d (on top of SetLatency)
// before they are processed. A client that gives up first leaves nothing
// behind: the request is not processed.
func (e *Emulator) SlowNext(n int, d time.Duration) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.slowN, e.faults.slowFor = n, d
}

// HangNext makes the next n API requests hang until the client gives up
// (or 30 s pass); they are not processed.
func (e *Emulator) HangNext(n int) { e.SlowNext(n, faultHang) }

// FailAfterProcessing makes the next n POST requests be processed (the
// charge happens and its result is stored for idempotent replay) and then
// answer 500 api_error with Stripe-Should-Retry: true.
func (e *Emulator) FailAfterProcessing(n int) { e.queueAfter(n, afterFault{kind: "fail"}) }

// DropAfterProcessing makes the next n POST requests be processed and then
// closes the connection without an answer, as a network failure would.
//
// net/http resends a request carrying an Idempotency-Key by itself when a
// reused keep-alive connection breaks before the answer; the resend is a
// new POST and takes the next queued fault, or is replayed.
func (e *Emulator) DropAfterProcessing(n int) { e.queueAfter(n, afterFault{kind: "drop"}) }

// SlowAfterProcessing makes the next n POST requests be processed and then
// delays the answer by d: a client with a shorter timeout gives up on a
// request that did happen.
func (e *Emulator) SlowAfterProcessing(n int, d time.Duration) {
	e.queueAfter(n, afterFault{kind: "slow", delay: d})
}

func (e *Emulator) queueAfter(n int, f afterFault) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	for range n {
		e.faults.after = append(e.faults.after, f)
	}
}

// ResetFaults clears every pending fault, the latency and the failure rate.
func (e *Emulator) ResetFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.latency, e.faults.failN, e.faults.slowN, e.faults.after = 0, 0, 0, nil
	e.faults.rate, e.faults.rng = 0, nil
}

// SetFailureRate makes a fraction p of API requests (test helpers are
// never struck) fail at random, deterministically for a seed, each in one
// of six ways, equally likely:
//
//   - before processing, nothing happens: a 500, 502 or 503 api_error; a
//     429 rate_limit (Stripe's throttling); or a timeout, where the request
//     hangs until the client gives up or the hang (SetFaultHang, default
//     10 s) ends and then answers 504;
//   - after processing, the request happened but its answer is lost: a 500
//     with Stripe-Should-Retry (FailAfterProcessing), a dropped connection
//     (DropAfterProcessing), or an answer held back for the hang
//     (SlowAfterProcessing). Only POSTs get these; a GET so struck fails
//     before processing instead.
//
// p = 0 turns it off. The load driver (cmd/acpbench) and the fault tests
// use 0.2.
func (e *Emulator) SetFailureRate(p float64, seed int64) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.rate, e.faults.rng = p, rand.New(rand.NewPCG(uint64(seed), 0x5712e))
}

// SetFaultHang sets how long SetFailureRate's timeouts hold a request
// (default 10 s); a short hang keeps a test quick.
func (e *Emulator) SetFaultHang(d time.Duration) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.hang = d
}

// Random fault kinds SetFailureRate draws from.
const (
	randomFail5xx = iota
	randomThrottle
	randomHang
	randomFailAfter
	randomDropAfter
	randomSlowAfter
	randomKinds
)

// random draws the random fault for one request: a status to fail with
// before processing (0 for none), a hang before processing, or an "after"
// fault for a POST.
func (f *faults) random(post bool) (status int, hang time.Duration, after *afterFault) {
	if f.rate <= 0 || f.rng == nil || f.rng.Float64() >= f.rate {
		return 0, 0, nil
	}
	h := f.hang
	if h <= 0 {
		h = 10 * time.Second
	}
	kind := f.rng.IntN(randomKinds)
	if !post && kind >= randomFailAfter {
		kind = f.rng.IntN(randomFailAfter)
	}
	switch kind {
	case randomFail5xx:
		return []int{500, 502, 503}[f.rng.IntN(3)], 0, nil
	case randomThrottle:
		return http.StatusTooManyRequests, 0, nil
	case randomHang:
		return http.StatusGatewayTimeout, h, nil
	case randomFailAfter:
		return 0, 0, &afterFault{kind: "fail"}
	case randomDropAfter:
		return 0, 0, &afterFault{kind: "drop"}
	default:
		return 0, 0, &afterFault{kind: "slow", delay: h}
	}
}

// before takes the "before" faults for one request: the delay to wait,
// the status to fail with (0 for none), and a random "after" fault drawn
// for it (nil for none).
func (e *Emulator) before(post bool) (time.Duration, int, *afterFault) {
	f := &e.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.latency
	if f.slowN > 0 {
		f.slowN--
		d += f.slowFor
	}
	status := 0
	if f.failN > 0 {
		f.failN--
		status = f.failStatus
		return d, status, nil
	}
	status, hang, after := f.random(post)
	return d + hang, status, after
}

// takeAfter takes the next "after" fault, if any.
func (e *Emulator) takeAfter() (afterFault, bool) {
	f := &e.faults
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.after) == 0 {
		return afterFault{}, false
	}
	a := f.after[0]
	f.after = f.after[1:]
	return a, true
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

// injectedError is the body FailNext answers with.
func injectedError(status int) *apiError {
	switch {
	case status >= 500:
		return &apiError{status: status, Type: "api_error",
			Message: "An unknown error occurred (injected by the emulator)."}
	case status == http.StatusTooManyRequests:
		return &apiError{status: status, Type: "invalid_request_error", Code: "rate_limit",
			Message: "Request rate limit exceeded (injected by the emulator)."}
	case status == http.StatusConflict:
		return &apiError{status: status, Type: "invalid_request_error", Code: "lock_timeout",
			Message: "This object cannot be accessed right now because another API request or Stripe process is currently accessing it (injected by the emulator)."}
	case status == http.StatusUnauthorized:
		return &apiError{status: status, Type: "invalid_request_error",
			Message: "Invalid API Key provided (injected by the emulator)."}
	default:
		return &apiError{status: status, Type: "invalid_request_error",
			Message: "Injected failure."}
	}
}
