package emulator

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Webhook payloads are REST-shaped: numeric ids plus admin_graphql_api_id,
// snake_case keys, lower-case enums (docs/shopify.md §3.2).

// restTime formats a REST/webhook timestamp.
func restTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// productPayload is the products/create and products/update body.
func productPayload(p *Product) map[string]any {
	images := make([]any, len(p.Images))
	for i, img := range p.Images {
		images[i] = map[string]any{
			"id": img.ID, "product_id": p.ID, "position": i + 1, "alt": img.AltText, "width": img.Width, "height": img.Height,
			"src": img.URL, "variant_ids": []int64{}, "admin_graphql_api_id": gid("ProductImage", img.ID),
			"created_at": restTime(p.CreatedAt), "updated_at": restTime(p.UpdatedAt),
		}
	}
	variants := make([]any, len(p.Variants))
	for i, v := range p.Variants {
		var compareAt, imageID any
		if v.CompareAtPriceCents > 0 {
			compareAt = formatMoney(v.CompareAtPriceCents)
		}
		if v.ImageID != 0 {
			imageID = v.ImageID
		}
		opts := [3]any{}
		for j, so := range v.SelectedOptions {
			if j < 3 {
				opts[j] = so.Value
			}
		}
		variants[i] = map[string]any{
			"id": v.ID, "product_id": p.ID, "title": v.Title, "price": formatMoney(v.PriceCents), "compare_at_price": compareAt,
			"sku": v.SKU, "barcode": v.Barcode, "position": i + 1, "inventory_policy": strings.ToLower(v.InventoryPolicy),
			"inventory_item_id": v.InventoryItemID, "inventory_quantity": v.InventoryQuantity, "old_inventory_quantity": v.InventoryQuantity,
			"taxable": v.Taxable, "requires_shipping": v.RequiresShipping, "image_id": imageID,
			"option1": opts[0], "option2": opts[1], "option3": opts[2],
			"created_at": restTime(v.CreatedAt), "updated_at": restTime(v.UpdatedAt), "admin_graphql_api_id": v.GID(),
		}
	}
	options := make([]any, len(p.Options))
	for i, o := range p.Options {
		options[i] = map[string]any{"id": p.ID*10 + int64(i) + 1, "product_id": p.ID, "name": o.Name, "position": i + 1, "values": o.Values}
	}
	var image, publishedAt any
	if len(images) > 0 {
		image = images[0]
	}
	if p.Published && p.Status == "ACTIVE" {
		publishedAt = restTime(p.CreatedAt)
	}
	var category any
	if p.Category != nil {
		category = map[string]any{"admin_graphql_api_id": p.Category.ID, "name": p.Category.Name, "full_name": p.Category.FullName}
	}
	return map[string]any{
		"id": p.ID, "title": p.Title, "body_html": p.DescriptionHTML, "vendor": p.Vendor, "product_type": p.ProductType,
		"handle": p.Handle, "status": strings.ToLower(p.Status), "tags": strings.Join(p.Tags, ", "),
		"created_at": restTime(p.CreatedAt), "updated_at": restTime(p.UpdatedAt), "published_at": publishedAt,
		"published_scope": "global", "template_suffix": nil, "admin_graphql_api_id": p.GID(),
		"variants": variants, "options": options, "images": images, "image": image, "media": images, "category": category,
		"variant_gids": variantGIDs(p),
	}
}

func variantGIDs(p *Product) []any {
	out := make([]any, len(p.Variants))
	for i, v := range p.Variants {
		out[i] = map[string]any{"admin_graphql_api_id": v.GID(), "updated_at": restTime(v.UpdatedAt)}
	}
	return out
}

// inventoryLevelPayload is the inventory_levels/update body.
func inventoryLevelPayload(s *shopState, v *Variant, at time.Time) map[string]any {
	return map[string]any{
		"inventory_item_id":    v.InventoryItemID,
		"location_id":          s.locationID,
		"available":            v.InventoryQuantity,
		"updated_at":           restTime(at),
		"admin_graphql_api_id": gid("InventoryLevel", s.locationID) + "?inventory_item_id=" + strconv.FormatInt(v.InventoryItemID, 10),
	}
}

// shopPayload is the REST shop object, the body of app/uninstalled.
func shopPayload(s *shopState, now time.Time) map[string]any {
	return map[string]any{
		"id": s.id, "name": s.displayName(), "email": s.email(), "customer_email": s.email(),
		"domain": s.handle + ".example", "myshopify_domain": s.domain, "shop_owner": "Demo Owner",
		"address1": "100 Main Street", "city": "Portland", "province": "Oregon", "province_code": "OR", "zip": "97204",
		"country": "US", "country_code": "US", "country_name": "United States", "currency": "USD",
		"iana_timezone": "America/New_York", "timezone": "(GMT-05:00) America/New_York", "weight_unit": "g",
		"plan_name": "partner_test", "plan_display_name": "Development", "primary_location_id": s.locationID,
		"taxes_included": false, "has_storefront": true, "money_format": "${{amount}}", "primary_locale": "en",
		"created_at": restTime(now.Add(-30 * 24 * time.Hour)), "updated_at": restTime(now),
	}
}

// CustomersDataRequestPayload is a customers/data_request body, in the shape
// Shopify documents for this mandatory compliance topic.
func (e *Emulator) CustomersDataRequestPayload(shop, customerEmail string) map[string]any {
	id, domain := e.shopIDDomain(shop)
	return map[string]any{
		"shop_id":          id,
		"shop_domain":      domain,
		"orders_requested": []int64{},
		"customer":         map[string]any{"id": customerID(customerEmail), "email": customerEmail, "phone": nil},
		"data_request":     map[string]any{"id": customerID("request:" + customerEmail)},
	}
}

// CustomersRedactPayload is a customers/redact body.
func (e *Emulator) CustomersRedactPayload(shop, customerEmail string) map[string]any {
	id, domain := e.shopIDDomain(shop)
	return map[string]any{
		"shop_id":          id,
		"shop_domain":      domain,
		"customer":         map[string]any{"id": customerID(customerEmail), "email": customerEmail, "phone": nil},
		"orders_to_redact": []int64{},
	}
}

// ShopRedactPayload is a shop/redact body, which Shopify sends 48 hours
// after an uninstall.
func (e *Emulator) ShopRedactPayload(shop string) map[string]any {
	id, domain := e.shopIDDomain(shop)
	return map[string]any{"shop_id": id, "shop_domain": domain}
}

func (e *Emulator) shopIDDomain(shop string) (int64, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.shop(shop); s != nil {
		return s.id, s.domain
	}
	return 0, shop
}

// customerID derives a stable numeric customer id from an email, so the same
// customer has the same id in every payload.
func customerID(email string) int64 {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(email)))
	return int64(h.Sum64()%9_000_000_000_000) + 1_000_000_000_000
}
