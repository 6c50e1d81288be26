package emulator_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// recorder is a RoundTripper standing in for the real network.
type recorder struct{ hosts []string }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.hosts = append(r.hosts, req.URL.Host)
	return &http.Response{StatusCode: http.StatusTeapot, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

func TestTransportRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	next := &recorder{}
	client := &http.Client{Transport: b.emu.Transport(next)}
	tests := []struct {
		url        string
		wantStatus int
		wantNext   bool
	}{
		{"https://" + testShop + "/admin/api/2026-10/graphql.json", http.StatusUnauthorized, false},
		{"https://nosuch.myshopify.com/admin/api/2026-10/graphql.json", http.StatusNotFound, false},
		{"https://api.stripe.com/v1/charges", http.StatusTeapot, true},
	}
	for _, tt := range tests {
		resp, err := client.Post(tt.url, "application/json", strings.NewReader(`{"query":"{ shop { name } }"}`))
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status=%d, want %d", tt.url, resp.StatusCode, tt.wantStatus)
		}
		u, _ := url.Parse(tt.url)
		if got := len(next.hosts) > 0 && next.hosts[len(next.hosts)-1] == u.Host; got != tt.wantNext {
			t.Errorf("%s: passed to next=%v, want %v", tt.url, got, tt.wantNext)
		}
	}
}

func TestTokenEndpointAcceptsForm(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rt := b.install(t, testShop, true)["refresh_token"].(string)
	form := url.Values{"client_id": {testKey}, "client_secret": {testSecret}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	resp, err := b.client.PostForm("https://"+testShop+"/admin/oauth/access_token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("form-encoded refresh: status=%d, want 200", resp.StatusCode)
	}
}
