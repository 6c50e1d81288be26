package delivery

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxMessageLen bounds a server-supplied message kept in an error, so a
// misbehaving server cannot flood logs or job records.
const maxMessageLen = 500

// APIError is an error answer from the Feed API, in the ACP error shape
// {type, code, message, param}. Match it with errors.As; errors.Is matches
// ErrAuthFailed for 401/403 and ErrFeedNotFound for code feed_not_found.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Type is the high-level category, e.g. invalid_request.
	Type string
	// Code is the machine-readable reason, e.g. invalid_product_payload.
	Code string
	// Message is the server's explanation, cut to a bounded length.
	Message string
	// Param names the offending request field, when the server says.
	Param string
	// RetryAfter is the wait the server asked for (Retry-After); zero when
	// it did not ask.
	RetryAfter time.Duration
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "feed api: %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Param != "" {
		b.WriteString(" [param " + e.Param + "]")
	}
	return b.String()
}

// Is lets errors.Is match the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrAuthFailed:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrFeedNotFound:
		// A bare 404 more likely means a wrong BaseURL than a lost feed;
		// only the API's own code lets the caller drop its feed id.
		return e.Status == http.StatusNotFound && e.Code == "feed_not_found"
	}
	return false
}

// Retryable reports whether the same request may succeed later: rate
// limits, server failures, and an idempotent request still in flight.
func (e *APIError) Retryable() bool {
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		return e.Code == "idempotency_in_flight"
	}
	return false
}

// newAPIError reads an error answer. Bodies that are not the ACP shape
// (a proxy's HTML page) become a short quoted snippet.
func newAPIError(status int, header http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{Status: status, RetryAfter: parseRetryAfter(header.Get("Retry-After"), now)}
	var shape struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param"`
	}
	if err := json.Unmarshal(body, &shape); err == nil && (shape.Message != "" || shape.Code != "") {
		e.Type, e.Code, e.Message, e.Param = bound(shape.Type, 100), bound(shape.Code, 100), bound(shape.Message, maxMessageLen), bound(shape.Param, 200)
		return e
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		e.Message = strconv.Quote(bound(s, 200))
	}
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; anything else, or a
// time in the past, is no request to wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before multiplying so an absurd value cannot overflow.
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// bound strips control characters and cuts s to at most n runes.
func bound(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
