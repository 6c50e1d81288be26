package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/billing"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/maintenance"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/secret"
)

// Defaults, used when the environment says nothing.
const (
	DefaultPort            = 8080
	DefaultSQLitePath      = "data/acpbridge.db"
	DefaultScopes          = "read_products,read_inventory,read_fulfillments,write_orders,write_draft_orders"
	DefaultShutdownTimeout = 25 * time.Second
	DefaultBodyLimit       = "2M"
)

// DefaultScopes (above) are the required scopes, granted at install: each
// is used by a feature every shop has (shopify.app.toml says which; a test
// keeps the two equal). OptionalScopes are shopify.app.toml's
// optional_scopes: each serves one feature (app.OptionalFeatures), requested
// in context through App Bridge when the merchant wants it; the app works
// without them.
const OptionalScopes = "read_publications,write_customers"

// Config is everything the app reads from its environment, read once at
// start-up by LoadConfig. Names follow the Shopify CLI's, so `shopify app dev`
// can run the binary as it is.
type Config struct {
	ShopifyAPIKey    string   // SHOPIFY_API_KEY: the app's client id
	ShopifyAPISecret string   // SHOPIFY_API_SECRET: the app's client secret
	Scopes           []string // SCOPES
	AppURL           *url.URL // APP_URL or HOST: the public https URL of the app

	// HTTPAddr is where the server listens; ":PORT" from PORT.
	HTTPAddr string
	Database app.DatabaseConfig // DATABASE_URL
	// EncryptionKey is the ENCRYPTION_KEY keyring text (see app/secret);
	// empty means "generate one beside the SQLite file" (SQLite only).
	EncryptionKey string
	LogLevel      slog.Level // LOG_LEVEL
	// LogFormat is "json", "text" or "" (text on a terminal, JSON otherwise).
	LogFormat string // LOG_FORMAT
	// RuntimeTuning sizes Go's scheduler to the load (RUNTIME_TUNING, on
	// or off; default on): app/procs.
	RuntimeTuning   bool
	ShutdownTimeout time.Duration
	BodyLimit       string
	// CheckoutTTL is how long an ACP checkout session lives
	// (CHECKOUT_SESSION_TTL, a Go duration from 5m to 72h; default 6h).
	CheckoutTTL time.Duration
	// QuoteTimeout bounds Shopify's answers while pricing one checkout call
	// (QUOTE_TIMEOUT, 500ms to 20s; default 4s).
	QuoteTimeout time.Duration
	// CompletionLease is how long one request or replica owns a checkout
	// completion (COMPLETION_LEASE, 2s to 10m; default 60s): after a crash
	// another takes over once it lapses. It must outlast the slowest
	// Shopify or Stripe call.
	CompletionLease time.Duration
	// BuyerDataRetention is how long buyers' personal data stays in a
	// checkout session after it ends, or in a cart after it expires
	// (BUYER_DATA_RETENTION, 1h to 8760h; default 720h, 30 days).
	BuyerDataRetention time.Duration
	// ShopifyEmulatorURL and StripeURL point the app at emulators instead
	// of Shopify and Stripe (SHOPIFY_EMULATOR_URL, STRIPE_API_URL): for
	// development and end-to-end tests only; loopback URLs only.
	ShopifyEmulatorURL *url.URL
	StripeURL          string
	// AgentRate limits each agent API key's requests per second on each
	// replica (AGENT_RATE_LIMIT, 0 for none; default 100, bursts of twice
	// that).
	AgentRate float64
	// AppBridgeURL and PolarisURL are the admin pages' scripts from
	// Shopify's CDN (APP_BRIDGE_URL, POLARIS_URL; POLARIS_URL=off leaves
	// Polaris out, the pages keep their own stylesheet).
	AppBridgeURL string
	PolarisURL   string
	// IPRate limits each client address's requests per second on each
	// replica to the routes anyone may call without a credential (install,
	// OAuth callback, the bounce page, feed pulls, ACP discovery):
	// IP_RATE_LIMIT, 0 for none; default 10, bursts of twice that.
	IPRate float64
	// WebhookIPRate is the same for the Shopify webhook receiver
	// (WEBHOOK_IP_RATE_LIMIT, 0 for none; default 100, bursts of ten
	// times that): Shopify delivers from many addresses, in bursts.
	WebhookIPRate float64
	// TrustedProxies are the networks of the reverse proxies or load
	// balancers in front of the app (TRUSTED_PROXIES, comma-separated
	// CIDRs or addresses). Only from them is X-Forwarded-For believed; by
	// default nothing is trusted and the client is the TCP peer.
	TrustedProxies []*net.IPNet
	// MetricsAddr is a separate listener serving only /metrics
	// (METRICS_ADDR, host:port, e.g. 127.0.0.1:9090); MetricsToken
	// (METRICS_TOKEN) is the Bearer token /metrics then requires, and
	// without MetricsAddr the one way to read /metrics on the main port.
	// With neither, /metrics is not served.
	MetricsAddr  string
	MetricsToken string
	// Pprof serves Go's profiles (/debug/pprof/) on the metrics listener,
	// behind the same token (PPROF, default false; needs METRICS_ADDR): an
	// operator's way to see where a replica's CPU goes, never on the
	// public port.
	Pprof bool
	// OutboundAllowLoopback lets merchant-set URLs (agent webhook, feed
	// push targets) reach loopback addresses (OUTBOUND_ALLOW_LOOPBACK,
	// default false): for the demo and tests, whose emulators listen on
	// 127.0.0.1. Private, link-local and other non-public addresses stay
	// refused either way (see app/netguard).
	OutboundAllowLoopback bool
	// Distribution is how the app reaches merchants (APP_DISTRIBUTION:
	// app_store, the default, or custom). Under app_store every shop sells
	// through Shopify's checkout; custom also allows delegated payment on
	// the merchant's own Stripe.
	Distribution app.Distribution
	// Billing is the app's pricing through Shopify's Billing API
	// (BILLING_*, readBilling).
	Billing billing.Plan
}

// Defaults of the per-address limits.
const (
	DefaultIPRate        = 10
	DefaultWebhookIPRate = 100
	// MinMetricsToken is the shortest METRICS_TOKEN accepted.
	MinMetricsToken = 16
)

// Shopify's CDN scripts for embedded admin pages. App Bridge is not
// versioned (Shopify serves one, always current). Polaris is: polaris.js
// follows the newest major release, which may change components under the
// pages; polaris-1.js is Shopify's stable channel for Polaris 1 (the newest
// 1.x release, fixes without breaking changes), the release the pages are
// written for. POLARIS_URL can name an exact release (polaris-1.0.js).
const (
	DefaultAppBridgeURL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
	DefaultPolarisURL   = "https://cdn.shopify.com/shopifycloud/polaris-1.js"
)

// LoadConfig reads the configuration from getenv (os.Getenv in production).
// It checks the form of every variable that is set and returns all problems
// at once, each naming its variable and what it expects. Whether a variable
// must be set depends on the command: see RequireServe.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }

	cfg := Config{
		ShutdownTimeout: DefaultShutdownTimeout,
		BodyLimit:       DefaultBodyLimit,
	}
	// The steps run in this order so the problems are reported in the
	// order the variables were always checked.
	readShopify(&cfg, env, bad)
	readListener(&cfg, env, bad)
	readDatabase(&cfg, env, bad)
	readTimeouts(&cfg, env, bad)
	readRateLimits(&cfg, env, bad)
	readMetrics(&cfg, env, bad)
	readAdminScripts(&cfg, env, bad)
	readOutbound(&cfg, env, bad)
	readLogging(&cfg, env, bad)
	readRuntime(&cfg, env, bad)
	readBilling(&cfg, env, bad)

	if len(errs) > 0 {
		return cfg, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return cfg, nil
}

// configEnv returns a variable's value with surrounding space trimmed, and
// configComplaint records a problem with one; every read step takes both so
// LoadConfig can report all problems at once.
type (
	configEnv       func(name string) string
	configComplaint func(name, format string, args ...any)
)

// readShopify reads the app's credentials, scopes and public URL.
func readShopify(cfg *Config, env configEnv, bad configComplaint) {
	cfg.ShopifyAPIKey = env("SHOPIFY_API_KEY")
	cfg.ShopifyAPISecret = env("SHOPIFY_API_SECRET")

	scopes := env("SCOPES")
	if scopes == "" {
		scopes = DefaultScopes
	}
	for s := range strings.SplitSeq(scopes, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !validScope(s) {
			bad("SCOPES", "expected a comma-separated list of Shopify access scopes such as read_products,write_orders; %q is not one", s)
			continue
		}
		cfg.Scopes = append(cfg.Scopes, s)
	}

	// The first of these that is set wins, even when it is malformed: a
	// later one must not silently stand in for a mistyped APP_URL.
	for _, name := range []string{"APP_URL", "HOST", "SHOPIFY_APP_URL"} {
		raw := env(name)
		if raw == "" {
			continue
		}
		u, err := parseAppURL(raw)
		if err != nil {
			bad(name, "%v", err)
		}
		cfg.AppURL = u
		break
	}
}

// readListener reads the port the server listens on.
func readListener(cfg *Config, env configEnv, bad configComplaint) {
	port := DefaultPort
	if raw := env("PORT"); raw != "" {
		p, err := strconv.Atoi(raw)
		if err != nil || p < 1 || p > 65535 {
			bad("PORT", "expected a TCP port number from 1 to 65535, got %q", raw)
		} else {
			port = p
		}
	}
	cfg.HTTPAddr = net.JoinHostPort("", strconv.Itoa(port))
}

// readDatabase reads the database and the key that encrypts secrets in it;
// together because whether the key is required depends on the database.
func readDatabase(cfg *Config, env configEnv, bad configComplaint) {
	db, err := ParseDatabaseURL(env("DATABASE_URL"))
	if err != nil {
		bad("DATABASE_URL", "%v", err)
	}
	cfg.Database = db

	cfg.EncryptionKey = env("ENCRYPTION_KEY")
	if cfg.EncryptionKey != "" {
		if _, err := secret.ParseKeyring(cfg.EncryptionKey); err != nil {
			bad("ENCRYPTION_KEY", "expected one or more comma-separated keys, each 32 random bytes in base64, optionally as ID:BASE64 (generate one with `acpbridge keygen`): %v", err)
		}
	} else if cfg.Database.Kind == app.DatabasePostgres {
		bad("ENCRYPTION_KEY", "required with PostgreSQL (replicas must share it): 32 random bytes in base64; generate one with `acpbridge keygen`")
	}
}

// readTimeouts reads the lifetimes and time limits of checkouts.
func readTimeouts(cfg *Config, env configEnv, bad configComplaint) {
	duration := func(name string, def, lo, hi time.Duration) time.Duration {
		raw := env(name)
		if raw == "" {
			return def
		}
		d, err := time.ParseDuration(raw)
		if err != nil || d < lo || d > hi {
			bad(name, "expected a duration from %s to %s such as %s; got %q", lo, hi, def, raw)
			return def
		}
		return d
	}
	cfg.CheckoutTTL = duration("CHECKOUT_SESSION_TTL", checkout.DefaultSessionTTL, 5*time.Minute, 72*time.Hour)
	cfg.QuoteTimeout = duration("QUOTE_TIMEOUT", checkout.DefaultQuoteTimeout, 500*time.Millisecond, 20*time.Second)
	cfg.CompletionLease = duration("COMPLETION_LEASE", time.Minute, 2*time.Second, 10*time.Minute)
	cfg.BuyerDataRetention = duration("BUYER_DATA_RETENTION", maintenance.DefaultRetention, time.Hour, 365*24*time.Hour)
}

// readRateLimits reads the request rate limits and the proxies whose
// X-Forwarded-For decides which client address a limit applies to.
func readRateLimits(cfg *Config, env configEnv, bad configComplaint) {
	cfg.AgentRate = 100
	if raw := env("AGENT_RATE_LIMIT"); raw != "" {
		r, err := strconv.ParseFloat(raw, 64)
		if err != nil || r < 0 || r > 100_000 {
			bad("AGENT_RATE_LIMIT", "expected requests per second per API key, from 0 (no limit) to 100000; got %q", raw)
		} else {
			cfg.AgentRate = r
		}
	}
	cfg.IPRate, cfg.WebhookIPRate = DefaultIPRate, DefaultWebhookIPRate
	for name, dst := range map[string]*float64{"IP_RATE_LIMIT": &cfg.IPRate, "WEBHOOK_IP_RATE_LIMIT": &cfg.WebhookIPRate} {
		raw := env(name)
		if raw == "" {
			continue
		}
		r, err := strconv.ParseFloat(raw, 64)
		if err != nil || r < 0 || r > 100_000 {
			bad(name, "expected requests per second per client address, from 0 (no limit) to 100000; got %q", raw)
			continue
		}
		*dst = r
	}
	if raw := env("TRUSTED_PROXIES"); raw != "" {
		nets, err := parseTrustedProxies(raw)
		if err != nil {
			bad("TRUSTED_PROXIES", "expected comma-separated CIDRs or IP addresses of the proxies in front of the app, e.g. 10.0.0.0/8,192.168.1.7: %v", err)
		}
		cfg.TrustedProxies = nets
	}
}

// readMetrics reads where /metrics is served and the token it requires.
func readMetrics(cfg *Config, env configEnv, bad configComplaint) {
	if raw := env("METRICS_ADDR"); raw != "" {
		host, port, err := net.SplitHostPort(raw)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 0 || p > 65535 || (host != "" && net.ParseIP(host) == nil && host != "localhost") {
			bad("METRICS_ADDR", "expected HOST:PORT of the metrics listener with an IP address or localhost, e.g. 127.0.0.1:9090; got %q", raw)
		} else {
			cfg.MetricsAddr = raw
		}
	}
	if raw := env("METRICS_TOKEN"); raw != "" {
		if len(raw) < MinMetricsToken || strings.ContainsAny(raw, " \t,") {
			// The value is a secret: say what is wrong, not what it is.
			bad("METRICS_TOKEN", "expected a random token of at least %d characters without spaces or commas (e.g. `openssl rand -hex 24`); got %d characters", MinMetricsToken, len(raw))
		} else {
			cfg.MetricsToken = raw
		}
	}
	if raw := env("PPROF"); raw != "" {
		b, err := strconv.ParseBool(raw)
		switch {
		case err != nil:
			bad("PPROF", "expected true or false, got %q", raw)
		case b && cfg.MetricsAddr == "":
			bad("PPROF", "profiles are served only on the metrics listener: set METRICS_ADDR too (e.g. 127.0.0.1:9090)")
		default:
			cfg.Pprof = b
		}
	}
}

// readAdminScripts reads the Shopify CDN scripts the admin pages load.
func readAdminScripts(cfg *Config, env configEnv, bad configComplaint) {
	cfg.AppBridgeURL, cfg.PolarisURL = DefaultAppBridgeURL, DefaultPolarisURL
	for name, dst := range map[string]*string{"APP_BRIDGE_URL": &cfg.AppBridgeURL, "POLARIS_URL": &cfg.PolarisURL} {
		raw := env(name)
		if raw == "" {
			continue
		}
		if name == "POLARIS_URL" && raw == "off" {
			*dst = ""
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && netguard.IsLoopbackHost(u.Hostname()))) {
			bad(name, "expected an https URL of the script (http only on loopback)%s; got %q", map[bool]string{true: ", or off", false: ""}[name == "POLARIS_URL"], raw)
			continue
		}
		*dst = raw
	}
}

// readOutbound reads where the app's own outbound calls may go: the
// emulators standing in for Shopify and Stripe, and whether merchant-set
// URLs may reach loopback.
func readOutbound(cfg *Config, env configEnv, bad configComplaint) {
	for _, name := range []string{"SHOPIFY_EMULATOR_URL", "STRIPE_API_URL"} {
		raw := env(name)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || !netguard.IsLoopbackHost(u.Hostname()) {
			bad(name, "expected an http URL on a loopback address (an emulator for development and tests), got %q", raw)
			continue
		}
		if name == "SHOPIFY_EMULATOR_URL" {
			cfg.ShopifyEmulatorURL = u
		} else {
			cfg.StripeURL = strings.TrimRight(raw, "/")
		}
	}

	switch d := app.Distribution(strings.ToLower(env("APP_DISTRIBUTION"))); d {
	case "":
		cfg.Distribution = app.DistributionAppStore
	case app.DistributionAppStore, app.DistributionCustom:
		cfg.Distribution = d
	default:
		bad("APP_DISTRIBUTION", "expected app_store (a public App Store app: buyers pay in Shopify's checkout) or custom (a custom or authorised app, which may also charge delegated payments on the merchant's Stripe); got %q", string(d))
	}

	if raw := env("OUTBOUND_ALLOW_LOOPBACK"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			bad("OUTBOUND_ALLOW_LOOPBACK", "expected true or false, got %q", raw)
		}
		cfg.OutboundAllowLoopback = b
	}
}

// readLogging reads the log level and format.
func readLogging(cfg *Config, env configEnv, bad configComplaint) {
	switch lv := strings.ToLower(env("LOG_LEVEL")); lv {
	case "", "info":
		cfg.LogLevel = slog.LevelInfo
	case "debug":
		cfg.LogLevel = slog.LevelDebug
	case "warn", "warning":
		cfg.LogLevel = slog.LevelWarn
	case "error":
		cfg.LogLevel = slog.LevelError
	default:
		bad("LOG_LEVEL", "expected one of debug, info, warn, error; got %q", lv)
	}

	switch f := strings.ToLower(env("LOG_FORMAT")); f {
	case "", "json", "text":
		cfg.LogFormat = f
	default:
		bad("LOG_FORMAT", "expected json or text; got %q", f)
	}
}

// readRuntime reads RUNTIME_TUNING. main re-executes the server with the
// monitor-thread setting before this runs, from the same variable, and
// treats anything but "off" as on; here a value that is neither is a
// mistake the operator hears about.
func readRuntime(cfg *Config, env configEnv, bad configComplaint) {
	switch v := strings.ToLower(env("RUNTIME_TUNING")); v {
	case "", "on":
		cfg.RuntimeTuning = true
	case "off":
	default:
		bad("RUNTIME_TUNING", "expected on or off; got %q", v)
	}
}

// RequireServe checks the settings that serving real shops cannot do
// without. The demo and the migrate command do not need them.
func (c Config) RequireServe() error {
	var errs []error
	if c.ShopifyAPIKey == "" {
		errs = append(errs, errors.New("SHOPIFY_API_KEY: required: the app's client id from the Partner Dashboard or `shopify app env show`"))
	}
	if c.ShopifyAPISecret == "" {
		errs = append(errs, errors.New("SHOPIFY_API_SECRET: required: the app's client secret from the Partner Dashboard or `shopify app env show`"))
	}
	if c.AppURL == nil {
		errs = append(errs, errors.New("APP_URL: required (or HOST): the public https URL Shopify reaches the app at, e.g. https://acpbridge.example.com"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return nil
}

// ParseDatabaseURL turns DATABASE_URL into a app.DatabaseConfig:
// postgres:// or postgresql:// selects PostgreSQL; sqlite:PATH, sqlite://PATH
// or a plain file path selects SQLite; empty selects the SQLite default.
func ParseDatabaseURL(raw string) (app.DatabaseConfig, error) {
	switch {
	case raw == "":
		return app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: DefaultSQLitePath}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return app.DatabaseConfig{}, errors.New("expected postgres://USER:PASSWORD@HOST:PORT/DATABASE; the URL does not parse or has no host")
		}
		return app.DatabaseConfig{Kind: app.DatabasePostgres, URL: raw}, nil
	case strings.HasPrefix(raw, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if p == "" {
			return app.DatabaseConfig{}, errors.New("expected sqlite:PATH with a file path, e.g. sqlite:data/acpbridge.db")
		}
		return app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Clean(p)}, nil
	case strings.Contains(raw, "://"):
		return app.DatabaseConfig{}, fmt.Errorf("expected postgres://…, sqlite:PATH or a file path; the scheme %q is not supported", raw[:strings.Index(raw, "://")])
	default:
		return app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Clean(raw)}, nil
	}
}

// parseAppURL accepts an absolute URL with a host; https is required unless
// the host is loopback (local development and the demo).
func parseAppURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		// The Shopify CLI sets HOST to a bare host name in some versions.
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("expected an absolute https URL such as https://acpbridge.example.com, got %q", raw)
	}
	if u.Scheme == "http" && !netguard.IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("expected https (Shopify only embeds https apps); http is allowed for localhost only, got %q", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("expected a URL without query or fragment, got %q", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// parseTrustedProxies reads TRUSTED_PROXIES: CIDRs, or single addresses
// (a /32 or /128).
func parseTrustedProxies(raw string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for part := range strings.SplitSeq(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", part)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// validScope accepts Shopify scope names: lower-case words joined by "_",
// e.g. read_products or unauthenticated_read_product_listings.
func validScope(s string) bool {
	if len(s) > 100 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return !strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_")
}
