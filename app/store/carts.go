package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
)

// cartRow is the carts table.
type cartRow struct {
	ID       string `gorm:"primaryKey"`
	ShopID   int64
	APIKeyID int64
	Currency string
	State    string // without the buyer (personal.go)
	// BuyerSealed and BuyerIndex: as checkoutSessionRow's.
	BuyerSealed *string
	BuyerIndex  *string
	RowVersion  int64
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (cartRow) TableName() string { return "carts" }

// toCartRow is the row of a cart: its state as JSON, its buyer sealed
// apart (personal.go).
func (s *Store) toCartRow(c *checkout.Cart) (cartRow, error) {
	plain := c.State
	personal := cartPersonal{Buyer: plain.Buyer}
	plain.ForgetBuyer()
	st, err := json.Marshal(plain)
	if err != nil {
		return cartRow{}, fmt.Errorf("encode cart state: %w", err)
	}
	email := ""
	if personal.Buyer != nil {
		email = personal.Buyer.Email
	}
	sealed, index, err := s.sealPersonal("carts", c.ID, personal, personal.Buyer == nil, email)
	if err != nil {
		return cartRow{}, err
	}
	return cartRow{ID: c.ID, ShopID: c.ShopID, APIKeyID: c.APIKeyID, Currency: c.Currency, State: string(st),
		BuyerSealed: sealed, BuyerIndex: index,
		RowVersion: c.RowVersion, ExpiresAt: c.ExpiresAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}, nil
}

// toCart is the cart of a row, its sealed buyer opened back into its state.
func (s *Store) toCart(r cartRow) (*checkout.Cart, error) {
	c := &checkout.Cart{ID: r.ID, ShopID: r.ShopID, APIKeyID: r.APIKeyID, Currency: r.Currency, RowVersion: r.RowVersion,
		ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal([]byte(r.State), &c.State); err != nil {
		return nil, fmt.Errorf("cart %s: decode state: %w", r.ID, err)
	}
	if r.BuyerSealed != nil {
		var p cartPersonal
		if err := s.openPersonal("carts", r.ID, r.BuyerSealed, &p); err != nil {
			return nil, err
		}
		c.State.Buyer = p.Buyer
	}
	return c, nil
}

// CreateCart inserts a new cart (row version 1).
func (s *Store) CreateCart(ctx context.Context, c *checkout.Cart) error {
	c.RowVersion = 1
	r, err := s.toCartRow(c)
	if err != nil {
		return err
	}
	return translate(s.conn(ctx).Create(&r).Error, "create cart")
}

// Cart returns the shop's cart id; another shop's is not found.
func (s *Store) Cart(ctx context.Context, shopID int64, id string) (*checkout.Cart, error) {
	var r cartRow
	if err := s.conn(ctx).Where(byShopKey, id, shopID).Take(&r).Error; err != nil {
		return nil, translate(err, "cart")
	}
	return s.toCart(r)
}

// SaveCart writes c when its row version is unchanged since it was read,
// and bumps it; otherwise (or when the cart is gone) ErrConflict and
// nothing is written.
func (s *Store) SaveCart(ctx context.Context, c *checkout.Cart) error {
	r, err := s.toCartRow(c)
	if err != nil {
		return err
	}
	res := s.conn(ctx).Model(&cartRow{}).
		Where(byShopKey+" AND row_version = ?", c.ID, c.ShopID, c.RowVersion).
		Updates(map[string]any{
			"state": r.State, "buyer_sealed": r.BuyerSealed, "buyer_index": r.BuyerIndex, "currency": r.Currency, "expires_at": r.ExpiresAt, "updated_at": r.UpdatedAt,
			"row_version": gorm.Expr("row_version + 1"),
		})
	if res.Error != nil {
		return translate(res.Error, "save cart")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("save cart %s: %w", c.ID, app.ErrConflict)
	}
	c.RowVersion++
	return nil
}

// DeleteCart deletes c when its row version is unchanged since it was
// read; otherwise (or when it is gone already) ErrConflict.
func (s *Store) DeleteCart(ctx context.Context, c *checkout.Cart) error {
	res := s.conn(ctx).Where(byShopKey+" AND row_version = ?", c.ID, c.ShopID, c.RowVersion).Delete(&cartRow{})
	if res.Error != nil {
		return translate(res.Error, "delete cart")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete cart %s: %w", c.ID, app.ErrConflict)
	}
	return nil
}

// OverdueCarts lists the carts past their expiry, oldest first
// (carts_expires_idx).
func (s *Store) OverdueCarts(ctx context.Context, now time.Time, limit int) ([]checkout.SessionRef, error) {
	var rows []struct {
		ShopID int64
		ID     string
	}
	err := s.conn(ctx).Model(&cartRow{}).Select("shop_id, id").Where("expires_at <= ?", now).
		Order("expires_at").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "overdue carts")
	}
	out := make([]checkout.SessionRef, len(rows))
	for i, r := range rows {
		out[i] = checkout.SessionRef{ShopID: r.ShopID, ID: r.ID}
	}
	return out, nil
}

// customerCarts selects the shop's carts of the customer's email (by its
// blind index; byBuyerEmail).
func (s *Store) customerCarts(ctx context.Context, shop string, c app.CustomerRef) *gorm.DB {
	q := s.conn(ctx).Model(&cartRow{}).
		Where("shop_id IN (?)", s.conn(ctx).Model(&shopRow{}).Select("id").Where("domain = ?", shop))
	return s.byBuyerEmail(q, c.Email)
}
