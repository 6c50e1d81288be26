package testkit

import (
	"sync"
	"time"
)

// Clock is a time source a test moves by hand: pass its Now wherever the
// code under test takes a clock, then Advance it past a token's expiry or a
// retry's back-off instead of sleeping. Safe for concurrent use, since the
// code under test reads it from its own goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock that reads start until advanced.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
