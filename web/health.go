package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/acpbridge/acpbridge/app"
)

// handleHealthz answers as long as the process serves HTTP: a load balancer
// or orchestrator restarts the process when this stops answering.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyResponse is /readyz's body.
type readyResponse struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// handleReadyz answers 200 only when every probe passes (database reachable,
// migrations current, job queue running), so a load balancer sends traffic
// only to replicas that can serve it. Probe errors are summarised, not
// detailed, as the endpoint is unauthenticated.
func (s *Server) handleReadyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	res := readyResponse{Status: "ready", Checks: make(map[string]string, len(s.probes))}
	code := http.StatusOK
	for _, p := range s.probes {
		if err := p.probe(ctx); err != nil {
			s.logger.WarnContext(ctx, "readiness probe failed", "probe", p.name, "err", err)
			res.Checks[p.name] = "failing"
			res.Status = "not ready"
			code = http.StatusServiceUnavailable
			continue
		}
		res.Checks[p.name] = "ok"
	}
	return c.JSON(code, res)
}

// handleMetrics serves Prometheus metrics in the text exposition format on
// the main port, only when no separate listener serves them and a
// METRICS_TOKEN is set (then required as Bearer). Otherwise it answers 404
// as if there were no such route: traffic levels are nobody's business.
func (s *Server) handleMetrics(c echo.Context) error {
	if s.metricsSeparate || s.metricsToken == "" {
		return echo.ErrNotFound
	}
	if !metricsAuthorized(c.Request(), s.metricsToken) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
		return &app.Error{Code: app.CodeUnauthorized, Field: "Authorization", Message: "metrics require the METRICS_TOKEN as Bearer"}
	}
	s.promHandler().ServeHTTP(c.Response(), c.Request())
	return nil
}

func (s *Server) promHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.logger}})
}

// MaxProfileSeconds bounds ?seconds= of a CPU profile or trace.
const MaxProfileSeconds = 60

// MetricsHandler is the handler of the separate metrics listener
// (METRICS_ADDR): GET /metrics and, with pprof (PPROF), Go's profiles
// under /debug/pprof/, both with the METRICS_TOKEN as Bearer when one is
// set; anything else is 404.
func (s *Server) MetricsHandler(profiles bool) http.Handler {
	prom := s.promHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isProfile := profiles && strings.HasPrefix(r.URL.Path, "/debug/pprof/")
		switch {
		case r.URL.Path != "/metrics" && !isProfile:
			http.NotFound(w, r)
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		case !metricsAuthorized(r, s.metricsToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics require the METRICS_TOKEN as Bearer", http.StatusUnauthorized)
		case isProfile:
			serveProfile(w, r)
		default:
			prom.ServeHTTP(w, r)
		}
	})
}

// serveProfile serves one of net/http/pprof's pages, a CPU profile or
// trace at most MaxProfileSeconds long.
func serveProfile(w http.ResponseWriter, r *http.Request) {
	if sec := r.URL.Query().Get("seconds"); sec != "" {
		n, err := strconv.Atoi(sec)
		if err != nil || n < 1 || n > MaxProfileSeconds {
			http.Error(w, fmt.Sprintf("seconds must be 1 to %d", MaxProfileSeconds), http.StatusBadRequest)
			return
		}
	}
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "":
		pprof.Index(w, r)
	case "cmdline":
		// The command line is the binary's path and its subcommand; the
		// configuration (secrets included) comes from the environment.
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}
