package checkout

import (
	"log/slog"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// The constructors take what each part cannot work without as arguments,
// so that forgetting one is a compile error; the options hold what has a
// default (zero values mean the default).

// Options are the checkout's settings.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// TTL is how long a session lives before it expires (default 6 h).
	TTL time.Duration
	// CompleteWait is how long a complete that finds another one running
	// waits for its result (default 10 s).
	CompleteWait time.Duration
	// Drafts keeps the draft orders of Shopify-checkout shops' sessions
	// (ShopifyDrafts; nil: such sessions never become payable).
	Drafts Drafts
	// Distribution decides which completion method the shops' stored
	// settings allow (app.Distribution.Effective) when a call carries
	// none; "" takes them as stored.
	Distribution app.Distribution
	// Carts, when set, are the shop's carts: the discovery document lists
	// "carts" for the shops they are enabled for (Carts.CartsEnabled).
	Carts *Carts
	// AppURL gives the app's public URL, the root of the continue_url of
	// Shopify-checkout shops' sessions (a func: without APP_URL it is
	// known only once listening); nil: such sessions never become
	// payable.
	AppURL func() string
	// Admission, when set, may refuse a shop's next agent order
	// (billing.Service; nil: no limit).
	Admission Admission
}

// New builds the ACP checkout over its store, the pricer that quotes carts,
// the completer that charges and orders, the order events told of each
// completed session, and the job queue.
func New(store Store, pricer Pricer, completer *Completer, events OrderEvents, queue app.Enqueuer, opts Options) *Sessions {
	return &Sessions{
		Store: store, Pricer: pricer, Completer: completer, Events: events, Queue: queue,
		Logger: orLogger(opts.Logger), Now: orNow(opts.Now), TTL: opts.TTL, CompleteWait: opts.CompleteWait,
		Drafts: opts.Drafts, Distribution: opts.Distribution, Carts: opts.Carts, AppURL: opts.AppURL,
		Admission: opts.Admission,
	}
}

// CompleterOptions are the completer's settings.
type CompleterOptions struct {
	Now func() time.Time // default time.Now
	// Lease is how long one driver may hold a completion (default 60 s).
	Lease time.Duration
	// OrderSearchLag is how long Shopify's order search may take to show a
	// new order (default 20 s).
	OrderSearchLag time.Duration
	// AcquirerBIN is sent in 3-D Secure authentication metadata.
	AcquirerBIN string
}

// NewCompleter builds what completes purchases over its store, the payment
// providers (by name), the shop's orders, the job queue and the keyring that seals
// payment tokens.
func NewCompleter(store PaymentStore, payments PaymentProviders, orders Orders, queue app.Enqueuer, keys *secret.Keyring, opts CompleterOptions) *Completer {
	return &Completer{
		Store: store, Payments: payments, Orders: orders, Queue: queue, Keys: keys,
		Now: orNow(opts.Now), Lease: opts.Lease, OrderSearchLag: opts.OrderSearchLag, AcquirerBIN: opts.AcquirerBIN,
	}
}

// PricingOptions are live pricing's settings.
type PricingOptions struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
	// Timeout bounds all Shopify calls of one quote (default 4 s).
	Timeout time.Duration
}

// NewPricing builds live pricing over the feed's checkout items
// (feeds.Service) and Shopify's own calculation.
func NewPricing(items ItemSource, shop ShopPricing, opts PricingOptions) *Pricing {
	return &Pricing{
		Feeds: items, Shopify: shop,
		Logger: orLogger(opts.Logger), Now: orNow(opts.Now), Timeout: opts.Timeout,
	}
}

func orLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

func orNow(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// NewShopifyPricing prices carts with Shopify's draft-order calculation
// through the shops' Admin API (shops.Shopify).
func NewShopifyPricing(api shopify.Querier) *ShopifyPricing { return &ShopifyPricing{Shopify: api} }

// NewCachedPricing reuses next's draft calculations for identical carts
// (TTL 60 s, 10,000 entries).
func NewCachedPricing(next ShopPricing) *CachedPricing { return &CachedPricing{Next: next} }

// NewShopifyOrders writes the agents' orders into Shopify through the
// shops' Admin API (shops.Shopify).
func NewShopifyOrders(api shopify.Querier) *ShopifyOrders { return &ShopifyOrders{Shopify: api} }

// NewShopifyDrafts keeps the draft orders of sessions handed to Shopify's
// checkout through the shops' Admin API (shops.Shopify).
func NewShopifyDrafts(api shopify.Querier) *ShopifyDrafts { return &ShopifyDrafts{Shopify: api} }
