package bench

import (
	"bytes"
	"context"
	"encoding/json"
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
	"sync/atomic"
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

	cfg      StackConfig
	env      []string
	db       app.DatabaseConfig
	key      string
	mu       sync.Mutex
	replicas []*replica
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
	db, err := config.ParseDatabaseURL(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if db.Kind == app.DatabaseSQLite && cfg.Replicas > 1 {
		return nil, errors.New("bench: SQLite runs one replica")
	}
	s := &Stack{Shop: stackShop, Account: stackAccount, cfg: cfg, db: db}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.Shopify, err = emulator.New(emulator.Config{APIKey: stackClientID, APISecret: stackSecret, Shops: []string{stackShop},
		Products: cfg.Products, Seed: 7, Scopes: strings.Split(config.DefaultScopes, ",")})
	if err != nil {
		return nil, err
	}
	if err := s.Shopify.Start(); err != nil {
		return nil, err
	}
	// "Shopify answering at once": no API cost budget in the way.
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
		"OUTBOUND_ALLOW_LOOPBACK=true") // the agent's event receiver is on 127.0.0.1
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
	return s, nil
}

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

// Replicas is how many replicas the stack has.
func (s *Stack) Replicas() int { return len(s.replicas) }

// Target is the load driver's target: every replica directly, round-robin
// per request (viaLB false), or the load balancer.
func (s *Stack) Target(viaLB bool) Target {
	var bases []string
	if viaLB {
		bases = []string{ACPBaseURL(s.LB.URL(), s.Shop)}
	} else {
		for i := range s.replicas {
			bases = append(bases, ACPBaseURL(s.ReplicaURL(i), s.Shop))
		}
	}
	return Target{BaseURLs: bases, APIKey: s.APIKey, Items: s.Items,
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

// Audit is what Stripe and Shopify hold for a run's conversations.
type Audit struct {
	Sessions int
	// Completed counts conversations the driver saw completed.
	Completed int
	// Charged and Ordered count sessions with at least one captured
	// charge, and at least one order.
	Charged, Ordered int
	// Notified counts sessions whose order_create event reached the
	// agent; NotifiedTwice those that got it more than once (allowed: the
	// delivery is at least once, but with no faults it should not happen).
	Notified, NotifiedTwice int
	// Problems lists every session whose end is not "one captured charge
	// and one order" or "no charge and no order" (an authorisation
	// released counts as no charge), and every completed one that is not
	// the former.
	Problems []string
}

// Audit counts, per session of convs, the Stripe charges and Shopify
// orders: exactly-once means one of each for a completed conversation,
// and never two.
func (s *Stack) Audit(convs []Conversation) Audit {
	type counts struct{ authorized, captured, held, orders int }
	per := map[string]*counts{}
	get := func(id string) *counts {
		c := per[id]
		if c == nil {
			c = &counts{}
			per[id] = c
		}
		return c
	}
	for _, in := range s.Stripe.Intents(s.Account) {
		id := in.Metadata["checkout_session_id"]
		if id == "" || in.Authorizations == 0 {
			continue
		}
		c := get(id)
		c.authorized++
		switch {
		case in.Captured:
			c.captured++
		case in.Status == "requires_capture":
			c.held++
		}
	}
	for _, o := range s.Shopify.Orders(s.Shop) {
		if o.SourceIdentifier != "" {
			get(o.SourceIdentifier).orders++
		}
	}
	events := s.Events.OrderCreates()
	a := Audit{}
	for _, cv := range convs {
		switch n := events[cv.SessionID]; {
		case n > 1:
			a.NotifiedTwice++
			fallthrough
		case n == 1:
			a.Notified++
		}
		if cv.SessionID == "" {
			continue
		}
		a.Sessions++
		c := get(cv.SessionID)
		if c.captured > 0 {
			a.Charged++
		}
		if c.orders > 0 {
			a.Ordered++
		}
		done := cv.Err == ""
		if done {
			a.Completed++
		}
		switch {
		case c.captured > 1 || c.orders > 1 || c.authorized > 1:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: %d authorisations, %d captured, %d orders (duplicate)", cv.SessionID, c.authorized, c.captured, c.orders))
		case done && (c.captured != 1 || c.orders != 1):
			a.Problems = append(a.Problems, fmt.Sprintf("%s: completed with %d captured charges and %d orders", cv.SessionID, c.captured, c.orders))
		case !done && (c.captured != c.orders || c.held > 0):
			a.Problems = append(a.Problems, fmt.Sprintf("%s: not completed (%s) with %d captured, %d held, %d orders", cv.SessionID, cv.Err, c.captured, c.held, c.orders))
		}
	}
	return a
}

// Balancer is a round-robin HTTP load balancer on 127.0.0.1, as a cloud
// load balancer without health checks: a backend that refuses the
// connection is skipped for the next one.
type Balancer struct {
	backends  []string
	next      atomic.Uint64
	transport *http.Transport
	srv       *http.Server
	url       string
}

// NewBalancer listens on a free loopback port and spreads requests over
// backends (base URLs).
func NewBalancer(backends []string) (*Balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{backends: backends, url: "http://" + ln.Addr().String(),
		transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// URL is the balancer's base URL.
func (b *Balancer) URL() string { return b.url }

// Close stops the balancer.
func (b *Balancer) Close() {
	_ = b.srv.Close()
	b.transport.CloseIdleConnections()
}

// ServeHTTP forwards the request to the next backend.
func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	for try := 0; try < len(b.backends); try++ {
		base := b.backends[int(b.next.Add(1)%uint64(len(b.backends)))]
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = "http", strings.TrimPrefix(base, "http://")
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.Header.Set("X-Forwarded-For", r.RemoteAddr)
		resp, err := b.transport.RoundTrip(out)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // down: the next one
			}
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, "no backend", http.StatusBadGateway)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// EventReceiver is the agent's order-event webhook on 127.0.0.1: it
// answers 200 and counts order_create events per checkout session.
type EventReceiver struct {
	srv *http.Server
	url string
	mu  sync.Mutex
	per map[string]int
}

// NewEventReceiver listens on a free loopback port.
func NewEventReceiver() (*EventReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &EventReceiver{url: "http://" + ln.Addr().String() + "/acp/events", per: map[string]int{}}
	e.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				CheckoutSessionID string `json:"checkout_session_id"`
			} `json:"data"`
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev)
		if ev.Type == "order_create" {
			e.mu.Lock()
			e.per[ev.Data.CheckoutSessionID]++
			e.mu.Unlock()
		}
		_, _ = w.Write([]byte(`{"received":true}`))
	})}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// URL is where order events go.
func (e *EventReceiver) URL() string { return e.url }

// OrderCreates counts order_create events per checkout session.
func (e *EventReceiver) OrderCreates() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int, len(e.per))
	for k, v := range e.per {
		out[k] = v
	}
	return out
}

// Close stops the receiver.
func (e *EventReceiver) Close() { _ = e.srv.Close() }
