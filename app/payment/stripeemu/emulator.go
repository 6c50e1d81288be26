// Package stripeemu is a Stripe API emulator that runs on loopback. It speaks
// the part of Stripe's real wire protocol the app uses to charge Shared
// Payment Tokens (SPT): form-encoded requests, JSON objects and JSON errors
// shaped as stripe-go decodes them, Bearer (or Basic) secret keys,
// Idempotency-Key replays, Stripe-Version echo and Request-Id headers. So
// the app's production client (package payment, over stripe-go) reaches it
// unchanged, only through another base URL.
//
// State is in memory and per account: every account has a secret key
// (sk_test_…) and a restricted key (rk_test_…), and objects of one account
// are invisible to another, as on Stripe. A granted token belongs to one
// account; using it from another answers resource_missing, the "foreign
// token" case.
//
// Served endpoints (see routes.go): PaymentIntents (create with confirm,
// retrieve, confirm with imported 3-D Secure results, capture, cancel,
// search), refunds (create, retrieve), the authenticating account, and the
// SPT test helpers (grant, revoke, retrieve).
//
// The emulator is deterministic for a Config.Seed: object ids, keys and
// request ids come from counters and the seed, never from the wall clock.
// Faults (FailNext, SlowNext, FailAfterProcessing, DropAfterProcessing,
// SlowAfterProcessing) and inspection (Intents, Calls, Stats) exist for
// tests that must prove "exactly one charge".
package stripeemu

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAPIVersion is the version the emulator answers in when a request
// carries no Stripe-Version header: the one stripe-go v79 pins.
const DefaultAPIVersion = "2024-06-20"

// PreviewAPIVersion is the first version that accepts
// payment_method_data[shared_payment_granted_token] (docs/stripe.md).
const PreviewAPIVersion = "2026-04-22.preview"

// Config configures an Emulator. Zero values get the defaults documented on
// each field.
type Config struct {
	// Accounts are the Stripe accounts to create at start, e.g.
	// ["acct_demo"]. More can be added with AddAccount.
	Accounts []string
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
	// Now defaults to time.Now; tests inject a clock to expire tokens and
	// idempotency keys without sleeping.
	Now func() time.Time
	// Seed makes keys and object ids differ between emulators; the same
	// seed gives the same ids in the same order.
	Seed int64
	// SearchDelay is how long a new or changed PaymentIntent takes to show
	// up in search results. Stripe documents search as eventually
	// consistent ("searchable in less than a minute"); the default 0 makes
	// it immediate.
	SearchDelay time.Duration
	// IdempotencyTTL is how long a stored idempotent response is replayed,
	// default 24h as on Stripe.
	IdempotencyTTL time.Duration
}

// Emulator is a Stripe API on 127.0.0.1. It is safe for concurrent use.
type Emulator struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	mux *http.ServeMux

	// ctx ends when the emulator closes; hung fault requests watch it so
	// Close does not wait for them.
	ctx    context.Context
	cancel context.CancelFunc

	faults faults
	reqSeq atomic.Uint64 // request ids

	// mu guards everything below. Handlers run under it: state is in memory
	// and every handler is short. It is never held during network I/O or a
	// fault's delay.
	mu       sync.Mutex
	accounts map[string]*account // by id
	keys     map[string]string   // API key -> account id
	tokens   map[string]*grantedToken
	intents  map[string]*intent
	refunds  map[string]*refund
	order    []string // intent ids in creation order
	seq      uint64   // object id counter
	calls    map[string]int
	stats    Stats

	srv  *http.Server
	addr string
	wg   sync.WaitGroup
}

// account is one Stripe account with its keys and idempotency store.
type account struct {
	id            string
	secretKey     string
	restrictedKey string
	created       time.Time
	idem          map[string]*idemRecord // by Idempotency-Key
	inflight      map[string]bool        // keys whose first request is running
}

// New builds an emulator with Config.Accounts. It does not listen yet: call
// Start, or mount Handler yourself.
func New(cfg Config) (*Emulator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdempotencyTTL == 0 {
		cfg.IdempotencyTTL = 24 * time.Hour
	}
	if cfg.SearchDelay < 0 {
		return nil, errors.New("stripeemu: negative SearchDelay")
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Emulator{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "stripe-emulator"),
		now:      cfg.Now,
		ctx:      ctx,
		cancel:   cancel,
		accounts: map[string]*account{},
		keys:     map[string]string{},
		tokens:   map[string]*grantedToken{},
		intents:  map[string]*intent{},
		refunds:  map[string]*refund{},
		calls:    map[string]int{},
	}
	for _, id := range cfg.Accounts {
		if _, err := e.addAccount(id); err != nil {
			cancel()
			return nil, err
		}
	}
	e.mux = e.routes()
	return e, nil
}

// Start listens on 127.0.0.1 on a free port and serves in the background.
func (e *Emulator) Start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("stripeemu: listen: %w", err)
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

// Close stops the server and ends hung fault requests.
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
			err = fmt.Errorf("stripeemu: shutdown: %w", err)
		}
	}
	e.wg.Wait()
	return err
}

// URL is the emulator's base URL, http://127.0.0.1:PORT, or "" before Start.
// Give it to the client as its base URL (stripe-go's BackendConfig.URL).
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.addr == "" {
		return ""
	}
	return "http://" + e.addr
}

// Handler serves every emulated endpoint.
func (e *Emulator) Handler() http.Handler { return e.mux }

// AddAccount creates a Stripe account (an empty id gets a generated
// acct_…) and returns its secret key. Adding an existing account returns
// its key again.
func (e *Emulator) AddAccount(id string) (secretKey string) {
	a, err := e.addAccount(id)
	if err != nil {
		panic(err) // only for an id that is not acct_…: a programming error
	}
	return a.secretKey
}

func (e *Emulator) addAccount(id string) (*account, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id == "" {
		id = e.newID("acct_", 16)
	}
	if len(id) < 6 || id[:5] != "acct_" {
		return nil, fmt.Errorf("stripeemu: account id %q must start with acct_", id)
	}
	if a, ok := e.accounts[id]; ok {
		return a, nil
	}
	a := &account{
		id:            id,
		secretKey:     "sk_test_" + e.derive("sk", id, 32),
		restrictedKey: "rk_test_" + e.derive("rk", id, 32),
		created:       e.now(),
		idem:          map[string]*idemRecord{},
		inflight:      map[string]bool{},
	}
	e.accounts[id] = a
	e.keys[a.secretKey] = id
	e.keys[a.restrictedKey] = id
	return a, nil
}

// SecretKey returns the account's sk_test_… key, or "" for an unknown one.
func (e *Emulator) SecretKey(accountID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a, ok := e.accounts[accountID]; ok {
		return a.secretKey
	}
	return ""
}

// RestrictedKey returns the account's rk_test_… key, or "" for an unknown
// one. It may do everything the secret key does.
func (e *Emulator) RestrictedKey(accountID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if a, ok := e.accounts[accountID]; ok {
		return a.restrictedKey
	}
	return ""
}

// Accounts lists the account ids, sorted.
func (e *Emulator) Accounts() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := make([]string, 0, len(e.accounts))
	for id := range e.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// base62 is the alphabet of Stripe ids and keys.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// derive makes n base62 characters from the seed and the parts: keys and
// ids that are stable for a seed but look like Stripe's.
func (e *Emulator) derive(kind, part string, n int) string {
	out := make([]byte, 0, n)
	for block := 0; len(out) < n; block++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%d|%s|%s|%d", e.cfg.Seed, kind, part, block))
		for _, b := range sum {
			if len(out) == n {
				break
			}
			out = append(out, base62[int(b)%len(base62)])
		}
	}
	return string(out)
}

// newID returns prefix plus n characters, unique within the emulator.
// Callers hold e.mu.
func (e *Emulator) newID(prefix string, n int) string {
	e.seq++
	return prefix + e.derive(prefix, fmt.Sprint(e.seq), n)
}
