package bench

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Balancer is a round-robin HTTP load balancer on 127.0.0.1, as a cloud
// load balancer without health checks: a backend that refuses the
// connection is skipped for the next one.
type Balancer struct {
	backends  []string
	next      atomic.Uint64
	transport *http.Transport
	srv       *http.Server
	url       string
}

// NewBalancer listens on a free loopback port and spreads requests over
// backends (base URLs).
func NewBalancer(backends []string) (*Balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{backends: backends, url: "http://" + ln.Addr().String(),
		transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// URL is the balancer's base URL.
func (b *Balancer) URL() string { return b.url }

// Close stops the balancer.
func (b *Balancer) Close() {
	_ = b.srv.Close()
	b.transport.CloseIdleConnections()
}

// ServeHTTP forwards the request to the next backend.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	for try := 0; try < len(b.backends); try++ {
		base := b.backends[int(b.next.Add(1)%uint64(len(b.backends)))]
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = "http", strings.TrimPrefix(base, "http://")
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.Header.Set("X-Forwarded-For", r.RemoteAddr)
		resp, err := b.transport.RoundTrip(out)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // down: the next one
			}
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no backend", http.StatusBadGateway)
}
