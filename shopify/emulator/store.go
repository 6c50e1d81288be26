package emulator

import (
	"errors"
	"fmt"
)

// Store changes for tests and the demo. Each one sends the webhook Shopify
// would send (when the app is installed) after the change is visible through
// the API, synchronously, so a test can assert on the app right after.

// ErrNotFound is returned for an unknown shop, product or variant.
var ErrNotFound = errors.New("emulator: not found")

// Products returns a copy of the shop's catalog in id order, or nil for an
// unknown shop.
func (e *Emulator) Products(shop string) []*Product {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil {
		return nil
	}
	s.sweepDrafts(e.now()) // expired reservations no longer hold stock
	out := make([]*Product, len(s.products))
	for i, p := range s.products {
		out[i] = p.clone()
	}
	return out
}

// UpdateProduct changes a product (id is a GID or a number) with fn, bumps
// its updatedAt and sends products/update. fn runs under the emulator's
// lock: it must not call the emulator nor keep p.
func (e *Emulator) UpdateProduct(shop, id string, fn func(*Product)) error {
	e.mu.Lock()
	s := e.shop(shop)
	pid, ok := parseGID(id, "Product")
	if s == nil || !ok || s.product(pid) == nil {
		e.mu.Unlock()
		return fmt.Errorf("update product %s in %s: %w", id, shop, ErrNotFound)
	}
	p := s.product(pid)
	fn(p)
	p.ID = pid // the id is not the caller's to change
	p.UpdatedAt = e.now()
	payload := productPayload(p)
	e.mu.Unlock()
	e.notify(s.domain, "products/update", payload)
	return nil
}

// SetInventory sets a variant's available quantity (variantID is a GID or a
// number) and sends inventory_levels/update.
func (e *Emulator) SetInventory(shop, variantID string, qty int) error {
	e.mu.Lock()
	s := e.shop(shop)
	vid, ok := parseGID(variantID, "ProductVariant")
	var v *Variant
	var p *Product
	if s != nil && ok {
		p, v = s.variant(vid)
	}
	if v == nil {
		e.mu.Unlock()
		return fmt.Errorf("set inventory of %s in %s: %w", variantID, shop, ErrNotFound)
	}
	now := e.now()
	v.InventoryQuantity = qty
	v.UpdatedAt, p.UpdatedAt = now, now
	payload := inventoryLevelPayload(s, v, now)
	e.mu.Unlock()
	e.notify(s.domain, "inventory_levels/update", payload)
	return nil
}

// DeleteProduct removes a product and sends products/delete.
func (e *Emulator) DeleteProduct(shop, id string) error {
	e.mu.Lock()
	s := e.shop(shop)
	pid, ok := parseGID(id, "Product")
	idx := -1
	if s != nil && ok {
		for i, p := range s.products {
			if p.ID == pid {
				idx = i
			}
		}
	}
	if idx < 0 {
		e.mu.Unlock()
		return fmt.Errorf("delete product %s in %s: %w", id, shop, ErrNotFound)
	}
	s.products = append(s.products[:idx], s.products[idx+1:]...)
	e.mu.Unlock()
	e.notify(s.domain, "products/delete", map[string]any{"id": pid})
	return nil
}
