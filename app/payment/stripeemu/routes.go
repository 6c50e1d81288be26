package stripeemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// routes lists every endpoint the emulator serves.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	api := func(pattern string, h handler) { mux.Handle(pattern, e.api(h, true)) }
	api("POST /v1/payment_intents", e.createIntent)
	api("GET /v1/payment_intents/search", e.searchIntents)
	api("GET /v1/payment_intents/{id}", e.getIntent)
	api("POST /v1/payment_intents/{id}/confirm", e.confirmIntent)
	api("POST /v1/payment_intents/{id}/capture", e.captureIntent)
	api("POST /v1/payment_intents/{id}/cancel", e.cancelIntent)
	api("POST /v1/refunds", e.createRefund)
	api("GET /v1/refunds/{id}", e.getRefund)
	api("GET /v1/account", e.getAccount)
	api("GET /v1/shared_payment/granted_tokens/{id}", e.getToken)
	// Test helpers are never hit by faults: tests and the demo set up
	// their state with them.
	helper := func(pattern string, h handler) { mux.Handle(pattern, e.api(h, false)) }
	helper("POST /v1/test_helpers/shared_payment/granted_tokens", e.grantTokenHelper)
	helper("POST /v1/test_helpers/shared_payment/granted_tokens/{id}/revoke", e.revokeTokenHelper)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e.countCall(r, "")
		writeError(w, e.nextRequestID(), DefaultAPIVersion, &apiError{status: http.StatusNotFound,
			Type: "invalid_request_error", Message: fmt.Sprintf("Unrecognized request URL (%s: %s).", r.Method, r.URL.Path)})
	})
	return mux
}

// handler serves one endpoint under e.mu. It returns the object to answer
// 200 with, or an error.
type handler func(rq *request) (any, *apiError)

// request is what a handler sees of an authenticated API request.
type request struct {
	r       *http.Request
	acct    *account
	params  url.Values
	version string
	now     time.Time
}

// apiError is Stripe's error object, answered as {"error": {...}}.
type apiError struct {
	status int
	// validation marks an error raised before the request ran: it is not
	// kept for idempotent replay, as on Stripe, which does keep declines
	// and state errors.
	validation bool

	Type          string `json:"type"`
	Code          string `json:"code,omitempty"`
	DeclineCode   string `json:"decline_code,omitempty"`
	Message       string `json:"message"`
	Param         string `json:"param,omitempty"`
	DocURL        string `json:"doc_url,omitempty"`
	Charge        string `json:"charge,omitempty"`
	PaymentIntent any    `json:"payment_intent,omitempty"`
	PaymentMethod any    `json:"payment_method,omitempty"`
	RequestLogURL string `json:"request_log_url,omitempty"`
}

// invalid is a 400 invalid_request_error that failed validation.
func invalid(param, code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, validation: true, Type: "invalid_request_error",
		Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// stateError is a 400 invalid_request_error raised while running: stored
// for idempotent replay.
func stateError(code, param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error",
		Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// notFound is Stripe's resource_missing for an id the account cannot see.
func notFound(param, kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, Type: "invalid_request_error", Code: "resource_missing",
		Param: param, Message: fmt.Sprintf("No such %s: '%s'", kind, id), validation: true}
}

// idemRecord is a stored response for an Idempotency-Key.
type idemRecord struct {
	method, path, params string
	status               int
	body                 []byte
	requestID            string
	created              time.Time
}

func (e *Emulator) nextRequestID() string {
	return "req_" + e.derive("req", fmt.Sprint(e.reqSeq.Add(1)), 14)
}

// versionRE matches a Stripe-Version: a date with an optional release name.
var versionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// api wraps a handler with what every Stripe endpoint does: request id,
// version, authentication, parameters, idempotency, faults and the answer.
func (e *Emulator) api(h handler, faulty bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &apiCall{w: w, r: r, reqID: e.nextRequestID()}
		e.countCall(r, r.Pattern)
		if !e.readCall(c) || !e.claimKey(c) {
			return
		}
		var randomAfter *afterFault
		if faulty {
			after, ok := e.faultBefore(c)
			if !ok {
				return
			}
			randomAfter = after
		}
		status, raw := e.serve(c, h)
		e.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status, "request_id", c.reqID)
		if faulty && r.Method == http.MethodPost && !e.faultAfter(c, randomAfter) {
			return
		}
		writeRaw(w, c.reqID, c.version, status, raw)
	})
}

// apiCall is one request to the emulator, as api reads it.
type apiCall struct {
	w              http.ResponseWriter
	r              *http.Request
	reqID, version string
	acct           *account
	params         url.Values
	key            string // the Idempotency-Key
	idem           bool   // a POST with a key
}

// fail answers the call with err.
func (c *apiCall) fail(err *apiError) { writeError(c.w, c.reqID, c.version, err) }

// readCall reads the call's Stripe-Version, account and parameters (the
// form of a POST, else the query); false when it answered an error.
func (e *Emulator) readCall(c *apiCall) bool {
	version := c.r.Header.Get("Stripe-Version")
	if version == "" {
		version = DefaultAPIVersion
	}
	if !versionRE.MatchString(version) {
		writeError(c.w, c.reqID, DefaultAPIVersion, &apiError{status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: fmt.Sprintf("Invalid Stripe API version: %s", version)})
		return false
	}
	c.version = version
	acct, aerr := e.authenticate(c.r)
	if aerr != nil {
		c.fail(aerr)
		return false
	}
	c.acct = acct
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, 1<<20)
	if c.r.Method == http.MethodPost {
		if err := c.r.ParseForm(); err != nil {
			c.fail(invalid("", "", "Invalid request body: %v", err))
			return false
		}
		c.params = c.r.PostForm
	} else {
		c.params = c.r.URL.Query()
	}
	return true
}

// claimKey claims the Idempotency-Key of a POST, or replays the answer
// stored under it, or refuses the call; false when it answered.
func (e *Emulator) claimKey(c *apiCall) bool {
	c.key = strings.TrimSpace(c.r.Header.Get("Idempotency-Key"))
	c.idem = c.r.Method == http.MethodPost && c.key != ""
	if !c.idem {
		return true
	}
	if len(c.key) > 255 {
		c.fail(invalid("", "", "Idempotency key is too long (more than 255 characters)."))
		return false
	}
	c.w.Header().Set("Idempotency-Key", c.key)
	rec, conflict := e.claim(c.acct, c.key, c.r, c.params)
	if conflict != nil {
		c.fail(conflict)
		return false
	}
	if rec != nil {
		e.mu.Lock()
		e.stats.Replays++
		e.mu.Unlock()
		c.w.Header().Set("Idempotent-Replayed", "true")
		c.w.Header().Set("Original-Request", rec.requestID)
		writeRaw(c.w, c.reqID, c.version, rec.status, rec.body)
		return false
	}
	return true
}

// release frees the call's claimed key when it does nothing.
func (e *Emulator) release(c *apiCall) {
	if c.idem {
		e.mu.Lock()
		delete(c.acct.inflight, c.key)
		e.mu.Unlock()
	}
}

// faultBefore injects the random faults due before the handler runs (a
// delay, a failure); false when the call ended there. It returns the fault
// drawn for after the handler, if any.
func (e *Emulator) faultBefore(c *apiCall) (*afterFault, bool) {
	delay, failStatus, after := e.before(c.r.Method == http.MethodPost)
	if delay > 0 && !e.wait(c.r, delay) {
		e.release(c) // the client gave up: nothing happened
		if failStatus != 0 {
			e.countFault()
		}
		return nil, false
	}
	if failStatus != 0 {
		e.release(c)
		e.countFault()
		c.fail(injectedError(failStatus))
		return nil, false
	}
	return after, true
}

// serve runs the handler under the emulator's lock and stores its answer
// under the call's idempotency key (validation errors excepted).
func (e *Emulator) serve(c *apiCall, h handler) (int, []byte) {
	e.mu.Lock()
	rq := &request{r: c.r, acct: c.acct, params: c.params, version: c.version, now: e.now()}
	obj, herr := h(rq)
	status, body := http.StatusOK, any(obj)
	if herr != nil {
		status, body = herr.status, map[string]any{"error": herr}
	}
	raw := encodeJSON(body)
	if c.idem {
		delete(c.acct.inflight, c.key)
		if herr == nil || !herr.validation {
			c.acct.idem[c.key] = &idemRecord{method: c.r.Method, path: c.r.URL.Path, params: c.params.Encode(),
				status: status, body: raw, requestID: c.reqID, created: rq.now}
			if len(c.acct.idem)%1024 == 0 {
				e.pruneIdem(c.acct, rq.now)
			}
		}
	}
	e.mu.Unlock()
	return status, raw
}

// faultAfter injects the fault due after a POST's handler ran (the one
// set by the test, else the random one drawn): a failure, a dropped
// connection or a slow answer; false when the call ended there.
func (e *Emulator) faultAfter(c *apiCall, randomAfter *afterFault) bool {
	f, ok := e.takeAfter()
	if !ok && randomAfter != nil {
		f, ok = *randomAfter, true
	}
	if !ok {
		return true
	}
	e.countFault()
	switch f.kind {
	case "fail":
		c.w.Header().Set("Stripe-Should-Retry", "true")
		c.fail(injectedError(http.StatusInternalServerError))
		return false
	case "drop":
		if conn, _, err := http.NewResponseController(c.w).Hijack(); err == nil {
			_ = conn.Close()
			return false
		}
		// Not hijackable (HTTP/2 or a recorder): abort the handler,
		// which net/http turns into a broken response.
		panic(http.ErrAbortHandler)
	case "slow":
		if !e.wait(c.r, f.delay) {
			return false
		}
	}
	return true
}

// claim looks up an Idempotency-Key. It returns the stored record to
// replay, or an error (different parameters, or the first request still
// running), or neither after marking the key in flight.
func (e *Emulator) claim(acct *account, key string, r *http.Request, params url.Values) (*idemRecord, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if rec, ok := acct.idem[key]; ok {
		if now.Sub(rec.created) >= e.cfg.IdempotencyTTL {
			delete(acct.idem, key)
		} else {
			if rec.method != r.Method || rec.path != r.URL.Path || rec.params != params.Encode() {
				e.stats.IdempotencyConflicts++
				return nil, &apiError{status: http.StatusBadRequest, Type: "idempotency_error",
					Message: fmt.Sprintf("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key)}
			}
			return rec, nil
		}
	}
	if acct.inflight[key] {
		e.stats.IdempotencyConflicts++
		return nil, &apiError{status: http.StatusConflict, Type: "idempotency_error", Code: "idempotency_key_in_use",
			Message: fmt.Sprintf("There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): %s. Please try again later.", key)}
	}
	acct.inflight[key] = true
	return nil, nil
}

// pruneIdem drops the account's expired idempotent results, so a long
// demo does not keep every answer forever. Callers hold e.mu.
func (e *Emulator) pruneIdem(acct *account, now time.Time) {
	for k, rec := range acct.idem {
		if now.Sub(rec.created) >= e.cfg.IdempotencyTTL {
			delete(acct.idem, k)
		}
	}
}

// authenticate finds the account of the request's API key, sent as Bearer
// or as Basic auth's user name (curl -u sk_test_…:).
func (e *Emulator) authenticate(r *http.Request) (*account, *apiError) {
	h := r.Header.Get("Authorization")
	var key string
	switch {
	case strings.HasPrefix(h, "Bearer "):
		key = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	case strings.HasPrefix(h, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		if err == nil {
			key, _, _ = strings.Cut(string(raw), ":")
		}
	}
	if key == "" {
		return nil, &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := e.keys[key]
	if !ok {
		return nil, &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "Invalid API Key provided: " + redactKey(key)}
	}
	return e.accounts[id], nil
}

// redactKey shows a key as Stripe does in errors: prefix, stars, last four.
func redactKey(k string) string {
	if len(k) <= 12 {
		return strings.Repeat("*", len(k))
	}
	i := strings.LastIndexByte(k[:min(len(k), 8)], '_') + 1
	return k[:i] + strings.Repeat("*", len(k)-i-4) + k[len(k)-4:]
}

func (e *Emulator) countCall(r *http.Request, pattern string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.Requests++
	e.calls[r.Method+" "+r.URL.Path]++
	e.calls[r.URL.Path]++
	if pattern != "" {
		if _, p, ok := strings.Cut(pattern, " "); ok && p != r.URL.Path {
			e.calls[pattern]++
			e.calls[p]++
		}
	}
}

func (e *Emulator) countFault() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stats.Faults++
}

func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ") // Stripe pretty-prints its answers
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("stripeemu: encode: %v", err))
	}
	return buf.Bytes()
}

func writeRaw(w http.ResponseWriter, reqID, version string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Request-Id", reqID)
	h.Set("Stripe-Version", version)
	h.Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, reqID, version string, err *apiError) {
	writeRaw(w, reqID, version, err.status, encodeJSON(map[string]any{"error": err}))
}
