package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/shopify/emulator"
	"github.com/acpbridge/acpbridge/web"
)

// TestKillDuringComplete runs the real binary (`acpbridge serve`, on
// PostgreSQL, against the Shopify and Stripe emulators of this process),
// kills it with SIGKILL at a random moment while it completes a purchase,
// restarts it, and lets the agent retry: every purchase must end with
// exactly one captured charge and exactly one Shopify order. The number of
// purchases is ACPBRIDGE_KILLS (default 6; the reliability figures use 60).
func TestKillDuringComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	storetest.RequirePostgres(t)
	kills := 6
	if s := os.Getenv("ACPBRIDGE_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	const (
		shop     = "kill-shop.myshopify.com"
		clientID = "kill-test-client"
		secretS  = "kill-test-secret-0123456789"
		account  = "acct_1KillTest"
	)
	bin := filepath.Join(t.TempDir(), "acpbridge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	emu, err := emulator.New(emulator.Config{APIKey: clientID, APISecret: secretS, Shops: []string{shop}, Products: 5, Seed: 7,
		Scopes: strings.Split(config.DefaultScopes, ",")})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	emu.SetThrottle(1e9, 1e9)
	stripe, err := stripeemu.New(stripeemu.Config{Accounts: []string{account}, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if err := stripe.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stripe.Close() })

	db := storetest.Config(t, app.DatabasePostgres, false)
	key, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	appURL := "http://127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(),
		"SHOPIFY_API_KEY="+clientID, "SHOPIFY_API_SECRET="+secretS, "APP_URL="+appURL, "PORT="+strconv.Itoa(port),
		"DATABASE_URL="+db.URL, "ENCRYPTION_KEY="+key, "SHOPIFY_EMULATOR_URL="+emu.URL(), "STRIPE_API_URL="+stripe.URL(),
		"COMPLETION_LEASE=2s", "LOG_LEVEL=info", "LOG_FORMAT=json",
		"APP_DISTRIBUTION=custom") // the purchases are charged on the shop's Stripe account
	var logs testkit.LogBuffer // the processes' output, read on failure
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env, cmd.Stdout, cmd.Stderr = env, &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(appURL + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("the app did not get ready:\n%s", logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	proc := start()
	t.Cleanup(func() { _ = proc.Process.Kill(); _, _ = proc.Process.Wait() })
	// serve re-executed itself with the scheduler setting (app/procs): the
	// same process, now with it in its environment.
	if environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", proc.Process.Pid)); err == nil &&
		!bytes.Contains(environ, []byte("GODEBUG=schedtrace=2147483647")) {
		godebug := "(unset)"
		for _, kv := range bytes.Split(environ, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("GODEBUG=")); ok {
				godebug = string(v)
			}
		}
		t.Errorf("serve runs without the scheduler setting: GODEBUG=%s", godebug)
	}
	emu.SetAppURL(appURL)

	// Install through OAuth as a merchant's browser, then onboard through
	// the app's own use-cases on the same database.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: emu.Transport(nil), CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasSuffix(req.URL.Hostname(), ".myshopify.com") || req.URL.Path == "/auth/callback" {
			return nil
		}
		return http.ErrUseLastResponse
	}}
	if resp, err := browser.Get(appURL + "/auth?shop=" + shop); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	keys, err := secret.ParseKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	var sh *app.Shop
	waitUntil(t, "first sync and build", func() bool {
		sh, err = st.ShopByDomain(ctx, shop)
		if err != nil {
			return false
		}
		_, err := st.LatestBuild(ctx, sh.ID, app.BuildPublished)
		return err == nil
	})
	feeds := &feeds.Service{Store: st, Logger: storetest.Logger(t)}
	fs, err := feeds.Settings(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	fs.ReturnWindowDays = 30
	if err := feeds.SaveSettings(ctx, *fs); err != nil {
		t.Fatal(err)
	}
	access := &agents.Access{Store: st, Keys: keys,
		Payments: map[string]agents.PaymentConnector{payment.ProviderName: &payment.Provider{Stripe: &payment.Stripe{BaseURL: stripe.URL()}}}}
	apiKey, _, err := access.CreateAPIKey(ctx, sh.ID, "kill test")
	// What the processes' output must never show (scanned at the end).
	secrets := []string{apiKey, key, secretS, stripe.SecretKey(account), stripe.RestrictedKey(account)}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := access.ConnectPayment(ctx, sh.ID, payment.ProviderName, stripe.RestrictedKey(account)); err != nil {
		t.Fatal(err)
	}
	// A shippable variant with stock for every purchase.
	var variant string
	for _, p := range emu.Products(shop) {
		for _, v := range p.Variants {
			if variant == "" && p.Status == "ACTIVE" && p.Published && v.RequiresShipping && v.Tracked && v.InventoryQuantity > 3 {
				variant = strconv.FormatInt(v.ID, 10)
			}
		}
	}
	if variant == "" {
		t.Fatal("no shippable variant in stock")
	}
	if err := emu.SetInventory(shop, variant, 100_000); err != nil {
		t.Fatal(err)
	}

	base := web.ACPBaseURL(appURL, shop)
	call := func(method, path string, body any, timeout time.Duration) (int, map[string]any, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("API-Version", "2026-04-17")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("k-%d", rand.Int64()))
		resp, err := (&http.Client{Timeout: timeout}).Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m, nil
	}
	address := map[string]any{"name": "Ada Lovelace", "line_one": "1 Market St", "city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"}
	rng := rand.New(rand.NewPCG(42, uint64(kills)))
	killedMid := 0
	for i := 0; i < kills; i++ {
		status, s, err := call("POST", "/checkout_sessions", map[string]any{
			"line_items": []map[string]any{{"id": variant, "quantity": 1}}, "currency": "usd", "capabilities": map[string]any{},
			"buyer": map[string]any{"email": "ada@example.com"}, "fulfillment_details": map[string]any{"name": "Ada", "address": address},
		}, 10*time.Second)
		if err != nil || status != 201 || s["status"] != "ready_for_payment" {
			t.Fatalf("purchase %d: create: %d %v %v", i, status, s, err)
		}
		id := s["id"].(string)
		token := stripe.GrantToken(account, stripeemu.KindApprove, "usd", 1_000_000, time.Time{})
		secrets = append(secrets, token)
		pay := map[string]any{"payment_data": map[string]any{"handler_id": "card_tokenized",
			"instrument": map[string]any{"type": "card", "credential": map[string]any{"type": "spt", "token": token}}}}

		// Complete, and kill the process somewhere inside it.
		tk := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, _ = call("POST", "/checkout_sessions/"+id+"/complete", pay, 10*time.Second)
		}()
		time.Sleep(time.Duration(rng.IntN(60_000)) * time.Microsecond)
		_ = proc.Process.Signal(syscall.SIGKILL)
		_, _ = proc.Process.Wait()
		<-done
		killWait := time.Since(tk)
		for _, in := range stripe.Intents(account) {
			if in.Metadata["checkout_session_id"] == id {
				killedMid++ // Stripe had seen the charge when the process died
				break
			}
		}
		t0 := time.Now()
		proc = start()
		restart := time.Since(t0)
		t0 = time.Now()

		// The agent retries until it has an answer.
		var final map[string]any
		waitUntil(t, "purchase "+strconv.Itoa(i)+" completes", func() bool {
			status, m, err := call("POST", "/checkout_sessions/"+id+"/complete", pay, 10*time.Second)
			if err != nil || status != 200 {
				return false
			}
			final = m
			return m["status"] == "completed"
		})
		_ = final
		if testing.Verbose() {
			t.Logf("purchase %d: kill %v, restart %v, completed %v after", i, killWait.Round(time.Millisecond), restart.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
		}
		var captured, orders int
		for _, in := range stripe.Intents(account) {
			if in.Metadata["checkout_session_id"] == id && in.Authorizations > 0 {
				captured++
				if !in.Captured {
					t.Errorf("purchase %d: intent %s authorised but not captured", i, in.ID)
				}
			}
		}
		for _, o := range emu.Orders(shop) {
			if o.SourceIdentifier == id {
				orders++
			}
		}
		if captured != 1 || orders != 1 {
			t.Errorf("purchase %d (%s): %d charges and %d orders, want exactly 1 of each", i, id, captured, orders)
		}
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(logs.String(), sec) {
			t.Errorf("the app's output shows a secret (%.12s…)", sec)
		}
	}
	t.Logf("%d purchases, each killed once mid-complete (%d kills after Stripe had seen a charge): every one ended with exactly one charge and one order", kills, killedMid)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
