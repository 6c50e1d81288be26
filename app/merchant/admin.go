package merchant

import (
	"context"
	"slices"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/catalog"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/internal/ttlcache"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// Admin is what the merchant's embedded admin pages read and the actions
// only they take: the onboarding checklist, the products table with each
// product's feed status, feed health, agent orders and their chart. The
// settings themselves are saved through Feeds, Agents and Deliveries.
type Admin struct {
	Store  AdminStore
	Feeds  *feeds.Service
	Agents *agents.Access
	Events *orderevents.Service
	// Checkout runs the test checkout.
	Checkout   *checkout.Sessions
	Catalog    *catalog.Syncer
	Deliveries *feeds.Deliveries
	// Channels lists the shop's sales channels (for the warning about
	// Shopify's own agentic channels); nil skips the check.
	Channels ChannelLister
	Now      func() time.Time

	// collections caches each shop's collection list (they change only
	// with a sync) for CollectionsTTL: grouping them was a third of the
	// products page's time at 10,000 products.
	collections ttlcache.Cache[int64, []CollectionSummary]
}

// Options are the admin's settings; each has a default.
type Options struct {
	// Channels lists the shop's sales channels (nil skips the check).
	Channels ChannelLister
	Now      func() time.Time // default time.Now
}

// New builds the admin's read model over its store and the capabilities
// whose use-cases the admin pages call.
func New(store AdminStore, fs *feeds.Service, deliveries *feeds.Deliveries, cat *catalog.Syncer,
	ag *agents.Access, co *checkout.Sessions, events *orderevents.Service, opts Options) *Admin {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Admin{
		Store: store, Feeds: fs, Deliveries: deliveries, Catalog: cat, Agents: ag,
		Checkout: co, Events: events, Channels: opts.Channels, Now: now,
	}
}

// CollectionsTTL is how long the products page reuses a shop's collections.
const CollectionsTTL = 30 * time.Second

// catalogCollections is the shop's collections, from the cache when fresh.
func (a *Admin) catalogCollections(ctx context.Context, shopID int64) ([]CollectionSummary, error) {
	now := a.now()
	if list, ok := a.collections.Get(shopID, now, CollectionsTTL); ok {
		return slices.Clone(list), nil
	}
	list, err := a.Store.CatalogCollections(ctx, shopID)
	if err != nil {
		return nil, err
	}
	a.collections.Put(shopID, list, now, CollectionsTTL, 10_000)
	return slices.Clone(list), nil
}

// AdminStore is what the admin pages read from the database.
type AdminStore interface {
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	// ComplianceRequests and ComplianceExport: the privacy requests and a
	// data request's export, opened (privacy.go).
	ComplianceRequests(ctx context.Context, shop string) ([]*app.ComplianceRequest, error)
	ComplianceExport(ctx context.Context, shop string, id int64) ([]byte, error)
	// AdminProducts returns the page of products matching q (with their
	// variants, media and collections) and how many match in all.
	AdminProducts(ctx context.Context, shopID int64, q ProductQuery) (*app.CatalogPage, int64, error)
	CatalogCollections(ctx context.Context, shopID int64) ([]CollectionSummary, error)
	LatestSync(ctx context.Context, shopID int64) (*app.CatalogSync, error)
	LatestBuild(ctx context.Context, shopID int64, status string) (*app.FeedBuild, error)
	FeedProblems(ctx context.Context, buildID int64, limit int) ([]app.FeedProblem, error)
	FeedTargets(ctx context.Context, shopID int64) ([]*app.FeedTarget, error)
	FeedDeliveries(ctx context.Context, targetID int64, limit int) ([]app.FeedDelivery, error)
	APIKeys(ctx context.Context, shopID int64) ([]*app.APIKey, error)
	// AgentOrders lists the shop's completions, newest first.
	AgentOrders(ctx context.Context, shopID int64, limit, offset int) ([]AgentOrder, int64, error)
	AgentOrder(ctx context.Context, shopID int64, sessionID string) (*AgentOrder, error)
	// CompletedSince lists when each completed agent order was placed and
	// its amount, for the chart.
	CompletedSince(ctx context.Context, shopID int64, since time.Time) ([]OrderPoint, error)
	AgentEvents(ctx context.Context, shopID int64, sessionID string) ([]*orderevents.Event, error)
	AgentEventAttempts(ctx context.Context, eventID int64) ([]orderevents.Attempt, error)
	SaveACPSettings(ctx context.Context, s app.ACPSettings) error
	// KnownTargets returns which of ids are products (or collections) in
	// the shop's synced catalog.
	KnownTargets(ctx context.Context, shopID int64, scope string, ids []int64) (map[int64]bool, error)
}

// ChannelLister names the sales channels (publications) of a shop.
type ChannelLister interface {
	SalesChannels(ctx context.Context, shop *app.Shop) ([]string, error)
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
