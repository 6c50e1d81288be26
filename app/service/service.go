// Package service assembles acpbridge from its parts and runs it: it opens
// the database, applies migrations, starts the job queue and serves HTTP,
// and on shutdown takes them down in the reverse order. `acpbridge serve`,
// `acpbridge demo` and the end-to-end tests all run this same code.
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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/catalog"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/jobs"
	"github.com/acpbridge/acpbridge/app/maintenance"
	"github.com/acpbridge/acpbridge/app/merchant"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/web"
)

// Options are what a Service is built from.
type Options struct {
	Config app.Config
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
	cfg        app.Config
	logger     *slog.Logger
	store      *store.Store
	keys       *secret.Keyring
	shopify    *shops.Shopify
	catalog    *catalog.Catalog
	feeds      *feeds.Feeds
	deliveries *feeds.Deliveries
	admin      *merchant.Admin
	agents     *agents.Agents
	checkout   *checkout.Checkout
	events     *checkout.AgentEvents
	queue      *jobs.Queue
	web        *web.Server
	registry   *prometheus.Registry
	http       *http.Server
	listener   net.Listener
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
// nothing: Start does. The parts are built inside out: the store and the
// keyring, then the use-cases, then the job queue that runs them, then the
// HTTP server that calls them.
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
	opts = s.routeToEmulators(ctx, opts)
	s.buildUseCases(ctx, opts)
	if err := s.buildQueue(opts); err != nil {
		return nil, err
	}
	s.buildHTTP(opts)
	return s, nil
}

// openStore opens the database, migrates it (unless AUTO_MIGRATE=false)
// and loads the keyring that opens the secrets it holds.
func (s *Service) openStore(ctx context.Context, skipMigrate bool) (err error) {
	s.store, err = store.Open(ctx, s.cfg.Database, s.logger)
	if err != nil {
		return err
	}
	if !skipMigrate {
		if err := Migrate(ctx, s.store, s.logger); err != nil {
			return err
		}
	}
	s.keys, err = LoadKeyring(s.cfg)
	return err
}

// routeToEmulators points Shopify's and Stripe's requests at emulators
// when the configuration says so (SHOPIFY_EMULATOR_URL, STRIPE_API_URL:
// development and end-to-end tests), unless the caller already did.
func (s *Service) routeToEmulators(ctx context.Context, opts Options) Options {
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

// buildUseCases builds the capabilities and plugs each into those it
// reacts to: the Shopify connection, catalog and feeds, the ACP checkout
// and its order events, agent credentials and the merchant's admin.
func (s *Service) buildUseCases(ctx context.Context, opts Options) {
	cfg, logger := s.cfg, s.logger

	// Shopify.
	shopifyHTTP := &http.Client{Transport: opts.ShopifyTransport, Timeout: 60 * time.Second}
	s.shopify = &shops.Shopify{
		ClientID: cfg.ShopifyAPIKey, ClientSecret: cfg.ShopifyAPISecret,
		Scopes: cfg.Scopes, AppURL: cfg.AppURL,
		Store: s.store, Keys: s.keys, Logger: logger, Now: s.store.Now,
		OAuth: &shopify.OAuth{ClientID: cfg.ShopifyAPIKey, ClientSecret: cfg.ShopifyAPISecret, HTTPClient: shopifyHTTP},
		// One limiter per process: it tracks each shop's API budget.
		Admin: &shopify.Admin{HTTPClient: shopifyHTTP, Logger: logger, Limiter: &shopify.Limiter{}},
	}

	// Catalog and feeds.
	rebuild := opts.RebuildDelay
	if rebuild == 0 {
		rebuild = time.Minute
	}
	s.feeds = &feeds.Feeds{Store: s.store, Logger: logger, Now: s.store.Now}
	s.catalog = &catalog.Catalog{
		Store: s.store, Shopify: s.shopify, Feeds: s.feeds, Logger: logger, Now: s.store.Now,
		// Bulk results come from Shopify's storage, not the Admin API.
		Download:     &http.Client{Transport: opts.ShopifyTransport, Timeout: 30 * time.Minute},
		RebuildDelay: rebuild, PollInterval: syncPoll(opts),
	}
	s.shopify.Catalog = s.catalog
	// One outbound-network policy for every address a merchant or an
	// agent can set: checked when saved and at every dial.
	outbound := opts.Outbound
	if outbound == nil {
		outbound = &netguard.Policy{AllowLoopback: cfg.OutboundAllowLoopback}
	}
	if outbound.AllowLoopback {
		logger.WarnContext(ctx, "feed targets and agent webhooks may reach loopback addresses (OUTBOUND_ALLOW_LOOPBACK)")
	}
	s.deliveries = &feeds.Deliveries{
		Store: s.store, Feeds: s.feeds, Keys: s.keys, Logger: logger, Now: s.store.Now,
		HTTP: outbound.Client(5*time.Minute, opts.FeedTransport), Outbound: outbound,
	}
	s.feeds.AfterBuild = s.deliveries.AfterBuild

	// The ACP checkout API, and completing purchases: charges through the
	// shop's payment provider (Stripe, the one there is), Shopify orders.
	stripe := &payment.Provider{Stripe: &payment.Stripe{
		BaseURL: opts.StripeURL, HTTPClient: &http.Client{Timeout: 30 * time.Second}, Logger: logger,
	}}
	providers := checkout.PaymentProviders{payment.ProviderName: stripe}
	s.agents = &agents.Agents{Store: s.store, Keys: s.keys, Now: s.store.Now, Outbound: outbound,
		Payments: map[string]agents.PaymentConnector{payment.ProviderName: stripe}}
	s.checkout = &checkout.Checkout{
		Completer: &checkout.Completer{
			Lease: cfg.CompletionLease,
			Store: s.store, Payments: providers, Keys: s.keys, Now: s.store.Now,
			Orders: &checkout.ShopifyOrders{Shopify: s.shopify},
		},
		Store: s.store, Logger: logger, Now: s.store.Now, TTL: cfg.CheckoutTTL,
		Pricer: &checkout.Pricing{
			Store: s.store, Feeds: s.feeds, Logger: logger, Now: s.store.Now, Timeout: cfg.QuoteTimeout,
			Shopify: &checkout.CachedPricing{Next: &checkout.ShopifyPricing{Shopify: s.shopify}},
		},
	}

	// Order events to agents, and Shopify refunds and cancellations of
	// their orders passed on to the payment provider.
	s.events = &checkout.AgentEvents{
		Store: s.store, Keys: s.keys, Logger: logger, Now: s.store.Now,
		HTTP:    outbound.Client(30*time.Second, nil),
		Shopify: s.shopify, Payments: providers,
	}
	s.checkout.Events = s.events

	// The merchant's embedded admin pages.
	s.admin = &merchant.Admin{
		Store: s.store, Feeds: s.feeds, Agents: s.agents, Events: s.events, Checkout: s.checkout,
		Catalog: s.catalog, Deliveries: s.deliveries, Now: s.store.Now,
		Channels: &merchant.ShopifyChannels{Shopify: s.shopify, Now: s.store.Now},
	}
}

// buildQueue registers a worker per job kind (each calls one use-case)
// and hands the queue to the use-cases that enqueue jobs.
func (s *Service) buildQueue(opts Options) (err error) {
	workers := river.NewWorkers()
	housekeeping := &maintenance.Maintenance{
		Store: s.store, Logger: s.logger, Now: s.store.Now,
		Resealer: &maintenance.Resealer{Store: s.store, Keys: s.keys},
	}
	river.AddWorker(workers, &jobs.MaintenanceWorker{App: housekeeping})
	river.AddWorker(workers, &jobs.WebhookWorker{App: &shops.ShopifyWebhooks{Shopify: s.shopify, Orders: s.events}})
	river.AddWorker(workers, &jobs.ShopInstalledWorker{App: s.shopify})
	river.AddWorker(workers, &jobs.RunSyncWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.PollSyncWorker{App: s.catalog, Every: syncPoll(opts)})
	river.AddWorker(workers, &jobs.RefreshProductWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.ReconcileWorker{App: s.catalog})
	river.AddWorker(workers, &jobs.BuildFeedWorker{App: s.feeds})
	river.AddWorker(workers, &jobs.PushFeedWorker{App: s.deliveries})
	river.AddWorker(workers, &jobs.ResumeCompletionWorker{App: s.checkout})
	river.AddWorker(workers, &jobs.DeliverAgentEventWorker{App: s.events})
	if opts.AddWorkers != nil {
		opts.AddWorkers(workers)
	}
	s.queue, err = jobs.New(jobs.Config{
		Kind:          s.cfg.Database.Kind,
		DB:            s.store.DB(),
		Logger:        s.logger,
		Workers:       workers,
		Periodic:      []*river.PeriodicJob{jobs.MaintenanceSchedule(), jobs.ReconcileSchedule()},
		TxFromContext: store.SQLTx,
		Metrics:       jobs.NewMetrics(s.registry, s.store.DB()),
	})
	if err != nil {
		return err
	}
	s.shopify.Queue, s.catalog.Queue, s.feeds.Queue, s.deliveries.Queue = s.queue, s.queue, s.queue, s.queue
	s.checkout.Queue, s.checkout.Completer.Queue, s.events.Queue = s.queue, s.queue, s.queue
	return nil
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
		Logger:          logger,
		Registry:        s.registry,
		BodyLimit:       cfg.BodyLimit,
		Shopify:         s.shopify,
		Feeds:           s.feeds,
		Catalog:         s.catalog,
		SecureCookies:   cfg.AppURL != nil && cfg.AppURL.Scheme == "https",
		AfterInstallURL: afterInstall,
		Checkout:        s.checkout,
		Agents:          s.agents,
		AgentAdmin:      s.agents,
		Idempotency:     &idempotency.Idempotency{Store: s.store, Now: s.store.Now, Logger: logger},
		KeyRate:         cfg.AgentRate,
		KeyBurst:        int(2 * cfg.AgentRate),
		AppURL:          func() string { return s.shopify.AppURL.String() },
		Admin:           s.admin,
		AdminUI:         web.AdminUI{ClientID: cfg.ShopifyAPIKey, AppBridgeURL: cfg.AppBridgeURL, PolarisURL: cfg.PolarisURL},
		IPRate:          cfg.IPRate,
		IPBurst:         int(2 * cfg.IPRate),
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
			Addr: cfg.MetricsAddr, Handler: s.web.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
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
func (s *Service) Catalog() *catalog.Catalog { return s.catalog }

// Feeds exposes the feeds use-case.
func (s *Service) Feeds() *feeds.Feeds { return s.feeds }

// Agents exposes agent credentials (API keys, signing and webhook secrets).
func (s *Service) Agents() *agents.Agents { return s.agents }

// Checkout exposes the ACP checkout use-case.
func (s *Service) Checkout() *checkout.Checkout { return s.checkout }

// AgentEvents exposes the order events sent to agents.
func (s *Service) AgentEvents() *checkout.AgentEvents { return s.events }

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
