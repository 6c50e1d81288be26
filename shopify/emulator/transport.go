package emulator

import (
	"errors"
	"net/http"
	"strings"
)

// Transport returns an http.RoundTripper that sends every request for
// https://*.myshopify.com/... to the emulator's loopback address over plain
// http, keeping the original Host so the emulator can tell shops apart, and
// passes every other host to next (nil means http.DefaultTransport). The app
// gets an *http.Client with this transport and cannot tell the difference.
func (e *Emulator) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{e: e, next: next}
}

type transport struct {
	e    *Emulator
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(strings.ToLower(req.URL.Hostname()), ".myshopify.com") {
		return t.next.RoundTrip(req)
	}
	t.e.mu.Lock()
	addr := t.e.addr
	t.e.mu.Unlock()
	if addr == "" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("emulator: not started")
	}
	// A RoundTripper must not modify the caller's request, so rewrite a clone.
	out := req.Clone(req.Context())
	out.URL.Scheme = "http"
	out.URL.Host = addr
	out.Host = req.URL.Host
	return t.e.loopback.RoundTrip(out)
}
