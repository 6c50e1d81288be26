// Package demo runs a whole store on one machine with no account and no
// setup: the app exactly as in production, on the embedded SQLite default in
// a folder of its own. It follows docs/demo-contract.md (shared with the
// end-to-end tests); each capability adds its part of that contract here.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
	"github.com/acpbridge/acpbridge/web"
)

// Options are the demo command's flags.
type Options struct {
	Addr            string // --addr, default 127.0.0.1:8080
	Dir             string // --dir, default ./demo-data
	AgentWebhookURL string // --agent-webhook-url
	Products        int    // --products, default 25
	// FreeOrders is each shop's free tier of agent orders a month
	// (--free-orders; 0: DefaultFreeOrders, -1: billing off). Past it,
	// the merchant approves the plan on the emulator's page.
	FreeOrders int
}

// DefaultFreeOrders is the demo's free tier: large, so that no demo or
// test purchase is refused; the billing walk-through sets a small one.
const DefaultFreeOrders = 1000

// Validate checks the options, naming the flag at fault.
func (o *Options) Validate() error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:8080"
	}
	if o.Dir == "" {
		o.Dir = "demo-data"
	}
	if o.Products == 0 {
		o.Products = 25
	}
	if o.FreeOrders == 0 {
		o.FreeOrders = DefaultFreeOrders
	}
	if o.FreeOrders < -1 {
		return fmt.Errorf("--free-orders: expected -1 (billing off) or more, got %d", o.FreeOrders)
	}
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return fmt.Errorf("--addr: expected HOST:PORT such as 127.0.0.1:8080, got %q", o.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("--addr: expected a port from 0 to 65535, got %q", port)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// The demo has no authentication worth the name: keep it on loopback.
		return fmt.Errorf("--addr: the demo listens on loopback only (127.0.0.1, ::1 or localhost), got %q", host)
	}
	if o.Products < 5 || o.Products > 1_000_000 {
		return fmt.Errorf("--products: expected 5 to 1000000 (the seeded catalog needs its five special cases), got %d", o.Products)
	}
	if o.AgentWebhookURL != "" {
		u, err := url.Parse(o.AgentWebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--agent-webhook-url: expected an absolute http(s) URL, got %q", o.AgentWebhookURL)
		}
	}
	return nil
}

// DemoShop is the emulated store the demo installs the app on: it sells
// with delegated payment (Shared Payment Tokens on its Stripe account).
const DemoShop = "demo-shop.myshopify.com"

// DemoHandoffShop is the second emulated store: it sells with Shopify
// checkout (a session's continue_url is the app's link, which writes a
// draft order and redirects the buyer to its invoice URL, the emulator's
// checkout page), the App Store's way.
const DemoHandoffShop = "demo-handoff.myshopify.com"

// DemoClientID is the demo app's Shopify client id.
const DemoClientID = "acpbridge-demo"

// Manifest is demo.json: how a person or a test reaches the running demo.
type Manifest struct {
	AppURL          string `json:"app_url"`
	Shop            string `json:"shop"`
	AppClientSecret string `json:"app_client_secret"`
	// AdminURL is the merchant's settings pages, signed in as the demo
	// shop (the emulator plays Shopify admin's part).
	AdminURL string          `json:"admin_url"`
	Shopify  ShopifyManifest `json:"shopify"`
	ACP      ACPManifest     `json:"acp"`
	MCP      MCPManifest     `json:"mcp"`
	Payment  PaymentManifest `json:"payment"`
	Feed     FeedManifest    `json:"feed"`
	// Items are (up to 100 of) the variants the feed publishes.
	Items []feeds.PublishedItem `json:"items"`
	// Handoff is the second shop, which hands buyers to Shopify's
	// checkout instead of taking delegated payment.
	Handoff *HandoffManifest `json:"handoff"`
}

// HandoffManifest is the Shopify-checkout shop's part of demo.json: the
// same shapes as the top-level keys of the delegated-payment shop.
type HandoffManifest struct {
	Shop  string                `json:"shop"`
	ACP   ACPManifest           `json:"acp"`
	MCP   MCPManifest           `json:"mcp"`
	Feed  FeedManifest          `json:"feed"`
	Items []feeds.PublishedItem `json:"items"`
}

// ACPManifest tells an agent how to call the shop's checkout API.
type ACPManifest struct {
	BaseURL     string        `json:"base_url"`
	APIKey      string        `json:"api_key"`
	APIVersions []acp.Version `json:"api_versions"`
	// SigningSecret signs requests (Signature + Timestamp). The demo sets
	// one but does not require signatures: a request that carries a
	// Signature is checked, one without is accepted.
	SigningSecret *string `json:"signing_secret"`
	WebhookSecret string  `json:"webhook_secret"`
}

// DemoStripeAccount is the Stripe account the demo shop charges through.
const DemoStripeAccount = "acct_1DemoShopAcpBridge"

// MCPManifest tells an MCP agent where the shop's MCP server (the ACP
// checkout tools) is and what to send as its Authorization header.
type MCPManifest struct {
	URL           string `json:"url"`
	Authorization string `json:"authorization"`
}

// mcpManifest is the shop's MCP server, reached with its agent's API key.
func mcpManifest(svc *service.Service, shop string, acpm ACPManifest) MCPManifest {
	return MCPManifest{URL: web.MCPURL(svc.URL(), shop), Authorization: "Bearer " + acpm.APIKey}
}

// PaymentManifest holds Shared Payment Tokens granted to the demo shop by
// the Stripe emulator, as an agent would receive them: one that approves,
// one that is declined, and one that asks for 3-D Secure. Each is single
// use, in the shop's currency, for up to 10,000.00.
type PaymentManifest struct {
	// StripeURL and StripeTestKey reach the Stripe emulator, e.g. to grant
	// more tokens (POST /v1/test_helpers/shared_payment/granted_tokens).
	StripeURL        string `json:"stripe_url"`
	StripeTestKey    string `json:"stripe_test_key"`
	ApproveToken     string `json:"approve_token"`
	DeclineToken     string `json:"decline_token"`
	Requires3DSToken string `json:"requires_3ds_token"`
}

// FeedManifest tells how to pull the shop's published feed.
type FeedManifest struct {
	URL           string `json:"url"`
	Authorization string `json:"authorization"`
	Format        string `json:"format"`
}

// ShopifyManifest tells how to reach the emulated store directly.
type ShopifyManifest struct {
	EmulatorURL string `json:"emulator_url"`
	GraphQLURL  string `json:"graphql_url"`
	AccessToken string `json:"access_token"`
}

// Run starts the demo and serves until ctx is done. It writes DIR/demo.json
// once the app answers, and prints a short quickstart to out.
func Run(ctx context.Context, opts Options, base config.Config, logger *slog.Logger, out io.Writer) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return fmt.Errorf("demo folder: %w", err)
	}
	// demo.json from an earlier run would tell a waiting script the demo
	// is ready before it is.
	if err := os.Remove(filepath.Join(opts.Dir, "demo.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo folder: %w", err)
	}

	// The Shopify dev-store emulator, with a client secret of this run's.
	clientSecret, err := randomHex(24)
	if err != nil {
		return err
	}
	emu, err := emulator.New(emulator.Config{
		APIKey: DemoClientID, APISecret: clientSecret, Shops: []string{DemoShop, DemoHandoffShop},
		Products: opts.Products, Logger: logger.With("component", "shopify-emulator"), Seed: 1,
		Scopes: base.Scopes, OptionalScopes: strings.Split(config.OptionalScopes, ","),
		WebhookFilters: shops.WebhookFilters, // shopify.app.toml's, as Shopify applies them
	})
	if err != nil {
		return fmt.Errorf("shopify emulator: %w", err)
	}
	if err := emu.Start(); err != nil {
		return fmt.Errorf("shopify emulator: %w", err)
	}
	defer emu.Close()

	cfg := demoConfig(base, opts, clientSecret, emu.AppBridgeURL())

	// The Stripe emulator, with the demo shop's account.
	stripe, err := stripeemu.New(stripeemu.Config{Accounts: []string{DemoStripeAccount}, Logger: logger.With("component", "stripe-emulator")})
	if err != nil {
		return fmt.Errorf("stripe emulator: %w", err)
	}
	if err := stripe.Start(); err != nil {
		return fmt.Errorf("stripe emulator: %w", err)
	}
	defer stripe.Close()

	svc, err := service.New(ctx, service.Options{
		Config: cfg, Logger: logger, ShopifyTransport: emu.Transport(nil), StripeURL: stripe.URL(),
		AfterInstallURL: func(shop string) string { return AdminPath(shop) },
		RebuildDelay:    2 * time.Second, SyncPoll: time.Second,
	})
	if err != nil {
		return err
	}
	return service.Run(ctx, svc, func(svc *service.Service) error {
		emu.SetAppURL(svc.URL())
		for _, shop := range []string{DemoShop, DemoHandoffShop} {
			if err := installByOAuth(ctx, svc.URL(), emu, shop); err != nil {
				return fmt.Errorf("demo install of %s: %w", shop, err)
			}
		}
		feedToken, items, err := onboard(ctx, svc, DemoShop, out)
		if err != nil {
			return fmt.Errorf("demo onboarding: %w", err)
		}
		acpm, err := connectAgent(ctx, svc, DemoShop, opts.AgentWebhookURL, stripe.RestrictedKey(DemoStripeAccount))
		if err != nil {
			return fmt.Errorf("demo agent access: %w", err)
		}
		handoff, err := setUpHandoff(ctx, svc, opts.AgentWebhookURL, out)
		if err != nil {
			return fmt.Errorf("demo handoff shop: %w", err)
		}
		m := Manifest{
			AppURL: svc.URL(), Shop: DemoShop, AppClientSecret: clientSecret, AdminURL: svc.URL() + AdminPath(DemoShop),
			Shopify: shopifyManifest(emu), ACP: acpm, MCP: mcpManifest(svc, DemoShop, acpm), Payment: paymentManifest(stripe),
			Feed: feedManifest(svc, DemoShop, feedToken), Items: items, Handoff: handoff,
		}
		path := filepath.Join(opts.Dir, "demo.json")
		if err := writeJSONAtomic(path, m); err != nil {
			return err
		}
		printQuickstart(out, m, metricsLine(svc), path)
		return nil
	})
}

// demoConfig is the app's configuration for the demo: base, on a SQLite
// database in the demo folder, with the emulated Shopify app's
// credentials and admin.
func demoConfig(base config.Config, opts Options, clientSecret, appBridgeURL string) config.Config {
	cfg := base
	cfg.Database = app.DatabaseConfig{Kind: app.DatabaseSQLite, Path: filepath.Join(opts.Dir, "acpbridge.db")}
	cfg.EncryptionKey = "" // the demo keeps its own key beside its database
	cfg.HTTPAddr = opts.Addr
	cfg.ShopifyAPIKey, cfg.ShopifyAPISecret = DemoClientID, clientSecret
	cfg.AppURL = nil // known once the server listens
	// Shopify admin's part (App Bridge) is played by the emulator; Polaris
	// is left out so the pages need nothing beyond loopback.
	cfg.AppBridgeURL, cfg.PolarisURL = appBridgeURL, ""
	if cfg.MetricsAddr == "" && cfg.MetricsToken == "" {
		// /metrics is not public: the demo serves it on a loopback port
		// of its own, as METRICS_ADDR would.
		cfg.MetricsAddr = "127.0.0.1:0"
	}
	// The agent webhook (--agent-webhook-url) and any feed target a
	// tester sets up point at loopback receivers.
	cfg.OutboundAllowLoopback = true
	// The demo shop's agent pays with delegated payment tokens on its
	// Stripe account, which only a custom-distribution install may use.
	cfg.Distribution = app.DistributionCustom
	// The emulated shops are development stores: their plans are test
	// charges, and their free tier is the demo's own (--free-orders).
	cfg.Billing.FreeOrders, cfg.Billing.Test = opts.FreeOrders, true
	return cfg
}

// setUpHandoff onboards the second shop as the first, lets the same kind
// of agent in (no payment account: its buyers pay in Shopify's checkout)
// and sets its completion method to Shopify checkout.
func setUpHandoff(ctx context.Context, svc *service.Service, webhookURL string, out io.Writer) (*HandoffManifest, error) {
	feedToken, items, err := onboard(ctx, svc, DemoHandoffShop, out)
	if err != nil {
		return nil, err
	}
	acpm, err := connectAgent(ctx, svc, DemoHandoffShop, webhookURL, "")
	if err != nil {
		return nil, err
	}
	sh, err := svc.Store().ShopByDomain(ctx, DemoHandoffShop)
	if err != nil {
		return nil, err
	}
	if _, err := svc.Agents().SetCompletionMethod(ctx, sh.ID, app.CompletionShopifyCheckout); err != nil {
		return nil, err
	}
	return &HandoffManifest{Shop: DemoHandoffShop, ACP: acpm, MCP: mcpManifest(svc, DemoHandoffShop, acpm), Feed: feedManifest(svc, DemoHandoffShop, feedToken), Items: items}, nil
}

// feedManifest tells how to pull a shop's published feed.
func feedManifest(svc *service.Service, shop, token string) FeedManifest {
	return FeedManifest{
		URL:           svc.URL() + "/feeds/" + shop + "/products.jsonl.gz",
		Authorization: "Bearer " + token,
		Format:        "jsonl.gz",
	}
}

// shopifyManifest tells how to reach the emulated store directly.
func shopifyManifest(emu *emulator.Emulator) ShopifyManifest {
	return ShopifyManifest{
		EmulatorURL: emu.URL(),
		GraphQLURL:  emu.URL() + "/admin/api/" + shopify.APIVersion + "/graphql.json",
		AccessToken: emu.StaffToken(DemoShop),
	}
}

// paymentManifest gives the Stripe emulator and a token of each kind.
func paymentManifest(stripe *stripeemu.Emulator) PaymentManifest {
	return PaymentManifest{
		StripeURL:        stripe.URL(),
		StripeTestKey:    stripe.SecretKey(DemoStripeAccount),
		ApproveToken:     stripe.GrantToken(DemoStripeAccount, stripeemu.KindApprove, "usd", 1_000_000, time.Time{}),
		DeclineToken:     stripe.GrantToken(DemoStripeAccount, stripeemu.KindDecline, "usd", 1_000_000, time.Time{}),
		Requires3DSToken: stripe.GrantToken(DemoStripeAccount, stripeemu.KindRequires3DS, "usd", 1_000_000, time.Time{}),
	}
}

// printQuickstart tells the tester where everything is (path is
// demo.json) and how to pull the feed and buy.
func printQuickstart(out io.Writer, m Manifest, metrics, path string) {
	fmt.Fprintf(out, "\nacpbridge demo is running.\n\n  admin:   %s\n  app:     %s\n  shop:    %s (emulated, installed through OAuth)\n  feed:    %s (%d items published)\n  acp:     %s\n  mcp:     %s (ACP checkout tools over MCP; Authorization: Bearer <the acp api_key>)\n  health:  %s/healthz\n  metrics: %s\n  details: %s\n\n"+
		"Pull the feed:\n  curl -s -H 'Authorization: %s' %s | gunzip | head -c 600\n\n",
		m.AdminURL, m.AppURL, m.Shop, m.Feed.URL, len(m.Items), m.ACP.BaseURL, m.MCP.URL, m.AppURL, metrics, path, m.Feed.Authorization, m.Feed.URL)
	fmt.Fprint(out, buyQuickstart(m))
	fmt.Fprint(out, handoffQuickstart(m))
	fmt.Fprint(out, "Press Ctrl-C to stop.\n\n")
}

// metricsLine says where the demo's metrics are.
func metricsLine(svc *service.Service) string {
	u := svc.MetricsURL()
	switch {
	case u == "":
		return "(not served: set METRICS_ADDR or METRICS_TOKEN)"
	case u == svc.URL()+"/metrics":
		return u + " (Authorization: Bearer $METRICS_TOKEN)"
	}
	return u
}

// AdminPath is the admin's URL path for a shop, as Shopify admin opens an
// embedded app: with embedded=1, the shop and its base64 host.
func AdminPath(shop string) string {
	host := base64.RawURLEncoding.EncodeToString([]byte("admin.shopify.com/store/" + strings.TrimSuffix(shop, ".myshopify.com")))
	return "/admin?" + url.Values{"embedded": {"1"}, "shop": {shop}, "host": {host}}.Encode()
}

// buyQuickstart is a copy-pasteable curl conversation that buys the first
// shippable item in stock (2026-04-17), with this run's values.
func buyQuickstart(m Manifest) string {
	item := shippableItem(m.Items)
	if item == "" {
		return ""
	}
	h := fmt.Sprintf("-H 'Authorization: Bearer %s' -H 'API-Version: 2026-04-17' -H 'Content-Type: application/json'", m.ACP.APIKey)
	return fmt.Sprintf("Buy something as an agent would (2026-04-17):\n"+
		"  curl -s %s/checkout_sessions %s -H 'Idempotency-Key: buy-1' \\\n"+
		"    -d '{\"line_items\":[{\"id\":\"%s\",\"quantity\":1}],\"currency\":\"usd\",\"capabilities\":{},\"buyer\":{\"email\":\"ada@example.com\"},"+
		"\"fulfillment_details\":{\"name\":\"Ada Lovelace\",\"address\":{\"name\":\"Ada Lovelace\",\"line_one\":\"1 Market St\",\"city\":\"San Francisco\",\"state\":\"CA\",\"country\":\"US\",\"postal_code\":\"94105\"}}}'\n"+
		"  # then, with the \"id\" it answers (status ready_for_payment):\n"+
		"  curl -s %s/checkout_sessions/CS_ID/complete %s -H 'Idempotency-Key: buy-2' \\\n"+
		"    -d '{\"payment_data\":{\"handler_id\":\"card_tokenized\",\"instrument\":{\"type\":\"card\",\"credential\":{\"type\":\"spt\",\"token\":\"%s\"}}}}'\n\n",
		m.ACP.BaseURL, h, item, m.ACP.BaseURL, h, m.Payment.ApproveToken)
}

// handoffQuickstart is the same conversation with the Shopify-checkout
// shop: the session answers a continue_url, the app's link that writes
// the draft order and redirects the buyer to Shopify's checkout for it
// (here the emulator's checkout page), where they pay.
func handoffQuickstart(m Manifest) string {
	h := m.Handoff
	if h == nil {
		return ""
	}
	item := shippableItem(h.Items)
	if item == "" {
		return ""
	}
	hdr := fmt.Sprintf("-H 'Authorization: Bearer %s' -H 'API-Version: 2026-04-17' -H 'Content-Type: application/json'", h.ACP.APIKey)
	return fmt.Sprintf("Buy through Shopify's checkout (%s, 2026-04-17):\n"+
		"  curl -s %s/checkout_sessions %s -H 'Idempotency-Key: handoff-1' \\\n"+
		"    -d '{\"line_items\":[{\"id\":\"%s\",\"quantity\":1}],\"currency\":\"usd\",\"capabilities\":{},\"buyer\":{\"email\":\"ada@example.com\"},"+
		"\"fulfillment_details\":{\"name\":\"Ada Lovelace\",\"address\":{\"name\":\"Ada Lovelace\",\"line_one\":\"1 Market St\",\"city\":\"San Francisco\",\"state\":\"CA\",\"country\":\"US\",\"postal_code\":\"94105\"}}}'\n"+
		"  # then open the \"continue_url\" it answers: it leads the buyer to the store's checkout (the emulator's\n"+
		"  # page; INVOICE_URL=$(curl -s -o /dev/null -w '%%{redirect_url}' CONTINUE_URL) and curl -s -X POST \"$INVOICE_URL\"\n"+
		"  # pay with the test card), and the session reads completed with the order.\n\n",
		h.Shop, h.ACP.BaseURL, hdr, item)
}

// shippableItem is the first item in stock that ships (with a few units
// left, so a second try still finds stock), or "".
func shippableItem(items []feeds.PublishedItem) string {
	for _, it := range items {
		if it.RequiresShipping && it.Available && it.Inventory > 2 {
			return it.ID
		}
	}
	return ""
}

// installByOAuth installs the app on the emulated shop the way a merchant's
// browser does: /auth on the app, Shopify's consent (the emulator approves
// at once), the callback to the app. It is the production code path.
func installByOAuth(ctx context.Context, appURL string, emu *emulator.Emulator, shop string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	browser := &http.Client{
		Jar: jar, Transport: emu.Transport(nil), Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Follow Shopify's redirects and the callback; stop at the app's landing.
			if strings.HasSuffix(req.URL.Hostname(), ".myshopify.com") || req.URL.Path == "/auth/callback" {
				return nil
			}
			return http.ErrUseLastResponse
		},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, appURL+"/auth?shop="+shop, nil)
	if err != nil {
		return err
	}
	resp, err := browser.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("install ended with %d: %s", resp.StatusCode, b)
	}
	return nil
}

// onboard does what a merchant does after installing, through the app's
// own use-cases: waits for the first catalog sync, confirms the return
// window (Shopify has no field for it), makes the feed token, and builds
// the feed. It returns the token and the published items.
func onboard(ctx context.Context, svc *service.Service, shop string, out io.Writer) (string, []feeds.PublishedItem, error) {
	st := svc.Store()
	var sh *app.Shop
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var err error
		sh, err = st.ShopByDomain(ctx, shop)
		if err != nil {
			return "", nil, err
		}
		sy, err := st.LatestSync(ctx, sh.ID)
		if err == nil && sy.Done() {
			if sy.Status == app.SyncFailed {
				return "", nil, fmt.Errorf("catalog sync failed: %s", sy.Error)
			}
			fmt.Fprintf(out, "%s: catalog synced: %d products, %d variants\n", shop, sy.Products, sy.Variants)
			break
		}
		if time.Now().After(deadline) {
			return "", nil, errors.New("the first catalog sync did not finish within 2 minutes")
		}
		select {
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	fs, err := svc.Feeds().Settings(ctx, sh.ID)
	if err != nil {
		return "", nil, err
	}
	fs.ReturnWindowDays = 30
	if err := svc.Feeds().SaveSettings(ctx, *fs); err != nil {
		return "", nil, err
	}
	token, err := svc.Feeds().RotateToken(ctx, sh.ID)
	if err != nil {
		return "", nil, err
	}
	b, err := svc.Feeds().Build(ctx, sh.ID)
	if err != nil {
		return "", nil, err
	}
	items, err := svc.Feeds().PublishedItems(ctx, sh.ID, 100)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(out, "%s: feed built: %d items published, %d invalid, %d excluded\n", shop, b.ItemsPublished, b.ItemsInvalid, b.ItemsExcluded)
	return token, items, nil
}

// connectAgent does what a merchant does to let an agent in: an API key, a
// request-signing secret, the order-event webhook and, when stripeKey is
// set, the Stripe key (a restricted key of the demo's Stripe account,
// verified by a real call).
func connectAgent(ctx context.Context, svc *service.Service, shop, webhookURL, stripeKey string) (ACPManifest, error) {
	sh, err := svc.Store().ShopByDomain(ctx, shop)
	if err != nil {
		return ACPManifest{}, err
	}
	ag := svc.Agents()
	key, _, err := ag.CreateAPIKey(ctx, sh.ID, "demo agent")
	if err != nil {
		return ACPManifest{}, err
	}
	signing, err := ag.RotateSigningSecret(ctx, sh.ID, false)
	if err != nil {
		return ACPManifest{}, err
	}
	webhook, err := ag.RotateWebhookSecret(ctx, sh.ID, webhookURL)
	if err != nil {
		return ACPManifest{}, err
	}
	if stripeKey != "" {
		if _, err := ag.ConnectPayment(ctx, sh.ID, payment.ProviderName, stripeKey); err != nil {
			return ACPManifest{}, err
		}
	}
	return ACPManifest{
		BaseURL: web.ACPBaseURL(svc.URL(), shop), APIKey: key, APIVersions: acp.SupportedVersions,
		SigningSecret: &signing, WebhookSecret: webhook,
	}, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeJSONAtomic writes v to path through a temporary file and a rename,
// so a reader never sees half a file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
