package emulator

import "github.com/vektah/gqlparser/v2/ast"

// registerNodeResolvers adds node(id) and nodes(ids) for the object types
// the emulator knows; other ids resolve to null as unknown ids do on Shopify.
func registerNodeResolvers(r *registry) {
	r.addQuery("node", "", func(x *execution, _ *ast.Field, args map[string]any) (any, error) {
		return x.nodeByID(stringArg(args, "id"))
	})
	r.addQuery("nodes", "", func(x *execution, _ *ast.Field, args map[string]any) (any, error) {
		ids := stringsArg(args, "ids")
		out := make([]any, len(ids))
		for i, id := range ids {
			n, err := x.nodeByID(id)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	})
}

// nodeByID resolves a GID to its object, checking the scope its type needs.
func (x *execution) nodeByID(id string) (any, error) {
	kind := gidKind(id)
	scope := map[string]string{"Product": "read_products", "ProductVariant": "read_products", "InventoryItem": "read_inventory", "DraftOrder": "read_draft_orders"}[kind]
	if !x.token.hasScope(scope) {
		required := "`" + scope + "` access scope."
		return nil, &apiError{msg: "Access denied for node field. Required access: " + required, ext: map[string]any{"code": "ACCESS_DENIED", "requiredAccess": required}}
	}
	args := map[string]any{"id": id}
	switch kind {
	case "Product":
		return resolveProduct(x, nil, args)
	case "ProductVariant":
		return resolveProductVariant(x, nil, args)
	case "InventoryItem":
		return resolveInventoryItem(x, nil, args)
	case "DraftOrder":
		if n, ok := parseGID(id, kind); ok && x.shop.draft(n) != nil {
			return x.draftOrderNode(x.shop.draft(n)), nil
		}
		return nil, nil
	case "BulkOperation":
		return resolveBulkOperation(x, nil, args)
	}
	return nil, nil
}
