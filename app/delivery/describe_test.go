package delivery_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

// secretBody is what an internal service (a cloud metadata endpoint) would
// answer; none of it may reach the merchant.
const secretBody = `{"AccessKeyId":"ASIAEXAMPLESECRET","SecretAccessKey":"wJalrXUtnFEMI"}`

// TestDescribe: each class of failure gets its own words, and none of
// them repeats the remote text or an address.
func TestDescribe(t *testing.T) {
	opErr := func(errno error) error {
		return &url.Error{Op: "Post", URL: "https://10.1.2.3:8443/feeds", Err: &net.OpError{Op: "dial", Net: "tcp",
			Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8443}, Err: &os.SyscallError{Syscall: "connect", Err: errno}}}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"refused by policy", fmt.Errorf("sftp: dial 10.0.0.1:22: %w", &netguard.RefusedError{Addr: netip.MustParseAddr("10.0.0.1"), Class: netguard.Private}), "address not allowed"},
		{"connection refused", opErr(syscall.ECONNREFUSED), "connection refused"},
		{"timed out", opErr(syscall.ETIMEDOUT), "timed out"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), "timed out"},
		{"unreachable", opErr(syscall.EHOSTUNREACH), "host unreachable"},
		{"reset", opErr(syscall.ECONNRESET), "closed by the server"},
		{"dns", &url.Error{Op: "Post", URL: "https://nope.example", Err: &net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}}, "DNS lookup failed"},
		{"cert", &url.Error{Op: "Post", URL: "https://x", Err: x509.UnknownAuthorityError{}}, "TLS error"},
		{"tls", fmt.Errorf("x: %w", errors.New("tls: handshake failure")), "TLS error"},
		{"http 500", fmt.Errorf("x: %w", &delivery.APIError{Status: 500, Message: secretBody}), "HTTP 500 Internal Server Error"},
		{"http 401", &delivery.APIError{Status: 401, Message: secretBody}, "HTTP 401 Unauthorized: authentication failed"},
		{"http 307", &delivery.APIError{Status: 307, Message: secretBody}, "HTTP 307 Temporary Redirect (redirects are not followed)"},
		{"host key", fmt.Errorf("sftp: connect 10.0.0.1:22: %w", delivery.ErrHostKeyMismatch), "host key does not match"},
		{"unknown", errors.New(secretBody), "details are in the server log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := delivery.Describe(tt.err)
			if !strings.Contains(got, tt.want) {
				t.Errorf("Describe() = %q, want it to say %q", got, tt.want)
			}
			for _, leak := range []string{"AccessKeyId", "ASIA", "10.1.2.3", "10.0.0.1", "8443", ":22", "nope.example"} {
				if strings.Contains(got, leak) {
					t.Errorf("Describe() = %q shows %q", got, leak)
				}
			}
		})
	}
}

// TestACPPushRedirectToInternal reproduces the SSRF: a Feed API target
// (a "public" host, allowed by its exact address) answers 307 to an
// internal http address serving credentials. The push fails, the internal
// server gets no request, and what the merchant sees has neither the
// body nor the internal address.
func TestACPPushRedirectToInternal(t *testing.T) {
	var internalHits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		internalHits.Add(1)
		_, _ = io.WriteString(w, secretBody)
	}))
	defer internal.Close()
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/iam/security-credentials/role", http.StatusTemporaryRedirect)
	}))
	defer target.Close()
	policy := &netguard.Policy{Allow: []netip.AddrPort{netip.MustParseAddrPort(target.Listener.Addr().String())}}

	_, err := delivery.PushACPFeed(t.Context(), policy.Client(0, nil), delivery.ACPFeedTarget{BaseURL: target.URL, Token: "tok"}, products(1), 0)
	if err == nil {
		t.Fatal("the push succeeded through a redirect")
	}
	shown := delivery.Describe(err)
	if !strings.Contains(shown, "HTTP 307") {
		t.Errorf("Describe() = %q, want the redirect status", shown)
	}
	internalHost := strings.TrimPrefix(internal.URL, "http://")
	for _, leak := range []string{"AccessKeyId", "ASIA", internalHost} {
		if strings.Contains(shown, leak) {
			t.Errorf("the merchant would see %q in %q", leak, shown)
		}
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the internal server got %d requests", n)
	}

	// The internal address as the target itself: refused before any
	// connection, not retried.
	_, err = delivery.PushACPFeed(t.Context(), policy.Client(0, nil), delivery.ACPFeedTarget{BaseURL: internal.URL, Token: "tok"}, products(1), 0)
	if !errors.Is(err, netguard.ErrRefused) || delivery.IsRetryable(err) {
		t.Fatalf("push to an internal address = %v, want a permanent policy refusal", err)
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the internal server got %d requests", n)
	}
}

// TestACPPushForeignAnswerNotShown: a target that answers 200 with
// something other than the Feed API's shape (the metadata service's JSON)
// fails without its body in the error, stored or logged.
func TestACPPushForeignAnswerNotShown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, secretBody)
	}))
	defer srv.Close()
	policy := &netguard.Policy{Allow: []netip.AddrPort{netip.MustParseAddrPort(srv.Listener.Addr().String())}}
	_, err := delivery.PushACPFeed(t.Context(), policy.Client(0, nil), delivery.ACPFeedTarget{BaseURL: srv.URL, Token: "tok"}, products(1), 0)
	if !errors.Is(err, delivery.ErrNotFeedAPI) {
		t.Fatalf("PushACPFeed() = %v, want ErrNotFeedAPI", err)
	}
	for _, s := range []string{err.Error(), delivery.Describe(err)} {
		if strings.Contains(s, "AccessKeyId") || strings.Contains(s, "ASIA") {
			t.Errorf("error text %q carries the remote body", s)
		}
	}
}

// TestSFTPDialThroughPolicy: an SFTP target on a refused address is not
// dialled (a listener there accepts nothing), and the failure is
// permanent.
func TestSFTPDialThroughPolicy(t *testing.T) {
	addr, accepted := testkit.CountingListener(t)
	tgt := delivery.SFTPTarget{Addr: addr, User: "u", Password: "p", HostKey: otherHostKey(t)} // Dial nil: the strict policy
	_, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("x"))
	if !errors.Is(err, netguard.ErrRefused) || delivery.IsRetryable(err) {
		t.Fatalf("PushSFTP() to loopback = %v, want a permanent policy refusal", err)
	}
	if got := delivery.Describe(err); strings.Contains(got, addr) || !strings.Contains(got, "address not allowed") {
		t.Errorf("Describe() = %q", got)
	}
	if n := accepted(); n != 0 {
		t.Fatalf("the refused address was dialled %d times", n)
	}
}
