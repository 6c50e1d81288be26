// Package ttlcache is a replica's short memory of answers that are cheap to
// keep and costly to fetch again (a shop's collections, its sales channels,
// live prices). Standard library only; any app package may import it.
package ttlcache

import (
	"sync"
	"time"
)

// Cache holds answers keyed by K: an entry is fresh until ttl after it was
// put. The zero value is ready to use.
// When max entries are held, the expired ones are dropped, or all of them
// when none has expired, so it never grows past max.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// Get returns the entry of k if it was put less than ttl before now.
func (c *Cache[K, V]) Get(k K, now time.Time, ttl time.Duration) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.at) >= ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v for k as of now.
func (c *Cache[K, V]) Put(k K, v V, now time.Time, ttl time.Duration, max int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[K]entry[V]{}
	}
	if len(c.entries) >= max {
		for k, e := range c.entries {
			if now.Sub(e.at) >= ttl {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= max {
			clear(c.entries)
		}
	}
	c.entries[k] = entry[V]{v: v, at: now}
}

// Delete forgets the entry of k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}
