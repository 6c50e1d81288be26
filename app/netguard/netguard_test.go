package netguard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/acpbridge/acpbridge/internal/testkit"
)

// TestClassify covers every class the policy refuses, in IPv4 and IPv6
// spellings, and that public addresses pass. Public ones are only
// classified here, never dialled.
func TestClassify(t *testing.T) {
	tests := []struct {
		ip   string
		want Class
	}{
		{"127.0.0.1", Loopback},
		{"127.8.9.10", Loopback},
		{"::1", Loopback},
		{"::ffff:127.0.0.1", Loopback},
		{"10.0.0.1", Private},
		{"172.16.0.1", Private},
		{"172.31.255.254", Private},
		{"192.168.1.1", Private},
		{"::ffff:10.0.0.1", Private},
		{"::10.0.0.1", Private}, // IPv4-compatible
		{"fc00::1", Private},
		{"fd12:3456::1", Private},
		{"fec0::1", Private},
		{"100.64.0.1", SharedCGNAT},
		{"100.127.255.254", SharedCGNAT},
		{"169.254.169.254", LinkLocal},
		{"::ffff:169.254.169.254", LinkLocal},
		{"fe80::1", LinkLocal},
		{"fe80::1%eth0", LinkLocal},
		{"0.0.0.0", Unspecified},
		{"0.1.2.3", Unspecified},
		{"::", Unspecified},
		{"::ffff:0.0.0.0", Unspecified},
		{"224.0.0.1", Multicast},
		{"239.1.2.3", Multicast},
		{"ff02::1", Multicast},
		{"ff0e::1", Multicast},
		{"255.255.255.255", Broadcast},
		{"192.0.2.1", Reserved},
		{"198.51.100.7", Reserved},
		{"203.0.113.9", Reserved},
		{"198.18.0.1", Reserved},
		{"240.0.0.1", Reserved},
		{"2001:db8::1", Reserved},
		{"64:ff9b::a00:1", Private},      // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", Loopback},    // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", Public},     // NAT64 of 8.8.8.8
		{"2002:a00:1::1", Private},       // 6to4 of 10.0.0.1
		{"2002:a9fe:a9fe::1", LinkLocal}, // 6to4 of 169.254.169.254
		{"64:ff9b:1::1", Reserved},
		{"2001::1", Reserved}, // Teredo
		{"8.8.8.8", Public},
		{"1.1.1.1", Public},
		{"::ffff:8.8.8.8", Public},
		{"2606:4700::1", Public},
		{"2a00:1450:4001::1", Public},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			if got := Classify(ip); got != tt.want {
				t.Errorf("Classify(%s) = %s, want %s", tt.ip, got, tt.want)
			}
			strict, lo := (*Policy)(nil), &Policy{AllowLoopback: true}
			if err := strict.Check(ip); (err == nil) != (tt.want == Public) || err != nil && !errors.Is(err, ErrRefused) {
				t.Errorf("strict Check(%s) = %v", tt.ip, err)
			}
			if err := lo.Check(ip); (err == nil) != (tt.want == Public || tt.want == Loopback) {
				t.Errorf("allow-loopback Check(%s) = %v", tt.ip, err)
			}
		})
	}
}

// TestCheckURL is the save-time rule: refused literals, odd numeric
// spellings a C resolver would read as loopback, and names resolving to
// refused addresses; public literals and names pass.
func TestCheckURL(t *testing.T) {
	p := &Policy{Resolver: fakeResolver{
		"metadata.internal": {netip.MustParseAddr("169.254.169.254")},
		"mixed.example":     {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("10.1.2.3")},
		"public.example":    {netip.MustParseAddr("8.8.8.8")},
		"localhost":         {netip.MustParseAddr("127.0.0.1")},
	}}
	tests := []struct {
		url    string
		refuse bool
	}{
		{"https://169.254.169.254/latest/meta-data/", true},
		{"https://10.0.0.1/", true},
		{"https://[::ffff:10.0.0.1]/", true},
		{"https://[::1]:8443/", true},
		{"https://[::]/", true},
		{"https://0.0.0.0/", true},
		{"https://[fe80::1%25eth0]/", true},
		{"https://127.0.0.1./", true},
		{"https://2130706433/", true},   // decimal 127.0.0.1
		{"https://0177.0.0.1/", true},   // octal
		{"https://0x7f.1/", true},       // hex
		{"https://0x7f000001/", true},   // hex
		{"https://127.1/", true},        // short form
		{"https://017700000001/", true}, // octal
		{"https://metadata.internal/", true},
		{"https://mixed.example/", true},
		{"https://localhost:9/", true},
		{"https://8.8.8.8/", false},
		{"https://[2606:4700::1]/", false},
		{"https://public.example/hook", false},
		{"https://unresolvable.example/", false}, // best effort: the dial-time check guards
		{"https://1.2.3.4.example/", false},      // a name, not a number
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := p.CheckURL(t.Context(), tt.url)
			if (err != nil) != tt.refuse || err != nil && !errors.Is(err, ErrRefused) {
				t.Errorf("CheckURL(%s) = %v, refuse %v", tt.url, err, tt.refuse)
			}
		})
	}
	lo := &Policy{AllowLoopback: true, Resolver: p.Resolver}
	for _, ok := range []string{"http://127.0.0.1:9/", "https://localhost:9/", "https://[::1]/"} {
		if err := lo.CheckURL(t.Context(), ok); err != nil {
			t.Errorf("allow-loopback CheckURL(%s) = %v", ok, err)
		}
	}
	for _, still := range []string{"https://10.0.0.1/", "https://169.254.169.254/", "https://2130706433/"} {
		if lo.CheckURL(t.Context(), still) == nil {
			t.Errorf("allow-loopback CheckURL(%s) accepted a non-loopback refused address", still)
		}
	}
	if err := p.CheckHostPort(t.Context(), "127.0.0.1:22"); !errors.Is(err, ErrRefused) {
		t.Errorf("CheckHostPort(127.0.0.1:22) = %v", err)
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := f[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// rebinder answers each lookup of a name with the next answer in turn, as
// a DNS server under an attacker's control does.
type rebinder struct {
	mu      sync.Mutex
	answers [][]netip.Addr
	calls   int
}

func (r *rebinder) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.answers[min(r.calls, len(r.answers)-1)]
	r.calls++
	return a, nil
}

// TestDNSRebinding: a name that resolved to a public address when saved
// resolves to loopback and private addresses when dialled; the dial is
// refused before any connect. Dials are recorded, never made.
func TestDNSRebinding(t *testing.T) {
	r := &rebinder{answers: [][]netip.Addr{
		{netip.MustParseAddr("93.184.215.14")},
		{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("::ffff:169.254.169.254")},
	}}
	var dialled []string
	p := &Policy{Resolver: r, dial: func(_ context.Context, _, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		return nil, errors.New("test: no real dial")
	}}
	if err := p.CheckURL(t.Context(), "https://rebind.example/"); err != nil {
		t.Fatalf("save-time check of a name resolving to a public address: %v", err)
	}
	_, err := p.DialContext(t.Context(), "tcp", "rebind.example:443")
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("DialContext after rebinding = %v, want refused", err)
	}
	if len(dialled) != 0 {
		t.Fatalf("dialled %v after rebinding to refused addresses", dialled)
	}

	// A mixed answer: only the public address is dialled (to the test
	// hook, which refuses, so nothing leaves the machine).
	r.answers = [][]netip.Addr{{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("93.184.215.14")}}
	_, _ = p.DialContext(t.Context(), "tcp", "rebind.example:443")
	if len(dialled) != 1 || dialled[0] != "93.184.215.14:443" {
		t.Fatalf("mixed answer: dialled %v, want only the public address", dialled)
	}
}

// TestControlRefusesAtConnect: the real dialer's Control hook refuses a
// loopback connect (a listener is there and would accept) unless loopback
// is allowed, so an address reached any other way (a rebound name handed
// straight to the dialer) is caught at the socket.
func TestControlRefusesAtConnect(t *testing.T) {
	addr, accepted := testkit.CountingListener(t)
	strict := &Policy{}
	if _, err := strict.Dialer().DialContext(t.Context(), "tcp", addr); !errors.Is(err, ErrRefused) {
		t.Fatalf("Dialer().DialContext(loopback) = %v, want refused", err)
	}
	if _, err := strict.DialContext(t.Context(), "tcp", addr); !errors.Is(err, ErrRefused) {
		t.Fatalf("DialContext(loopback) = %v, want refused", err)
	}
	if _, err := strict.DialContext(t.Context(), "tcp", "localhost:"+portOf(addr)); !errors.Is(err, ErrRefused) {
		t.Fatalf("DialContext(localhost) = %v, want refused", err)
	}
	if n := accepted(); n != 0 {
		t.Fatalf("the listener accepted %d connections from a refused dial", n)
	}
	c, err := (&Policy{AllowLoopback: true}).DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatalf("allow-loopback dial: %v", err)
	}
	_ = c.Close()
	ap := netip.MustParseAddrPort(addr)
	c, err = (&Policy{Allow: []netip.AddrPort{ap}}).DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatalf("dial to an Allow-listed address: %v", err)
	}
	_ = c.Close()
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// TestClientDoesNotFollowRedirects: an allowed server answering 307 to an
// internal URL gets its 307 back to the caller; the internal server sees
// nothing.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	var internalHits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		internalHits.Add(1)
		_, _ = w.Write([]byte(`{"AccessKeyId":"ASIA-SECRET"}`))
	}))
	defer internal.Close()
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/", http.StatusTemporaryRedirect)
	}))
	defer public.Close()
	p := &Policy{Allow: []netip.AddrPort{netip.MustParseAddrPort(strings.TrimPrefix(public.URL, "http://"))}}
	resp, err := p.Client(0, nil).Post(public.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || internalHits.Load() != 0 {
		t.Fatalf("status %d, internal hits %d: the redirect was followed", resp.StatusCode, internalHits.Load())
	}
	// And the internal server itself is refused to the same client.
	if _, err := p.Client(0, nil).Get(internal.URL); !errors.Is(err, ErrRefused) || internalHits.Load() != 0 {
		t.Fatalf("direct GET of the internal server = %v", err)
	}
}

// BenchmarkClassify measures the per-dial cost of the address check.
func BenchmarkClassify(b *testing.B) {
	ips := []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("2606:4700::1"), netip.MustParseAddr("64:ff9b::a00:1")}
	for i := 0; b.Loop(); i++ {
		_ = Classify(ips[i%len(ips)])
	}
}
