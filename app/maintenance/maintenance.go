package maintenance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
)

// RevokedKeyRetention is how long a revoked API key's hash is kept (for the
// merchant's key history) before housekeeping deletes it.
const RevokedKeyRetention = 30 * 24 * time.Hour

// MaintenanceStore is what housekeeping needs of the database.
type MaintenanceStore interface {
	PruneRevokedAPIKeys(ctx context.Context, cutoff time.Time) (int64, error)
	PruneOAuthStates(ctx context.Context) (int64, error)
	PruneWebhookEvents(ctx context.Context, cutoff time.Time) (int64, error)
	// PruneIdempotencyKeys deletes idempotency records expired at now.
	PruneIdempotencyKeys(ctx context.Context, now time.Time) (int64, error)
	// PruneSignatureUses deletes the signature uses expired at now.
	PruneSignatureUses(ctx context.Context, now time.Time) (int64, error)
	// ForgetEndedBuyers removes buyers' personal data from sessions that
	// ended, and carts that expired, before the cutoff: at most limit rows
	// of each per call.
	ForgetEndedBuyers(ctx context.Context, cutoff time.Time, limit int) (sessions, carts int, err error)
	// ForgetDataRequestExports deletes the exports of the customers' data
	// requests received before the cutoff (the records stay).
	ForgetDataRequestExports(ctx context.Context, cutoff time.Time) (int64, error)
	Optimize(ctx context.Context) error
	// StalledCompletions lists checkout completions left unfinished (not
	// leased) since before the cutoff.
	StalledCompletions(ctx context.Context, before time.Time) ([]app.ResumeCompletionArgs, error)
	// UnindexedFeedShops lists the active shops that publish a feed
	// search cannot read, left alone since settled.
	UnindexedFeedShops(ctx context.Context, settled time.Time) ([]int64, error)
}

// StalledAfter is how long a completion may stand still before the hourly
// housekeeping hands it to the resume job again whatever its lease says
// was checked before (the sweep normally does it within seconds; this
// catches one whose job ran out of attempts or was lost).
const StalledAfter = 10 * time.Minute

// IndexSettle is how long after a shop's newest feed build housekeeping
// waits before it decides the build will not index itself (a build's
// second pass writes the search rows after it publishes; a million items
// take a few minutes).
const IndexSettle = 30 * time.Minute

// SessionExpirer expires the checkout sessions whose time is up and that
// hold something to release (checkout.Sessions.ExpireOverdue: the draft
// orders of sessions handed to Shopify's checkout).
type SessionExpirer interface {
	ExpireOverdue(ctx context.Context) (int, error)
}

// Housekeeping is the periodic housekeeping use-case.
type Housekeeping struct {
	Store MaintenanceStore
	// Resealer, when set, re-seals secrets left under a retired key.
	Resealer *Resealer
	Logger   *slog.Logger
	Now      func() time.Time
	// Queue, when set, receives the resume jobs of stalled completions.
	Queue app.Enqueuer
	// Sessions, when set, expires overdue checkout sessions.
	Sessions SessionExpirer
	// Retention is how long buyers' personal data is kept after their
	// checkout session ends (0: DefaultRetention).
	Retention time.Duration
}

// DefaultRetention is how long buyers' personal data (name, email, phone,
// address, notes) is kept in a checkout session after it ends, or in a cart
// after it expires: long enough for the merchant's support questions
// about an agent's checkout; the order itself lives on in Shopify.
const DefaultRetention = 30 * 24 * time.Hour

// retentionPasses bounds the work of one housekeeping run: 200 passes of
// 500 rows; a backlog larger than that is finished by the next runs.
const retentionPasses = 200

// Options are housekeeping's settings; each has a default.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// Sessions expires overdue checkout sessions (none when nil).
	Sessions SessionExpirer
	// Retention: see Housekeeping.Retention.
	Retention time.Duration
}

// New builds the housekeeping over its store, the job queue that receives
// the resume jobs of stalled completions, and the resealer that finishes
// key rotations.
func New(store MaintenanceStore, queue app.Enqueuer, resealer *Resealer, opts Options) *Housekeeping {
	m := &Housekeeping{Store: store, Queue: queue, Resealer: resealer, Logger: opts.Logger, Now: opts.Now, Sessions: opts.Sessions, Retention: opts.Retention}
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	if m.Now == nil {
		m.Now = time.Now
	}
	return m
}

// Maintain prunes what has outlived its use (revoked keys, expired OAuth
// states, old webhook deliveries, expired idempotency keys and signature
// uses) and lets the
// database tune itself.
func (m *Housekeeping) Maintain(ctx context.Context) error {
	now := m.Now()
	keys, err := m.Store.PruneRevokedAPIKeys(ctx, now.Add(-RevokedKeyRetention))
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	states, err := m.Store.PruneOAuthStates(ctx)
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	events, err := m.Store.PruneWebhookEvents(ctx, now.Add(-app.WebhookRetention))
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	idem, err := m.Store.PruneIdempotencyKeys(ctx, now)
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	sigs, err := m.Store.PruneSignatureUses(ctx, now)
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	forgotten, err := m.forgetBuyers(ctx, now)
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	if err := m.Store.Optimize(ctx); err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	resumed, reindexed := 0, 0
	if m.Queue != nil {
		if resumed, err = m.resume(ctx, now.Add(-StalledAfter)); err != nil {
			return fmt.Errorf("maintain: %w", err)
		}
		if reindexed, err = m.reindexFeeds(ctx, now); err != nil {
			return err
		}
	}
	expired := 0
	if m.Sessions != nil {
		if expired, err = m.Sessions.ExpireOverdue(ctx); err != nil {
			return fmt.Errorf("maintain: %w", err)
		}
	}
	resealed := 0
	if m.Resealer != nil {
		if resealed, err = m.Resealer.Reseal(ctx); err != nil {
			return fmt.Errorf("maintain: %w", err)
		}
	}
	m.Logger.InfoContext(ctx, "maintenance done", "revoked_keys_pruned", keys,
		"oauth_states_pruned", states, "webhook_events_pruned", events, "idempotency_keys_pruned", idem, "signature_uses_pruned", sigs, "secrets_resealed", resealed, "completions_resumed", resumed,
		"handoff_sessions_expired", expired, "feeds_reindexed", reindexed, "buyers_forgotten", forgotten)
	return nil
}

// forgetBuyers removes buyers' personal data past the retention, in
// passes of bounded size, and the data requests' exports older than it,
// and returns how many sessions, carts and exports it removed.
func (m *Housekeeping) forgetBuyers(ctx context.Context, now time.Time) (int, error) {
	keep := m.Retention
	if keep <= 0 {
		keep = DefaultRetention
	}
	const batch = 500
	// A data request's export is the customer's data too: the merchant
	// has the retention period to download it.
	exports, err := m.Store.ForgetDataRequestExports(ctx, now.Add(-keep))
	total := int(exports)
	if err != nil {
		return total, err
	}
	for range retentionPasses {
		s, c, err := m.Store.ForgetEndedBuyers(ctx, now.Add(-keep), batch)
		total += s + c
		if err != nil || (s < batch && c < batch) {
			return total, err
		}
	}
	return total, nil
}

// SweepCompletions hands every completion that stopped before its end with
// no driver (its lease lapsed or released: a crash, a temporary failure, a
// client gone) to the resume job. It runs every few seconds on the
// leader (jobs.SweepSchedule), so that a completion is carried
// on within about its lease and the sweep's interval. Completions that
// wait for the buyer (declined, requires_action, voided) are not in a
// state it resumes; one with a live lease is being driven. A resume job
// already pending for a session is not enqueued twice, and a sweep that
// races another (a new leader) enqueues nothing more: the job's driver
// takes the lease before it drives, so no completion is driven twice at
// once.
func (m *Housekeeping) SweepCompletions(ctx context.Context) (int, error) {
	if m.Queue == nil {
		return 0, nil
	}
	n, err := m.resume(ctx, m.Now())
	if err != nil {
		return n, fmt.Errorf("sweep completions: %w", err)
	}
	if n > 0 {
		m.Logger.InfoContext(ctx, "completions resumed", "count", n)
	}
	return n, nil
}

// resume enqueues the resume job of every unfinished completion, not
// leased, last changed before the cutoff.
func (m *Housekeeping) resume(ctx context.Context, before time.Time) (int, error) {
	stalled, err := m.Store.StalledCompletions(ctx, before)
	if err != nil {
		return 0, err
	}
	for i, a := range stalled {
		if err := m.Queue.EnqueueTx(ctx, a, nil); err != nil {
			return i, fmt.Errorf("resume %s: %w", a.SessionID, err)
		}
	}
	return len(stalled), nil
}

// reindexFeeds enqueues a feed build for every shop whose published feed
// search cannot read: after the upgrade that added the search index
// (migration 00017) no shop has one until its next build, which may be a
// day away for a quiet catalog; and a build whose second pass failed
// leaves the previous index in place. One build per shop per hour at most
// (unique by its window).
func (m *Housekeeping) reindexFeeds(ctx context.Context, now time.Time) (int, error) {
	shops, err := m.Store.UnindexedFeedShops(ctx, now.Add(-IndexSettle))
	if err != nil {
		return 0, fmt.Errorf("maintain: %w", err)
	}
	window := now.Unix() / int64(time.Hour/time.Second)
	for _, id := range shops {
		args := app.BuildFeedArgs{ShopID: id, Window: window}
		if err := m.Queue.EnqueueTx(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
			return 0, fmt.Errorf("maintain: reindex the feed of shop %d: %w", id, err)
		}
	}
	return len(shops), nil
}
