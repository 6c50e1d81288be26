package emulator

import (
	"maps"
	"strings"
)

// shopState is one emulated shop. Every field is guarded by Emulator.mu.
type shopState struct {
	domain     string // NAME.myshopify.com
	handle     string // NAME
	id         int64
	locationID int64
	products   []*Product // ascending ID
	installed  bool       // the app is installed
	scopes     []string   // the app's granted scopes
	bucket     bucket
	stats      Stats
	bulkOps    []*bulkOp
	staffToken string
	pricing    *pricing  // tax rates, shipping zones, discount codes
	orders     orderBook // orders and customers (orders.go)
	drafts     draftBook // draft orders (draft_store.go)
	channels   []string  // sales channel titles; nil: defaultChannels

	billing billingBook // app subscriptions (resolve_billing.go)
}

// Stats counts what one shop's API saw, for test assertions.
type Stats struct {
	TokenGrants  int // successful authorization-code and token-exchange grants
	Refreshes    int // successful refresh-token grants
	GraphQLCalls int // authenticated GraphQL requests (throttled ones included)
	Throttled    int // requests answered THROTTLED, injected faults included
	// Cost sums the actual query cost of the requests that ran (what the
	// shop's bucket kept), for measuring points per conversation.
	Cost int
	// Operations splits the requests that reached the bucket by GraphQL
	// operation name ("anonymous" for an unnamed one), for telling which
	// calls spend the points and which were throttled.
	Operations map[string]OperationStats
}

// OperationStats are one GraphQL operation's counts in Stats.
type OperationStats struct {
	Calls     int // requests that reached the bucket, throttled ones included
	Throttled int // answered THROTTLED
	Cost      int // actual cost of those that ran
}

// operation counts one request of operation name in the shop's stats.
func (st *Stats) operation(name string, throttled bool, cost int) {
	if name == "" {
		name = "anonymous"
	}
	if st.Operations == nil {
		st.Operations = map[string]OperationStats{}
	}
	o := st.Operations[name]
	o.Calls++
	o.Cost += cost
	if throttled {
		o.Throttled++
	}
	st.Operations[name] = o
}

// newShop seeds a shop and registers its staff token.
func (e *Emulator) newShop(domain string, index int) *shopState {
	now := e.now()
	s := &shopState{
		domain:     domain,
		handle:     strings.TrimSuffix(domain, ".myshopify.com"),
		id:         60_000_000_000 + int64(index)*1_000 + 1,
		locationID: 70_000_000_000 + int64(index)*1_000 + 1,
		products:   seedCatalog(index, e.cfg.Products, e.cfg.Seed, now),
		bucket:     newBucket(2000, 100, now),
		pricing:    defaultPricing(now),
	}
	s.staffToken = e.issueAccessToken(s, nil, 0, true).token
	return s
}

// displayName turns "demo-shop" into "Demo Shop".
func (s *shopState) displayName() string {
	words := strings.FieldsFunc(s.handle, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// storefront is the shop's primary domain, which the catalog's onlineStoreUrl
// values use.
func (s *shopState) storefront() string { return "https://" + s.handle + ".example" }

// email is the shop owner's address.
func (s *shopState) email() string { return "owner@" + s.handle + ".example" }

// product finds a product by numeric id.
func (s *shopState) product(id int64) *Product {
	for _, p := range s.products {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// variant finds a variant and its product by numeric variant id.
func (s *shopState) variant(id int64) (*Product, *Variant) {
	for _, p := range s.products {
		for i := range p.Variants {
			if p.Variants[i].ID == id {
				return p, &p.Variants[i]
			}
		}
	}
	return nil, nil
}

// inventoryItem finds a variant and its product by inventory item id.
func (s *shopState) inventoryItem(id int64) (*Product, *Variant) {
	for _, p := range s.products {
		for i := range p.Variants {
			if p.Variants[i].InventoryItemID == id {
				return p, &p.Variants[i]
			}
		}
	}
	return nil, nil
}

// shop returns the seeded shop for a domain, or nil. The caller holds e.mu.
func (e *Emulator) shop(domain string) *shopState {
	return e.shops[strings.ToLower(domain)]
}

// StaffToken returns a non-expiring admin token for reading the shop (the
// demo's shopify.access_token), or "" for an unknown shop. It is not the
// app's token: uninstalling the app does not revoke it.
func (e *Emulator) StaffToken(shop string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.shop(shop); s != nil {
		return s.staffToken
	}
	return ""
}

// Stats returns the shop's counters.
func (e *Emulator) Stats(shop string) Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.shop(shop); s != nil {
		st := s.stats
		st.Operations = maps.Clone(st.Operations) // the caller's copy
		return st
	}
	return Stats{}
}
