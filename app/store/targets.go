package store

import (
	"context"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

type feedTargetRow struct {
	ID            int64 `gorm:"primaryKey"`
	ShopID        int64
	Kind          string
	Config        string
	SecretSealed  string
	Enabled       bool
	LastStatus    string
	LastDetail    string
	LastBuildID   int64
	LastAttemptAt *time.Time
	LastSuccessAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (feedTargetRow) TableName() string { return "feed_targets" }

func toAppTarget(r feedTargetRow) *app.FeedTarget {
	return &app.FeedTarget{
		ID: r.ID, ShopID: r.ShopID, Kind: r.Kind, Config: []byte(r.Config), Secret: r.SecretSealed, Enabled: r.Enabled,
		LastStatus: r.LastStatus, LastDetail: r.LastDetail, LastBuildID: r.LastBuildID,
		LastAttemptAt: utcPtr(r.LastAttemptAt), LastSuccessAt: utcPtr(r.LastSuccessAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// SaveFeedTarget creates a target (ID 0) or replaces its settings.
func (s *Store) SaveFeedTarget(ctx context.Context, t app.FeedTarget) (*app.FeedTarget, error) {
	now := s.Now()
	if t.ID == 0 {
		row := feedTargetRow{ShopID: t.ShopID, Kind: t.Kind, Config: string(t.Config), SecretSealed: t.Secret,
			Enabled: t.Enabled, CreatedAt: now, UpdatedAt: now}
		if err := s.conn(ctx).Create(&row).Error; err != nil {
			return nil, translate(err, "create feed target")
		}
		return toAppTarget(row), nil
	}
	res := s.conn(ctx).Model(&feedTargetRow{}).Where("id = ? AND shop_id = ?", t.ID, t.ShopID).Updates(map[string]any{
		"kind": t.Kind, "config": string(t.Config), "secret_sealed": t.Secret, "enabled": t.Enabled, "updated_at": now,
	})
	if res.Error != nil {
		return nil, translate(res.Error, "update feed target")
	}
	if res.RowsAffected == 0 {
		return nil, translate(errNotFound(), "feed target")
	}
	return s.FeedTarget(ctx, t.ID)
}

// FeedTarget returns a target by id.
func (s *Store) FeedTarget(ctx context.Context, id int64) (*app.FeedTarget, error) {
	var r feedTargetRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "feed target")
	}
	return toAppTarget(r), nil
}

// FeedTargets lists a shop's targets.
func (s *Store) FeedTargets(ctx context.Context, shopID int64) ([]*app.FeedTarget, error) {
	var rows []feedTargetRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Order("id").Find(&rows).Error; err != nil {
		return nil, translate(err, "feed targets")
	}
	out := make([]*app.FeedTarget, len(rows))
	for i, r := range rows {
		out[i] = toAppTarget(r)
	}
	return out, nil
}

type feedDeliveryRow struct {
	ID         int64 `gorm:"primaryKey"`
	TargetID   int64
	BuildID    int64
	Status     string
	Detail     string
	Bytes      int64
	StartedAt  time.Time
	FinishedAt *time.Time
}

func (feedDeliveryRow) TableName() string { return "feed_deliveries" }

// RecordDelivery stores a push attempt and updates the target's last
// result (and, for an ACP target that created its feed, its feed id).
func (s *Store) RecordDelivery(ctx context.Context, d app.FeedDelivery, config []byte) error {
	now := s.Now()
	return s.InTx(ctx, func(ctx context.Context) error {
		row := feedDeliveryRow{TargetID: d.TargetID, BuildID: d.BuildID, Status: d.Status, Detail: d.Detail,
			Bytes: d.Bytes, StartedAt: d.StartedAt, FinishedAt: &now}
		if err := s.conn(ctx).Create(&row).Error; err != nil {
			return translate(err, "record delivery")
		}
		upd := map[string]any{"last_status": d.Status, "last_detail": d.Detail, "last_build_id": d.BuildID, "last_attempt_at": now}
		if d.Status == "succeeded" {
			upd["last_success_at"] = now
		}
		if config != nil {
			upd["config"] = string(config)
		}
		return translate(s.conn(ctx).Model(&feedTargetRow{}).Where("id = ?", d.TargetID).Updates(upd).Error, "record delivery")
	})
}

// FeedDeliveries lists a target's recent pushes, newest first.
func (s *Store) FeedDeliveries(ctx context.Context, targetID int64, limit int) ([]app.FeedDelivery, error) {
	var rows []feedDeliveryRow
	if err := s.conn(ctx).Where("target_id = ?", targetID).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "feed deliveries")
	}
	out := make([]app.FeedDelivery, len(rows))
	for i, r := range rows {
		out[i] = app.FeedDelivery{ID: r.ID, TargetID: r.TargetID, BuildID: r.BuildID, Status: r.Status, Detail: r.Detail,
			Bytes: r.Bytes, StartedAt: r.StartedAt.UTC(), FinishedAt: utcPtr(r.FinishedAt)}
	}
	return out, nil
}
