package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/checkout"

	"github.com/acpbridge/acpbridge/app"
)

// env turns a map into a getenv function.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const goodKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatalf("LoadConfig(empty) = %v; the zero-setup default must load", err)
	}
	if cfg.Database.Kind != app.DatabaseSQLite || cfg.Database.Path != DefaultSQLitePath {
		t.Errorf("Database = %+v, want SQLite at %s", cfg.Database, DefaultSQLitePath)
	}
	if cfg.HTTPAddr != ":8080" || cfg.LogLevel != slog.LevelInfo || len(cfg.Scopes) == 0 {
		t.Errorf("defaults: addr %q level %v scopes %v", cfg.HTTPAddr, cfg.LogLevel, cfg.Scopes)
	}
	if err := cfg.RequireServe(); err == nil {
		t.Error("RequireServe passed without Shopify credentials")
	}
	if cfg.OutboundAllowLoopback {
		t.Error("OutboundAllowLoopback defaults to true; serve must refuse loopback targets unless told")
	}
	if on, err := Load(env(map[string]string{"OUTBOUND_ALLOW_LOOPBACK": "true"})); err != nil || !on.OutboundAllowLoopback {
		t.Errorf("OUTBOUND_ALLOW_LOOPBACK=true: %v, %v", on.OutboundAllowLoopback, err)
	}
	if !cfg.RuntimeTuning {
		t.Error("RuntimeTuning defaults to off; the scheduler tuning is on unless RUNTIME_TUNING=off")
	}
	if off, err := Load(env(map[string]string{"RUNTIME_TUNING": "OFF"})); err != nil || off.RuntimeTuning {
		t.Errorf("RUNTIME_TUNING=OFF: %v, %v", off.RuntimeTuning, err)
	}
}

func TestLoadConfigValues(t *testing.T) {
	t.Parallel()
	cfg, err := Load(env(map[string]string{
		"SHOPIFY_API_KEY":      "client-id",
		"SHOPIFY_API_SECRET":   "shh",
		"SCOPES":               "read_products, write_orders",
		"HOST":                 "https://app.example.com/",
		"PORT":                 "3000",
		"DATABASE_URL":         "postgres://u:p@db.internal:5432/acp",
		"ENCRYPTION_KEY":       goodKey,
		"LOG_LEVEL":            "DEBUG",
		"LOG_FORMAT":           "text",
		"CHECKOUT_SESSION_TTL": "30m",
		"BUYER_DATA_RETENTION": "168h",
	}))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if err := cfg.RequireServe(); err != nil {
		t.Fatalf("RequireServe: %v", err)
	}
	if got, want := cfg.AppURL.String(), "https://app.example.com"; got != want {
		t.Errorf("AppURL = %q, want %q", got, want)
	}
	if got, want := strings.Join(cfg.Scopes, ","), "read_products,write_orders"; got != want {
		t.Errorf("Scopes = %q, want %q", got, want)
	}
	if cfg.HTTPAddr != ":3000" || cfg.Database.Kind != app.DatabasePostgres || cfg.LogLevel != slog.LevelDebug || cfg.LogFormat != "text" {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg.BuyerDataRetention != 7*24*time.Hour {
		t.Errorf("BuyerDataRetention = %v, want 168h", cfg.BuyerDataRetention)
	}
	if cfg.CheckoutTTL != 30*time.Minute || cfg.QuoteTimeout != checkout.DefaultQuoteTimeout {
		t.Errorf("CheckoutTTL, QuoteTimeout = %v, %v; want 30m and the default", cfg.CheckoutTTL, cfg.QuoteTimeout)
	}
	if strings.Contains(cfg.Database.Redacted(), ":p@") {
		t.Errorf("Redacted() = %q leaks the password", cfg.Database.Redacted())
	}
}

func TestParseDatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		wantKind app.DatabaseKind
		wantPath string
		wantErr  string
	}{
		{in: "", wantKind: app.DatabaseSQLite, wantPath: "data/acpbridge.db"},
		{in: "sqlite:/var/lib/acp.db", wantKind: app.DatabaseSQLite, wantPath: "/var/lib/acp.db"},
		{in: "sqlite://rel/acp.db", wantKind: app.DatabaseSQLite, wantPath: "rel/acp.db"},
		{in: "./x/../acp.db", wantKind: app.DatabaseSQLite, wantPath: "acp.db"},
		{in: "postgresql://h/db", wantKind: app.DatabasePostgres},
		{in: "sqlite:", wantErr: "sqlite:PATH"},
		{in: "mysql://h/db", wantErr: `scheme "mysql" is not supported`},
		{in: "postgres:///db", wantErr: "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDatabaseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Kind != tt.wantKind || (tt.wantPath != "" && got.Path != tt.wantPath) {
				t.Fatalf("ParseDatabaseURL(%q) = %+v, %v; want %s %s", tt.in, got, err, tt.wantKind, tt.wantPath)
			}
		})
	}
}

// TestConfigErrors checks that every missing or malformed setting stops
// start-up with a message naming the variable and what it expects.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	serveable := map[string]string{"SHOPIFY_API_KEY": "id", "SHOPIFY_API_SECRET": "s", "APP_URL": "https://a.example.com"}
	tests := []struct {
		name  string
		set   map[string]string
		unset string // a variable of `serveable` to drop
		want  []string
	}{
		{name: "missing api key", unset: "SHOPIFY_API_KEY", want: []string{"SHOPIFY_API_KEY: required", "client id"}},
		{name: "missing api secret", unset: "SHOPIFY_API_SECRET", want: []string{"SHOPIFY_API_SECRET: required", "client secret"}},
		{name: "missing app url", unset: "APP_URL", want: []string{"APP_URL: required", "https URL"}},
		{name: "app url not https", set: map[string]string{"APP_URL": "http://a.example.com"}, want: []string{"APP_URL:", "expected https"}},
		{name: "app url garbage", set: map[string]string{"APP_URL": "ftp://x"}, want: []string{"APP_URL:", "absolute https URL"}},
		{name: "host with query", set: map[string]string{"APP_URL": "", "HOST": "https://a.example.com/?x=1"}, want: []string{"HOST:", "without query"}},
		{name: "port text", set: map[string]string{"PORT": "http"}, want: []string{"PORT:", "1 to 65535", `"http"`}},
		{name: "port range", set: map[string]string{"PORT": "70000"}, want: []string{"PORT:", "1 to 65535"}},
		{name: "database scheme", set: map[string]string{"DATABASE_URL": "mysql://x/y"}, want: []string{"DATABASE_URL:", "postgres://"}},
		{name: "postgres without key", set: map[string]string{"DATABASE_URL": "postgres://h/db"}, want: []string{"ENCRYPTION_KEY: required with PostgreSQL", "keygen"}},
		{name: "key short", set: map[string]string{"ENCRYPTION_KEY": "c2hvcnQ="}, want: []string{"ENCRYPTION_KEY:", "32 random bytes", "got 5 bytes"}},
		{name: "key not base64", set: map[string]string{"ENCRYPTION_KEY": "not base64!!"}, want: []string{"ENCRYPTION_KEY:", "base64"}},
		{name: "log level", set: map[string]string{"LOG_LEVEL": "loud"}, want: []string{"LOG_LEVEL:", "debug, info, warn, error", `"loud"`}},
		{name: "runtime tuning", set: map[string]string{"RUNTIME_TUNING": "fast"}, want: []string{"RUNTIME_TUNING:", "on or off", `"fast"`}},
		{name: "log format", set: map[string]string{"LOG_FORMAT": "xml"}, want: []string{"LOG_FORMAT:", "json or text"}},
		{name: "session ttl", set: map[string]string{"CHECKOUT_SESSION_TTL": "1m"}, want: []string{"CHECKOUT_SESSION_TTL:", "5m0s to 72h0m0s", `"1m"`}},
		{name: "buyer data retention", set: map[string]string{"BUYER_DATA_RETENTION": "30d"}, want: []string{"BUYER_DATA_RETENTION:", "1h0m0s to 8760h0m0s", `"30d"`}},
		{name: "quote timeout", set: map[string]string{"QUOTE_TIMEOUT": "soon"}, want: []string{"QUOTE_TIMEOUT:", "duration", `"soon"`}},
		{name: "agent rate", set: map[string]string{"AGENT_RATE_LIMIT": "-1"}, want: []string{"AGENT_RATE_LIMIT:", "requests per second"}},
		{name: "outbound loopback", set: map[string]string{"OUTBOUND_ALLOW_LOOPBACK": "maybe"}, want: []string{"OUTBOUND_ALLOW_LOOPBACK:", "true or false"}},
		{name: "lease", set: map[string]string{"COMPLETION_LEASE": "1s"}, want: []string{"COMPLETION_LEASE:", "2s to 10m0s"}},
		{name: "emulator not loopback", set: map[string]string{"SHOPIFY_EMULATOR_URL": "http://shopify.example.com"}, want: []string{"SHOPIFY_EMULATOR_URL:", "loopback"}},
		{name: "stripe url https", set: map[string]string{"STRIPE_API_URL": "https://api.stripe.com"}, want: []string{"STRIPE_API_URL:", "loopback"}},
		{name: "ip rate", set: map[string]string{"IP_RATE_LIMIT": "fast"}, want: []string{"IP_RATE_LIMIT:", "requests per second per client address", `"fast"`}},
		{name: "ip rate negative", set: map[string]string{"IP_RATE_LIMIT": "-1"}, want: []string{"IP_RATE_LIMIT:", "from 0 (no limit)"}},
		{name: "webhook ip rate", set: map[string]string{"WEBHOOK_IP_RATE_LIMIT": "1e9"}, want: []string{"WEBHOOK_IP_RATE_LIMIT:", "to 100000"}},
		{name: "trusted proxies", set: map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, want: []string{"TRUSTED_PROXIES:", "CIDR", `"proxy.internal"`}},
		{name: "trusted proxies mask", set: map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, want: []string{"TRUSTED_PROXIES:", `"10.0.0.0/33"`}},
		{name: "metrics addr", set: map[string]string{"METRICS_ADDR": "9090"}, want: []string{"METRICS_ADDR:", "HOST:PORT", `"9090"`}},
		{name: "metrics addr host name", set: map[string]string{"METRICS_ADDR": "metrics.example.com:9090"}, want: []string{"METRICS_ADDR:", "IP address or localhost"}},
		{name: "pprof not a bool", set: map[string]string{"PPROF": "yes please", "METRICS_ADDR": "127.0.0.1:9090"}, want: []string{"PPROF:", "true or false"}},
		{name: "pprof without metrics listener", set: map[string]string{"PPROF": "true"}, want: []string{"PPROF:", "METRICS_ADDR"}},
		{name: "metrics token short", set: map[string]string{"METRICS_TOKEN": "short"}, want: []string{"METRICS_TOKEN:", "at least 16 characters", "got 5 characters"}},
		{name: "scopes", set: map[string]string{"SCOPES": "read_products,Write Orders"}, want: []string{"SCOPES:", `"Write Orders"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := map[string]string{}
			for k, v := range serveable {
				if k != tt.unset {
					m[k] = v
				}
			}
			for k, v := range tt.set {
				m[k] = v
			}
			cfg, err := Load(env(m))
			if err == nil {
				err = cfg.RequireServe()
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigReportsAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"PORT": "x", "LOG_LEVEL": "y", "DATABASE_URL": "redis://z"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"PORT:", "LOG_LEVEL:", "DATABASE_URL:"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestConfigNeverEchoesKeyMaterial(t *testing.T) {
	t.Parallel()
	const secretish = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" // 26 bytes: wrong length
	_, err := Load(env(map[string]string{"ENCRYPTION_KEY": secretish}))
	if err == nil || strings.Contains(err.Error(), secretish) || strings.Contains(err.Error(), secretish[:12]) {
		t.Fatalf("err = %v: want an error that does not quote the key", err)
	}
}

// TestConfigLimitsAndMetrics: the per-address limits, trusted proxies and
// metrics settings, defaults and values.
func TestConfigLimitsAndMetrics(t *testing.T) {
	t.Parallel()
	def, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if def.IPRate != DefaultIPRate || def.WebhookIPRate != DefaultWebhookIPRate || def.TrustedProxies != nil ||
		def.MetricsAddr != "" || def.MetricsToken != "" {
		t.Errorf("defaults: ip %v webhook %v proxies %v metrics %q token set %t", def.IPRate, def.WebhookIPRate, def.TrustedProxies, def.MetricsAddr, def.MetricsToken != "")
	}
	cfg, err := Load(env(map[string]string{
		"IP_RATE_LIMIT": "0", "WEBHOOK_IP_RATE_LIMIT": "2.5",
		"TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,::1",
		"METRICS_ADDR":    "127.0.0.1:9090", "METRICS_TOKEN": "0123456789abcdef0123",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IPRate != 0 || cfg.WebhookIPRate != 2.5 || cfg.MetricsAddr != "127.0.0.1:9090" || cfg.MetricsToken != "0123456789abcdef0123" {
		t.Errorf("cfg: ip %v webhook %v metrics %q", cfg.IPRate, cfg.WebhookIPRate, cfg.MetricsAddr)
	}
	var got []string
	for _, n := range cfg.TrustedProxies {
		got = append(got, n.String())
	}
	if want := "10.0.0.0/8,192.168.1.7/32,2001:db8::/32,::1/128"; strings.Join(got, ",") != want {
		t.Errorf("TrustedProxies = %s, want %s", strings.Join(got, ","), want)
	}
	// A bad token is described, never quoted.
	_, err = Load(env(map[string]string{"METRICS_TOKEN": "secret value"}))
	if err == nil || strings.Contains(err.Error(), "secret value") {
		t.Errorf("err = %v: want an error that does not quote the token", err)
	}
}

func TestLoadDistribution(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		raw     string
		want    app.Distribution
		wantErr bool
	}{
		{"", app.DistributionAppStore, false},
		{"app_store", app.DistributionAppStore, false},
		{"CUSTOM", app.DistributionCustom, false},
		{"appstore", "", true},
	} {
		cfg, err := Load(env(map[string]string{"APP_DISTRIBUTION": tt.raw}))
		if (err != nil) != tt.wantErr {
			t.Errorf("APP_DISTRIBUTION=%q: err = %v, want error %v", tt.raw, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "APP_DISTRIBUTION") {
				t.Errorf("APP_DISTRIBUTION=%q: error does not name the variable: %v", tt.raw, err)
			}
			continue
		}
		if cfg.Distribution != tt.want {
			t.Errorf("APP_DISTRIBUTION=%q: Distribution = %q, want %q", tt.raw, cfg.Distribution, tt.want)
		}
	}
}
