package app

import (
	"sync"
	"time"
)

// ttlCache is a replica's short memory of answers that are cheap to keep
// and costly to fetch again: an entry is fresh until ttl after it was put.
// When max entries are held, the expired ones are dropped, or all of them
// when none has expired, so it never grows past max.
type ttlCache[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

// get returns the entry of k if it was put less than ttl before now.
func (c *ttlCache[K, V]) get(k K, now time.Time, ttl time.Duration) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.at) >= ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put keeps v for k as of now.
func (c *ttlCache[K, V]) put(k K, v V, now time.Time, ttl time.Duration, max int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[K]ttlEntry[V]{}
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
	c.entries[k] = ttlEntry[V]{v: v, at: now}
}
