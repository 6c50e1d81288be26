package web

// routes lists every route of the app. Later capabilities add their groups
// here, so this file is the map of the HTTP surface.
func (s *Server) routes() {
	e := s.echo

	// Operations: liveness, readiness, metrics.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", s.handleMetrics)
}
