package delivery

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 17, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"99999999999999", 24 * time.Hour},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewAPIError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		body        string
		wantCode    string
		wantMessage string // substring
		wantMaxLen  int    // 0: no bound checked
	}{
		{"acp shape", 400, `{"type":"invalid_request","code":"invalid_product_payload","message":"bad id","param":"$.products[0].id"}`,
			"invalid_product_payload", "bad id", 0},
		{"html page", 502, "<html><body>Bad Gateway</body></html>", "", `"<html><body>Bad Gateway</body></html>"`, 0},
		{"huge message bounded", 400, `{"code":"x","message":"` + strings.Repeat("a", 10_000) + `"}`, "x", "aaaa", maxMessageLen + 10},
		{"huge body bounded", 500, strings.Repeat("b", 10_000), "", "bbbb", 210},
		{"control characters stripped", 400, `{"code":"x","message":"line1\nline2\u001b[31m"}`, "x", "line1 line2 [31m", 0},
		{"empty body", 503, "", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIError(tt.status, http.Header{}, []byte(tt.body), time.Now())
			if e.Status != tt.status || e.Code != tt.wantCode || !strings.Contains(e.Message, tt.wantMessage) {
				t.Errorf("newAPIError() = %+v, want code %q and message containing %q", e, tt.wantCode, tt.wantMessage)
			}
			if tt.wantMaxLen > 0 && len([]rune(e.Message)) > tt.wantMaxLen {
				t.Errorf("message is %d runes, want at most %d", len([]rune(e.Message)), tt.wantMaxLen)
			}
		})
	}
}

func TestAPIErrorClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err          *APIError
		retryable    bool
		auth, noFeed bool
	}{
		{&APIError{Status: 400}, false, false, false},
		{&APIError{Status: 401}, false, true, false},
		{&APIError{Status: 403}, false, true, false},
		{&APIError{Status: 404, Code: "feed_not_found"}, false, false, true},
		{&APIError{Status: 404}, false, false, false},
		{&APIError{Status: 409, Code: "idempotency_in_flight"}, true, false, false},
		{&APIError{Status: 409, Code: "conflict"}, false, false, false},
		{&APIError{Status: 422, Code: "idempotency_conflict"}, false, false, false},
		{&APIError{Status: 429}, true, false, false},
		{&APIError{Status: 500}, true, false, false},
		{&APIError{Status: 501}, false, false, false},
		{&APIError{Status: 503}, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			t.Parallel()
			if got := IsRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsRetryable() = %v, want %v", got, tt.retryable)
			}
			if got := errors.Is(tt.err, ErrAuthFailed); got != tt.auth {
				t.Errorf("errors.Is(ErrAuthFailed) = %v, want %v", got, tt.auth)
			}
			if got := errors.Is(tt.err, ErrFeedNotFound); got != tt.noFeed {
				t.Errorf("errors.Is(ErrFeedNotFound) = %v, want %v", got, tt.noFeed)
			}
		})
	}
}
