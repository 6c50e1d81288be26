package store

import (
	"sync"
	"time"

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
// seen yet. A refreshed token is no problem: the refresh path re-reads the
// shop under its lock. In the process that makes the change, every store
// method that writes what the query reads forgets the shop's entries at
// once (forgetShopAuth); a write inside a transaction forgets them at its
// statement, so a request reading between that statement and the commit
// may keep the old row for one TTL.
const AuthCacheTTL = 3 * time.Second

// authCacheMax bounds the entries (live API keys used within a TTL); when
// full, the expired ones go, or all of them when none has expired.
const authCacheMax = 10000

// authCache is the Store's memory of APIKeyByHash answers, keyed by the
// key's hash: an entry is the row of that hash only, so it can never
// answer for another key (or another shop's). Not-found answers are not
// kept.
type authCache struct {
	mu sync.Mutex
	// gen counts the forgets: a read that began before one is not kept.
	gen     uint64
	entries map[string]authEntry
}

type authEntry struct {
	key  app.APIKey
	shop app.Shop
	set  *app.ACPSettings
	pol  app.PolicyURLs
	at   time.Time
}

// authCaches holds each Store's cache (the Store type lives in store.go;
// this keeps the cache's plumbing in this file).
var authCaches sync.Map // *Store → *authCache

func (s *Store) authCache() *authCache {
	if c, ok := authCaches.Load(s); ok {
		return c.(*authCache)
	}
	c, _ := authCaches.LoadOrStore(s, &authCache{})
	return c.(*authCache)
}

// get returns copies of the entry of hash when it is fresh at now, and the
// generation a read that misses must hand to put.
func (c *authCache) get(hash string, now time.Time) (k *app.APIKey, sh *app.Shop, set *app.ACPSettings, pol *app.PolicyURLs, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.entries[hash]
	if !found || now.Sub(e.at) >= AuthCacheTTL || now.Before(e.at) {
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
	if len(c.entries) >= authCacheMax {
		for h, e := range c.entries {
			if now.Sub(e.at) >= AuthCacheTTL {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= authCacheMax {
			clear(c.entries)
		}
	}
	c.entries[hash] = authEntry{key: *k, shop: *sh, set: copySettings(set), pol: *pol, at: now}
}

// forget drops the entries of the shop (every shop when shopID is 0).
func (c *authCache) forget(shopID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if shopID == 0 || e.shop.ID == shopID {
			delete(c.entries, h)
		}
	}
}

// forgetShopAuth drops what APIKeyByHash remembers of the shop: every
// method that writes a row the query reads (the shop, its API keys, ACP
// settings, payment account, feed settings' policy pages) calls it.
func (s *Store) forgetShopAuth(shopID int64) { s.authCache().forget(shopID) }

// ForgetShopAuth drops what APIKeyByHash remembers of the shop, for a
// change the store cannot see itself (agents.Access calls it after saving
// payment credentials, whose method lives with the payments).
func (s *Store) ForgetShopAuth(shopID int64) { s.forgetShopAuth(shopID) }
