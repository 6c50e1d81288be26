// Package service assembles acpbridge from its parts and runs it: it opens
// the database, applies migrations, starts the job queue and serves HTTP,
// and on shutdown takes them down in the reverse order. `acpbridge serve`,
// `acpbridge demo` and the end-to-end tests all run this same code.
//
// New assembles the parts in dependency order, each by its constructor,
// which takes what the part needs as arguments (a missing one does not
// compile) and nothing is set on a part after it is built: the store and
// the keyring; the job queue's enqueuing half (jobs.New); the Shopify
// connection; feeds, the catalog and deliveries; agents, the order events,
// checkout and the admin; the Shopify jobs' router (shops.NewWebhooks),
// last because it reacts for the catalog and the order events; then the
// workers (Queue.Register) and the web server. Capabilities react to each
// other through jobs enqueued with their rows (a catalog change enqueues
// feed_build, a published build feed_push) or through a small interface
// handed to the part built after them, never through a pointer set back.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/billing"
	"github.com/acpbridge/acpbridge/app/catalog"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/maintenance"
	"github.com/acpbridge/acpbridge/app/merchant"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/web"
)

// Options are what a Service is built from.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// SkipMigrate leaves the schema alone at start (AUTO_MIGRATE=false):
	// /readyz then reports pending migrations until `acpbridge migrate up`.
	SkipMigrate bool
	// AddWorkers registers extra job workers; tests use it to put load on
	// the queue itself.
	AddWorkers func(w *river.Workers)
	// ShopifyTransport carries every request to Shopify; the demo and the
	// tests set the dev-store emulator's, production leaves it nil.
	ShopifyTransport http.RoundTripper
	// AfterInstallURL overrides where a finished OAuth install lands.
	AfterInstallURL func(shop string) string
	// RebuildDelay debounces feed rebuilds after catalog changes
	// (default one minute; negative: no debounce, as the tests use);
	// SyncPoll is how often a running bulk export is checked when its
	// webhook is late (default 5 s).
	RebuildDelay time.Duration
	SyncPoll     time.Duration
	// FeedTransport carries feed pushes to ACP Feed API endpoints (nil:
	// dialled through the outbound policy, as production does; a test's
	// transport is used as is). Redirects are never followed either way.
	FeedTransport http.RoundTripper
	// Outbound is the policy for every merchant- or agent-set address
	// (webhooks, feed targets); nil builds it from the configuration
	// (OUTBOUND_ALLOW_LOOPBACK). Tests set one whose Allow list stands a
	// loopback server in for a public host.
	Outbound *netguard.Policy
	// StripeURL is Stripe's API base URL: "" for api.stripe.com, the
	// Stripe emulator's in the demo and the tests.
	StripeURL string
}

// Service is a running (or ready to run) acpbridge.
type Service struct {
	cfg        config.Config
	logger     *slog.Logger
	store      *store.Store
	keys       *secret.Keyring
	shopify    *shops.Shopify
	catalog    *catalog.Syncer
	feeds      *feeds.Service
	deliveries *feeds.Deliveries
	admin      *merchant.Admin
	agents     *agents.Access
	checkout   *checkout.Sessions
	carts      *checkout.Carts
	events     *orderevents.Service
	billing    *billing.Service
	webhooks   *shops.ShopifyWebhooks
	queue      *jobs.Queue
	web        *web.Server
	registry   *prometheus.Registry
	// deprecations counts the Admin API answers that flag a deprecated use.
	deprecations *shopify.Deprecations
	http         *http.Server
	listener     net.Listener
	// served closes when the HTTP server stops serving; serveErr says why.
	served   chan struct{}
	serveErr error
	// metricsHTTP serves /metrics on METRICS_ADDR (nil without it).
	metricsHTTP     *http.Server
	metricsListener net.Listener
	metricsServed   chan struct{}
	metricsErr      error
}

// New opens the database, migrates it and builds every part, but starts
// nothing: Start does. The parts are built inside out, each by its
// constructor from parts built before it: the store and the keyring, then
// the job queue's enqueuing half, then the use-cases (which enqueue), then
// the queue's workers (which call the use-cases), then the HTTP server.
func New(ctx context.Context, opts Options) (svc *Service, err error) {
	s := &Service{cfg: opts.Config, logger: opts.Logger}
	defer func() {
		if err != nil && s.store != nil {
			_ = s.store.Close()
		}
	}()
	if err := s.openStore(ctx, opts.SkipMigrate); err != nil {
		return nil, err
	}
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts = s.resolveOptions(ctx, opts)
	if s.queue, err = jobs.New(jobs.Config{
		Kind:          s.cfg.Database.Kind,
		DB:            s.store.DB(),
		Logger:        s.logger,
		Periodic:      []*river.PeriodicJob{jobs.MaintenanceSchedule(), jobs.ReconcileSchedule(), jobs.SweepSchedule()},
		TxFromContext: store.SQLTx,
		Metrics:       jobs.NewMetrics(s.registry, s.store.DB()),
	}); err != nil {
		return nil, err
	}
	s.buildShopify(opts)
	s.buildCatalogAndFeeds(opts)
	s.buildCheckout(opts)
	s.admin = merchant.New(s.store, s.feeds, s.deliveries, s.catalog, s.agents, s.checkout, s.events,
		merchant.Options{Channels: merchant.NewChannels(s.shopify, s.store.Now), Now: s.store.Now})
	// Built last: it passes Shopify's news to the catalog and the order
	// events, which themselves call the Shopify connection.
	s.webhooks = shops.NewWebhooks(s.shopify, s.catalog, s.events)
	s.webhooks.Counted = webhookCounter(s.registry)
	if err := s.queue.Register(s.workers(opts)); err != nil {
		return nil, err
	}
	s.buildHTTP(opts)
	return s, nil
}

// openStore loads the keyring that opens the secrets the database holds,
// opens the database with it (the store seals buyers' personal data) and
// migrates it (unless AUTO_MIGRATE=false).
func (s *Service) openStore(ctx context.Context, skipMigrate bool) (err error) {
	if s.keys, err = LoadKeyring(s.cfg); err != nil {
		return err
	}
	s.store, err = store.Open(ctx, s.cfg.Database, s.logger, store.WithKeys(s.keys))
	if err != nil {
		return err
	}
	if !skipMigrate {
		if err := Migrate(ctx, s.store, s.logger); err != nil {
			return err
		}
	}
	return nil
}

// resolveOptions fills in what the options leave to the configuration:
// Shopify's and Stripe's requests go to emulators when it says so
// (SHOPIFY_EMULATOR_URL, STRIPE_API_URL: development and end-to-end tests),
// and one outbound-network policy covers every address a merchant or an
// agent can set (checked when saved and at every dial).
func (s *Service) resolveOptions(ctx context.Context, opts Options) Options {
	cfg := s.cfg
	if opts.ShopifyTransport == nil && cfg.ShopifyEmulatorURL != nil {
		// Every *.myshopify.com request goes to the emulator.
		opts.ShopifyTransport = shopify.RouteShops(cfg.ShopifyEmulatorURL, nil)
		s.logger.WarnContext(ctx, "Shopify requests go to an emulator", "url", cfg.ShopifyEmulatorURL.String())
	}
	if opts.StripeURL == "" && cfg.StripeURL != "" {
		opts.StripeURL = cfg.StripeURL
		s.logger.WarnContext(ctx, "Stripe requests go to an emulator", "url", cfg.StripeURL)
	}
	if opts.Outbound == nil {
		opts.Outbound = &netguard.Policy{AllowLoopback: cfg.OutboundAllowLoopback}
	}
	if opts.Outbound.AllowLoopback {
		s.logger.WarnContext(ctx, "feed targets and agent webhooks may reach loopback addresses (OUTBOUND_ALLOW_LOOPBACK)")
	}
	return opts
}

// syncPoll is how often a running bulk export is checked when its webhook
// is late (default 5 s).
func syncPoll(opts Options) time.Duration {
	if opts.SyncPoll == 0 {
		return 5 * time.Second
	}
	return opts.SyncPoll
}

// buildShopify builds the connection to Shopify: OAuth, the Admin API
// (one limiter per process: it tracks each shop's API budget), installs,
// tokens and webhooks.
func (s *Service) buildShopify(opts Options) {
	cfg := s.cfg
	shopifyHTTP := &http.Client{Transport: opts.ShopifyTransport, Timeout: 60 * time.Second}
	s.deprecations = &shopify.Deprecations{Logger: s.logger, Now: s.store.Now}
	s.registry.MustRegister(deprecationCollector{s.deprecations})
	s.shopify = shops.New(s.store, s.keys, s.queue,
		&shopify.OAuth{ClientID: cfg.ShopifyAPIKey, ClientSecret: cfg.ShopifyAPISecret, HTTPClient: shopifyHTTP},
		&shopify.Admin{HTTPClient: shopifyHTTP, Logger: s.logger, Limiter: &shopify.Limiter{}, Deprecations: s.deprecations},
		shops.Options{
			ClientID: cfg.ShopifyAPIKey, ClientSecret: cfg.ShopifyAPISecret, Scopes: cfg.Scopes, AppURL: cfg.AppURL,
			Logger: s.logger, Now: s.store.Now,
		})
}

// buildCatalogAndFeeds builds the catalog, the feeds built from it and
// their deliveries. A build hands over to the deliveries through push_feed
// jobs, and the catalog's changes to builds through build_feed jobs.
func (s *Service) buildCatalogAndFeeds(opts Options) {
	rebuild := opts.RebuildDelay
	if rebuild == 0 {
		rebuild = time.Minute
	}
	s.feeds = feeds.New(s.store, s.queue, feeds.Options{Logger: s.logger, Now: s.store.Now})
	s.catalog = catalog.New(s.store, s.shopify, s.feeds, s.queue, catalog.Options{
		// Bulk results come from Shopify's storage, not the Admin API.
		Download: &http.Client{Transport: opts.ShopifyTransport, Timeout: 30 * time.Minute},
		Logger:   s.logger, Now: s.store.Now, RebuildDelay: rebuild, PollInterval: syncPoll(opts),
	})
	s.deliveries = feeds.NewDeliveries(s.store, s.feeds, s.queue, s.keys, opts.Outbound, feeds.DeliveriesOptions{
		Options: feeds.Options{Logger: s.logger, Now: s.store.Now},
		HTTP:    opts.Outbound.Client(5*time.Minute, opts.FeedTransport),
	})
}

// buildCheckout builds agent credentials, the order events sent to agents
// (and Shopify's refunds and cancellations passed on to the payment
// provider), and the ACP checkout with live pricing and completing
// purchases (charges through the shop's payment provider — Stripe, the one
// there is — and Shopify orders); the events are built first, since
// checkout records each completed order through them.
func (s *Service) buildCheckout(opts Options) {
	cfg, logger, now := s.cfg, s.logger, s.store.Now
	stripe := &payment.Provider{Stripe: &payment.Stripe{
		BaseURL: opts.StripeURL, HTTPClient: &http.Client{Timeout: 30 * time.Second}, Logger: logger,
	}}
	providers := checkout.PaymentProviders{payment.ProviderName: stripe}
	s.agents = agents.New(s.store, s.keys, map[string]agents.PaymentConnector{payment.ProviderName: stripe},
		agents.Options{Now: now, Outbound: opts.Outbound, Distribution: cfg.Distribution})
	s.events = orderevents.New(s.store, s.keys, s.queue, s.shopify, providers, orderevents.Options{
		Logger: logger, Now: now, HTTP: opts.Outbound.Client(30*time.Second, nil),
	})
	completer := checkout.NewCompleter(s.store, providers, checkout.NewShopifyOrders(s.shopify), s.queue, s.keys,
		checkout.CompleterOptions{Now: now, Lease: cfg.CompletionLease})
	pricing := checkout.NewPricing(s.feeds, checkout.NewCachedPricing(checkout.NewShopifyPricing(s.shopify)),
		checkout.PricingOptions{Logger: logger, Now: now, Timeout: cfg.QuoteTimeout})
	drafts := checkout.NewShopifyDrafts(s.shopify)
	// Carts live as long as sessions (CHECKOUT_TTL): their drafts hold
	// stock as long.
	s.carts = checkout.NewCarts(s.store, pricing, s.queue, drafts,
		checkout.CartsOptions{Logger: logger, Now: now, TTL: cfg.CheckoutTTL, Distribution: cfg.Distribution})
	s.billing = s.buildBilling()
	s.checkout = checkout.New(s.store, pricing, completer, s.events, s.queue,
		checkout.Options{Logger: logger, Now: now, TTL: cfg.CheckoutTTL, Distribution: cfg.Distribution,
			Drafts: drafts, Carts: s.carts, AppURL: s.appURL, Admission: s.billing})
}

// appURL is the app's public URL: APP_URL, or where it listens once
// started ("" before).
func (s *Service) appURL() string {
	if s.shopify.AppURL == nil {
		return ""
	}
	return s.shopify.AppURL.String()
}

// workers registers a worker per job kind, each calling one use-case.
func (s *Service) workers(opts Options) *river.Workers {
	workers := river.NewWorkers()
	housekeeping := maintenance.New(s.store, s.queue, maintenance.NewResealer(s.store, s.keys),
		maintenance.Options{Logger: s.logger, Now: s.store.Now, Sessions: s.checkout, Retention: s.cfg.BuyerDataRetention})
	river.AddWorker(workers, &jobs.MaintenanceWorker{App: housekeeping})
	river.AddWorker(workers, &jobs.WebhookWorker{App: s.webhooks})
	river.AddWorker(workers, &jobs.ShopInstalledWorker{App: s.webhooks})
	river.AddWorker(workers, &jobs.RunSyncWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.PollSyncWorker{App: s.catalog, Every: syncPoll(opts)})
	river.AddWorker(workers, &jobs.RefreshProductWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.RefreshStockWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.ReconcileWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.BuildFeedWorker{App: s.feeds})
	river.AddWorker(workers, &jobs.PushFeedWorker{App: s.deliveries})
	river.AddWorker(workers, &jobs.ResumeCompletionWorker{App: s.checkout})
	river.AddWorker(workers, &jobs.ReleaseDraftWorker{App: s.checkout})
	river.AddWorker(workers, &jobs.DeliverAgentEventWorker{App: s.events})
	river.AddWorker(workers, &jobs.SweepWorker{Sweepers: []jobs.Sweeper{jobs.SweeperFunc(s.shopify.SweepWebhooks), jobs.SweeperFunc(s.catalog.SweepStock), s.events,
		jobs.SweeperFunc(func(ctx context.Context) error { _, err := housekeeping.SweepCompletions(ctx); return err }), s.billing}})
	if opts.AddWorkers != nil {
		opts.AddWorkers(workers)
	}
	return workers
}

// buildHTTP builds the web server over the use-cases, and the separate
// metrics listener when METRICS_ADDR asks for one.
func (s *Service) buildHTTP(opts Options) {
	cfg, logger := s.cfg, s.logger
	afterInstall := opts.AfterInstallURL
	if afterInstall == nil {
		afterInstall = web.AdminAppURL(cfg.ShopifyAPIKey)
	}
	s.web = web.New(web.Config{
		Logger:    logger,
		Registry:  s.registry,
		BodyLimit: cfg.BodyLimit,
		// The webhooks' router: it processes cheap topics in the request.
		Shopify:         s.webhooks,
		Feeds:           s.feeds,
		Catalog:         s.catalog,
		SecureCookies:   cfg.AppURL != nil && cfg.AppURL.Scheme == "https",
		AfterInstallURL: afterInstall,
		Checkout:        s.checkout,
		Continue:        s.checkout,
		Carts:           s.carts,
		AgentCatalog:    s.feeds,
		Agents:          s.agents,
		AgentAdmin:      s.agents,
		Idempotency:     idempotency.New(s.store, idempotency.Options{Now: s.store.Now, Logger: logger}),
		KeyRate:         cfg.AgentRate,
		KeyBurst:        int(2 * cfg.AgentRate),
		AppURL:          s.appURL,
		Admin:           s.admin,
		AdminUI:         web.AdminUI{ClientID: cfg.ShopifyAPIKey, AppBridgeURL: cfg.AppBridgeURL, PolarisURL: cfg.PolarisURL},
		Billing:         s.billing,
		IPRate:          cfg.IPRate,
		IPBurst:         max(10, int(2*cfg.IPRate)), // a page load is a few requests at once
		WebhookIPRate:   cfg.WebhookIPRate,
		WebhookIPBurst:  int(10 * cfg.WebhookIPRate),
		TrustedProxies:  cfg.TrustedProxies,
		MetricsToken:    cfg.MetricsToken,
		MetricsSeparate: cfg.MetricsAddr != "",
		Ready: map[string]web.Probe{
			"database":   s.store.Ping,
			"migrations": s.migrationsCurrent,
			"jobs":       s.jobsRunning,
		},
	})
	s.http = s.web.HTTPServer(cfg.HTTPAddr)
	if cfg.MetricsAddr != "" {
		s.metricsHTTP = &http.Server{
			Addr: cfg.MetricsAddr, Handler: s.web.MetricsHandler(cfg.Pprof),
			// A CPU profile or trace writes for up to web.MaxProfileSeconds.
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: web.MaxProfileSeconds*time.Second + 30*time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}
}

// Migrate brings the app's schema and River's to the binary's version,
// under a lock so that replicas starting together migrate once.
func Migrate(ctx context.Context, st *store.Store, logger *slog.Logger) error {
	return st.WithMigrationLock(ctx, func(ctx context.Context) error {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		return jobs.Migrate(ctx, st.Kind(), st.DB(), logger)
	})
}

func (s *Service) migrationsCurrent(ctx context.Context) error {
	st, err := s.store.Migrations(ctx)
	if err != nil {
		return err
	}
	if len(st.Pending) > 0 {
		return fmt.Errorf("%d migrations pending", len(st.Pending))
	}
	return jobs.MigrationsCurrent(ctx, s.store.Kind(), s.store.DB())
}

func (s *Service) jobsRunning(context.Context) error {
	if !s.queue.Running() {
		return errors.New("job queue not running")
	}
	return nil
}

// Start listens on the configured address, starts the job queue and serves
// HTTP in the background. Addr tells the bound address (useful with :0).
func (s *Service) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.HTTPAddr, err)
	}
	var mln net.Listener
	if s.metricsHTTP != nil {
		if mln, err = net.Listen("tcp", s.cfg.MetricsAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen %s (METRICS_ADDR): %w", s.cfg.MetricsAddr, err)
		}
	}
	if err := s.queue.Start(ctx); err != nil {
		_ = ln.Close()
		if mln != nil {
			_ = mln.Close()
		}
		return err
	}
	s.listener = ln
	if mln != nil {
		s.metricsListener, s.metricsServed = mln, make(chan struct{})
		go func() {
			s.metricsErr = s.metricsHTTP.Serve(mln)
			close(s.metricsServed)
		}()
		s.logger.InfoContext(ctx, "metrics served on a separate listener", "addr", mln.Addr().String())
	}
	if s.shopify.AppURL == nil {
		// No APP_URL (the demo, tests): the app is reached where it listens.
		s.shopify.AppURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	}
	s.served = make(chan struct{})
	go func() {
		s.serveErr = s.http.Serve(ln)
		close(s.served)
	}()
	s.logger.InfoContext(ctx, "acpbridge started", "addr", ln.Addr().String(),
		"database", s.cfg.Database.Redacted(), "version", app.Version)
	return nil
}

// Addr is the address the server listens on, once started.
func (s *Service) Addr() string { return s.listener.Addr().String() }

// URL is the loopback base URL of the started server.
func (s *Service) URL() string { return "http://" + s.Addr() }

// MetricsURL is where /metrics can be read once started: on the metrics
// listener (METRICS_ADDR), or on the main port when only METRICS_TOKEN is
// set (it must be sent as Bearer); "" when metrics are not served.
func (s *Service) MetricsURL() string {
	switch {
	case s.metricsListener != nil:
		return "http://" + s.metricsListener.Addr().String() + "/metrics"
	case s.cfg.MetricsToken != "" && s.listener != nil:
		return s.URL() + "/metrics"
	}
	return ""
}

// Served is closed when the HTTP server stops serving.
func (s *Service) Served() <-chan struct{} { return s.served }

// Web exposes the HTTP handler, to add routes or serve it in tests.
func (s *Service) Web() *web.Server { return s.web }

// Store exposes the database to other composition code (the demo, tests).
func (s *Service) Store() *store.Store { return s.store }

// Queue exposes the job queue to other composition code (the demo, tests).
func (s *Service) Queue() *jobs.Queue { return s.queue }

// Shopify exposes the Shopify connection use-case.
func (s *Service) Shopify() *shops.Shopify { return s.shopify }

// Catalog exposes the catalog use-case.
func (s *Service) Catalog() *catalog.Syncer { return s.catalog }

// Feeds exposes the feeds use-case.
func (s *Service) Feeds() *feeds.Service { return s.feeds }

// Agents exposes agent credentials (API keys, signing and webhook secrets).
func (s *Service) Agents() *agents.Access { return s.agents }

// Checkout exposes the ACP checkout use-case.
func (s *Service) Checkout() *checkout.Sessions { return s.checkout }

// Carts is the ACP carts use-case.
func (s *Service) Carts() *checkout.Carts { return s.carts }

// OrderEvents exposes the order events sent to agents.
func (s *Service) OrderEvents() *orderevents.Service { return s.events }

// Deliveries exposes the feed delivery use-case.
func (s *Service) Deliveries() *feeds.Deliveries { return s.deliveries }

// StartWorkers starts only the job queue (the CLI runs as a temporary
// worker replica that serves no HTTP).
func (s *Service) StartWorkers(ctx context.Context) error { return s.queue.Start(ctx) }

// Keys exposes the encryption keyring.
func (s *Service) Keys() *secret.Keyring { return s.keys }

// Shutdown stops in order: stop accepting and drain in-flight requests,
// then stop the queue after its running jobs, then close the database. Each
// step gets what is left of ctx; the database is closed whatever happens.
func (s *Service) Shutdown(ctx context.Context) error {
	var errs []error
	if s.listener != nil {
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = s.http.Close()
		}
		<-s.served
		if err := s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("http serve: %w", err))
		}
	}
	if s.metricsListener != nil {
		// Scrapes are short: they finish within ctx or are cut.
		if err := s.metricsHTTP.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
			_ = s.metricsHTTP.Close()
		}
		<-s.metricsServed
		if err := s.metricsErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("metrics serve: %w", err))
		}
	}
	// The order events' first attempts under way finish (or are left to
	// the sweep) before the database closes.
	if err := s.events.Drain(ctx); err != nil {
		errs = append(errs, fmt.Errorf("order events: %w", err))
	}
	if err := s.queue.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("job queue stop: %w", err))
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("database close: %w", err))
	}
	s.logger.Info("acpbridge stopped")
	return errors.Join(errs...)
}

// Run starts the service and serves until ctx is done (SIGINT/SIGTERM in
// the binary), then shuts down within the configured timeout. onStarted,
// when given, runs once the server listens (the demo writes demo.json); its
// error stops the service.
func Run(ctx context.Context, s *Service, onStarted func(*Service) error) error {
	if err := s.Start(ctx); err != nil {
		_ = s.Shutdown(context.WithoutCancel(ctx))
		return err
	}
	var startErr error
	if onStarted != nil {
		startErr = onStarted(s)
	}
	if startErr == nil {
		select {
		case <-ctx.Done():
		case <-s.served: // the listener failed; Shutdown reports why
		}
	}
	s.logger.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(startErr, s.Shutdown(sctx))
}

// Admin is the merchant admin's use-cases.
func (s *Service) Admin() *merchant.Admin { return s.admin }
