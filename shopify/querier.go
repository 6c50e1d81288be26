package shopify

import "context"

// Querier runs one GraphQL Admin document for a shop and decodes its `data`
// into out; shops.Shopify has this method. TokenQuerier adapts an *Admin.
type Querier interface {
	Query(ctx context.Context, shop, query string, vars map[string]any, out any) error
}

// TokenQuerier is a Querier that sends every query with one access token.
type TokenQuerier struct {
	Admin *Admin
	Token string
}

// Query implements Querier.
func (t TokenQuerier) Query(ctx context.Context, shop, query string, vars map[string]any, out any) error {
	return t.Admin.Query(ctx, shop, t.Token, query, vars, out)
}
