package idempotency

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// Claim is a key held by a running request. Until Finish or
// Release it renews its lease in the background.
type Claim struct {
	id   int64
	idem *Keys
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// ID is the record's id.
func (c *Claim) ID() int64 { return c.id }

func (i *Keys) newClaim(id int64) *Claim {
	c := &Claim{id: id, idem: i, stop: make(chan struct{}), done: make(chan struct{})}
	go c.renew()
	return c
}

func (c *Claim) renew() {
	defer close(c.done)
	lease := c.idem.lease()
	t := time.NewTicker(max(lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), lease/3+time.Second)
			err := c.idem.Store.RenewIdempotencyLease(ctx, c.id, c.idem.now().Add(lease))
			cancel()
			if err != nil {
				c.idem.logger().Warn("idempotency lease renewal failed", "record", c.id, "err", err)
				if errors.Is(err, app.ErrNotFound) {
					return // the claim is gone; nothing left to renew
				}
			}
		}
	}
}

// end stops the renewals (once) and waits for them to stop.
func (c *Claim) end() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// Finish stores res for replay and completes the record. ErrNotFound means
// the claim was lost (its lease lapsed and another request took the key
// over). A server failure has no result to store: Release the claim
// instead (RefusalOf says which errors those are).
func (c *Claim) Finish(ctx context.Context, res StoredResult) error {
	c.end()
	if err := c.idem.Store.FinishIdempotencyKey(ctx, c.id, res); err != nil {
		return fmt.Errorf("idempotency: finish: %w", err)
	}
	return nil
}

// Stored ends a claim whose result the caller's own write has already
// stored in its record (acpapi: with the session, checkout.Answer): it
// stops the renewals and writes nothing.
func (c *Claim) Stored() { c.end() }

// Release forgets the claim, so the key may be used again at once: for a
// request that failed without a result worth keeping (a server failure,
// a panic).
func (c *Claim) Release(ctx context.Context) error {
	c.end()
	return c.release(ctx)
}

func (c *Claim) release(ctx context.Context) error {
	err := c.idem.Store.ReleaseIdempotencyKey(ctx, c.id)
	if err == nil {
		return nil
	}
	if app.ErrorCode(err) == app.CodeUnavailable {
		// The database is out of reach (a restart, a failover): the very
		// failure that made this request answer 5xx. Left as it is, the
		// key would answer idempotency_in_flight to the agent's retries
		// until its lease lapses; so keep trying to release it in the
		// background for as long as the lease could hold. Releasing late
		// is safe: a takeover of the key gives it a new record id.
		go c.releaseLater()
	}
	return fmt.Errorf("idempotency: release: %w", err)
}

// forgetLostClaim removes the claim of rec if its INSERT landed although
// the caller saw an error: it claims the key again, and releases what it
// finds when that is rec's own claim (in flight, same body, same creation
// time) or a claim it has just made. It gives up when the lease would have
// lapsed anyway.
func (i *Keys) forgetLostClaim(rec Record) {
	deadline := time.Now().Add(i.lease())
	for time.Now().Before(deadline) {
		time.Sleep(releaseRetryEvery)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		held, claimed, err := i.Store.ClaimIdempotencyKey(ctx, rec, i.now())
		if err == nil && (claimed || held.State == InFlight && held.RequestHash == rec.RequestHash &&
			held.CreatedAt.Sub(rec.CreatedAt).Abs() <= time.Microsecond) {
			err = i.Store.ReleaseIdempotencyKey(ctx, held.ID)
			if err == nil && !claimed {
				i.logger().Info("idempotency claim lost in a database outage released", "record", held.ID)
			}
		}
		cancel()
		if app.ErrorCode(err) != app.CodeUnavailable {
			return // done, or the key is another request's
		}
	}
}

// releaseRetryEvery is how often releaseLater tries again.
const releaseRetryEvery = 200 * time.Millisecond

// releaseLater retries the release until it succeeds or the lease would
// have lapsed anyway.
func (c *Claim) releaseLater() {
	deadline := time.Now().Add(c.idem.lease())
	for time.Now().Before(deadline) {
		time.Sleep(releaseRetryEvery)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.idem.Store.ReleaseIdempotencyKey(ctx, c.id)
		cancel()
		if err == nil {
			c.idem.logger().Info("idempotency key released after the database came back", "record", c.id)
			return
		}
		if app.ErrorCode(err) != app.CodeUnavailable {
			c.idem.logger().Warn("idempotency release failed", "record", c.id, "err", err)
			return
		}
	}
}
