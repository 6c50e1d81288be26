package shopify

import (
	"net/http"
	"net/url"
	"strings"
)

// RouteShops returns a RoundTripper that sends requests for
// https://*.myshopify.com to base (http://127.0.0.1:PORT) over http,
// keeping the original Host header, and everything else to next (nil =
// http.DefaultTransport). It lets the app and the tests talk to an emulator
// without changing any URL the code builds; only base's scheme and host are
// used.
func RouteShops(base *url.URL, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &shopRouter{scheme: base.Scheme, host: base.Host, next: next}
}

type shopRouter struct {
	scheme, host string
	next         http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (r *shopRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || !strings.HasSuffix(strings.ToLower(req.URL.Hostname()), ".myshopify.com") {
		return r.next.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request; Clone copies the
	// URL and headers (the body is shared, which is what forwarding needs).
	out := req.Clone(req.Context())
	if out.Host == "" {
		out.Host = req.URL.Host
	}
	out.URL.Scheme = r.scheme
	out.URL.Host = r.host
	return r.next.RoundTrip(out)
}
