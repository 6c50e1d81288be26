package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

// handleMetrics serves Prometheus metrics in the text exposition format.
func (s *Server) handleMetrics(c echo.Context) error {
	promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.logger}}).
		ServeHTTP(c.Response(), c.Request())
	return nil
}
