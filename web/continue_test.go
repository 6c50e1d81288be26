package web_test

import (
	"context"
	"errors"
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
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/logging"
	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/web"
)

// continueFunc is a ContinueService of one function.
type continueFunc func(ctx context.Context, token string) (*checkout.ContinueOutcome, error)

func (f continueFunc) Continue(ctx context.Context, token string) (*checkout.ContinueOutcome, error) {
	return f(ctx, token)
}

// TestContinuePage: the buyer's link answers a redirect to where they
// pay, or a small HTML page with the status the outcome calls for, a way
// to try again where trying again can help, and never an internal detail.
func TestContinuePage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method       string // default GET
		out          *checkout.ContinueOutcome
		err          error
		wantStatus   int
		wantLocation string
		wantText     string
		wantRetry    bool
		wantAfter    string
	}{
		{name: "the draft", out: &checkout.ContinueOutcome{RedirectURL: "https://shop.example/checkouts/1", Checkout: true}, wantStatus: http.StatusSeeOther,
			wantLocation: "https://shop.example/checkouts/1"},
		{name: "the draft, POST kept", method: http.MethodPost, out: &checkout.ContinueOutcome{RedirectURL: "https://shop.example/checkouts/1", Checkout: true},
			wantStatus: http.StatusTemporaryRedirect, wantLocation: "https://shop.example/checkouts/1"},
		{name: "the order's status page, POST seen as GET", method: http.MethodPost, out: &checkout.ContinueOutcome{RedirectURL: "https://shop.example/orders/1"},
			wantStatus: http.StatusSeeOther, wantLocation: "https://shop.example/orders/1"},
		{name: "bad token", err: checkout.ErrNoSuchLink, wantStatus: http.StatusNotFound, wantText: "not valid"},
		{name: "Shopify down", err: &app.Error{Code: app.CodeUnavailable, RetryAfter: 2 * time.Second, Message: "The store's checkout cannot be reached right now."},
			wantStatus: http.StatusServiceUnavailable, wantText: "cannot be reached", wantRetry: true, wantAfter: "2"},
		{name: "throttled", err: &app.Error{Code: app.CodeRateLimited, RetryAfter: 3 * time.Second, Message: "Try again in a moment."},
			wantStatus: http.StatusTooManyRequests, wantText: "Try again in a moment", wantRetry: true, wantAfter: "3"},
		{name: "internal", err: errors.New("dial db: password=hunter2"), wantStatus: http.StatusInternalServerError,
			wantText: "nothing was charged", wantRetry: true},
		{name: "ended", out: &checkout.ContinueOutcome{Page: checkout.PageEnded}, wantStatus: http.StatusGone, wantText: "has ended"},
		{name: "not ready", out: &checkout.ContinueOutcome{Page: checkout.PageNotReady}, wantStatus: http.StatusConflict, wantText: "not ready", wantRetry: true},
		{name: "price changed", out: &checkout.ContinueOutcome{Page: checkout.PagePriceChanged, Total: 3395, Currency: "USD"},
			wantStatus: http.StatusConflict, wantText: "33.95 USD", wantRetry: true},
		{name: "completed", out: &checkout.ContinueOutcome{Page: checkout.PageCompleted}, wantStatus: http.StatusOK, wantText: "paid"},
		{name: "unknown path under the link", err: echo.ErrNotFound, wantStatus: http.StatusNotFound, wantText: "not valid"},
		{name: "busy", out: &checkout.ContinueOutcome{Page: checkout.PageBusy}, wantStatus: http.StatusServiceUnavailable,
			wantText: "reloads by itself", wantRetry: true, wantAfter: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got string
			logs := &testkit.LogBuffer{}
			s := web.New(web.Config{Logger: logging.New(logs, slog.LevelDebug, "json"), Registry: prometheus.NewRegistry(),
				Continue: continueFunc(func(_ context.Context, token string) (*checkout.ContinueOutcome, error) {
					got = token
					return tt.out, tt.err
				})})
			rec := httptest.NewRecorder()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			s.ServeHTTP(rec, httptest.NewRequest(method, checkout.ContinuePath+"tok_123", nil))
			body, _ := io.ReadAll(rec.Body)
			if got != "tok_123" {
				t.Errorf("token = %q", got)
			}
			if strings.Contains(logs.String(), "tok_123") || !strings.Contains(logs.String(), "http request") {
				t.Errorf("the access log shows the buyer's token, or nothing:\n%s", logs.String())
			}
			if rec.Code != tt.wantStatus || rec.Header().Get("Location") != tt.wantLocation || rec.Header().Get("Retry-After") != tt.wantAfter {
				t.Fatalf("status %d, Location %q, Retry-After %q; want %d, %q, %q\n%s", rec.Code, rec.Header().Get("Location"),
					rec.Header().Get("Retry-After"), tt.wantStatus, tt.wantLocation, tt.wantAfter, body)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
			}
			if tt.wantLocation != "" {
				return
			}
			page := string(body)
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(page, tt.wantText) ||
				strings.Contains(page, "hunter2") || strings.Contains(page, "internal_error") {
				t.Errorf("page lacks %q, or shows internals:\n%s", tt.wantText, page)
			}
			if retry := strings.Contains(page, `class="button"`); retry != tt.wantRetry {
				t.Errorf("offers to try again: %v, want %v\n%s", retry, tt.wantRetry, page)
			}
		})
	}
}

// TestContinueLinkRateLimited: the address's rate limit on the link is a
// buyer's page too (429, Retry-After, a way to try again), not an API
// error body.
func TestContinueLinkRateLimited(t *testing.T) {
	t.Parallel()
	s := web.New(web.Config{Logger: logging.New(&testkit.LogBuffer{}, slog.LevelDebug, "json"), Registry: prometheus.NewRegistry(),
		IPRate: 0.001, IPBurst: 1,
		Continue: continueFunc(func(context.Context, string) (*checkout.ContinueOutcome, error) {
			return &checkout.ContinueOutcome{RedirectURL: "https://shop.example/checkouts/1"}, nil
		})})
	var rec *httptest.ResponseRecorder
	for range 2 {
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, checkout.ContinuePath+"tok_123", nil))
	}
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(rec.Body.String(), `class="button"`) {
		t.Errorf("second click over the limit: %d, Retry-After %q, %s\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Header().Get("Content-Type"), rec.Body)
	}
}
