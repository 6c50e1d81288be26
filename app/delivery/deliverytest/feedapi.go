package deliverytest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/delivery"
)

// FeedAPIConfig configures a Feed API server.
type FeedAPIConfig struct {
	// Token is the bearer token clients must send; empty picks a random
	// one (read it back with Token).
	Token string
	// APIVersions lists the accepted API-Version values; default
	// delivery.FeedAPIVersion.
	APIVersions []string
	// MaxBodyBytes bounds a request body; default 32 MiB.
	MaxBodyBytes int64
	// Logger receives one line per request; nil discards them.
	Logger *slog.Logger
}

// FeedAPI is an in-memory ACP Feed API (2026-04-17) as an http.Handler:
// POST /feeds, GET /feeds/{id}, GET and PATCH /feeds/{id}/products. It
// checks the bearer token and API-Version, validates products, and honours
// Idempotency-Key on POST and PATCH: the same key with the same body gets
// the first answer again (Idempotent-Replayed: true) without being applied
// twice; with another body, 422 idempotency_conflict. Requests are handled
// one at a time.
type FeedAPI struct {
	cfg FeedAPIConfig
	log *slog.Logger
	mux *http.ServeMux

	mu       sync.Mutex
	feeds    map[string]*feedState
	idem     map[string]idemEntry
	requests int
	applied  int
	replayed int

	failN      int
	failStatus int
	dropN      int
	retryAfter time.Duration
}

type feedState struct {
	id            string
	targetCountry string
	updatedAt     time.Time
	products      map[string]json.RawMessage
}

// idemEntry is a remembered answer for one Idempotency-Key.
type idemEntry struct {
	bodyHash [32]byte
	status   int
	body     []byte
}

// NewFeedAPI returns an empty Feed API handler.
func NewFeedAPI(cfg FeedAPIConfig) *FeedAPI {
	if cfg.Token == "" {
		cfg.Token = rand.Text()
	}
	if len(cfg.APIVersions) == 0 {
		cfg.APIVersions = []string{delivery.FeedAPIVersion}
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	a := &FeedAPI{cfg: cfg, log: cfg.Logger, feeds: map[string]*feedState{}, idem: map[string]idemEntry{}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("POST /feeds", a.createFeed)
	a.mux.HandleFunc("GET /feeds/{id}", a.getFeed)
	a.mux.HandleFunc("GET /feeds/{id}/products", a.getProducts)
	a.mux.HandleFunc("PATCH /feeds/{id}/products", a.upsertProducts)
	return a
}

// Token returns the bearer token the server accepts.
func (a *FeedAPI) Token() string { return a.cfg.Token }

// ServeHTTP counts the request, applies injected faults, checks the
// headers every request needs, and routes.
func (a *FeedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests++
	fail := a.failN > 0
	status, retryAfter := a.failStatus, a.retryAfter
	if fail {
		a.failN--
	}
	a.mu.Unlock()
	a.log.Debug("feed api request", slog.String("method", r.Method), slog.String("path", r.URL.Path))

	if fail {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
		}
		typ, code := "service_unavailable", "injected_failure"
		if status == http.StatusTooManyRequests {
			typ, code = "rate_limit_exceeded", "rate_limit_exceeded"
		}
		writeError(w, status, typ, code, "injected by FailNext", "")
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(auth), []byte(a.cfg.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="feeds"`)
		writeError(w, http.StatusUnauthorized, "invalid_request", "unauthorized", "missing or invalid bearer token", "")
		return
	}
	switch v := r.Header.Get("API-Version"); {
	case v == "":
		writeError(w, http.StatusBadRequest, "invalid_request", "missing_api_version", "API-Version header is required", "")
		return
	case !slices.Contains(a.cfg.APIVersions, v):
		writeError(w, http.StatusBadRequest, "invalid_request", "unsupported_api_version",
			fmt.Sprintf("API-Version %q is not supported; supported: %s", v, strings.Join(a.cfg.APIVersions, ", ")), "")
		return
	}
	a.mux.ServeHTTP(w, r)
}

// FailNext makes the next n requests fail with status, before any other
// check, as an overloaded or broken server would.
func (a *FeedAPI) FailNext(n, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failN, a.failStatus = n, status
}

// SetRetryAfter sets the Retry-After sent with FailNext answers (rounded
// up to whole seconds); zero sends none.
func (a *FeedAPI) SetRetryAfter(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.retryAfter = d
}

// DropNext makes the next n POST or PATCH requests that change state take
// effect and then lose their answer: the connection is closed instead.
// Replays do not count.
func (a *FeedAPI) DropNext(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropN = n
}

// AddFeed creates a feed directly and returns its id.
func (a *FeedAPI) AddFeed(targetCountry string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.newFeed(targetCountry).id
}

// Products returns a copy of a feed's products by id; nil for an unknown
// feed.
func (a *FeedAPI) Products(feedID string) map[string]json.RawMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.feeds[feedID]
	if f == nil {
		return nil
	}
	return maps.Clone(f.products)
}

// Feeds returns the ids of all feeds, sorted.
func (a *FeedAPI) Feeds() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.feeds))
}

// Requests counts every request received, failed ones included.
func (a *FeedAPI) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// Applied counts product upserts that changed state (not replays).
func (a *FeedAPI) Applied() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied
}

// Replayed counts answers served again for a known Idempotency-Key.
func (a *FeedAPI) Replayed() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.replayed
}

func (a *FeedAPI) newFeed(targetCountry string) *feedState {
	f := &feedState{id: "feed_" + strings.ToLower(rand.Text()[:12]), targetCountry: targetCountry,
		updatedAt: time.Now().UTC(), products: map[string]json.RawMessage{}}
	a.feeds[f.id] = f
	return f
}

func (f *feedState) metadata() any {
	return struct {
		ID            string `json:"id"`
		TargetCountry string `json:"target_country,omitempty"`
		UpdatedAt     string `json:"updated_at"`
	}{f.id, f.targetCountry, f.updatedAt.Format(time.RFC3339)}
}

// FeedAPIServer is a FeedAPI served over HTTP on 127.0.0.1.
type FeedAPIServer struct {
	*FeedAPI
	srv *http.Server
	ln  net.Listener
}

// StartFeedAPI serves a new FeedAPI for one test and stops it when the
// test ends.
func StartFeedAPI(tb testing.TB, cfg FeedAPIConfig) *FeedAPIServer {
	tb.Helper()
	s, err := ListenFeedAPI(cfg)
	if err != nil {
		tb.Fatalf("deliverytest: start feed API: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// ListenFeedAPI serves a new FeedAPI on 127.0.0.1 at a free port; the
// caller must Close it.
func ListenFeedAPI(cfg FeedAPIConfig) (*FeedAPIServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("deliverytest: listen: %w", err)
	}
	api := NewFeedAPI(cfg)
	s := &FeedAPIServer{FeedAPI: api, ln: ln, srv: &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		// DropNext aborts handlers on purpose; that is no news.
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			api.log.Error("deliverytest: feed API stopped", slog.Any("error", err))
		}
	}()
	return s, nil
}

// URL returns the base URL, e.g. http://127.0.0.1:41234, for
// ACPFeedTarget.BaseURL.
func (s *FeedAPIServer) URL() string { return "http://" + s.ln.Addr().String() }

// Target returns a delivery target with this server's URL and token.
func (s *FeedAPIServer) Target() delivery.ACPFeedTarget {
	return delivery.ACPFeedTarget{BaseURL: s.URL(), Token: s.Token()}
}

// Close stops the server and its open connections.
func (s *FeedAPIServer) Close() error { return s.srv.Close() }

// bodyHash identifies a request body for idempotency. Like the spec's
// semantic JSON equality, key order and spacing do not matter; array order
// does. A body that is not JSON is compared byte for byte.
func bodyHash(b []byte) [32]byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		if canon, err := json.Marshal(v); err == nil {
			b = canon
		}
	}
	return sha256.Sum256(b)
}
