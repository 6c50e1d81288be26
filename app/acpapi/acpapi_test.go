package acpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/acpapi"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/service"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

const (
	testShop      = "pipeline-shop.myshopify.com"
	testClientID  = "pipeline-client-id"
	testSecret    = "pipeline-client-secret-0123456789"
	stripeAccount = "acct_1PipelineShop"
)

// TestPipelineWithoutHTTP drives a create → update → complete through the
// pipeline directly, as a JSON-RPC (MCP) handler would: no HTTP request
// anywhere on the agent's side. The app behind it is the real one (a real
// database, the Shopify and Stripe emulators), and every session answered
// is valid against the official ACP schema of its version.
func TestPipelineWithoutHTTP(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			svc, stripe, item := startApp(t, kind)
			ctx := context.Background()
			sh, apiKey, key := payingAgent(t, svc, stripe, "mcp agent")
			p := &acpapi.Pipeline{Checkout: svc.Checkout(), Agents: svc.Agents(),
				Idempotency: &idempotency.Keys{Store: svc.Store()}}
			call := caller(t, p, apiKey)
			session := func(what string, res acpapi.Result, want idempotency.Outcome, completed bool) map[string]any {
				t.Helper()
				if res.Err != nil || res.Outcome != want || res.Version != acp.V20260417 {
					t.Fatalf("%s = %s, version %s, err %v; want %s", what, res.Outcome, res.Version, res.Err, want)
				}
				if err := acptest.Validate(acp.V20260417, acptest.SessionDef(completed), res.Session); err != nil {
					t.Fatalf("%s: the session does not match the schema: %v\n%s", what, err, res.Session)
				}
				var m map[string]any
				if err := json.Unmarshal(res.Session, &m); err != nil {
					t.Fatal(err)
				}
				return m
			}
			created := session("create", call(acpapi.OpCreate, "", "mcp-1", readyBody(item)), idempotency.OutcomeCreated, false)
			id, _ := created["id"].(string)
			if created["status"] != "ready_for_payment" {
				t.Fatalf("created %s", created["status"])
			}
			// The caller is explicit: the session belongs to this agent's key.
			cs, err := svc.Store().CheckoutSession(ctx, sh.ID, id)
			if err != nil || cs.APIKeyID != key.ID {
				t.Fatalf("session %s: API key %d, %v; want %d", id, cs.APIKeyID, err, key.ID)
			}

			updated := session("update", call(acpapi.OpUpdate, id, "mcp-2", map[string]any{
				"line_items": []any{map[string]any{"id": item.ID, "quantity": 2}},
			}), idempotency.OutcomeReturned, false)
			if updated["status"] != "ready_for_payment" {
				t.Fatalf("updated %s", updated["status"])
			}

			pay := payBody(stripe, stripeemu.KindApprove)
			done := call(acpapi.OpComplete, id, "mcp-3", pay)
			completed := session("complete", done, idempotency.OutcomeReturned, true)
			if completed["status"] != "completed" || completed["order"] == nil {
				t.Fatalf("completed: status %s, order %v", completed["status"], completed["order"])
			}

			// The same call again replays the stored result: nothing runs.
			again := call(acpapi.OpComplete, id, "mcp-3", pay)
			if !again.Replayed || string(again.Session) != string(done.Session) || again.IdempotencyKey != "mcp-3" {
				t.Fatalf("retry: replayed %v, key %q, same answer %v", again.Replayed, again.IdempotencyKey, string(again.Session) == string(done.Session))
			}
			// A refusal is a plain error value, for the transport to map.
			res := call(acpapi.OpUpdate, "cs_nosuchsession", "mcp-4", map[string]any{})
			var ae *app.Error
			if res.Outcome != idempotency.OutcomeRefused || !errors.As(res.Err, &ae) || ae.Code != app.CodeNotFound {
				t.Fatalf("unknown session = %s %v; want a not_found refusal", res.Outcome, res.Err)
			}
		})
	}
}

// startApp runs the app on a fresh database against the Shopify and Stripe
// emulators, installs it on testShop the way a merchant does, and waits
// for a feed with a shippable item in stock.
// shopAgent returns the test shop and a new API key of it, labelled label:
// the Bearer token and its record.
func shopAgent(t *testing.T, svc *service.Service, label string) (*app.Shop, string, *app.APIKey) {
	t.Helper()
	ctx := context.Background()
	sh, err := svc.Store().ShopByDomain(ctx, testShop)
	if err != nil {
		t.Fatal(err)
	}
	token, key, err := svc.Agents().CreateAPIKey(ctx, sh.ID, label)
	if err != nil {
		t.Fatal(err)
	}
	return sh, token, key
}

// payingAgent is shopAgent once the test shop's Stripe account is
// connected, so that its agents' completes charge it.
func payingAgent(t *testing.T, svc *service.Service, stripe *stripeemu.Emulator, label string) (*app.Shop, string, *app.APIKey) {
	t.Helper()
	sh, token, key := shopAgent(t, svc, label)
	if _, err := svc.Agents().ConnectPayment(context.Background(), sh.ID, "stripe", stripe.RestrictedKey(stripeAccount)); err != nil {
		t.Fatal(err)
	}
	return sh, token, key
}

// testAddress is the buyer's shipping address in these tests.
func testAddress() map[string]any {
	return map[string]any{"name": "Ada Lovelace", "line_one": "1 Market St", "city": "San Francisco",
		"state": "CA", "country": "US", "postal_code": "94105"}
}

// readyBody is a create of one unit of item with a buyer and an address:
// a session ready for payment.
func readyBody(item feeds.PublishedItem) map[string]any {
	return map[string]any{
		"line_items": []any{map[string]any{"id": item.ID, "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{},
		"buyer":               map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
		"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": testAddress()},
	}
}

// payBody is a complete paying with a new Shared Payment Token of kind
// (stripeemu.KindApprove, …) on the agent's Stripe account.
func payBody(stripe *stripeemu.Emulator, kind string) map[string]any {
	token := stripe.GrantToken(stripeAccount, kind, "usd", 1_000_000, time.Time{})
	return map[string]any{"payment_data": map[string]any{"handler_id": acp.StripeSPTHandlerID,
		"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": token}}}}
}

func startApp(t *testing.T, kind app.DatabaseKind) (*service.Service, *stripeemu.Emulator, feeds.PublishedItem) {
	t.Helper()
	stripe, err := stripeemu.New(stripeemu.Config{Accounts: []string{stripeAccount}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := stripe.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stripe.Close() })
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Config{
		APIKey: testClientID, APISecret: testSecret, Logger: storetest.Logger(t), Products: 5, Seed: 1,
		Shops: []string{testShop}, Scopes: strings.Split(config.DefaultScopes, ","),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	cfg.Database = storetest.Config(t, kind, true)
	cfg.Distribution = app.DistributionCustom // purchases are charged on the shop's Stripe account
	cfg.HTTPAddr, cfg.MetricsAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.ShopifyAPIKey, cfg.ShopifyAPISecret = testClientID, testSecret
	cfg.IPRate, cfg.WebhookIPRate = 0, 0
	if cfg.EncryptionKey, err = secret.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := service.New(ctx, service.Options{Config: cfg, Logger: storetest.Logger(t), ShopifyTransport: emu.Transport(nil),
		RebuildDelay: -1, SyncPoll: 200 * time.Millisecond, StripeURL: stripe.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })

	emu.SetAppURL(svc.URL()) // webhooks and the OAuth redirect go to this app
	install(t, svc.URL(), emu)
	var sh *app.Shop
	deadline := time.Now().Add(time.Minute)
	for {
		sh, err = svc.Store().ShopByDomain(ctx, testShop)
		if err == nil {
			if sy, err := svc.Store().LatestSync(ctx, sh.ID); err == nil && sy.Status == app.SyncCompleted {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the first catalog sync did not finish within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fs, err := svc.Feeds().Settings(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	fs.ReturnWindowDays = 30 // the merchant's one onboarding step Shopify cannot fill
	if err := svc.Feeds().SaveSettings(ctx, *fs); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Feeds().Build(ctx, sh.ID); err != nil {
		t.Fatal(err)
	}
	items, err := svc.Feeds().PublishedItems(ctx, sh.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Available && it.Inventory >= 5 && it.RequiresShipping {
			return svc, stripe, it
		}
	}
	t.Fatalf("no shippable item in stock among %d published", len(items))
	return nil, nil, feeds.PublishedItem{}
}

// install runs the OAuth install as a merchant's browser does: /auth on
// the app, Shopify's consent (the emulator approves at once), the callback.
func install(t *testing.T, appURL string, emu *emulator.Emulator) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Transport: emu.Transport(nil), Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasSuffix(req.URL.Hostname(), ".myshopify.com") || req.URL.Path == "/auth/callback" {
				return nil
			}
			return http.ErrUseLastResponse
		}}
	resp, err := browser.Get(appURL + "/auth?shop=" + testShop)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("install ended with %d: %s", resp.StatusCode, b)
	}
}

// agentsBinding is what a JSON-RPC transport would bind a signature to:
// the operation, its session and the key.
// caller returns a function that runs one call of the agent holding
// apiKey through p, at 2026-04-17, with idemKey as its Idempotency-Key
// and body as JSON; it is safe for racing goroutines (t.Error).
func caller(t *testing.T, p *acpapi.Pipeline, apiKey string) func(op acpapi.Operation, sessionID, idemKey string, body any) acpapi.Result {
	return func(op acpapi.Operation, sessionID, idemKey string, body any) acpapi.Result {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Error(err)
		}
		return p.Run(context.Background(), acpapi.Request{
			Shop: testShop, Operation: op, SessionID: sessionID, APIVersion: string(acp.V20260417),
			Authorization: "Bearer " + apiKey, IdempotencyKeys: []string{idemKey}, Body: b,
			// A JSON-RPC binding: the method and the key, no path.
			Binding: agentsBinding(op, sessionID, idemKey),
		})
	}
}

func agentsBinding(op acpapi.Operation, sessionID, key string) agents.SignedRequest {
	return agents.SignedRequest{Method: string(op), Path: sessionID, IdempotencyKey: key}
}
