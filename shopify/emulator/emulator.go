// Package emulator is a Shopify dev store that runs on loopback. It speaks
// Shopify's real wire protocols (OAuth, token exchange, the versioned Admin
// GraphQL endpoint with schema validation, cost and throttling, bulk
// operations, signed webhooks) so the app's production code reaches it
// unchanged, only through another transport (see Emulator.Transport).
//
// It is a seeded in-memory store plus a small GraphQL executor: resolvers
// return plain Go values and one projector applies the selection set.
// Resolvers live in one file per area and register themselves in
// resolverAreas; an operation without a resolver answers
// "emulator: no resolver for <field>".
package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

// Config configures an Emulator. Zero values get the defaults documented on
// each field.
type Config struct {
	// APIKey and APISecret are the app's client id and secret. The emulator
	// signs OAuth queries, ID tokens and webhooks with APISecret.
	APIKey, APISecret string
	// AppURL is the app's base URL, e.g. http://127.0.0.1:8080; webhooks go
	// to AppURL+WebhookPath. It may be set later with SetAppURL.
	AppURL string
	// WebhookPath defaults to "/webhooks/shopify".
	WebhookPath string
	// RedirectURLs are the allowed OAuth redirect_uri values (default
	// AppURL+"/auth/callback").
	RedirectURLs []string
	// Shops are the shops to seed, default ["demo-shop.myshopify.com"].
	Shops []string
	// Products is the number of products seeded per shop, default 25. The
	// first five are the special cases seedCatalog documents (several
	// variants, out of stock, low stock, compare-at price, digital, DRAFT,
	// ARCHIVED), so use at least 5.
	Products int
	// AccessTokenTTL and RefreshTokenTTL are the lifetimes of expiring
	// offline tokens, default 1h and 30 days.
	AccessTokenTTL, RefreshTokenTTL time.Duration
	// Scopes are granted by token exchange when the app has no installed
	// scopes yet (managed install grants what shopify.app.toml declares).
	Scopes []string
	// OptionalScopes are shopify.app.toml's optional_scopes: the only
	// scopes App Bridge's scopes.request may grant (scopes.go); empty
	// lets it grant any.
	OptionalScopes []string
	// BulkDelay is how long a bulk operation takes from CREATED to
	// COMPLETED, default 100ms.
	BulkDelay time.Duration
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
	// Now defaults to time.Now; tests inject a clock to move time without
	// sleeping (token expiry, bucket restore).
	Now func() time.Time
	// Seed makes the catalog and the random faults deterministic.
	Seed int64
	// WebhookFilters are the subscriptions' filters by topic, as
	// shopify.app.toml declares them: a delivery whose payload a filter
	// rejects is not sent (filter.go). A topic without one is always sent.
	WebhookFilters map[string]string
}

// defaultScopes is what a managed install grants when Config.Scopes is empty:
// the scopes docs/shopify.md §1.5 suggests for this app.
var defaultScopes = []string{
	"read_products", "read_inventory", "read_locations", "read_orders", "write_orders",
	"read_draft_orders", "write_draft_orders",
}

// Emulator is a Shopify dev store on 127.0.0.1. It is safe for concurrent use.
type Emulator struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	resolvers *registry
	mux       *http.ServeMux
	client    *http.Client    // delivers webhooks
	loopback  *http.Transport // carries Transport's rewritten requests

	// ctx ends when the emulator closes; bulk operations and hung fault
	// requests watch it so Close does not wait for them.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	faults faults

	// mu guards everything below, including every shop's state. GraphQL
	// documents execute while holding it: execution is in-memory and short,
	// and it makes resolvers race-free without per-object locks. It is never
	// held during network I/O.
	mu        sync.Mutex
	shops     map[string]*shopState
	appURL    string
	filters   map[string]*webhookFilter // by topic (filter.go)
	tokens    map[string]*accessToken
	refreshes map[string]*refreshToken
	codes     map[string]*authCode
	bulkFiles map[string][]byte // result path -> JSONL
	sent      []*Delivery       // the last maxSentLog webhooks, for Deliveries
	nextBulk  int64

	srv  *http.Server
	addr string // host:port once started
}

// New builds an emulator with seeded shops. It does not listen yet: call
// Start, or mount Handler yourself.
func New(cfg Config) (*Emulator, error) {
	if cfg.APIKey == "" || cfg.APISecret == "" {
		return nil, errors.New("emulator: APIKey and APISecret are required")
	}
	if cfg.WebhookPath == "" {
		cfg.WebhookPath = "/webhooks/shopify"
	}
	if len(cfg.Shops) == 0 {
		cfg.Shops = []string{"demo-shop.myshopify.com"}
	}
	if cfg.Products == 0 {
		cfg.Products = 25
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = time.Hour
	}
	if cfg.RefreshTokenTTL == 0 {
		cfg.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = defaultScopes
	}
	if cfg.BulkDelay == 0 {
		cfg.BulkDelay = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	filters, err := parseWebhookFilters(cfg.WebhookFilters)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Emulator{
		filters:   filters,
		cfg:       cfg,
		log:       cfg.Logger.With("component", "shopify-emulator"),
		now:       cfg.Now,
		ctx:       ctx,
		cancel:    cancel,
		shops:     map[string]*shopState{},
		appURL:    strings.TrimRight(cfg.AppURL, "/"),
		tokens:    map[string]*accessToken{},
		refreshes: map[string]*refreshToken{},
		codes:     map[string]*authCode{},
		bulkFiles: map[string][]byte{},
		loopback:  &http.Transport{MaxIdleConnsPerHost: 16}, // no Proxy: loopback only
		// Shopify gives a webhook endpoint 5 s to answer (docs/shopify.md §3.4).
		client: &http.Client{Timeout: 5 * time.Second},
	}
	e.faults.rng = newRand(cfg.Seed)
	for i, s := range cfg.Shops {
		domain, err := shopify.NormalizeShop(s)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("emulator: shop %q: %w", s, err)
		}
		if _, dup := e.shops[domain]; dup {
			continue
		}
		e.shops[domain] = e.newShop(domain, i)
	}
	e.resolvers = newRegistry()
	e.mux = e.routes()
	// Parse the Admin schema in the background now, so the first GraphQL
	// request does not pay for it (sync.Once: once per process).
	go func() { _, _ = adminSchema() }()
	return e, nil
}

// Start listens on 127.0.0.1 on a free port and serves in the background.
func (e *Emulator) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	srv := &http.Server{Handler: e.mux, ReadHeaderTimeout: 10 * time.Second}
	e.mu.Lock()
	e.srv, e.addr = srv, ln.Addr().String()
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("serve", "err", err)
		}
	}()
	e.log.Info("listening", "url", e.URL())
	return nil
}

// Close stops the server, cancels running bulk operations and waits for
// background work to end.
func (e *Emulator) Close() error {
	e.cancel()
	e.mu.Lock()
	srv := e.srv
	e.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err = srv.Shutdown(ctx); err != nil {
			err = fmt.Errorf("emulator: shutdown: %w", err)
		}
	}
	e.wg.Wait()
	e.loopback.CloseIdleConnections()
	e.client.CloseIdleConnections()
	return err
}

// URL is the emulator's loopback base URL, http://127.0.0.1:PORT, or "" before
// Start.
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.addr == "" {
		return ""
	}
	return "http://" + e.addr
}

// Handler serves every emulated endpoint; shops are told apart by Host.
func (e *Emulator) Handler() http.Handler { return e.mux }

// GraphQLURL is the shop's Admin API endpoint as the app knows it; reach it
// through Transport.
func (e *Emulator) GraphQLURL(shop string) string {
	return "https://" + shop + "/admin/api/" + shopify.APIVersion + "/graphql.json"
}

// SetAppURL sets the app's base URL, which is known only once the app listens.
func (e *Emulator) SetAppURL(u string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.appURL = strings.TrimRight(u, "/")
}

// redirectAllowed reports whether uri is an allowed OAuth redirect_uri.
func (e *Emulator) redirectAllowed(uri string) bool {
	allowed := e.cfg.RedirectURLs
	if len(allowed) == 0 {
		e.mu.Lock()
		allowed = []string{e.appURL + "/auth/callback"}
		e.mu.Unlock()
	}
	for _, a := range allowed {
		if a == uri {
			return true
		}
	}
	return false
}
