package merchant

import (
	"context"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/internal/ttlcache"
	"github.com/acpbridge/acpbridge/shopify"
)

// ShopifyChannels lists a shop's sales channels from Shopify's
// publications (scope read_publications), remembering each shop's answer
// for ChannelsTTL so the overview page does not wait on Shopify each time.
type ShopifyChannels struct {
	Shopify shopify.Querier // the shop's GraphQL Admin API (shops.Shopify)
	Now     func() time.Time

	cache ttlcache.Cache[int64, []string]
}

// NewChannels lists sales channels through the shops' Admin API
// (shops.Shopify); now nil means time.Now.
func NewChannels(api shopify.Querier, now func() time.Time) *ShopifyChannels {
	return &ShopifyChannels{Shopify: api, Now: now}
}

// ChannelsTTL is how long a shop's channel list is reused.
const ChannelsTTL = 10 * time.Minute

const salesChannelsQuery = `query SalesChannels {
  publications(first: 50) { nodes { catalog { title } } }
}`

// SalesChannels implements ChannelLister.
func (c *ShopifyChannels) SalesChannels(ctx context.Context, sh *app.Shop) ([]string, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if names, ok := c.cache.Get(sh.ID, now, ChannelsTTL); ok {
		return names, nil
	}
	var out struct {
		Publications struct {
			Nodes []struct {
				Catalog *struct {
					Title string `json:"title"`
				} `json:"catalog"`
			} `json:"nodes"`
		} `json:"publications"`
	}
	if err := c.Shopify.Query(ctx, sh.Domain, salesChannelsQuery, nil, &out); err != nil {
		return nil, err
	}
	names := []string{}
	for _, n := range out.Publications.Nodes {
		if n.Catalog != nil && n.Catalog.Title != "" {
			names = append(names, n.Catalog.Title)
		}
	}
	c.cache.Put(sh.ID, names, now, ChannelsTTL, 10_000)
	return names, nil
}
