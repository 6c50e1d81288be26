package store

import "context"

// UpdateShopScopes stores the scopes the shop grants the app now
// (app/scopes_update, or the admin after a grant through App Bridge).
func (s *Store) UpdateShopScopes(ctx context.Context, shopID int64, scopes string) error {
	err := s.conn(ctx).Model(&shopRow{}).Where("id = ?", shopID).Updates(map[string]any{
		"scopes":     scopes,
		"updated_at": s.Now(),
	}).Error
	// The cached row (webhook receipt, query tokens) holds the scopes too.
	s.forgetShopAuth(shopID)
	return translate(err, "update shop scopes")
}
