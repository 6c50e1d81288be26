package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/billing"
)

// billing_orders rows are inserted by the database itself (migration
// 00020's trigger on agent_events); this file reads and decides them, and
// keeps shop_billing.

// shopBillingRow is the shop_billing table.
type shopBillingRow struct {
	ShopID          int64 `gorm:"primaryKey;autoIncrement:false"`
	SubscriptionID  string
	Name            string
	Status          string
	Test            bool
	Currency        string
	RecurringAmount string
	UsageLineItemID string
	UsageCap        string
	UsageUsed       string
	PeriodEnd       *time.Time
	CheckedAt       time.Time
}

func (shopBillingRow) TableName() string { return "shop_billing" }

// createdIn is the condition "created_at in [from, to)". SQLite compares
// the stored text, which the trigger copied from the order event as it was
// written (in whatever zone the writer's clock had), so it compares
// julianday values, not strings.
func (s *Store) createdIn() string {
	if s.kind == app.DatabaseSQLite {
		return "julianday(created_at) >= julianday(?) AND julianday(created_at) < julianday(?)"
	}
	return "created_at >= ? AND created_at < ?"
}

// CountBillingOrders implements billing.Store; with atMost, a LIMIT in a
// subquery stops the index scan there.
func (s *Store) CountBillingOrders(ctx context.Context, shopID int64, from, to time.Time, decidedOnly bool, atMost int) (int, error) {
	q := s.conn(ctx).Table("billing_orders").Select("1").Where("shop_id = ? AND "+s.createdIn(), shopID, from.UTC(), to.UTC())
	if decidedOnly {
		q = q.Where("charge <> ?", string(billing.ChargePending))
	}
	if atMost > 0 {
		q = q.Limit(atMost)
	}
	var n int64
	if err := s.conn(ctx).Table("(?) AS o", q).Count(&n).Error; err != nil {
		return 0, translate(err, "count billing orders")
	}
	return int(n), nil
}

// PendingBillingOrders implements billing.Store.
func (s *Store) PendingBillingOrders(ctx context.Context, limit int) ([]billing.Order, error) {
	var rows []struct {
		ShopID    int64
		Domain    string
		Status    string
		SessionID string
		CreatedAt time.Time
	}
	err := s.conn(ctx).Table("billing_orders AS b").
		Select("b.shop_id, s.domain, s.status, b.session_id, b.created_at").
		Joins("JOIN shops s ON s.id = b.shop_id").
		Where("b.charge = ?", string(billing.ChargePending)).
		Order("b.created_at, b.session_id").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "pending billing orders")
	}
	out := make([]billing.Order, len(rows))
	for i, r := range rows {
		out[i] = billing.Order{ShopID: r.ShopID, Shop: r.Domain, ShopActive: r.Status == string(app.ShopActive),
			SessionID: r.SessionID, CreatedAt: r.CreatedAt.UTC(), Charge: billing.ChargePending}
	}
	return out, nil
}

// SetBillingOrderCharge implements billing.Store: a conditional UPDATE, so
// an order is decided once.
func (s *Store) SetBillingOrderCharge(ctx context.Context, shopID int64, sessionID string, c billing.Charge, usageRecordID string, at time.Time) (bool, error) {
	res := s.conn(ctx).Table("billing_orders").
		Where("shop_id = ? AND session_id = ? AND charge = ?", shopID, sessionID, string(billing.ChargePending)).
		Updates(map[string]any{"charge": string(c), "usage_record_id": usageRecordID, "updated_at": at.UTC()})
	if res.Error != nil {
		return false, translate(res.Error, "set billing order charge")
	}
	return res.RowsAffected == 1, nil
}

// ShopPlan implements billing.Store.
func (s *Store) ShopPlan(ctx context.Context, shopID int64) (*billing.PlanState, error) {
	var r shopBillingRow
	res := s.conn(ctx).Where("shop_id = ?", shopID).Limit(1).Find(&r)
	if res.Error != nil {
		return nil, translate(res.Error, "read shop plan")
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	return &billing.PlanState{ShopID: r.ShopID, SubscriptionID: r.SubscriptionID, Name: r.Name, Status: r.Status, Test: r.Test,
		Currency: r.Currency, Recurring: r.RecurringAmount, UsageCap: r.UsageCap, UsageUsed: r.UsageUsed,
		UsageLineItemID: r.UsageLineItemID, PeriodEnd: utcPtr(r.PeriodEnd), CheckedAt: r.CheckedAt.UTC()}, nil
}

// SaveShopPlan implements billing.Store (an upsert).
func (s *Store) SaveShopPlan(ctx context.Context, p *billing.PlanState) error {
	r := shopBillingRow{ShopID: p.ShopID, SubscriptionID: p.SubscriptionID, Name: p.Name, Status: p.Status, Test: p.Test,
		Currency: p.Currency, RecurringAmount: p.Recurring, UsageLineItemID: p.UsageLineItemID, UsageCap: p.UsageCap,
		UsageUsed: p.UsageUsed, PeriodEnd: utcPtr(p.PeriodEnd), CheckedAt: p.CheckedAt.UTC()}
	err := s.conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "shop_id"}}, UpdateAll: true}).Create(&r).Error
	return translate(err, "save shop plan")
}
