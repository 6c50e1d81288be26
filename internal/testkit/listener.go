package testkit

import (
	"net"
	"sync/atomic"
	"testing"
)

// CountingListener listens on a loopback port and counts the connections
// it accepts, closing each at once: a test that must show a refused dial
// never reached the socket points the code at addr and then wants
// accepted() == 0. The listener is closed when tb ends.
func CountingListener(tb testing.TB) (addr string, accepted func() int32) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at the end of the test
			}
			n.Add(1)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), n.Load
}
