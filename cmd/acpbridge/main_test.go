package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"unknown command", []string{"frobnicate"}, nil, []string{`unknown command "frobnicate"`, "usage:"}},
		{"serve needs shopify", []string{"serve"}, nil, []string{"SHOPIFY_API_KEY: required", "SHOPIFY_API_SECRET: required", "APP_URL: required"}},
		{"bad port", []string{"serve"}, map[string]string{"PORT": "eighty"}, []string{"PORT: expected a TCP port"}},
		{"bad auto migrate", []string{"serve"}, map[string]string{"SHOPIFY_API_KEY": "a", "SHOPIFY_API_SECRET": "b", "APP_URL": "https://x.example.com", "AUTO_MIGRATE": "maybe"}, []string{"AUTO_MIGRATE: expected true or false"}},
		{"migrate without action", []string{"migrate"}, nil, []string{"expected up, down [N], reset or status"}},
		{"demo on public address", []string{"demo", "--addr", "0.0.0.0:8080"}, nil, []string{"--addr: the demo listens on loopback only"}},
		{"demo tiny catalog", []string{"demo", "--products", "2"}, nil, []string{"--products: expected 5 to 1000000"}},
		{"demo bad webhook", []string{"demo", "--agent-webhook-url", "not a url"}, nil, []string{"--agent-webhook-url: expected an absolute http(s) URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, envOf(tt.env), &out, &errOut)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want a usage error (exit 2)", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestVersionAndKeygen(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envOf(nil), &out, &out); err != nil || !strings.HasPrefix(out.String(), "acpbridge ") {
		t.Fatalf("version: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"keygen"}, envOf(nil), &out, &out); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out.String())
	// The printed key must be accepted as ENCRYPTION_KEY.
	out.Reset()
	dir := t.TempDir()
	env := envOf(map[string]string{"ENCRYPTION_KEY": key, "DATABASE_URL": filepath.Join(dir, "a.db")})
	if err := run(context.Background(), []string{"migrate", "status"}, env, &out, &out); err != nil {
		t.Fatalf("keygen output %q refused as ENCRYPTION_KEY: %v", key, err)
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := envOf(map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "m.db")})
	step := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"migrate"}, args...), env, &out, &errOut); err != nil {
			t.Fatalf("migrate %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	if got := step("status"); !strings.Contains(got, "schema version: 0") || !strings.Contains(got, "pending: 00001") {
		t.Fatalf("status on empty db:\n%s", got)
	}
	if got := step("up"); !atLatest(got) || strings.Contains(got, "pending") || !strings.Contains(got, "job queue schema: current") {
		t.Fatalf("after up:\n%s", got)
	}
	if got := step("down"); strings.Contains(got, "schema version: 0") || !strings.Contains(got, "pending: ") {
		t.Fatalf("after down:\n%s", got)
	}
	step("up")
	if got := step("reset"); !strings.Contains(got, "schema version: 0") || strings.Contains(got, "job queue schema: current") {
		t.Fatalf("after reset:\n%s", got)
	}
}

// atLatest reports whether migrate's output says the schema is at its
// newest version.
func atLatest(out string) bool {
	m := regexp.MustCompile(`schema version: (\d+) \(latest (\d+)\)`).FindStringSubmatch(out)
	return m != nil && m[1] == m[2] && m[1] != "0"
}

// TestDemoAnswersAndWritesManifest runs the README's run command in-process:
// it must answer /healthz, write demo.json, and stop cleanly on cancel.
func TestDemoAnswersAndWritesManifest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, proc := startDemo(t, ctx)
	dir, out := proc.dir, &proc.out
	var m struct {
		AppURL          string `json:"app_url"`
		Shop            string `json:"shop"`
		AppClientSecret string `json:"app_client_secret"`
		Items           []struct {
			ID string `json:"id"`
		} `json:"items"`
		Shopify struct {
			GraphQLURL  string `json:"graphql_url"`
			AccessToken string `json:"access_token"`
		} `json:"shopify"`
		Handoff *struct {
			Shop string `json:"shop"`
			ACP  struct {
				BaseURL     string   `json:"base_url"`
				APIKey      string   `json:"api_key"`
				APIVersions []string `json:"api_versions"`
			} `json:"acp"`
			Feed struct {
				URL           string `json:"url"`
				Authorization string `json:"authorization"`
			} `json:"feed"`
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		} `json:"handoff"`
	}
	raw, err := os.ReadFile(started.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.AppURL, "http://127.0.0.1:") {
		t.Fatalf("app_url = %q", m.AppURL)
	}
	resp, err := http.Get(m.AppURL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	// The quickstart is printed right after demo.json is written: on a
	// loaded machine this test can read the file first.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "Press Ctrl-C to stop.") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), m.AppURL) {
		t.Fatalf("quickstart does not show the app URL:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "Buy something") || !strings.Contains(out.String(), "/complete") || !strings.Contains(out.String(), `"token":"spt_`) {
		t.Fatalf("quickstart has no curl conversation that buys something:\n%s", out.String())
	}
	if m.Shop != "demo-shop.myshopify.com" || len(m.AppClientSecret) < 32 {
		t.Fatalf("demo.json shop %q, client secret of %d chars", m.Shop, len(m.AppClientSecret))
	}
	// The second shop sells through Shopify's checkout: demo.json's
	// handoff key has the same shapes as the top-level keys.
	if h := m.Handoff; h == nil || h.Shop != "demo-handoff.myshopify.com" ||
		!strings.HasSuffix(h.ACP.BaseURL, "/acp/demo-handoff.myshopify.com") || !strings.HasPrefix(h.ACP.APIKey, "acpb_live_") ||
		len(h.ACP.APIVersions) != 2 || !strings.Contains(h.Feed.URL, "/feeds/demo-handoff.myshopify.com/") ||
		!strings.HasPrefix(h.Feed.Authorization, "Bearer ") || len(h.Items) == 0 {
		t.Fatalf("demo.json handoff = %+v", m.Handoff)
	}
	if !strings.Contains(out.String(), "Buy through Shopify's checkout (demo-handoff.myshopify.com") || !strings.Contains(out.String(), "continue_url") {
		t.Fatalf("quickstart has no handoff conversation:\n%s", out.String())
	}
	// The emulated store answers its GraphQL URL with the token demo.json gives.
	req, _ := http.NewRequest(http.MethodPost, m.Shopify.GraphQLURL, strings.NewReader(`{"query":"{ shop { myshopifyDomain } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", m.Shopify.AccessToken)
	gql, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(gql.Body)
	gql.Body.Close()
	if !strings.Contains(string(body), `"myshopifyDomain":"demo-shop.myshopify.com"`) {
		t.Fatalf("graphql_url answered %s", body)
	}
	// The app was installed on the shop through OAuth: the demo's
	// database holds the shop, active, with sealed tokens.
	var status, sealed string
	db := openSQLite(t, filepath.Join(dir, "acpbridge.db"))
	if err := db.QueryRow("SELECT status, access_token_sealed FROM shops WHERE domain = ?", m.Shop).Scan(&status, &sealed); err != nil {
		t.Fatalf("installed shop: %v", err)
	}
	if status != "active" || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("shop status %q, token %q...; want active and sealed", status, sealed[:min(len(sealed), 8)])
	}
	var method string
	if err := db.QueryRow(`SELECT s.status, a.completion_method FROM shops s JOIN acp_settings a ON a.shop_id = s.id WHERE s.domain = ?`,
		m.Handoff.Shop).Scan(&status, &method); err != nil || status != "active" || method != "shopify_checkout" {
		t.Fatalf("handoff shop: status %q, completion method %q, %v; want active, shopify_checkout", status, method, err)
	}
	cancel()
	if err := proc.wait(); err != nil {
		t.Fatalf("demo stop: %v", err)
	}
	for _, f := range []string{"acpbridge.db", "encryption.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo folder lacks %s: %v", f, err)
		}
	}

	// The feed commands work on the demo's database once it has stopped.
	env := envOf(map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "acpbridge.db"), "LOG_LEVEL": "warn"})
	feedCmd := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"feed"}, args...), env, &out, &errOut); err != nil {
			t.Fatalf("feed %v: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String()
	}
	report := feedCmd("build", "--shop", m.Shop)
	if !strings.Contains(report, "invalid 0") || !strings.Contains(report, "status: published") && !strings.Contains(report, ": published") {
		t.Fatalf("feed build report:\n%s", report)
	}
	export := filepath.Join(t.TempDir(), "feed.csv.gz")
	if out := feedCmd("export", "--shop", m.Shop, "--format", "csv.gz", "--out", export); !strings.Contains(out, "wrote ") {
		t.Fatalf("feed export: %s", out)
	}
	f, err := os.Open(export)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(zr).ReadAll()
	if err != nil {
		t.Fatalf("exported CSV does not parse: %v", err)
	}
	if len(rows)-1 != len(m.Items) && len(m.Items) < 100 {
		t.Fatalf("exported CSV has %d items, demo.json lists %d", len(rows)-1, len(m.Items))
	}
	if out := feedCmd("push", "--shop", m.Shop); !strings.Contains(out, "no delivery targets configured") {
		t.Fatalf("feed push without targets: %s", out)
	}

	// The agents commands, on the same database.
	agentsCmd := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"agents"}, args...), env, &out, &errOut); err != nil {
			t.Fatalf("agents %v: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String()
	}
	created := agentsCmd("key", "create", "--shop", m.Shop, "--label", "second agent")
	id := regexp.MustCompile(`API key (\d+) `).FindStringSubmatch(created)
	if id == nil || !strings.Contains(created, "acpb_live_") {
		t.Fatalf("key create: %s", created)
	}
	if keys := agentsCmd("keys", "--shop", m.Shop); !strings.Contains(keys, id[1]+"\t") || !strings.Contains(keys, "second agent") || strings.Contains(keys, "acpb_live_") {
		t.Fatalf("keys (must list the key, never the secret):\n%s", keys)
	}
	agentsCmd("key", "revoke", id[1], "--shop", m.Shop)
	if keys := agentsCmd("keys", "--shop", m.Shop); !strings.Contains(keys, "revoked") {
		t.Fatalf("keys after revoke:\n%s", keys)
	}
	if out := agentsCmd("signing-secret", "--shop", m.Shop, "--require"); !strings.Contains(out, "acpb_sig_") || !strings.Contains(out, "required") {
		t.Fatalf("signing-secret: %s", out)
	}
	if out := agentsCmd("show", "--shop", m.Shop); !strings.Contains(out, "set (required)") || !strings.Contains(out, "acct_") {
		t.Fatalf("show: %s", out)
	}
	// The completion method: fixed to Shopify's checkout under App Store
	// distribution (the default), switchable under custom distribution.
	if out := agentsCmd("show", "--shop", m.Shop); !strings.Contains(out, "completion:      shopify_checkout (fixed: Apps distributed through the Shopify App Store") {
		t.Fatalf("show under App Store distribution: %s", out)
	}
	err = run(context.Background(), []string{"agents", "method", "--shop", m.Shop, "--set", "delegated_payment"}, env, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "completion_method") || !strings.Contains(err.Error(), "Shopify's checkout") {
		t.Fatalf("method --set delegated_payment under App Store distribution: %v, want refused with the reason", err)
	}
	custom := func(k string) string {
		if k == "APP_DISTRIBUTION" {
			return "custom"
		}
		return env(k)
	}
	methodCmd := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"agents", "method", "--shop", m.Shop}, args...), custom, &out, &errOut); err != nil {
			t.Fatalf("agents method %v: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String()
	}
	if out := methodCmd(); !strings.Contains(out, "complete with: delegated_payment\n") {
		t.Fatalf("method under custom distribution (the demo shop's Stripe): %s", out)
	}
	if out := methodCmd("--set", "shopify_checkout"); !strings.Contains(out, "complete with: shopify_checkout\n") {
		t.Fatalf("method --set shopify_checkout: %s", out)
	}
	err = run(context.Background(), []string{"agents", "method", "--shop", m.Shop, "--set", "paypal"}, custom, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "completion_method must be") {
		t.Fatalf("method --set paypal: %v", err)
	}
	if out := methodCmd("--set", "delegated_payment"); !strings.Contains(out, "complete with: delegated_payment\n") {
		t.Fatalf("method --set delegated_payment: %s", out)
	}
	err = run(context.Background(), []string{"agents", "webhook", "--shop", m.Shop, "--url", "http://agent.example/hook"}, env, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("a plain-http public webhook URL must be refused, got %v", err)
	}
	// The outbound policy (OUTBOUND_ALLOW_LOOPBACK unset: strict) refuses
	// internal addresses from the CLI as from the admin.
	for _, u := range []string{"https://169.254.169.254/", "https://10.0.0.1/hook", "https://[::ffff:10.0.0.1]/", "http://127.0.0.1:9/hook"} {
		err = run(context.Background(), []string{"agents", "webhook", "--shop", m.Shop, "--url", u}, env, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "webhook_url") || !strings.Contains(err.Error(), "public address") {
			t.Errorf("agents webhook --url %s: %v, want refused by the outbound policy", u, err)
		}
	}
}

// openSQLite opens the demo's database read-only, beside the running demo.
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
