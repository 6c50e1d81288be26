package feeds

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// FeedStore is what feed settings, builds and serving need of the database.
type FeedStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	ShopByFeedTokenHash(ctx context.Context, domain, hash string) (*app.Shop, error)
	FeedSettings(ctx context.Context, shopID int64) (*app.FeedSettings, error)
	SaveFeedSettings(ctx context.Context, fs app.FeedSettings) error
	FeedRules(ctx context.Context, shopID int64) ([]app.FeedRule, error)
	// FeedSettingsAndRules is FeedSettings (nil when none are saved) and
	// FeedRules in one read.
	FeedSettingsAndRules(ctx context.Context, shopID int64) (*app.FeedSettings, []app.FeedRule, error)
	// CheckoutCatalog is, in one read where the database allows, the
	// catalog page of the products holding the variants (all their rows)
	// with FeedSettingsAndRules: what mapping a cart's items needs besides
	// the shop.
	CheckoutCatalog(ctx context.Context, shopID int64, variantIDs []int64) (*app.CatalogPage, *app.FeedSettings, []app.FeedRule, error)
	SaveFeedRule(ctx context.Context, r app.FeedRule) error
	CatalogPages(ctx context.Context, shopID int64, pageSize int, fn func(*app.CatalogPage) error) error
	CreateBuild(ctx context.Context, shopID int64, fieldNames string) (*app.FeedBuild, error)
	FinishBuild(ctx context.Context, b *app.FeedBuild) error
	LatestBuild(ctx context.Context, shopID int64, status string) (*app.FeedBuild, error)
	PruneBuilds(ctx context.Context, shopID int64, keep int) (int64, error)
	NewFeedFile(ctx context.Context, buildID int64, format string) (io.WriteCloser, error)
	FeedFile(ctx context.Context, buildID int64, format string) (*app.FeedFile, error)
	PublishedFeedFile(ctx context.Context, shopID int64, format string) (*app.FeedBuild, *app.FeedFile, error)
	CopyFeedFile(ctx context.Context, buildID int64, format string, w io.Writer) (int64, error)
	AddFeedProblems(ctx context.Context, buildID int64, ps []app.FeedProblem) error
	FeedProblems(ctx context.Context, buildID int64, limit int) ([]app.FeedProblem, error)
	// FeedTargets lists the shop's delivery targets, each published build
	// is pushed to the enabled ones.
	FeedTargets(ctx context.Context, shopID int64) ([]*app.FeedTarget, error)
	// AddFeedItems stores a build's published items for search, in feed
	// order; DeleteFeedItemsBefore drops the shop's items of the builds
	// older than one, DeleteBuildFeedItems one build's. MarkItemsIndexed
	// records that a build's rows are complete, and
	// LatestIndexedBuild is the newest such build: the one search reads.
	// SearchFeedItems, FeedItem and FeedItemGroup read one build's.
	AddFeedItems(ctx context.Context, items []app.FeedItemRow) error
	DeleteFeedItemsBefore(ctx context.Context, shopID, buildID int64) error
	DeleteBuildFeedItems(ctx context.Context, shopID, buildID int64) error
	MarkItemsIndexed(ctx context.Context, buildID int64) error
	LatestIndexedBuild(ctx context.Context, shopID int64) (*app.FeedBuild, error)
	SearchFeedItems(ctx context.Context, q app.FeedItemQuery) ([]app.FeedItemHit, error)
	FeedItem(ctx context.Context, shopID, buildID int64, itemID string) (*app.FeedItemRow, error)
	FeedItemGroup(ctx context.Context, shopID, buildID int64, groupID string, limit int) ([]app.FeedItemRow, error)
}

// Service owns the merchant's feed settings and rules, builds the feed files
// from the synced catalog, and serves them.
type Service struct {
	Store  FeedStore
	Queue  app.Enqueuer
	Logger *slog.Logger
	Now    func() time.Time
}

// Options are what defaults when left out of a Feeds or a Deliveries.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
}

func (o Options) logger() *slog.Logger { return cmp.Or(o.Logger, slog.Default()) }

func (o Options) now() func() time.Time {
	if o.Now == nil {
		return time.Now
	}
	return o.Now
}

// New builds the feeds capability over its store and the job queue (a
// published build's pushes are push_feed jobs, which Deliveries works).
func New(store FeedStore, queue app.Enqueuer, opts Options) *Service {
	return &Service{Store: store, Queue: queue, Logger: opts.logger(), Now: opts.now()}
}
