package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// StackConfig says how to start the app for a run: N replicas of the real
// binary (`acpbridge serve`) on one database, with the Shopify and Stripe
// emulators in this process, all on 127.0.0.1.
type StackConfig struct {
	// Binary is the acpbridge binary (go build -o … ./cmd/acpbridge).
	Binary string
	// DatabaseURL is the DATABASE_URL every replica gets: postgres://… or
	// sqlite:PATH (SQLite: one replica).
	DatabaseURL string
	// Replicas is how many `serve` processes share the database (default 1).
	Replicas int
	// Products seeded in the emulated shop (default 10).
	Products int
	// Env is added to every replica's environment (e.g. LOG_LEVEL=debug).
	Env []string
	// Logs receives the replicas' output (default: discarded).
	Logs io.Writer
	// Logger receives the stack's own progress lines (default: none).
	Logf func(format string, args ...any)
	// Completion is how the shop sells: CompletionDelegated (the default)
	// or CompletionShopifyCheckout, the shop's completion method set as a
	// merchant does (`acpbridge agents method --set shopify_checkout`);
	// the app stays a custom-distribution one.
	Completion string
	// ShopifyPlan names the shop's API budget during the run (ShopifyPlans;
	// default unlimited). Onboarding (the install, the first catalog sync)
	// runs unlimited; the plan's bucket starts full when the stack is ready.
	ShopifyPlan string
}

// Stack is a running app with its emulators.
type Stack struct {
	Shopify *emulator.Emulator
	Stripe  *stripeemu.Emulator
	// Shop is the emulated shop the app is installed on; Account its
	// Stripe account.
	Shop, Account string
	// APIKey is the agent's key; Items the variants to buy (in stock,
	// shipped, stock set high).
	APIKey string
	Items  []string
	// LB is a round-robin load balancer in front of the replicas; it is
	// every replica's APP_URL, so OAuth and webhooks reach any of them.
	LB *Balancer
	// Events receives the shop's order events (the agent's webhook).
	Events *EventReceiver

	cfg  StackConfig
	plan ShopifyPlan
	// stripeBase is the Stripe emulator's request count when the stack
	// was ready (onboarding connects the account), so the audit counts the
	// run's requests only.
	stripeBase int
	env        []string
	db         app.DatabaseConfig
	key        string
	mu         sync.Mutex
	replicas   []*replica
}

// replica is one `serve` process.
type replica struct {
	url  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

const (
	stackShop     = "bench-shop.myshopify.com"
	stackClientID = "acpbench-client"
	stackSecret   = "acpbench-secret-0123456789abcdef"
	stackAccount  = "acct_1AcpBench"
)

// StartStack starts the emulators and cfg.Replicas replicas, installs the
// app on the emulated shop through OAuth (as a merchant's browser would),
// waits for the first catalog sync and feed build, and lets an agent in:
// an API key, the shop's Stripe account and a return window, written
// through the app's own use-cases on the same database (as `acpbridge
// agents` does). Close stops everything.
func StartStack(ctx context.Context, cfg StackConfig) (st *Stack, err error) {
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Products <= 0 {
		cfg.Products = 10
	}
	if cfg.Logs == nil {
		cfg.Logs = io.Discard
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	switch cfg.Completion {
	case "":
		cfg.Completion = CompletionDelegated
	case CompletionDelegated, CompletionShopifyCheckout:
	default:
		return nil, fmt.Errorf("bench: completion %q: want %s or %s", cfg.Completion, CompletionDelegated, CompletionShopifyCheckout)
	}
	if cfg.ShopifyPlan == "" {
		cfg.ShopifyPlan = PlanUnlimited
	}
	plan, err := LookupPlan(cfg.ShopifyPlan)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	db, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if db.Kind == app.DatabaseSQLite && cfg.Replicas > 1 {
		return nil, errors.New("bench: SQLite runs one replica")
	}
	s := &Stack{Shop: stackShop, Account: stackAccount, cfg: cfg, plan: plan, db: db}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.Shopify, err = emulator.New(emulator.Config{APIKey: stackClientID, APISecret: stackSecret, Shops: []string{stackShop},
		Products: cfg.Products, Seed: 7, Scopes: strings.Split(config.DefaultScopes, ","),
		WebhookFilters: shops.WebhookFilters}) // shopify.app.toml's, as Shopify applies them
	if err != nil {
		return nil, err
	}
	if err := s.Shopify.Start(); err != nil {
		return nil, err
	}
	// "Shopify answering at once" while the app is installed and syncs:
	// no API cost budget in the way until the stack is ready.
	s.Shopify.SetThrottle(1e9, 1e9)
	s.Stripe, err = stripeemu.New(stripeemu.Config{Accounts: []string{stackAccount}, Seed: 7})
	if err != nil {
		return nil, err
	}
	if err := s.Stripe.Start(); err != nil {
		return nil, err
	}
	if s.key, err = secret.GenerateKey(); err != nil {
		return nil, err
	}

	ports := make([]int, cfg.Replicas)
	backends := make([]string, cfg.Replicas)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
		backends[i] = "http://127.0.0.1:" + strconv.Itoa(ports[i])
	}
	if s.LB, err = NewBalancer(backends); err != nil {
		return nil, err
	}
	if s.Events, err = NewEventReceiver(); err != nil {
		return nil, err
	}
	s.env = append(os.Environ(),
		"SHOPIFY_API_KEY="+stackClientID, "SHOPIFY_API_SECRET="+stackSecret, "APP_URL="+s.LB.URL(),
		"DATABASE_URL="+cfg.DatabaseURL, "ENCRYPTION_KEY="+s.key, "SHOPIFY_EMULATOR_URL="+s.Shopify.URL(),
		"STRIPE_API_URL="+s.Stripe.URL(), "AGENT_RATE_LIMIT=0", "LOG_FORMAT=json",
		"OUTBOUND_ALLOW_LOOPBACK=true", // the agent's event receiver is on 127.0.0.1
		// Every buyer following a continue_url comes from 127.0.0.1 here,
		// not from an address of their own.
		"IP_RATE_LIMIT=0",
		// Likewise every Shopify webhook: the real Shopify sends from many
		// addresses and retries a refused delivery, the emulator does
		// neither, so a limit per address lost order webhooks (and left
		// those sessions unpaid) at Plus-plan rates (≈120 webhooks/s).
		"WEBHOOK_IP_RATE_LIMIT=0",
		// A load run buys thousands of times a month: billing's free tier
		// (and so the gate's refusals) is not what it measures.
		"BILLING_FREE_ORDERS=-1",
		// The stack's shop is paid through its Stripe account (delegated
		// payment), which only a custom-distribution install may use.
		"APP_DISTRIBUTION=custom")
	s.env = append(s.env, cfg.Env...)
	s.Shopify.SetAppURL(s.LB.URL())
	for i := range ports {
		s.replicas = append(s.replicas, &replica{url: backends[i], port: ports[i]})
	}
	// The first replica migrates; the others start once it is ready.
	if err := s.Start(ctx, 0); err != nil {
		return nil, err
	}
	for i := 1; i < cfg.Replicas; i++ {
		if err := s.Start(ctx, i); err != nil {
			return nil, err
		}
	}
	cfg.Logf("%d replica(s) ready", cfg.Replicas)
	if err := s.onboard(ctx); err != nil {
		return nil, err
	}
	s.stripeBase = s.Stripe.Stats().Requests
	s.Shopify.SetThrottle(plan.Bucket, plan.Restore)
	return s, nil
}

// Plan is the shop's API budget (StackConfig.ShopifyPlan).
func (s *Stack) Plan() ShopifyPlan { return s.plan }

// Start starts replica i (again, after Kill) and waits until /readyz
// answers 200.
func (s *Stack) Start(ctx context.Context, i int) error {
	s.mu.Lock()
	r := s.replicas[i]
	s.mu.Unlock()
	cmd := exec.Command(s.cfg.Binary, "serve")
	cmd.Env = append(append([]string{}, s.env...), "PORT="+strconv.Itoa(r.port))
	cmd.Stdout, cmd.Stderr = s.cfg.Logs, s.cfg.Logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start replica %d: %w", i, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	r.cmd, r.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ok, _ := ready(r.url); ok {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("replica %d exited while starting", i)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %d did not get ready in 60 s", i)
		}
	}
}

// Ready reports whether replica i answers /readyz 200.
func (s *Stack) Ready(i int) bool {
	ok, _ := ready(s.ReplicaURL(i))
	return ok
}

func ready(base string) (bool, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// Kill sends SIGKILL to replica i and waits for it to die.
func (s *Stack) Kill(i int) {
	s.signal(i, syscall.SIGKILL)
}

func (s *Stack) signal(i int, sig syscall.Signal) {
	s.mu.Lock()
	r := s.replicas[i]
	s.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// PIDs are the running replicas' process ids.
func (s *Stack) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, r := range s.replicas {
		if r.cmd != nil && r.cmd.Process != nil {
			out = append(out, r.cmd.Process.Pid)
		}
	}
	return out
}

// ReplicaURL is replica i's own base URL.
func (s *Stack) ReplicaURL(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replicas[i].url
}

// ShopifyUsage is the shop's Shopify Admin API use as the emulator counts
// it: GraphQL requests, their actual cost points (what the shop's bucket
// kept) and the ones answered THROTTLED, in all and per GraphQL operation.
type ShopifyUsage struct {
	Requests, Cost, Throttled int
	Operations                map[string]emulator.OperationStats
}

// ShopifyUsage is the shop's use so far; take two and subtract (Since).
func (s *Stack) ShopifyUsage() ShopifyUsage {
	st := s.Shopify.Stats(s.Shop)
	return ShopifyUsage{Requests: st.GraphQLCalls, Cost: st.Cost, Throttled: st.Throttled, Operations: st.Operations}
}

// Since is the use between an earlier snapshot and u.
func (u ShopifyUsage) Since(earlier ShopifyUsage) ShopifyUsage {
	out := ShopifyUsage{Requests: u.Requests - earlier.Requests, Cost: u.Cost - earlier.Cost, Throttled: u.Throttled - earlier.Throttled,
		Operations: map[string]emulator.OperationStats{}}
	for name, o := range u.Operations {
		e := earlier.Operations[name]
		if d := (emulator.OperationStats{Calls: o.Calls - e.Calls, Throttled: o.Throttled - e.Throttled, Cost: o.Cost - e.Cost}); d.Calls > 0 {
			out.Operations[name] = d
		}
	}
	return out
}

// Completion is how the stack's shop sells (CompletionDelegated or
// CompletionShopifyCheckout).
func (s *Stack) Completion() string { return s.cfg.Completion }

// Replicas is how many replicas the stack has.
func (s *Stack) Replicas() int { return len(s.replicas) }

// Target is the load driver's target: every replica directly, round-robin
// per request (viaLB false), or the load balancer.
func (s *Stack) Target(viaLB bool) Target {
	var bases, mcps []string
	if viaLB {
		bases, mcps = []string{ACPBaseURL(s.LB.URL(), s.Shop)}, []string{MCPURL(s.LB.URL(), s.Shop)}
	} else {
		for i := range s.replicas {
			bases = append(bases, ACPBaseURL(s.ReplicaURL(i), s.Shop))
			mcps = append(mcps, MCPURL(s.ReplicaURL(i), s.Shop))
		}
	}
	return Target{BaseURLs: bases, MCPURLs: mcps, APIKey: s.APIKey, Items: s.Items,
		Tokens: TokenFunc(func(context.Context) (string, error) {
			return s.Stripe.GrantToken(s.Account, stripeemu.KindApprove, "usd", 1_000_000, time.Time{}), nil
		})}
}

// ACPBaseURL is a shop's ACP base URL under an app URL (as
// web.ACPBaseURL, without importing the web layer).
func ACPBaseURL(appURL, shop string) string {
	return strings.TrimRight(appURL, "/") + "/acp/" + shop
}

// Close stops the replicas (SIGTERM, as a deploy does; SIGKILL after 5 s),
// the balancer and the emulators.
func (s *Stack) Close() {
	for i := range s.replicas {
		s.signal(i, syscall.SIGTERM)
	}
	if s.LB != nil {
		s.LB.Close()
	}
	if s.Events != nil {
		s.Events.Close()
	}
	if s.Stripe != nil {
		_ = s.Stripe.Close()
	}
	if s.Shopify != nil {
		_ = s.Shopify.Close()
	}
}

// onboard installs the app and lets an agent in.
func (s *Stack) onboard(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: s.Shopify.Transport(nil), Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasSuffix(req.URL.Hostname(), ".myshopify.com") || req.URL.Path == "/auth/callback" {
				return nil
			}
			return http.ErrUseLastResponse
		}}
	resp, err := browser.Get(s.LB.URL() + "/auth?shop=" + s.Shop)
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	resp.Body.Close()
	quiet := slog.New(slog.DiscardHandler)
	st, err := store.Open(ctx, s.db, quiet)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := secret.ParseKeyring(s.key)
	if err != nil {
		return err
	}
	var sh *app.Shop
	deadline := time.Now().Add(60 * time.Second)
	for {
		if sh, err = st.ShopByDomain(ctx, s.Shop); err == nil {
			if _, err = st.LatestBuild(ctx, sh.ID, app.BuildPublished); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no published feed 60 s after the install: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	feeds := &feeds.Service{Store: st, Logger: quiet}
	fs, err := feeds.Settings(ctx, sh.ID)
	if err != nil {
		return err
	}
	fs.ReturnWindowDays = 30
	if err := feeds.SaveSettings(ctx, *fs); err != nil {
		return err
	}
	access := &agents.Access{Store: st, Keys: keys, Outbound: &netguard.Policy{AllowLoopback: true},
		Payments: map[string]agents.PaymentConnector{payment.ProviderName: &payment.Provider{Stripe: &payment.Stripe{BaseURL: s.Stripe.URL()}}}}
	if s.APIKey, _, err = access.CreateAPIKey(ctx, sh.ID, "acpbench"); err != nil {
		return err
	}
	if _, err := access.ConnectPayment(ctx, sh.ID, payment.ProviderName, s.Stripe.RestrictedKey(s.Account)); err != nil {
		return err
	}
	if _, err := access.RotateWebhookSecret(ctx, sh.ID, s.Events.URL()); err != nil {
		return err
	}
	if s.cfg.Completion == CompletionShopifyCheckout {
		// The Stripe account stays connected: the run shows that a shop
		// selling through Shopify's checkout never charges it.
		if _, err := access.SetCompletionMethod(ctx, sh.ID, app.CompletionShopifyCheckout); err != nil {
			return err
		}
	}
	for _, p := range s.Shopify.Products(s.Shop) {
		for _, v := range p.Variants {
			if p.Status == "ACTIVE" && p.Published && v.RequiresShipping && v.Tracked && v.InventoryQuantity > 3 {
				id := strconv.FormatInt(v.ID, 10)
				if err := s.Shopify.SetInventory(s.Shop, id, 10_000_000); err != nil {
					return err
				}
				s.Items = append(s.Items, id)
			}
		}
	}
	if len(s.Items) == 0 {
		return errors.New("no shippable variant in stock")
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
