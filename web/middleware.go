package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/logging"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-Id"

// requestID takes the caller's X-Request-Id when it is a sane token (agents
// and load balancers send one, and keeping it joins their logs to ours),
// else makes one; it echoes it in the response and puts it in every log line.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		c.Set("request_id", id)
		r := c.Request()
		c.SetRequest(r.WithContext(logging.With(r.Context(), slog.String("request_id", id))))
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == ':'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// httpMetrics are the request counters and latencies by route and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "acpbridge_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "acpbridge_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "acpbridge_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight)
	return m
}

// accessLog logs one line per request and records its metrics. It runs the
// error handler itself so that the status it logs is the one sent.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		if err := next(c); err != nil {
			c.Error(err)
		}
		// The route template, not the path, keeps label cardinality bounded;
		// unmatched paths all count as one.
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = "unmatched"
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		req := c.Request()
		s.metrics.requests.WithLabelValues(req.Method, route, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(req.Method, route).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case route == "/healthz" || route == "/readyz" || route == "/metrics":
			// Probes arrive every few seconds; keep them out of the info log.
			level = slog.LevelDebug
		}
		path := req.URL.Path
		if strings.HasPrefix(path, checkout.ContinuePath) {
			path = checkout.ContinuePath + "…" // the token lets anyone who reads it to the buyer's checkout
		}
		s.logger.Log(req.Context(), level, "http request",
			"method", req.Method, "route", route, "path", path,
			"status", status, "duration_ms", float64(elapsed.Microseconds())/1000,
			"bytes_out", c.Response().Size, "remote", c.RealIP())
		return nil
	}
}

// recoverPanic turns a panic into an internal error: the stack goes to the
// log with the request id, the client gets the generic 500 body.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			s.logger.ErrorContext(c.Request().Context(), "panic serving request",
				"panic", fmt.Sprint(r), "stack", string(buf))
			err = errors.New("panic recovered")
		}()
		return next(c)
	}
}

// bodyLimit rejects bodies larger than limit with 413, before any handler
// reads them. The webhook receiver bounds its own body (a product with
// thousands of variants is larger than any agent request).
func bodyLimit(limit string) echo.MiddlewareFunc {
	if limit == "" {
		limit = "2M"
	}
	return middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   limit,
		Skipper: func(c echo.Context) bool { return c.Path() == WebhookPath },
	})
}

// slogPrinter adapts slog to promhttp's error logger.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Error("metrics", "err", fmt.Sprint(v...)) }
