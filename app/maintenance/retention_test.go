package maintenance_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/maintenance"
)

// retentionStore answers ForgetEndedBuyers with full batches a few times,
// then a short one; every other housekeeping call does nothing.
type retentionStore struct {
	maintenance.MaintenanceStore
	full          int
	cutoffs       []time.Time
	exportCutoffs []time.Time
}

func (s *retentionStore) ForgetDataRequestExports(_ context.Context, cutoff time.Time) (int64, error) {
	s.exportCutoffs = append(s.exportCutoffs, cutoff)
	return 1, nil
}

func (s *retentionStore) ForgetEndedBuyers(_ context.Context, cutoff time.Time, limit int) (int, int, error) {
	s.cutoffs = append(s.cutoffs, cutoff)
	if len(s.cutoffs) <= s.full {
		return limit, 0, nil
	}
	return 3, 1, nil
}
func (s *retentionStore) PruneRevokedAPIKeys(context.Context, time.Time) (int64, error) {
	return 0, nil
}
func (s *retentionStore) PruneOAuthStates(context.Context) (int64, error)              { return 0, nil }
func (s *retentionStore) PruneWebhookEvents(context.Context, time.Time) (int64, error) { return 0, nil }
func (s *retentionStore) PruneIdempotencyKeys(context.Context, time.Time) (int64, error) {
	return 0, nil
}
func (s *retentionStore) PruneSignatureUses(context.Context, time.Time) (int64, error) { return 0, nil }
func (s *retentionStore) Optimize(context.Context) error                               { return nil }

// TestMaintainForgetsBuyersPastRetention: housekeeping asks the store to
// forget buyers of sessions ended before now − retention (the default when
// none is set), and keeps asking while a pass comes back full.
func TestMaintainForgetsBuyersPastRetention(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		retention time.Duration
		want      time.Time
	}{
		{"default", 0, now.Add(-maintenance.DefaultRetention)},
		{"configured", 7 * 24 * time.Hour, now.Add(-7 * 24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &retentionStore{full: 2}
			m := maintenance.New(st, nil, nil, maintenance.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now: func() time.Time { return now }, Retention: tc.retention})
			if err := m.Maintain(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(st.cutoffs) != 3 {
				t.Fatalf("%d passes, want 3 (two full, one short)", len(st.cutoffs))
			}
			for _, c := range st.cutoffs {
				if !c.Equal(tc.want) {
					t.Errorf("cutoff %v, want %v", c, tc.want)
				}
			}
			// The data requests' exports have the same retention.
			if len(st.exportCutoffs) != 1 || !st.exportCutoffs[0].Equal(tc.want) {
				t.Errorf("export cutoffs %v, want one at %v", st.exportCutoffs, tc.want)
			}
		})
	}
}
