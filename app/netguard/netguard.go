// Package netguard is the one outbound-network policy for every address a
// merchant or an agent can make the app connect to: agent order-event
// webhooks, ACP Feed API push targets, SFTP push targets, and anything
// added later. Such an address must be a public unicast one; loopback is
// allowed only when the operator says so (the demo and the test suites run
// their emulators on 127.0.0.1).
//
// The rule is enforced where it cannot be dodged: at dial time, on the
// resolved address actually connected to (a name that resolved to a public
// address when the merchant saved it and to 10.0.0.1 now is refused), and
// again in the dialer's Control hook, just before connect(2). HTTP clients
// built here never follow redirects and never use a proxy from the
// environment (the proxy would make the connection on our behalf, out of
// the policy's sight). CheckURL and CheckHostPort apply the same rule when
// a URL or host is saved, so a merchant hears about it at once.
//
// A nil *Policy is the strictest one: no loopback.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrRefused is matched (errors.Is) by every refusal of the policy.
var ErrRefused = errors.New("address not allowed by the outbound network policy")

// RefusedError says which address was refused and why. Its text names the
// address, for the server log; what a merchant sees is ErrRefused's text.
type RefusedError struct {
	Addr  netip.Addr
	Class Class
}

func (e *RefusedError) Error() string {
	if !e.Addr.IsValid() {
		return fmt.Sprintf("%s: %s host", ErrRefused, e.Class)
	}
	return fmt.Sprintf("%s: %s address %s", ErrRefused, e.Class, e.Addr)
}

// Is lets errors.Is match ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Resolver looks a host name up; *net.Resolver is one. Tests inject their
// own to answer differently on each call (DNS rebinding).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy decides which addresses outbound connections may reach.
type Policy struct {
	// AllowLoopback lets connections reach 127.0.0.0/8 and ::1
	// (OUTBOUND_ALLOW_LOOPBACK): for the demo and tests, whose emulators
	// listen there. Private, link-local and the other classes stay refused.
	AllowLoopback bool
	// Allow lists exact address:port pairs treated as public whatever
	// their class: tests stand a loopback server in for a public host with
	// it. Production leaves it empty.
	Allow []netip.AddrPort
	// Resolver resolves host names; nil is net.DefaultResolver.
	Resolver Resolver

	// dial connects to a checked IP:port; nil is a net.Dialer whose
	// Control re-checks the address. Tests in this package record dials
	// with it so nothing ever reaches a public address.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DialTimeout bounds one TCP connect made by the policy's dialer.
const DialTimeout = 15 * time.Second

// saveLookupTimeout bounds the best-effort lookup made when a URL is saved.
const saveLookupTimeout = 3 * time.Second

// Check returns nil when ip may be connected to, else a *RefusedError.
func (p *Policy) Check(ip netip.Addr) error {
	return p.checkAddrPort(netip.AddrPortFrom(ip, 0), false)
}

func (p *Policy) checkAddrPort(ap netip.AddrPort, withPort bool) error {
	ip := ap.Addr().WithZone("")
	if p != nil && withPort {
		for _, a := range p.Allow {
			if a.Addr().Unmap() == ip.Unmap() && a.Port() == ap.Port() {
				return nil
			}
		}
	}
	c := Classify(ip)
	switch {
	case c == Public:
		return nil
	case c == Loopback && p != nil && p.AllowLoopback:
		return nil
	}
	return &RefusedError{Addr: ip, Class: c}
}

// Control is a net.Dialer Control hook: it refuses the connect when the
// address about to be connected to is not allowed. It sees the literal
// address the kernel will use, whatever resolved it.
func (p *Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Not an IP:port (a Unix socket, say): nothing this policy allows.
		return fmt.Errorf("%w: %q is not an IP address and port", ErrRefused, address)
	}
	return p.checkAddrPort(ap, true)
}

// Dialer is a net.Dialer whose Control enforces the policy.
func (p *Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// DialContext resolves address, drops every answer the policy refuses and
// connects to the first allowed one that answers, by IP (so nothing
// resolves the name again between the check and the connect). When every
// answer is refused the error is the first refusal: nothing was dialled.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", network, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port %q", network, portStr)
	}
	ips, err := p.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	var refused, last error
	for _, ip := range ips {
		ap := netip.AddrPortFrom(ip, uint16(port))
		if err := p.checkAddrPort(ap, true); err != nil {
			refused = cmpErr(refused, err)
			continue
		}
		conn, err := p.dialIP(ctx, network, ap.String())
		if err == nil {
			return conn, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if last != nil {
		return nil, last
	}
	return nil, refused
}

func cmpErr(have, next error) error {
	if have != nil {
		return have
	}
	return next
}

func (p *Policy) dialIP(ctx context.Context, network, addr string) (net.Conn, error) {
	if p != nil && p.dial != nil {
		return p.dial(ctx, network, addr)
	}
	return p.Dialer().DialContext(ctx, network, addr)
}

// resolve turns host into addresses: an IP literal as is, a name through
// the resolver (a *net.DNSError on failure).
func (p *Policy) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	if looksNumeric(host) {
		// 2130706433 or 0x7f.1: C resolvers read these as IPs; the
		// policy does not read them at all.
		return nil, &RefusedError{Addr: netip.Addr{}, Class: Malformed}
	}
	ipNet := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNet = "ip4"
	case "tcp6", "udp6":
		ipNet = "ip6"
	}
	ips, err := p.resolver().LookupNetIP(ctx, ipNet, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, err
		}
		return nil, &net.DNSError{Err: err.Error(), Name: host}
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return ips, nil
}

func (p *Policy) resolver() Resolver {
	if p != nil && p.Resolver != nil {
		return p.Resolver
	}
	return net.DefaultResolver
}

// Transport is an http.Transport that dials through the policy and never
// uses a proxy.
func (p *Policy) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = p.DialContext
	return t
}

// Client is an HTTP client that dials through the policy (unless rt, a
// test's transport, is given) and never follows redirects: a 3xx comes
// back as the answer. Following one would let an allowed https host send
// the request, with its credentials, to any other URL — in the attack that
// led here, plain http on an internal address.
func (p *Policy) Client(timeout time.Duration, rt http.RoundTripper) *http.Client {
	if rt == nil {
		rt = p.Transport()
	}
	return &http.Client{Timeout: timeout, Transport: rt, CheckRedirect: NoRedirects}
}

// NoRedirects is an http.Client CheckRedirect that returns the 3xx answer
// itself instead of following it.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// CheckURL applies the policy to a URL being saved: its host must not be
// an IP literal of a refused class nor a numeric spelling other than a
// canonical dotted quad, and a name must not resolve to a refused address.
// The lookup is best effort: a name that does not resolve now is accepted
// (DNS may be set up after the URL is saved; the dial-time check guards
// every connection anyway).
func (p *Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return p.checkHost(ctx, u.Hostname(), port)
}

// CheckHostPort is CheckURL for a host:port (an SFTP server).
func (p *Policy) CheckHostPort(ctx context.Context, hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: not a host:port", ErrRefused)
	}
	return p.checkHost(ctx, host, port)
}

// CheckHost is CheckURL for a bare host name or IP literal.
func (p *Policy) CheckHost(ctx context.Context, host string) error {
	return p.checkHost(ctx, host, "")
}

// checkHost applies the save-time rule; with a port, the Allow list counts
// too.
func (p *Policy) checkHost(ctx context.Context, host, portStr string) error {
	if host == "" {
		return fmt.Errorf("%w: no host", ErrRefused)
	}
	port, _ := strconv.ParseUint(portStr, 10, 16)
	check := func(ip netip.Addr) error { return p.checkAddrPort(netip.AddrPortFrom(ip, uint16(port)), port != 0) }
	if ip, err := netip.ParseAddr(host); err == nil {
		return check(ip)
	}
	name := strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(name); err == nil {
		return check(ip) // "127.0.0.1." is an address too
	}
	if looksNumeric(name) {
		return &RefusedError{Class: Malformed}
	}
	ctx, cancel := context.WithTimeout(ctx, saveLookupTimeout)
	defer cancel()
	ips, err := p.resolver().LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil // best effort: the dial-time check is the guard
	}
	for _, ip := range ips {
		if err := check(ip); err != nil {
			return err
		}
	}
	return nil
}

// looksNumeric reports whether a host that is not a canonical IP literal
// would still be read as a number by some resolver: its last label starts
// with a digit (no top-level domain does), as in 2130706433, 0177.0.0.1,
// 0x7f.1 or 127.1.
func looksNumeric(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	return last != "" && last[0] >= '0' && last[0] <= '9'
}

// IsLoopbackHost reports whether h is localhost or a loopback address.
func IsLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
