package app

import "context"

type shopCtxKey struct{}

// WithShop returns ctx carrying the shop row the caller has just read (an
// ACP request reads it with the API key), so that the Shopify calls the
// request makes take the shop's access token from it instead of reading
// the row again for every call (issue 17: a statement per Shopify call).
// The row is as fresh as the request: a token refreshed or refused since
// is handled by the caller's usual refresh path, which reads the row.
func WithShop(ctx context.Context, sh *Shop) context.Context {
	if sh == nil {
		return ctx
	}
	return context.WithValue(ctx, shopCtxKey{}, sh)
}

// ShopFromContext is the shop WithShop put in ctx when its domain is
// domain, else nil.
func ShopFromContext(ctx context.Context, domain string) *Shop {
	sh, _ := ctx.Value(shopCtxKey{}).(*Shop)
	if sh == nil || sh.Domain != domain {
		return nil
	}
	return sh
}
