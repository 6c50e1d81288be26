package shopify

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Variant is a product variant as the shop has it right now.
type Variant struct {
	// ID is the variant's GID, ProductID its product's.
	ID, ProductID string
	// Title is the product's title, VariantTitle the variant's
	// ("Default Title" for a product without options).
	Title, VariantTitle string
	SKU, Barcode        string
	// Price and CompareAtPrice are decimal strings in Currency;
	// CompareAtPrice is "" when there is none.
	Price, CompareAtPrice string
	// Currency is the shop's currency code, e.g. "USD".
	Currency string
	// AvailableForSale is Shopify's own verdict: in stock, not tracked, or
	// sold past zero.
	AvailableForSale bool
	// InventoryQuantity is the available quantity; it means something only
	// when Tracked.
	InventoryQuantity int
	// InventoryPolicy is DENY (stop at zero) or CONTINUE (oversell).
	InventoryPolicy string
	// Tracked says whether Shopify tracks the variant's inventory; it is
	// false when Shopify gives no quantity.
	Tracked bool
	// RequiresShipping is the inventory item's requiresShipping (there is
	// no ProductVariant.requiresShipping in 2026-10).
	RequiresShipping bool
	Taxable          bool
	// ProductStatus is ACTIVE, DRAFT or ARCHIVED.
	ProductStatus string
	// ProductHandle is the product's handle; OnlineStoreURL its Online
	// Store page, "" when it is not published there.
	ProductHandle, OnlineStoreURL string
	// ImageURL is the variant's image, else the product's featured image,
	// else "".
	ImageURL string
}

// CanSell reports whether qty units can be sold now: the product is
// active, and the variant is untracked, oversold by policy, or has qty in
// stock.
func (v *Variant) CanSell(qty int) bool {
	if v.ProductStatus != "ACTIVE" || qty < 1 || !v.AvailableForSale {
		return false
	}
	return !v.Tracked || v.InventoryPolicy == "CONTINUE" || v.InventoryQuantity >= qty
}

// lookupChunk is how many ids one LookupVariants query asks for. Input
// lists are capped at 250, but each variant costs 6 points here (variant,
// image, inventory item, product, featured media, its image), so 100 keep a
// query at about 600 of the 1,000-point cap.
const lookupChunk = 100

// lookupVariantsQuery reads variants by id with the shop's currency.
const lookupVariantsQuery = `query LookupVariants($ids: [ID!]!) {
  shop { currencyCode }
  nodes(ids: $ids) {
    ... on ProductVariant {
      id title sku barcode price compareAtPrice availableForSale
      inventoryQuantity inventoryPolicy taxable
      media(first: 1) { nodes { ... on MediaImage { image { url } } } }
      inventoryItem { tracked requiresShipping }
      product {
        id title handle status onlineStoreUrl
        featuredMedia { ... on MediaImage { image { url } } }
      }
    }
  }
}`

// variantNode is one decoded node of lookupVariantsQuery.
type variantNode struct {
	ID                string  `json:"id"`
	Title             string  `json:"title"`
	SKU               *string `json:"sku"`
	Barcode           *string `json:"barcode"`
	Price             string  `json:"price"`
	CompareAtPrice    *string `json:"compareAtPrice"`
	AvailableForSale  bool    `json:"availableForSale"`
	InventoryQuantity *int    `json:"inventoryQuantity"`
	InventoryPolicy   string  `json:"inventoryPolicy"`
	Taxable           bool    `json:"taxable"`
	// Media's first image is the variant's image (ProductVariant.image is
	// deprecated in 2026-10).
	Media struct {
		Nodes []struct {
			Image *struct {
				URL string `json:"url"`
			} `json:"image"`
		} `json:"nodes"`
	} `json:"media"`
	InventoryItem struct {
		Tracked          bool `json:"tracked"`
		RequiresShipping bool `json:"requiresShipping"`
	} `json:"inventoryItem"`
	Product struct {
		ID             string  `json:"id"`
		Title          string  `json:"title"`
		Handle         string  `json:"handle"`
		Status         string  `json:"status"`
		OnlineStoreURL *string `json:"onlineStoreUrl"`
		FeaturedMedia  *struct {
			Image *struct {
				URL string `json:"url"`
			} `json:"image"`
		} `json:"featuredMedia"`
	} `json:"product"`
}

// VariantGID returns the ProductVariant GID for a GID or a bare numeric id
// (the feed's item_id), and false for anything else.
func VariantGID(id string) (string, bool) {
	const prefix = "gid://shopify/ProductVariant/"
	n := strings.TrimPrefix(strings.TrimSpace(id), prefix)
	if n == "" || len(n) > 19 || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	if v, err := strconv.ParseUint(n, 10, 64); err != nil || v == 0 {
		return "", false
	}
	return prefix + n, true
}

// variantGIDs are the well-formed ids as variant GIDs, each once, in the
// order first asked.
func variantGIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	gids := make([]string, 0, len(ids))
	for _, id := range ids {
		if g, ok := VariantGID(id); ok && !seen[g] {
			seen[g] = true
			gids = append(gids, g)
		}
	}
	return gids
}

// LookupVariants reads variants live by id (ProductVariant GIDs or bare
// numeric ids), in the order first asked, each once. Ids that are
// malformed, unknown, deleted or not variants are simply absent from the
// result. Ids are sent in chunks of lookupChunk.
func LookupVariants(ctx context.Context, q Querier, shop string, ids []string) ([]Variant, error) {
	gids := variantGIDs(ids)
	out := make([]Variant, 0, len(gids))
	for start := 0; start < len(gids); start += lookupChunk {
		chunk := gids[start:min(start+lookupChunk, len(gids))]
		var resp struct {
			Shop struct {
				CurrencyCode string `json:"currencyCode"`
			} `json:"shop"`
			Nodes []*variantNode `json:"nodes"`
		}
		if err := q.Query(ctx, shop, lookupVariantsQuery, map[string]any{"ids": chunk}, &resp); err != nil {
			return nil, fmt.Errorf("look up variants: %w", err)
		}
		for _, n := range resp.Nodes {
			if n == nil || n.ID == "" {
				continue // unknown id, or a node of another type
			}
			out = append(out, n.variant(resp.Shop.CurrencyCode))
		}
	}
	return out, nil
}

// variant converts a decoded node.
func (n *variantNode) variant(currency string) Variant {
	v := Variant{
		ID: n.ID, ProductID: n.Product.ID,
		Title: n.Product.Title, VariantTitle: n.Title,
		SKU: deref(n.SKU), Barcode: deref(n.Barcode),
		Price: n.Price, CompareAtPrice: deref(n.CompareAtPrice), Currency: currency,
		AvailableForSale: n.AvailableForSale,
		InventoryPolicy:  n.InventoryPolicy,
		Tracked:          n.InventoryItem.Tracked && n.InventoryQuantity != nil,
		RequiresShipping: n.InventoryItem.RequiresShipping,
		Taxable:          n.Taxable,
		ProductStatus:    n.Product.Status,
		ProductHandle:    n.Product.Handle,
		OnlineStoreURL:   deref(n.Product.OnlineStoreURL),
	}
	if n.InventoryQuantity != nil {
		v.InventoryQuantity = *n.InventoryQuantity
	}
	switch {
	case len(n.Media.Nodes) > 0 && n.Media.Nodes[0].Image != nil && n.Media.Nodes[0].Image.URL != "":
		v.ImageURL = n.Media.Nodes[0].Image.URL
	case n.Product.FeaturedMedia != nil && n.Product.FeaturedMedia.Image != nil:
		v.ImageURL = n.Product.FeaturedMedia.Image.URL
	}
	return v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkVariantsQuery reads only what a sale is checked against: price,
// stock and the product's status. Scalars cost nothing and each node,
// inventory item and product costs 1, so a variant costs 3 points (the
// full lookupVariantsQuery costs 6 per variant and 1 for the shop): this
// is the query that runs at every purchase.
const checkVariantsQuery = `query CheckVariants($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      id price availableForSale inventoryQuantity inventoryPolicy
      inventoryItem { tracked requiresShipping }
      product { id status }
    }
  }
}`

// CheckVariants reads the price and stock of variants live, as
// LookupVariants does but with only ID, ProductID, Price,
// AvailableForSale, InventoryQuantity, InventoryPolicy, Tracked,
// RequiresShipping and ProductStatus set (Currency is "": prices are in
// the shop's currency, which the caller knows). Ids that are unknown,
// deleted or not variants are absent from the result.
func CheckVariants(ctx context.Context, q Querier, shop string, ids []string) ([]Variant, error) {
	gids := variantGIDs(ids)
	out := make([]Variant, 0, len(gids))
	for start := 0; start < len(gids); start += lookupChunk {
		chunk := gids[start:min(start+lookupChunk, len(gids))]
		var resp struct {
			Nodes []*variantNode `json:"nodes"`
		}
		if err := q.Query(ctx, shop, checkVariantsQuery, map[string]any{"ids": chunk}, &resp); err != nil {
			return nil, fmt.Errorf("check variants: %w", err)
		}
		for _, n := range resp.Nodes {
			if n != nil && n.ID != "" {
				out = append(out, n.variant(""))
			}
		}
	}
	return out, nil
}
