package store

import (
	"context"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
)

// AuthCacheTTL is how long APIKeyByHash answers a key from this process's
// memory before reading it again (issue 17: the query ran on every agent
// request). What it allows, on another replica (or another process such as
// the agents command) than the one that made the change, for at most this
// long: a revoked key still authenticates, an uninstalled shop's key still
// authenticates (its Shopify calls then fail: the token is gone), and a
// changed setting (signature requirement, signing or webhook secret,
// completion method, payment account, policy pages, shop details) is not
// seen yet; the payment account's sealed credentials come with it, so a
// complete request may still charge with the key the merchant just
// replaced, on the account its handler still names (a revoked key is
// refused by the provider). CachedShopByDomain's rows likewise: a webhook
// for a shop uninstalled (or reinstalled) meanwhile is taken (or refused,
// and Shopify sends it again) as if it had come before the change, and a
// Shopify call made with a token the shop no longer has is refused by
// Shopify, after which the caller re-reads the row (Shopify.Query). A
// refreshed token is no problem: the refresh path re-reads the shop under
// its lock. In the process that makes the change, every store method that
// writes what the query reads forgets the shop's entries at once
// (forgetShopAuth); a write inside a transaction forgets them at its
// statement, so a request reading between that statement and the commit
// may keep the old row for one TTL (SavePaymentCredentials forgets them
// again once committed).
const AuthCacheTTL = 3 * time.Second

// authCacheMax bounds the entries of each map (live API keys, shops)
// used within a TTL; when full, the expired ones go, or all of them when
// none has expired.
const authCacheMax = 10000

// authCache is the Store's memory of APIKeyByHash answers, keyed by the
// key's hash: an entry is the row of that hash only, so it can never
// answer for another key (or another shop's). It also holds
// CachedShopByDomain's shop rows, keyed by domain, under the same TTL and
// forgotten by the same writes. Not-found answers are not kept.
type authCache struct {
	mu sync.Mutex
	// gen counts the forgets: a read that began before one is not kept.
	gen     uint64
	entries map[string]authEntry
	shops   map[string]shopEntry
}

// shopEntry is a shop row as read, its tokens sealed as in the row.
type shopEntry struct {
	shop app.Shop
	at   time.Time
}

func (e shopEntry) readAt() time.Time { return e.at }

type authEntry struct {
	key  app.APIKey
	shop app.Shop
	set  *app.ACPSettings
	pol  app.PolicyURLs
	at   time.Time
}

func (e authEntry) readAt() time.Time { return e.at }

// fresh reports whether an entry read at at still answers at now.
func fresh(at, now time.Time) bool { return now.Sub(at) < AuthCacheTTL && !now.Before(at) }

// makeRoom drops the expired entries of a full map, or all of them when
// none has expired.
func makeRoom[E interface{ readAt() time.Time }](m map[string]E, now time.Time) {
	if len(m) < authCacheMax {
		return
	}
	for k, e := range m {
		if !fresh(e.readAt(), now) {
			delete(m, k)
		}
	}
	if len(m) >= authCacheMax {
		clear(m)
	}
}

func (s *Store) authCache() *authCache { return &s.auth }

// get returns copies of the entry of hash when it is fresh at now, and the
// generation a read that misses must hand to put.
func (c *authCache) get(hash string, now time.Time) (k *app.APIKey, sh *app.Shop, set *app.ACPSettings, pol *app.PolicyURLs, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries[hash]
	if !found || !fresh(e.at, now) {
		return nil, nil, nil, nil, c.gen, false
	}
	k, sh, set, pol = e.copies()
	return k, sh, set, pol, c.gen, true
}

// copies are the entry's values as fresh pointers: callers may change
// what they get (agents resolve the completion method in place).
func (e *authEntry) copies() (*app.APIKey, *app.Shop, *app.ACPSettings, *app.PolicyURLs) {
	k, sh, pol := e.key, e.shop, e.pol
	return &k, &sh, copySettings(e.set), &pol
}

func copySettings(set *app.ACPSettings) *app.ACPSettings {
	if set == nil {
		return nil
	}
	s := *set
	if s.Payment != nil {
		p := *s.Payment
		s.Payment = &p
	}
	return &s
}

// put keeps the answer of a read that began at generation gen, unless a
// forget came since (the read may predate the change it forgot).
func (c *authCache) put(hash string, gen uint64, k *app.APIKey, sh *app.Shop, set *app.ACPSettings, pol *app.PolicyURLs, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = map[string]authEntry{}
	}
	makeRoom(c.entries, now)
	c.entries[hash] = authEntry{key: *k, shop: *sh, set: copySettings(set), pol: *pol, at: now}
}

// getShop returns a copy of the shop row of domain when it is fresh at
// now, and the generation a read that misses must hand to putShop.
func (c *authCache) getShop(domain string, now time.Time) (sh *app.Shop, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.shops[domain]
	if !found || !fresh(e.at, now) {
		return nil, c.gen, false
	}
	cp := e.shop
	return &cp, c.gen, true
}

// putShop keeps the shop row of a read that began at generation gen,
// unless a forget came since.
func (c *authCache) putShop(domain string, gen uint64, sh *app.Shop, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.shops == nil {
		c.shops = map[string]shopEntry{}
	}
	makeRoom(c.shops, now)
	c.shops[domain] = shopEntry{shop: *sh, at: now}
}

// forget drops the entries of the shop (every shop when shopID is 0).
func (c *authCache) forget(shopID int64) {
	c.forgetWhere(func(sh *app.Shop) bool { return shopID == 0 || sh.ID == shopID })
}

// forgetWhere drops the entries whose shop matches.
func (c *authCache) forgetWhere(match func(sh *app.Shop) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if match(&e.shop) {
			delete(c.entries, h)
		}
	}
	for d, e := range c.shops {
		if match(&e.shop) {
			delete(c.shops, d)
		}
	}
}

// forgetShopAuth drops what APIKeyByHash and CachedShopByDomain remember
// of the shop: every method that writes a row they read (the shop, its
// API keys, ACP settings, payment credentials, feed settings' policy
// pages) calls it.
func (s *Store) forgetShopAuth(shopID int64) { s.authCache().forget(shopID) }

// forgetShopDomain drops what is remembered of the shop of a domain (a
// shop row deleted by domain).
func (s *Store) forgetShopDomain(domain string) {
	s.authCache().forgetWhere(func(sh *app.Shop) bool { return sh.Domain == domain })
}

// CachedShopByDomain is ShopByDomain answered from this process's memory
// for AuthCacheTTL, for the hot paths that read a shop by domain on every
// call (a webhook's receipt, a catalog refresh, a Shopify query's token):
// what it allows is what AuthCacheTTL says, and every write of the shop
// row through this Store forgets it at once. Only an active shop's row is
// kept, as read (its tokens sealed): a shop not active is read each time,
// so its install or re-authorisation on another replica is seen at once,
// and so is an unknown shop's. A path that must see the row as committed
// (a token refresh under the shop lock, the re-read after Shopify refused
// a token, an uninstall) reads ShopByDomain; so does a read in a
// transaction, which may see its own uncommitted writes: it neither
// answers from memory nor is kept.
func (s *Store) CachedShopByDomain(ctx context.Context, domain string) (*app.Shop, error) {
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); inTx {
		return s.ShopByDomain(ctx, domain)
	}
	c, now := s.authCache(), s.Now()
	sh, gen, ok := c.getShop(domain, now)
	if ok {
		return sh, nil
	}
	sh, err := s.ShopByDomain(ctx, domain)
	if err != nil {
		return nil, err
	}
	if sh.Status == app.ShopActive {
		c.putShop(domain, gen, sh, now)
	}
	return sh, nil
}

// ForgetShopAuth drops what APIKeyByHash remembers of the shop, for a
// change the store cannot see itself (agents.Access calls it after saving
// payment credentials, whose method lives with the payments, although
// SavePaymentCredentials forgets them too).
func (s *Store) ForgetShopAuth(shopID int64) { s.forgetShopAuth(shopID) }
