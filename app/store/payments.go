package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/acp"
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
func (s *Store) CheckoutPayment(ctx context.Context, sessionID string) (*checkout.Payment, error) {
	var r checkoutPaymentRow
	if err := s.conn(ctx).Where("session_id = ?", sessionID).Take(&r).Error; err != nil {
		return nil, translate(err, "checkout payment")
	}
	p := &checkout.Payment{
		SessionID: r.SessionID, ShopID: r.ShopID, State: r.State, Attempt: r.Attempt, TokenSealed: r.TokenSealed,
		Amount: r.Amount, Currency: r.Currency, PaymentIntentID: r.PaymentIntentID, OrderID: r.OrderID,
		OrderName: r.OrderName, OrderStatusURL: r.OrderStatusURL, LastError: r.LastError, LeaseUntil: utcPtr(r.LeaseUntil),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := s.openPaymentDetails(r.SessionID, r.Details, &p.Details); err != nil {
		return nil, err
	}
	return p, nil
}

// InsertPayment inserts the record, its lease included, when the session
// has none yet; false (and nothing written) when it has one.
func (s *Store) InsertPayment(ctx context.Context, p *checkout.Payment) (bool, error) {
	r, err := s.toPaymentRow(p)
	if err != nil {
		return false, err
	}
	res := s.conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "session_id"}}, DoNothing: true}).Create(&r)
	if res.Error != nil {
		return false, translate(res.Error, "insert checkout payment")
	}
	return res.RowsAffected == 1, nil
}

func (s *Store) toPaymentRow(p *checkout.Payment) (checkoutPaymentRow, error) {
	d, err := s.sealPaymentDetails(p.SessionID, p.Details)
	if err != nil {
		return checkoutPaymentRow{}, err
	}
	return checkoutPaymentRow{
		SessionID: p.SessionID, ShopID: p.ShopID, State: p.State, Attempt: p.Attempt, TokenSealed: p.TokenSealed,
		Amount: p.Amount, Currency: p.Currency, PaymentIntentID: p.PaymentIntentID, OrderID: p.OrderID,
		OrderName: p.OrderName, OrderStatusURL: p.OrderStatusURL, Details: string(d), LastError: p.LastError,
		LeaseUntil: p.LeaseUntil, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}, nil
}

// SavePayment inserts or replaces the record, its lease included: the
// request that begins a completion writes it leased to itself, and the
// driver's last write releases it (LeaseUntil nil).
func (s *Store) SavePayment(ctx context.Context, p *checkout.Payment) error {
	r, err := s.toPaymentRow(p)
	if err != nil {
		return err
	}
	err = s.conn(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "session_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "attempt", "token_sealed", "amount", "currency",
			"payment_intent_id", "order_id", "order_name", "order_status_url", "details", "last_error", "lease_until", "updated_at"}),
	}).Create(&r).Error
	return translate(err, "save checkout payment")
}

// UpdatePayment writes p over the stored record of the same attempt, its
// lease included; ErrConflict when the stored record is of another attempt
// (a newer one began, so p's driver is stale).
func (s *Store) UpdatePayment(ctx context.Context, p *checkout.Payment) error {
	d, err := s.sealPaymentDetails(p.SessionID, p.Details)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&checkoutPaymentRow{}).Where("session_id = ? AND attempt = ?", p.SessionID, p.Attempt).
		Updates(map[string]any{
			"state": p.State, "token_sealed": p.TokenSealed, "payment_intent_id": p.PaymentIntentID, "order_id": p.OrderID,
			"order_name": p.OrderName, "order_status_url": p.OrderStatusURL, "details": string(d), "last_error": p.LastError,
			"lease_until": p.LeaseUntil, "updated_at": p.UpdatedAt,
		})
	if res.Error != nil {
		return translate(res.Error, "update checkout payment")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update checkout payment %s attempt %d: %w", p.SessionID, p.Attempt, app.ErrConflict)
	}
	return nil
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

// paymentCredentialsRow is the payment_credentials table: one row per shop
// and provider.
type paymentCredentialsRow struct {
	ShopID            int64  `gorm:"primaryKey;autoIncrement:false"`
	Provider          string `gorm:"primaryKey"`
	AccountID         string
	CredentialsSealed string
	VerifiedAt        *time.Time
	UpdatedAt         time.Time `gorm:"autoUpdateTime:false"` // the app's clock, not gorm's
}

func (paymentCredentialsRow) TableName() string { return "payment_credentials" }

func toAppPaymentCredentials(r paymentCredentialsRow) *app.PaymentCredentials {
	return &app.PaymentCredentials{ShopID: r.ShopID, Provider: r.Provider, AccountID: r.AccountID, Sealed: r.CredentialsSealed,
		VerifiedAt: utcPtr(r.VerifiedAt), UpdatedAt: r.UpdatedAt.UTC()}
}

// PaymentCredentials returns the shop's sealed credentials for the
// provider, or ErrNotFound.
func (s *Store) PaymentCredentials(ctx context.Context, shopID int64, provider string) (*app.PaymentCredentials, error) {
	var r paymentCredentialsRow
	if err := s.conn(ctx).Where("shop_id = ? AND provider = ?", shopID, provider).Take(&r).Error; err != nil {
		return nil, translate(err, "payment credentials")
	}
	return toAppPaymentCredentials(r), nil
}

// ShopPaymentCredentials lists the shop's credentials, every provider's.
func (s *Store) ShopPaymentCredentials(ctx context.Context, shopID int64) ([]*app.PaymentCredentials, error) {
	var rows []paymentCredentialsRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Order("provider").Find(&rows).Error; err != nil {
		return nil, translate(err, "payment credentials")
	}
	out := make([]*app.PaymentCredentials, 0, len(rows))
	for _, r := range rows {
		out = append(out, toAppPaymentCredentials(r))
	}
	return out, nil
}

// SavePaymentCredentials stores the shop's credentials for c.Provider
// (replacing that provider's earlier ones) and makes that provider the one
// the shop's delegated payment charges, in one transaction.
func (s *Store) SavePaymentCredentials(ctx context.Context, c app.PaymentCredentials) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		r := paymentCredentialsRow{ShopID: c.ShopID, Provider: c.Provider, AccountID: c.AccountID, CredentialsSealed: c.Sealed,
			VerifiedAt: c.VerifiedAt, UpdatedAt: c.UpdatedAt}
		err := s.conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "shop_id"}, {Name: "provider"}}, UpdateAll: true}).
			Create(&r).Error
		s.forgetPaymentCredentials(ctx, c.ShopID)
		if err != nil {
			return translate(err, "save payment credentials")
		}
		set := acpSettingsRow{ShopID: c.ShopID, CompletionMethod: string(app.CompletionDelegatedPayment), UpdatedAt: c.UpdatedAt}
		err = s.conn(ctx).Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "shop_id"}}, DoUpdates: clause.Assignments(map[string]any{"updated_at": c.UpdatedAt}),
		}).Create(&set).Error
		if err != nil {
			return translate(err, "save payment credentials")
		}
		return translate(s.conn(ctx).Model(&acpSettingsRow{}).Where("shop_id = ?", c.ShopID).
			Update("payment_provider", c.Provider).Error, "save payment credentials")
	})
}

// forgetPaymentCredentials drops what APIKeyByHash remembers of the shop,
// whose answer carries the credentials with the settings: at the write,
// and again once its transaction commits, so that a request reading
// between the two does not keep the old credentials for AuthCacheTTL.
func (s *Store) forgetPaymentCredentials(ctx context.Context, shopID int64) {
	s.forgetShopAuth(shopID)
	s.AfterCommit(ctx, func(context.Context) { s.forgetShopAuth(shopID) })
}

// UpdatePaymentCredentialsSealed replaces the ciphertext of the shop's
// credentials for the provider, and nothing else (re-sealing under a new
// key changes neither the account nor when it was verified).
func (s *Store) UpdatePaymentCredentialsSealed(ctx context.Context, shopID int64, provider, sealed string) error {
	res := s.conn(ctx).Model(&paymentCredentialsRow{}).Where("shop_id = ? AND provider = ?", shopID, provider).
		Update("credentials_sealed", sealed)
	s.forgetPaymentCredentials(ctx, shopID)
	if res.Error != nil {
		return translate(res.Error, "update payment credentials")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("update payment credentials: %w", app.ErrNotFound)
	}
	return nil
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

// storedPaymentDetails is a payment's details as stored: the complete
// request's billing address and order notes (personal data) sealed into
// PersonalSealed, bound to the session's payment (app.BuyerAAD), the rest
// in plain JSON, which the completion's SQL reads (order_sent). Details
// written before migration 00022 hold them in plain JSON: both are read.
type storedPaymentDetails struct {
	checkout.PaymentDetails
	PersonalSealed *string `json:"personal_sealed,omitempty"`
}

// paymentPersonal is the personal part of a payment's details.
type paymentPersonal struct {
	BillingAddress *acp.Address `json:"billing_address,omitempty"`
	OrderNotes     string       `json:"order_notes,omitempty"`
}

func (s *Store) sealPaymentDetails(sessionID string, d checkout.PaymentDetails) (string, error) {
	personal := paymentPersonal{BillingAddress: d.BillingAddress, OrderNotes: d.OrderNotes}
	d.BillingAddress, d.OrderNotes = nil, ""
	sealed, _, err := s.sealPersonal("checkout_payments", sessionID, personal, personal.BillingAddress == nil && personal.OrderNotes == "", "")
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(storedPaymentDetails{PaymentDetails: d, PersonalSealed: sealed})
	if err != nil {
		return "", fmt.Errorf("encode payment details of %s: %w", sessionID, err)
	}
	return string(b), nil
}

func (s *Store) openPaymentDetails(sessionID, stored string, d *checkout.PaymentDetails) error {
	var sd storedPaymentDetails
	if err := json.Unmarshal([]byte(stored), &sd); err != nil {
		return fmt.Errorf("checkout payment %s: details: %w", sessionID, err)
	}
	*d = sd.PaymentDetails
	if sd.PersonalSealed == nil {
		return nil
	}
	var p paymentPersonal
	if err := s.openPersonal("checkout_payments", sessionID, sd.PersonalSealed, &p); err != nil {
		return err
	}
	d.BillingAddress, d.OrderNotes = p.BillingAddress, p.OrderNotes
	return nil
}

// forgetPaymentPersonal removes the personal data (billing address, order
// notes) from the payment details of the sessions ids, whose buyer is
// being forgotten (RedactCustomer, ForgetEndedBuyers).
func (s *Store) forgetPaymentPersonal(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var rows []checkoutPaymentRow
	if err := s.conn(ctx).Select("session_id", "details").Where("session_id IN ?", ids).Find(&rows).Error; err != nil {
		return translate(err, "payments of forgotten buyers")
	}
	for _, r := range rows {
		var sd storedPaymentDetails
		if err := json.Unmarshal([]byte(r.Details), &sd); err != nil {
			return fmt.Errorf("checkout payment %s: details: %w", r.SessionID, err)
		}
		if sd.PersonalSealed == nil && sd.BillingAddress == nil && sd.OrderNotes == "" {
			continue
		}
		sd.PersonalSealed, sd.BillingAddress, sd.OrderNotes = nil, nil, ""
		b, err := json.Marshal(sd)
		if err != nil {
			return err
		}
		if err := s.conn(ctx).Model(&checkoutPaymentRow{}).Where("session_id = ?", r.SessionID).
			UpdateColumn("details", string(b)).Error; err != nil {
			return translate(err, "forget payment details of "+r.SessionID)
		}
	}
	return nil
}
