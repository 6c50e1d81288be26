package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
)

// signatureUseRow is the signature_uses table.
type signatureUseRow struct {
	ShopID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Digest    string `gorm:"primaryKey"`
	Binding   string
	ExpiresAt time.Time
}

func (signatureUseRow) TableName() string { return "signature_uses" }

// UseSignature implements app.SignatureUseStore: an INSERT … ON CONFLICT
// DO NOTHING on (shop_id, digest), atomic whichever replica runs it, after
// deleting the row of that signature if it has expired (its Timestamp is
// out of the window, so it could not verify any more anyway).
func (s *Store) UseSignature(ctx context.Context, use agents.SignatureUse, now time.Time) (*agents.SignatureUse, bool, error) {
	row := signatureUseRow{ShopID: use.ShopID, Digest: use.Digest, Binding: use.Binding, ExpiresAt: use.ExpiresAt.UTC()}
	// A row can only vanish between the INSERT that lost and the SELECT by
	// expiring; then the signature is free again: try again.
	for range 3 {
		err := s.conn(ctx).Where("shop_id = ? AND digest = ? AND expires_at <= ?", use.ShopID, use.Digest, now.UTC()).
			Delete(&signatureUseRow{}).Error
		if err != nil {
			return nil, false, translate(err, "use signature: drop expired")
		}
		res := s.conn(ctx).Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "shop_id"}, {Name: "digest"}},
			DoNothing: true,
		}).Create(&row)
		if res.Error != nil {
			return nil, false, translate(res.Error, "use signature")
		}
		if res.RowsAffected == 1 {
			return toAppSignatureUse(row), true, nil
		}
		var cur signatureUseRow
		res = s.conn(ctx).Where("shop_id = ? AND digest = ?", use.ShopID, use.Digest).Limit(1).Find(&cur)
		if res.Error != nil {
			return nil, false, translate(res.Error, "use signature: read first use")
		}
		if res.RowsAffected == 1 {
			return toAppSignatureUse(cur), false, nil
		}
	}
	return nil, false, fmt.Errorf("use signature: the row keeps changing: %w", app.ErrConflict)
}

func toAppSignatureUse(r signatureUseRow) *agents.SignatureUse {
	return &agents.SignatureUse{ShopID: r.ShopID, Digest: r.Digest, Binding: r.Binding, ExpiresAt: r.ExpiresAt.UTC()}
}

// PruneSignatureUses deletes the signature uses expired at now.
func (s *Store) PruneSignatureUses(ctx context.Context, now time.Time) (int64, error) {
	res := s.conn(ctx).Where("expires_at <= ?", now.UTC()).Delete(&signatureUseRow{})
	return res.RowsAffected, translate(res.Error, "prune signature uses")
}
