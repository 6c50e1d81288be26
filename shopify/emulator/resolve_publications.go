package emulator

import (
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// registerPublicationResolvers adds publications: the shop's sales
// channels, each with its catalog's title.
func registerPublicationResolvers(r *registry) {
	r.addQuery("publications", "read_publications", resolvePublications)
}

// defaultChannels are the sales channels a new development store has.
var defaultChannels = []string{"Online Store", "Point of Sale"}

func resolvePublications(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	names := x.shop.channels
	if names == nil {
		names = defaultChannels
	}
	items := make([]edgeItem, len(names))
	for i, n := range names {
		id := x.shop.id*100 + int64(i) + 1
		items[i] = edgeItem{id: id, node: func() map[string]any {
			return map[string]any{
				"__typename":  "Publication",
				"id":          gid("Publication", id),
				"autoPublish": false,
				"catalog":     map[string]any{"__typename": "AppCatalog", "id": gid("AppCatalog", id), "title": n},
			}
		}}
	}
	return paginate(items, args, x.bulk)
}

// SetSalesChannels replaces the shop's sales channels (publications), e.g.
// to add Shopify's own "ChatGPT" channel.
func (e *Emulator) SetSalesChannels(shop string, names []string) error {
	return e.withShop(shop, "set sales channels", func(s *shopState) { s.channels = slices.Clone(names) })
}
