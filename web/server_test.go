package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/logging"
	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/web"
)

func newServer(t *testing.T) (*web.Server, *testkit.LogBuffer) {
	t.Helper()
	logs := &testkit.LogBuffer{}
	logger := logging.New(logs, slog.LevelDebug, "json")
	s := web.New(web.Config{Logger: logger, Registry: prometheus.NewRegistry(), BodyLimit: "1K",
		Ready: map[string]web.Probe{"database": func(context.Context) error { return nil }}})
	e := s.Echo()
	e.GET("/test/panic", func(c echo.Context) error { panic("kaboom at secret place") })
	e.GET("/test/internal", func(c echo.Context) error { return errors.New("dial db: password=hunter2") })
	e.GET("/test/invalid", func(c echo.Context) error {
		return &app.Error{Code: app.CodeInvalid, Message: "quantity must be at least 1", Field: "$.items[0].quantity"}
	})
	e.GET("/test/notfound", func(c echo.Context) error { return app.ErrNotFound })
	e.POST("/test/read", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, string(b))
	})
	return s, logs
}

func TestErrorsHaveOneShapeAndNoInternals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantType   string
		wantCode   string
		wantParam  string
	}{
		{"unknown route", "GET", "/no/such/thing", "", 404, "invalid_request", "not_found", ""},
		{"wrong method", "DELETE", "/healthz", "", 405, "invalid_request", "method_not_allowed", ""},
		{"panic", "GET", "/test/panic", "", 500, "processing_error", "internal_error", ""},
		{"internal error", "GET", "/test/internal", "", 500, "processing_error", "internal_error", ""},
		{"app invalid", "GET", "/test/invalid", "", 400, "invalid_request", "invalid", "$.items[0].quantity"},
		{"app not found", "GET", "/test/notfound", "", 404, "invalid_request", "not_found", ""},
		{"body too large", "POST", "/test/read", strings.Repeat("x", 2048), 413, "invalid_request", "request_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, logs := newServer(t)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			var body struct{ Type, Code, Message, Param string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not the JSON error shape: %v", rec.Body, err)
			}
			if body.Type != tt.wantType || body.Code != tt.wantCode || body.Param != tt.wantParam || body.Message == "" {
				t.Fatalf("body = %+v, want type %q code %q param %q", body, tt.wantType, tt.wantCode, tt.wantParam)
			}
			for _, leak := range []string{"goroutine", ".go:", "kaboom", "hunter2", "panic"} {
				if strings.Contains(rec.Body.String(), leak) {
					t.Fatalf("body %q reveals %q", rec.Body, leak)
				}
			}
			id := rec.Header().Get("X-Request-Id")
			if id == "" || !strings.Contains(logs.String(), `"request_id":"`+id+`"`) {
				t.Fatalf("request id %q missing from header or logs:\n%s", id, logs)
			}
			if tt.name == "panic" && !strings.Contains(logs.String(), "goroutine") {
				t.Fatalf("panic stack not logged:\n%s", logs)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"agent's id kept", "req_01HZX-abc.def:1", true},
		{"none made", "", false},
		{"spaces replaced", "a b", false},
		{"log injection replaced", "x\"}\n{\"level\":\"ERROR\"", false},
		{"too long replaced", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t)
			req := httptest.NewRequest("GET", "/healthz", nil)
			if tt.in != "" {
				req.Header.Set("X-Request-Id", tt.in)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if tt.keep && got != tt.in {
				t.Fatalf("X-Request-Id = %q, want the caller's %q", got, tt.in)
			}
			if !tt.keep && (got == tt.in || len(got) != 32) {
				t.Fatalf("X-Request-Id = %q, want a fresh 32-char id", got)
			}
		})
	}
}

func TestSmallBodiesPass(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/test/read", strings.NewReader("hello")))
	if rec.Code != 200 || rec.Body.String() != "hello" {
		t.Fatalf("got %d %q", rec.Code, rec.Body)
	}
}

// TestThrottledAndClientGone: Shopify's rate limit answers 429 with
// Retry-After, wrapped or not; a request whose client went away (its
// context canceled: a read of the database then fails with "context
// canceled") is no internal error: no 500, nothing logged at error level;
// the same error without the client gone stays an internal error.
func TestThrottledAndClientGone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		err            error
		clientGone     bool
		wantStatus     int
		wantCode       string
		wantRetryAfter string
		wantErrorLog   bool
	}{
		{name: "throttled with a wait", err: fmt.Errorf("quote: %w", &shopify.ThrottledError{RetryAfter: 1500 * time.Millisecond, Reason: "test"}),
			wantStatus: 429, wantCode: "rate_limit_exceeded", wantRetryAfter: "2"},
		{name: "throttled without a wait", err: fmt.Errorf("order: %w", shopify.ErrThrottled), wantStatus: 429, wantCode: "rate_limit_exceeded", wantRetryAfter: "1"},
		{name: "client gone", err: fmt.Errorf("feed settings: %w", context.Canceled), clientGone: true, wantStatus: 499, wantCode: "client_closed_request"},
		{name: "client gone while waiting for Shopify", err: fmt.Errorf("waiting for rate-limit points: %w: %w", shopify.ErrThrottled, context.Canceled),
			clientGone: true, wantStatus: 499, wantCode: "client_closed_request"},
		{name: "canceled, client still there", err: fmt.Errorf("feed settings: %w", context.Canceled), wantStatus: 500, wantCode: "internal_error", wantErrorLog: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, logs := newServer(t)
			s.Echo().GET("/test/err", func(c echo.Context) error { return tt.err })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.clientGone {
				cancel()
			}
			req := httptest.NewRequest("GET", "/test/err", nil).WithContext(ctx)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || rec.Header().Get("Retry-After") != tt.wantRetryAfter {
				t.Fatalf("status %d, Retry-After %q; want %d, %q (body %s)", rec.Code, rec.Header().Get("Retry-After"), tt.wantStatus, tt.wantRetryAfter, rec.Body)
			}
			var body struct{ Type, Code, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != tt.wantCode || body.Message == "" {
				t.Fatalf("body %s (%v), want code %q", rec.Body, err, tt.wantCode)
			}
			if got := strings.Contains(logs.String(), `"level":"ERROR"`); got != tt.wantErrorLog {
				t.Errorf("logged at error level: %v, want %v:\n%s", got, tt.wantErrorLog, logs)
			}
			if tt.clientGone && !strings.Contains(logs.String(), "client went away") {
				t.Errorf("no line says the client went away:\n%s", logs)
			}
		})
	}
}
