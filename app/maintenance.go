package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RevokedKeyRetention is how long a revoked API key's hash is kept (for the
// merchant's key history) before housekeeping deletes it.
const RevokedKeyRetention = 30 * 24 * time.Hour

// MaintenanceStore is what housekeeping needs of the database.
type MaintenanceStore interface {
	PruneRevokedAPIKeys(ctx context.Context, cutoff time.Time) (int64, error)
	Optimize(ctx context.Context) error
}

// Maintenance is the periodic housekeeping use-case.
type Maintenance struct {
	Store  MaintenanceStore
	Logger *slog.Logger
	Now    func() time.Time
}

// Maintain prunes what has outlived its use and lets the database tune itself.
func (m *Maintenance) Maintain(ctx context.Context) error {
	n, err := m.Store.PruneRevokedAPIKeys(ctx, m.Now().Add(-RevokedKeyRetention))
	if err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	if err := m.Store.Optimize(ctx); err != nil {
		return fmt.Errorf("maintain: %w", err)
	}
	m.Logger.InfoContext(ctx, "maintenance done", "revoked_keys_pruned", n)
	return nil
}
