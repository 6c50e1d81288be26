package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
)

// checkoutPaymentRow is the checkout_payments table.
type checkoutPaymentRow struct {
	SessionID       string `gorm:"primaryKey"`
	ShopID          int64
	State           string
	Attempt         int
	TokenSealed     string
	Amount          int64
	Currency        string
	PaymentIntentID string
	OrderID         string
	OrderName       string
	OrderStatusURL  string `gorm:"column:order_status_url"`
	Details         string
	LastError       string
	LeaseUntil      *time.Time
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"autoUpdateTime:false"`
}

func (checkoutPaymentRow) TableName() string { return "checkout_payments" }

// CheckoutPayment returns the session's payment record, or ErrNotFound.
func (s *Store) CheckoutPayment(ctx context.Context, sessionID string) (*checkout.CheckoutPayment, error) {
	var r checkoutPaymentRow
	if err := s.conn(ctx).Where("session_id = ?", sessionID).Take(&r).Error; err != nil {
		return nil, translate(err, "checkout payment")
	}
	p := &checkout.CheckoutPayment{
		SessionID: r.SessionID, ShopID: r.ShopID, State: r.State, Attempt: r.Attempt, TokenSealed: r.TokenSealed,
		Amount: r.Amount, Currency: r.Currency, PaymentIntentID: r.PaymentIntentID, OrderID: r.OrderID,
		OrderName: r.OrderName, OrderStatusURL: r.OrderStatusURL, LastError: r.LastError, LeaseUntil: utcPtr(r.LeaseUntil),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.Details), &p.Details); err != nil {
		return nil, fmt.Errorf("checkout payment %s: details: %w", r.SessionID, err)
	}
	return p, nil
}

// SavePayment inserts or replaces the record; the lease is not touched.
func (s *Store) SavePayment(ctx context.Context, p *checkout.CheckoutPayment) error {
	d, err := json.Marshal(p.Details)
	if err != nil {
		return err
	}
	r := checkoutPaymentRow{
		SessionID: p.SessionID, ShopID: p.ShopID, State: p.State, Attempt: p.Attempt, TokenSealed: p.TokenSealed,
		Amount: p.Amount, Currency: p.Currency, PaymentIntentID: p.PaymentIntentID, OrderID: p.OrderID,
		OrderName: p.OrderName, OrderStatusURL: p.OrderStatusURL, Details: string(d), LastError: p.LastError,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	err = s.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "session_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "attempt", "token_sealed", "amount", "currency",
			"payment_intent_id", "order_id", "order_name", "order_status_url", "details", "last_error", "updated_at"}),
	}).Omit("lease_until").Create(&r).Error
	return translate(err, "save checkout payment")
}

// LeasePayment takes the record's lease when it is free or lapsed: one
// atomic UPDATE, so two replicas never both hold it.
func (s *Store) LeasePayment(ctx context.Context, sessionID string, now, until time.Time) (bool, error) {
	res := s.conn(ctx).Model(&checkoutPaymentRow{}).
		Where("session_id = ? AND (lease_until IS NULL OR lease_until < ?)", sessionID, now).
		Update("lease_until", until)
	if res.Error != nil {
		return false, translate(res.Error, "lease checkout payment")
	}
	return res.RowsAffected == 1, nil
}

// ReleasePayment frees the lease.
func (s *Store) ReleasePayment(ctx context.Context, sessionID string) error {
	return translate(s.conn(ctx).Model(&checkoutPaymentRow{}).Where("session_id = ?", sessionID).
		Update("lease_until", nil).Error, "release checkout payment")
}

// StripeKey returns the shop's sealed Stripe key, or ErrNotFound.
func (s *Store) StripeKey(ctx context.Context, shopID int64) (string, error) {
	var sealed *string
	err := s.conn(ctx).Model(&acpSettingsRow{}).Select("stripe_key_sealed").Where("shop_id = ?", shopID).Scan(&sealed).Error
	if err != nil {
		return "", translate(err, "stripe key")
	}
	if sealed == nil || *sealed == "" {
		return "", fmt.Errorf("stripe key: %w", app.ErrNotFound)
	}
	return *sealed, nil
}

// SaveStripeKey stores the shop's sealed Stripe key and its account id.
func (s *Store) SaveStripeKey(ctx context.Context, shopID int64, sealed, accountID string, now time.Time) error {
	r := acpSettingsRow{ShopID: shopID, StripeAccountID: accountID, StripeVerifiedAt: &now, UpdatedAt: now}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop_id"}},
		DoUpdates: clause.Assignments(map[string]any{"stripe_key_sealed": sealed, "stripe_account_id": accountID,
			"stripe_verified_at": now, "updated_at": now}),
	}).Create(&r).Error
	if err != nil {
		return translate(err, "save stripe key")
	}
	return translate(s.conn(ctx).Model(&acpSettingsRow{}).Where("shop_id = ?", shopID).
		Update("stripe_key_sealed", sealed).Error, "save stripe key")
}

// StalledCompletions lists completions in a non-final state, not leased,
// last changed before the cutoff.
func (s *Store) StalledCompletions(ctx context.Context, before time.Time) ([]app.ResumeCompletionArgs, error) {
	var rows []checkoutPaymentRow
	err := s.conn(ctx).Select("session_id", "shop_id").
		Where("state IN ? AND updated_at < ? AND (lease_until IS NULL OR lease_until < ?)",
			[]string{checkout.PaymentAuthorizing, checkout.PaymentAuthorized, checkout.PaymentOrdered}, before, s.Now()).
		Limit(1000).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "stalled completions")
	}
	out := make([]app.ResumeCompletionArgs, len(rows))
	for i, r := range rows {
		out[i] = app.ResumeCompletionArgs{ShopID: r.ShopID, SessionID: r.SessionID}
	}
	return out, nil
}
