package ttlcache

import (
	"testing"
	"time"
)

// TestCache: an entry is fresh for ttl after it was put; a full cache
// drops its expired entries first and everything only when none expired.
func TestCache(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	const ttl = time.Minute
	var c Cache[string, int]
	if _, ok := c.Get("a", t0, ttl); ok {
		t.Fatal("an empty cache answered")
	}
	c.Put("a", 1, t0, ttl, 2)
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {ttl - time.Nanosecond, true}, {ttl, false}, {2 * ttl, false}} {
		if v, ok := c.Get("a", t0.Add(tc.at), ttl); ok != tc.want || (ok && v != 1) {
			t.Errorf("get at +%v = %d, %v; want fresh %v", tc.at, v, ok, tc.want)
		}
	}
	// Full (max 2): "a" has expired, so only it goes.
	c.Put("b", 2, t0.Add(ttl), ttl, 2)
	c.Put("c", 3, t0.Add(ttl+time.Second), ttl, 2)
	if _, ok := c.Get("b", t0.Add(ttl+time.Second), ttl); !ok {
		t.Error("a fresh entry was dropped while an expired one could go")
	}
	// Full again with nothing expired: everything goes, the new one stays.
	c.Put("d", 4, t0.Add(ttl+2*time.Second), ttl, 2)
	now := t0.Add(ttl + 2*time.Second)
	if _, ok := c.Get("b", now, ttl); ok {
		t.Error("a full cache with nothing expired kept its entries")
	}
	if v, ok := c.Get("d", now, ttl); !ok || v != 4 {
		t.Errorf("the new entry: %d, %v", v, ok)
	}
	if n := len(c.entries); n > 2 {
		t.Errorf("%d entries, max 2", n)
	}
}
