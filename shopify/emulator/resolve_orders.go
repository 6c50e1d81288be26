package emulator

import (
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// registerOrderResolvers adds orderCreate, orders, order and the Order
// family to node and nodes. It must run after registerNodeResolvers, whose
// node and nodes it extends.
func registerOrderResolvers(r *registry) {
	r.addMutation("orderCreate", "write_orders", resolveOrderCreate)
	r.addQuery("orders", "read_orders", resolveOrders)
	r.addQuery("order", "read_orders", func(x *execution, _ *ast.Field, args map[string]any) (any, error) {
		return x.orderObject(stringArg(args, "id")), nil
	})
	node, nodes := r.query["node"], r.query["nodes"]
	r.addQuery("node", node.scope, func(x *execution, f *ast.Field, args map[string]any) (any, error) {
		if v, ok, err := x.orderFamilyNode(stringArg(args, "id")); ok {
			return v, err
		}
		return node.fn(x, f, args)
	})
	r.addQuery("nodes", nodes.scope, func(x *execution, f *ast.Field, args map[string]any) (any, error) {
		ids := stringsArg(args, "ids")
		out := make([]any, len(ids))
		for i, id := range ids {
			v, ok, err := x.orderFamilyNode(id)
			if !ok {
				v, err = x.nodeByID(id)
			}
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	})
}

// orderFamilyNode resolves a GID of an order or one of its parts; ok is
// false for any other kind. They need read_orders, as on Shopify.
func (x *execution) orderFamilyNode(id string) (any, bool, error) {
	kind := gidKind(id)
	if !slices.Contains([]string{"Order", "LineItem", "Fulfillment", "Refund", "OrderTransaction"}, kind) {
		return nil, false, nil
	}
	if !x.token.hasScope("read_orders") {
		required := "`read_orders` access scope."
		return nil, true, &apiError{msg: "Access denied for node field. Required access: " + required, ext: map[string]any{"code": "ACCESS_DENIED", "requiredAccess": required}}
	}
	n, ok := parseGID(id, kind)
	if !ok {
		return nil, true, nil
	}
	if kind == "Order" {
		return x.orderObject(id), true, nil
	}
	for _, o := range x.shop.orders.orders {
		switch kind {
		case "LineItem":
			if l := o.line(n); l != nil {
				return x.lineItemNode(o, l), true, nil
			}
		case "Fulfillment":
			for i := range o.Fulfillments {
				if o.Fulfillments[i].ID == n {
					return x.fulfillmentNode(o, &o.Fulfillments[i]), true, nil
				}
			}
		case "Refund":
			for i := range o.Refunds {
				if o.Refunds[i].ID == n {
					return x.refundNode(o, &o.Refunds[i]), true, nil
				}
			}
		case "OrderTransaction":
			for i := range o.Transactions {
				if o.Transactions[i].ID == n {
					return x.transactionNode(o, o.Transactions[i]), true, nil
				}
			}
		}
	}
	return nil, true, nil
}

// orderObject is order(id), null for an unknown id.
func (x *execution) orderObject(id string) any {
	n, ok := parseGID(id, "Order")
	if !ok {
		return nil
	}
	if o := x.shop.order(n); o != nil {
		return x.orderNode(o)
	}
	return nil
}

// resolveOrders is orders(first, after, last, before, query, sortKey,
// reverse). Orders younger than the shop's search lag are not found yet.
func resolveOrders(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	terms := parseSearch(stringArg(args, "query"))
	key := stringArg(args, "sortKey")
	now := x.e.now()
	var items []edgeItem
	for _, o := range x.shop.orders.orders {
		if lag := x.shop.orders.searchLag; lag > 0 && now.Before(o.CreatedAt.Add(lag)) {
			continue
		}
		if matchOrder(o, terms) {
			items = append(items, edgeItem{id: o.ID, value: orderSortValue(o, key), node: func() map[string]any { return x.orderNode(o) }})
		}
	}
	sortItems(items)
	return paginate(items, args, x.bulk)
}
