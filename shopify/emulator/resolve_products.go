package emulator

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// registerProductResolvers adds the catalog queries.
func registerProductResolvers(r *registry) {
	r.addQuery("products", "read_products", resolveProducts)
	r.addQuery("product", "read_products", resolveProduct)
	r.addQuery("productVariants", "read_products", resolveProductVariants)
	r.addQuery("productVariant", "read_products", resolveProductVariant)
	r.addQuery("inventoryItem", "read_inventory", resolveInventoryItem)
}

// resolveProducts is products(first, after, last, before, query, sortKey,
// reverse).
func resolveProducts(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	terms := parseSearch(stringArg(args, "query"))
	key := stringArg(args, "sortKey")
	var items []edgeItem
	for _, p := range x.shop.products {
		if matchProduct(p, terms) {
			items = append(items, edgeItem{id: p.ID, value: productSortValue(p, key), node: func() map[string]any { return x.productNode(p) }})
		}
	}
	sortItems(items)
	return paginate(items, args, x.bulk)
}

// productSortValue is a product's value for a ProductSortKeys key; ID and
// unsupported keys sort by id alone.
func productSortValue(p *Product, key string) string {
	switch key {
	case "TITLE":
		return strings.ToLower(p.Title)
	case "UPDATED_AT":
		return p.UpdatedAt.UTC().Format(sortableTime)
	case "CREATED_AT", "PUBLISHED_AT":
		return p.CreatedAt.UTC().Format(sortableTime)
	case "VENDOR":
		return strings.ToLower(p.Vendor)
	case "PRODUCT_TYPE":
		return strings.ToLower(p.ProductType)
	case "INVENTORY_TOTAL":
		total := 0
		for _, v := range p.Variants {
			total += v.InventoryQuantity
		}
		return fmt.Sprintf("%012d", total)
	}
	return ""
}

// sortableTime is a fixed-width layout, so timestamps sort as strings.
const sortableTime = "2006-01-02T15:04:05.000000000"

// resolveProduct is product(id).
func resolveProduct(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	id, ok := parseGID(stringArg(args, "id"), "Product")
	if !ok {
		return nil, nil
	}
	if p := x.shop.product(id); p != nil {
		return x.productNode(p), nil
	}
	return nil, nil
}

// resolveProductVariants is productVariants(first, after, query, sortKey).
func resolveProductVariants(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	terms := parseSearch(stringArg(args, "query"))
	key := stringArg(args, "sortKey")
	var items []edgeItem
	for _, p := range x.shop.products {
		for i := range p.Variants {
			v := &p.Variants[i]
			if !matchVariant(p, v, terms) {
				continue
			}
			value := ""
			switch key {
			case "SKU":
				value = strings.ToLower(v.SKU)
			case "TITLE":
				value = strings.ToLower(v.Title)
			}
			items = append(items, edgeItem{id: v.ID, value: value, node: func() map[string]any { return x.variantNode(p, v) }})
		}
	}
	sortItems(items)
	return paginate(items, args, x.bulk)
}

// resolveProductVariant is productVariant(id).
func resolveProductVariant(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	id, ok := parseGID(stringArg(args, "id"), "ProductVariant")
	if !ok {
		return nil, nil
	}
	if p, v := x.shop.variant(id); v != nil {
		return x.variantNode(p, v), nil
	}
	return nil, nil
}

// resolveInventoryItem is inventoryItem(id): the app maps an
// inventory_levels/update webhook back to its variant with it.
func resolveInventoryItem(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	id, ok := parseGID(stringArg(args, "id"), "InventoryItem")
	if !ok {
		return nil, nil
	}
	if p, v := x.shop.inventoryItem(id); v != nil {
		return x.inventoryItemNode(p, v), nil
	}
	return nil, nil
}
