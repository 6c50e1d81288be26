// Package web is the app's HTTP face, on echo: every route is listed in
// routes.go, handlers are thin (parse, one app call, render), and errors
// become HTTP answers in one place (errors.go).
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/shopify"
)

// Probe checks one thing /readyz depends on; nil means ready.
type Probe func(ctx context.Context) error

// Config is what the web layer is built from.
type Config struct {
	Logger *slog.Logger
	// Registry collects the metrics /metrics serves; HTTP metrics are added.
	Registry *prometheus.Registry
	// Ready names the probes /readyz runs.
	Ready map[string]Probe
	// BodyLimit caps request bodies, e.g. "2M" (webhooks have their own cap).
	BodyLimit string

	// Shopify serves install, session and webhook routes; nil leaves them out.
	Shopify ShopifyService
	// Feeds serves the feed pull URLs; nil leaves them out.
	Feeds FeedService
	// Catalog serves the embedded admin's catalog API.
	Catalog CatalogService
	// SecureCookies marks cookies Secure (the app is served over https).
	SecureCookies bool
	// AfterInstallURL is where a completed OAuth install sends the merchant.
	AfterInstallURL func(shop string) string

	// Idempotency makes the ACP checkout POSTs safe to retry.
	Idempotency *idempotency.Keys
	// Checkout and Agents serve the ACP checkout API; nil leaves it out.
	Checkout CheckoutService
	Agents   AgentAuth
	// Continue serves handoff sessions' continue_url (checkout.Sessions:
	// the buyer's link to Shopify's checkout); nil leaves it out.
	Continue ContinueService
	// Carts serves the ACP carts (checkout.Carts); nil leaves them out
	// (their paths answer 404 as unknown routes).
	Carts acpapi.Carts
	// AgentCatalog serves acpbridge's catalog tools on the MCP server
	// (search of the published feed, feeds.Service); nil leaves them out.
	AgentCatalog acpapi.Catalog
	// AgentAdmin serves the embedded admin's agent settings; nil leaves
	// them out.
	AgentAdmin AgentAdmin
	// KeyRate and KeyBurst limit each agent API key's requests per second
	// (per replica); 0 means no limit.
	KeyRate  float64
	KeyBurst int
	// ShopifyPatience is how long the Shopify calls of one agent request
	// may wait, in all, for the shop's rate-limit points before the
	// request answers "retry later" (default DefaultShopifyPatience).
	ShopifyPatience time.Duration
	// AppURL gives the app's public URL, the root of each shop's ACP base
	// URL (a func: without APP_URL it is known only once listening).
	AppURL func() string

	// Admin serves the merchant's embedded admin pages; nil leaves them out.
	Admin   AdminService
	AdminUI AdminUI
	// Billing is the shop's plan (billing.Service; nil: no billing pages).
	Billing BillingService

	// IPRate and IPBurst limit each client address's requests per second
	// (per replica) to the routes without credentials; WebhookIPRate and
	// WebhookIPBurst the same for the Shopify webhook receiver; 0 means no
	// limit.
	IPRate         float64
	IPBurst        int
	WebhookIPRate  float64
	WebhookIPBurst int
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (the client address of the access log and the limits).
	TrustedProxies []*net.IPNet
	// MetricsToken, when set, is required as Bearer to read /metrics;
	// MetricsSeparate says a separate listener serves MetricsHandler, so
	// the main port's /metrics answers 404.
	MetricsToken    string
	MetricsSeparate bool
}

// Server is the HTTP handler of the app.
type Server struct {
	echo    *echo.Echo
	logger  *slog.Logger
	reg     *prometheus.Registry
	probes  []namedProbe
	metrics *httpMetrics

	shopify         ShopifyService
	feeds           FeedService
	catalog         CatalogService
	secureCookies   bool
	afterInstallURL func(shop string) string
	checkout        CheckoutService
	cont            ContinueService
	// acp runs every ACP checkout call (acp.go is its REST glue).
	acp             *acpapi.Pipeline
	appURL          func() string
	agentAdmin      AgentAdmin
	admin           AdminService
	adminUI         AdminUI
	billing         BillingService
	ipLimits        *ipLimiter
	webhookIPLimits *ipLimiter
	metricsToken    string
	metricsSeparate bool
}

type namedProbe struct {
	name  string
	probe Probe
}

// DefaultShopifyPatience is how long one agent request's Shopify calls may
// wait for rate-limit points when Config.ShopifyPatience is zero: agents
// wait a few seconds for an answer, and the calls themselves, the
// database and the quote's other steps need the rest.
const DefaultShopifyPatience = time.Second

// shopifyBudget is the ACP pipeline's Budget: every agent request's
// Shopify calls wait for points at most patience in all, ahead of
// background work; complete's are the money path.
func shopifyBudget(patience time.Duration) func(context.Context, bool) context.Context {
	if patience <= 0 {
		patience = DefaultShopifyPatience
	}
	return func(ctx context.Context, moneyPath bool) context.Context {
		p := shopify.PriorityAgent
		if moneyPath {
			p = shopify.PriorityMoney
		}
		return shopify.WithPriority(shopify.WithPatience(ctx, patience), p)
	}
}

// New builds the server with its middleware and routes.
func New(cfg Config) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{
		echo: e, logger: cfg.Logger, reg: cfg.Registry, metrics: newHTTPMetrics(cfg.Registry),
		shopify: cfg.Shopify, feeds: cfg.Feeds, catalog: cfg.Catalog, secureCookies: cfg.SecureCookies, afterInstallURL: cfg.AfterInstallURL,
		checkout: cfg.Checkout, cont: cfg.Continue, appURL: cfg.AppURL, agentAdmin: cfg.AgentAdmin,
		admin: cfg.Admin, adminUI: cfg.AdminUI, billing: cfg.Billing,
		ipLimits: newIPLimiter(cfg.IPRate, cfg.IPBurst), webhookIPLimits: newIPLimiter(cfg.WebhookIPRate, cfg.WebhookIPBurst),
		metricsToken: cfg.MetricsToken, metricsSeparate: cfg.MetricsSeparate,
	}
	s.acp = &acpapi.Pipeline{Checkout: cfg.Checkout, Carts: cfg.Carts, Catalog: cfg.AgentCatalog, Idempotency: cfg.Idempotency, Logger: cfg.Logger}
	if cfg.Agents != nil {
		s.acp.Agents = requestAgents{cfg.Agents}
	}
	s.acp.Budget = shopifyBudget(cfg.ShopifyPatience)
	if kl := newKeyLimiter(cfg.KeyRate, cfg.KeyBurst); kl != nil {
		s.acp.Limiter = keyRateLimiter{kl}
	}
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	if s.adminUI.AppBridgeURL == "" {
		s.adminUI.AppBridgeURL = config.DefaultAppBridgeURL
	}
	for name, p := range cfg.Ready {
		s.probes = append(s.probes, namedProbe{name, p})
	}
	sort.Slice(s.probes, func(i, j int) bool { return s.probes[i].name < s.probes[j].name })

	e.HTTPErrorHandler = s.handleError
	// Order matters: the request id and the access log wrap everything, so
	// even a panic or an oversized body is logged with its id.
	e.Use(requestID, s.accessLog, s.recoverPanic, bodyLimit(cfg.BodyLimit))
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Echo gives later wiring (and tests) access to the router to add routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// HTTPServer returns an http.Server for this handler with timeouts that
// shed slow clients; the write timeout leaves room for checkout calls that
// wait on Shopify and Stripe.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
}
