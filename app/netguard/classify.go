package netguard

import "net/netip"

// Class is what kind of address an IP is, as far as the policy cares.
type Class string

// Address classes. Only Public is allowed by default; Loopback only with
// Policy.AllowLoopback.
const (
	Public      Class = "public"
	Loopback    Class = "loopback"
	Private     Class = "private"        // RFC 1918, IPv6 ULA fc00::/7
	SharedCGNAT Class = "shared (CGNAT)" // 100.64.0.0/10
	LinkLocal   Class = "link-local"     // 169.254.0.0/16 (cloud metadata), fe80::/10
	Multicast   Class = "multicast"
	Unspecified Class = "unspecified" // 0.0.0.0/8, ::
	Broadcast   Class = "broadcast"
	Reserved    Class = "reserved" // documentation, benchmarking, IETF, future use, translation
	Malformed   Class = "malformed"
)

// special are the IPv4 and IPv6 ranges refused beyond what netip's own
// predicates cover, each with its class. IPv4-mapped, IPv4-compatible,
// NAT64 and 6to4 addresses are judged by the IPv4 address they carry.
var special = []struct {
	prefix netip.Prefix
	class  Class
}{
	{netip.MustParsePrefix("0.0.0.0/8"), Unspecified},        // "this network"; 0.0.0.0 reaches the local host on Linux
	{netip.MustParsePrefix("100.64.0.0/10"), SharedCGNAT},    // RFC 6598
	{netip.MustParsePrefix("192.0.0.0/24"), Reserved},        // IETF protocol assignments
	{netip.MustParsePrefix("192.0.2.0/24"), Reserved},        // TEST-NET-1
	{netip.MustParsePrefix("198.18.0.0/15"), Reserved},       // benchmarking
	{netip.MustParsePrefix("198.51.100.0/24"), Reserved},     // TEST-NET-2
	{netip.MustParsePrefix("203.0.113.0/24"), Reserved},      // TEST-NET-3
	{netip.MustParsePrefix("255.255.255.255/32"), Broadcast}, // limited broadcast
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},         // future use
	{netip.MustParsePrefix("64:ff9b:1::/48"), Reserved},      // local-use NAT64 (RFC 8215): site-specific
	{netip.MustParsePrefix("100::/64"), Reserved},            // discard-only
	{netip.MustParsePrefix("2001::/32"), Reserved},           // Teredo: tunnels to an obfuscated IPv4
	{netip.MustParsePrefix("2001:db8::/32"), Reserved},       // documentation
	{netip.MustParsePrefix("2001:10::/28"), Reserved},        // ORCHID
	{netip.MustParsePrefix("2001:20::/28"), Reserved},        // ORCHIDv2
	{netip.MustParsePrefix("3fff::/20"), Reserved},           // documentation (RFC 9637)
	{netip.MustParsePrefix("5f00::/16"), Reserved},           // SRv6 SIDs
	{netip.MustParsePrefix("fec0::/10"), Private},            // deprecated site-local
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	v4compat  = netip.MustParsePrefix("::/96")
)

// Classify tells the class of ip (its zone ignored).
func Classify(ip netip.Addr) Class {
	if !ip.IsValid() {
		return Malformed
	}
	ip = ip.WithZone("").Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if ip.Is6() {
		if v4, ok := embeddedV4(ip); ok {
			return Classify(v4)
		}
	}
	switch {
	case ip.IsUnspecified():
		return Unspecified
	case ip.IsLoopback():
		return Loopback
	case ip.IsPrivate():
		return Private
	case ip.IsLinkLocalUnicast():
		return LinkLocal
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return Multicast
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return s.class
		}
	}
	return Public
}

// embeddedV4 returns the IPv4 address an IPv6 one carries by a
// well-known translation: IPv4-compatible (::a.b.c.d, deprecated, but
// some stacks still route it), NAT64 64:ff9b::/96 and 6to4 2002::/16.
func embeddedV4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case v4compat.Contains(ip):
		if ip == netip.IPv6Unspecified() || ip == netip.IPv6Loopback() {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
