package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/acpbridge/acpbridge/app/internal/ttlcache"
)

// CachedPricing remembers Shopify's draft-order calculations for a short
// while, keyed by shop and the whole request (lines, address, email,
// codes, chosen rate): agents often open several sessions for one cart, and
// a calculation is the slowest call of a quote. Live variant lookups are
// never cached: price and stock are always checked now. Each replica has
// its own cache; a stale entry can only be TTL old.
type CachedPricing struct {
	Next ShopPricing
	TTL  time.Duration // default 60 s
	Max  int           // entries kept, default 10,000
	Now  func() time.Time

	cache ttlcache.Cache[[32]byte, *DraftResult]
}

// LiveVariants is never cached.
func (c *CachedPricing) LiveVariants(ctx context.Context, shop, currency string, ids []int64) (map[int64]LiveVariant, error) {
	return c.Next.LiveVariants(ctx, shop, currency, ids)
}

// CalculateDraft answers from the cache when it can.
func (c *CachedPricing) CalculateDraft(ctx context.Context, shop string, in DraftRequest) (*DraftResult, error) {
	b, err := json.Marshal(struct {
		Shop string
		In   DraftRequest
	}{shop, in})
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(b)
	now := c.now()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	if res, ok := c.cache.Get(key, now, ttl); ok {
		cached := *res
		cached.Cached = true
		return &cached, nil
	}

	res, err := c.Next.CalculateDraft(ctx, shop, in)
	if err != nil {
		return nil, err
	}
	maxEntries := c.Max
	if maxEntries <= 0 {
		maxEntries = 10_000
	}
	c.cache.Put(key, res, now, ttl, maxEntries)
	return res, nil
}

func (c *CachedPricing) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
