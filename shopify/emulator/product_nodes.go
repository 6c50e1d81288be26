package emulator

import (
	"fmt"
	"strconv"
	"time"
)

// This file turns catalog types into the plain values the projector reads:
// one map per GraphQL object, keyed by schema field name.

// dateTime formats Shopify's DateTime scalar.
func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// productNode is a Product object.
func (x *execution) productNode(p *Product) map[string]any {
	var onlineURL, publishedAt any
	if p.Published && p.Status == "ACTIVE" {
		onlineURL = x.shop.storefront() + "/products/" + p.Handle
		publishedAt = dateTime(p.CreatedAt)
	}
	media := make([]edgeItem, len(p.Images))
	for i, img := range p.Images {
		media[i] = edgeItem{id: img.ID, value: fmt.Sprintf("%06d", i), node: func() map[string]any { return mediaImageNode(img) }}
	}
	var featured any
	if len(p.Images) > 0 {
		featured = mediaImageNode(p.Images[0])
	}
	var category any
	if p.Category != nil {
		category = map[string]any{"__typename": "TaxonomyCategory", "id": p.Category.ID, "name": p.Category.Name, "fullName": p.Category.FullName}
	}
	options := make([]any, len(p.Options))
	for i, o := range p.Options {
		options[i] = map[string]any{"__typename": "ProductOption", "id": gid("ProductOption", p.ID*10+int64(i)+1), "name": o.Name, "position": i + 1, "values": o.Values}
	}
	collections := make([]edgeItem, len(p.Collections))
	for i, c := range p.Collections {
		collections[i] = edgeItem{id: c.ID, value: fmt.Sprintf("%06d", i), node: func() map[string]any {
			return map[string]any{"__typename": "Collection", "id": c.GID(), "title": c.Title, "handle": c.Handle}
		}}
	}
	variants := make([]edgeItem, len(p.Variants))
	total, tracks := 0, false
	for i := range p.Variants {
		v := &p.Variants[i]
		variants[i] = edgeItem{id: v.ID, value: fmt.Sprintf("%06d", i), node: func() map[string]any { return x.variantNode(p, v) }}
		if v.Tracked {
			total += v.InventoryQuantity
			tracks = true
		}
	}
	return map[string]any{
		"__typename":       "Product",
		"id":               p.GID(),
		"legacyResourceId": strconv.FormatInt(p.ID, 10),
		"title":            p.Title,
		"handle":           p.Handle,
		"description": lazy(func(args map[string]any) (any, error) {
			text := stripTags(p.DescriptionHTML)
			if n, ok := intArg(args, "truncateAt"); ok && n >= 0 && len([]rune(text)) > n {
				text = string([]rune(text)[:n])
			}
			return text, nil
		}),
		"descriptionHtml":       p.DescriptionHTML,
		"vendor":                p.Vendor,
		"productType":           p.ProductType,
		"status":                p.Status,
		"tags":                  p.Tags,
		"onlineStoreUrl":        onlineURL,
		"onlineStorePreviewUrl": x.shop.storefront() + "/products/" + p.Handle,
		"publishedAt":           publishedAt,
		"createdAt":             dateTime(p.CreatedAt),
		"updatedAt":             dateTime(p.UpdatedAt),
		"category":              category,
		"featuredMedia":         featured,
		"media":                 lazy(func(args map[string]any) (any, error) { return paginate(media, args, x.bulk) }),
		"options": lazy(func(args map[string]any) (any, error) {
			if n, ok := intArg(args, "first"); ok && n < len(options) {
				return options[:max(n, 0)], nil
			}
			return options, nil
		}),
		"variants":              lazy(func(args map[string]any) (any, error) { return paginate(variants, args, x.bulk) }),
		"collections":           lazy(func(args map[string]any) (any, error) { return paginate(collections, args, x.bulk) }),
		"variantsCount":         map[string]any{"count": len(p.Variants), "precision": "EXACT"},
		"hasOnlyDefaultVariant": len(p.Variants) == 1 && p.Variants[0].Title == "Default Title",
		"totalInventory":        total,
		"tracksInventory":       tracks,
		"seo":                   map[string]any{"title": nilIfEmpty(p.SEOTitle), "description": nilIfEmpty(p.SEODescription)},
	}
}

// mediaImageNode is a MediaImage; its type name lets `... on MediaImage`
// fragments on the Media interface apply.
func mediaImageNode(img Image) map[string]any {
	return map[string]any{
		"__typename":       "MediaImage",
		"id":               gid("MediaImage", img.ID),
		"alt":              img.AltText,
		"mediaContentType": "IMAGE",
		"status":           "READY",
		"image":            imageNode(img),
		"preview":          map[string]any{"status": "READY", "image": imageNode(img)},
	}
}

// imageNode is an Image.
func imageNode(img Image) map[string]any {
	return map[string]any{
		"id":      gid("ProductImage", img.ID),
		"url":     img.URL,
		"altText": img.AltText,
		"width":   img.Width,
		"height":  img.Height,
	}
}

// variantNode is a ProductVariant.
func (x *execution) variantNode(p *Product, v *Variant) map[string]any {
	var image, compareAt any
	var media []edgeItem // the variant's media: its image, if it has one
	if img := p.image(v.ImageID); img != nil {
		image = imageNode(*img)
		media = []edgeItem{{id: img.ID, value: "000000", node: func() map[string]any { return mediaImageNode(*img) }}}
	}
	if v.CompareAtPriceCents > 0 {
		compareAt = formatMoney(v.CompareAtPriceCents)
	}
	selected := make([]any, len(v.SelectedOptions))
	for i, so := range v.SelectedOptions {
		selected[i] = map[string]any{"name": so.Name, "value": so.Value}
	}
	position := 1
	for i := range p.Variants {
		if p.Variants[i].ID == v.ID {
			position = i + 1
		}
	}
	return map[string]any{
		"__typename":        "ProductVariant",
		"id":                v.GID(),
		"legacyResourceId":  strconv.FormatInt(v.ID, 10),
		"title":             v.Title,
		"displayName":       p.Title + " - " + v.Title,
		"sku":               nilIfEmpty(v.SKU),
		"barcode":           nilIfEmpty(v.Barcode),
		"price":             formatMoney(v.PriceCents),
		"compareAtPrice":    compareAt,
		"availableForSale":  v.AvailableForSale(),
		"inventoryQuantity": v.InventoryQuantity,
		"inventoryPolicy":   v.InventoryPolicy,
		"taxable":           v.Taxable,
		"position":          position,
		"selectedOptions":   selected,
		"image":             image,
		"media":             lazy(func(args map[string]any) (any, error) { return paginate(media, args, x.bulk) }),
		"createdAt":         dateTime(v.CreatedAt),
		"updatedAt":         dateTime(v.UpdatedAt),
		"product":           lazy(func(map[string]any) (any, error) { return x.productNode(p), nil }),
		"inventoryItem":     x.inventoryItemNode(p, v),
	}
}

// inventoryItemNode is an InventoryItem; its variant is lazy because a
// variant holds its inventory item.
func (x *execution) inventoryItemNode(p *Product, v *Variant) map[string]any {
	return map[string]any{
		"__typename":       "InventoryItem",
		"id":               gid("InventoryItem", v.InventoryItemID),
		"legacyResourceId": strconv.FormatInt(v.InventoryItemID, 10),
		"sku":              nilIfEmpty(v.SKU),
		"tracked":          v.Tracked,
		"requiresShipping": v.RequiresShipping,
		"createdAt":        dateTime(v.CreatedAt),
		"updatedAt":        dateTime(v.UpdatedAt),
		"measurement": map[string]any{
			"id":     gid("InventoryItemMeasurement", v.InventoryItemID),
			"weight": map[string]any{"unit": "GRAMS", "value": v.WeightGrams},
		},
		"variant": lazy(func(map[string]any) (any, error) { return x.variantNode(p, v), nil }),
		"variants": lazy(func(args map[string]any) (any, error) {
			one := []edgeItem{{id: v.ID, node: func() map[string]any { return x.variantNode(p, v) }}}
			return paginate(one, args, x.bulk)
		}),
	}
}

// nilIfEmpty maps "" to GraphQL null.
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
