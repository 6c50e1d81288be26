package shopify_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
)

// shopServer starts an httptest server for h and returns a client that
// sends https://*.myshopify.com to it.
func shopServer(t *testing.T, h http.Handler) *http.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: shopify.RouteShops(base, srv.Client().Transport)}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRouteShops(t *testing.T) {
	t.Parallel()
	var (
		mu               sync.Mutex
		gotHost, gotPath string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		gotHost, gotPath = r.Host, r.URL.Path
		io.WriteString(w, "emulator")
	}))
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL)

	var nextURL string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host == base.Host {
			return srv.Client().Transport.RoundTrip(r)
		}
		nextURL = r.URL.String()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("elsewhere")), Request: r}, nil
	})
	client := &http.Client{Transport: shopify.RouteShops(base, next)}

	tests := []struct {
		name, url, wantBody, wantHost, wantNext string
	}{
		{"shop goes to the emulator", "https://demo.myshopify.com/admin/oauth/access_token", "emulator", "demo.myshopify.com", ""},
		{"upper-case shop too", "https://Demo.MyShopify.com/x", "emulator", "Demo.MyShopify.com", ""},
		{"other https host passes through", "https://example.com/y", "elsewhere", "", "https://example.com/y"},
		{"plain http shop passes through", "http://demo.myshopify.com/z", "elsewhere", "", "http://demo.myshopify.com/z"},
		{"look-alike passes through", "https://demo.myshopify.com.evil.com/", "elsewhere", "", "https://demo.myshopify.com.evil.com/"},
	}
	for _, tt := range tests {
		mu.Lock()
		gotHost, gotPath, nextURL = "", "", ""
		mu.Unlock()
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		before, beforeHost := req.URL.String(), req.Host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: Do: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mu.Lock()
		if string(body) != tt.wantBody {
			t.Errorf("%s: body = %q, want %q", tt.name, body, tt.wantBody)
		}
		if gotHost != tt.wantHost {
			t.Errorf("%s: Host = %q, want %q", tt.name, gotHost, tt.wantHost)
		}
		if tt.wantHost != "" && gotPath != req.URL.Path {
			t.Errorf("%s: path = %q, want %q", tt.name, gotPath, req.URL.Path)
		}
		if nextURL != tt.wantNext {
			t.Errorf("%s: next got %q, want %q", tt.name, nextURL, tt.wantNext)
		}
		if req.URL.String() != before || req.Host != beforeHost {
			t.Errorf("%s: caller's request changed to %s (Host %q)", tt.name, req.URL, req.Host)
		}
		mu.Unlock()
	}
}
