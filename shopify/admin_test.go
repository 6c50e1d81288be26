package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/acpbridge/acpbridge/shopify"
)

const (
	aToken    = "shpat_admin-access-token"
	shopQuery = `query ShopName($n: Int) { shop { name } }`
)

// costJSON is an extensions object as Shopify sends it.
func costJSON(requested int, actual string, available float64) string {
	return fmt.Sprintf(`"extensions":{"cost":{"requestedQueryCost":%d,"actualQueryCost":%s,`+
		`"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":%g,"restoreRate":100.0}}}`, requested, actual, available)
}

// okBody answers shopQuery, charging requested points and leaving available.
func okBody(requested int, available float64) string {
	return `{"data":{"shop":{"name":"Demo"}},` + costJSON(requested, fmt.Sprint(requested), available) + `}`
}

// throttledBody is Shopify's THROTTLED answer: HTTP 200, no data, no
// actual cost.
func throttledBody(requested int, available float64) string {
	return `{"data":null,"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED",` +
		`"documentation":"https://shopify.dev/api/usage/rate-limits"}}],` + costJSON(requested, "null", available) + `}`
}

// fakeClock is an injectable clock whose Sleep advances it and records
// what was asked.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// scripted answers each request with the next (status, body), repeating
// the last, and counts requests.
type scripted struct {
	mu      sync.Mutex
	replies []reply
	n       int
}

type reply struct {
	status int
	body   string
	header map[string]string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep := s.replies[min(s.n, len(s.replies)-1)]
	s.n++
	s.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// newAdmin returns an Admin talking to h with its own limiter on a fake
// clock.
func newAdmin(t *testing.T, h http.Handler) (*shopify.Admin, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	return &shopify.Admin{
		HTTPClient: shopServer(t, h),
		// No reserve for the money path: the tests of the reserve set it.
		Limiter: &shopify.Limiter{Now: clock.Now, Sleep: clock.Sleep, Reserve: -1},
	}, clock
}

type shopName struct {
	Shop struct {
		Name string `json:"name"`
	} `json:"shop"`
}

func TestAdminQuerySendsAndDecodes(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		problems []string
		gotBody  struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
	)
	a, _ := newAdmin(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.Host != "demo.myshopify.com" || r.URL.Path != "/admin/api/2026-10/graphql.json" {
			problems = append(problems, fmt.Sprintf("request %s %s%s, want POST demo.myshopify.com/admin/api/2026-10/graphql.json", r.Method, r.Host, r.URL.Path))
		}
		if got := r.Header.Get("X-Shopify-Access-Token"); got != aToken {
			problems = append(problems, fmt.Sprintf("X-Shopify-Access-Token = %q, want %q", got, aToken))
		}
		if err := json.NewDecoder(r.Body).Decode(&gotBody); err != nil {
			problems = append(problems, "body: "+err.Error())
		}
		io.WriteString(w, okBody(2, 998))
	}))
	var out shopName
	if err := a.Query(context.Background(), "Demo.myshopify.com", aToken, shopQuery, map[string]any{"n": 3}, &out); err != nil {
		t.Fatalf("Query: %v", err)
	}
	if out.Shop.Name != "Demo" {
		t.Errorf("shop name = %q, want Demo", out.Shop.Name)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	if gotBody.Query != shopQuery || gotBody.Variables["n"] != 3.0 {
		t.Errorf("sent query %q vars %v, want %q n=3", gotBody.Query, gotBody.Variables, shopQuery)
	}
}

func TestAdminStatusErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		body      string
		want      error
		retryable bool
	}{
		{401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, shopify.ErrUnauthorized, false},
		{402, `{"errors":"Unavailable Shop"}`, shopify.ErrShopUnavailable, false},
		{423, `{"errors":"Locked"}`, shopify.ErrShopUnavailable, false},
		{403, `{"errors":"This action requires merchant approval for read_orders scope."}`, shopify.ErrForbidden, false},
		{404, `{"errors":"Not Found"}`, shopify.ErrNotFound, false},
		{503, `<html>Service Unavailable</html>`, shopify.ErrUnavailable, true},
		{500, `{"errors":"Internal Server Error"}`, shopify.ErrUnavailable, true},
		{400, `{"errors":"Bad Request"}`, nil, false},
	}
	sentinels := []error{shopify.ErrUnauthorized, shopify.ErrShopUnavailable, shopify.ErrForbidden, shopify.ErrNotFound, shopify.ErrUnavailable}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: []reply{{status: tt.status, body: tt.body}}}
			a, _ := newAdmin(t, h)
			err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %t, want %t", err, s, got, !got)
				}
			}
			var se *shopify.StatusError
			if !errors.As(err, &se) || se.Status != tt.status {
				t.Errorf("err = %v, want a *StatusError with status %d", err, tt.status)
			}
			if got := shopify.IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable(%v) = %t, want %t", err, got, tt.retryable)
			}
			if strings.Contains(err.Error(), aToken) {
				t.Errorf("error %q contains the access token", err)
			}
			if n := h.count(); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestAdminNetworkError(t *testing.T) {
	t.Parallel()
	a := &shopify.Admin{
		HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset")
		})},
		Limiter: &shopify.Limiter{},
	}
	err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
	if !errors.Is(err, shopify.ErrUnavailable) || !shopify.IsRetryable(err) {
		t.Errorf("err = %v, want retryable ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), aToken) {
		t.Errorf("error %q contains the access token", err)
	}
}

func TestAdminGraphQLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		wantMsgs  []string
		wantCodes []string
		retryable bool
	}{
		{
			"access denied",
			`{"errors":[{"message":"Access denied for orders field.","extensions":{"code":"ACCESS_DENIED"}},{"message":"Field 'x' doesn't exist"}],"data":null}`,
			[]string{"Access denied for orders field.", "Field 'x' doesn't exist"}, []string{"ACCESS_DENIED", ""}, false,
		},
		{
			"internal error",
			`{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"r1"}}]}`,
			[]string{"Internal error. Looks like something went wrong on our end."}, []string{"INTERNAL_SERVER_ERROR"}, true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := &scripted{replies: []reply{{status: 200, body: tt.body}}}
			a, _ := newAdmin(t, h)
			err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{})
			var ge *shopify.GraphQLError
			if !errors.As(err, &ge) {
				t.Fatalf("err = %v, want *GraphQLError", err)
			}
			if fmt.Sprint(ge.Messages) != fmt.Sprint(tt.wantMsgs) || fmt.Sprint(ge.Codes) != fmt.Sprint(tt.wantCodes) {
				t.Errorf("GraphQLError = %q %q, want %q %q", ge.Messages, ge.Codes, tt.wantMsgs, tt.wantCodes)
			}
			if got := shopify.IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable = %t, want %t", got, tt.retryable)
			}
			if n := h.count(); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestAdminUserErrors(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: `{"data":{"productCreate":{"product":null,"userErrors":[` +
		`{"field":["product","title"],"message":"Title can't be blank","code":"BLANK"},{"field":null,"message":"Something else"}]}},` +
		costJSON(10, "10", 990) + `}`}}}
	a, _ := newAdmin(t, h)
	var out struct {
		ProductCreate struct {
			UserErrors []shopify.UserError `json:"userErrors"`
		} `json:"productCreate"`
	}
	doc := `mutation CreateProduct($p: ProductCreateInput!) { productCreate(product: $p) { userErrors { field message code } } }`
	if err := a.Query(context.Background(), "demo.myshopify.com", aToken, doc, nil, &out); err != nil {
		t.Fatalf("Query: %v", err)
	}
	err := shopify.UserErrorsErr("productCreate", out.ProductCreate.UserErrors)
	var ue *shopify.UserErrorsError
	if !errors.As(err, &ue) || len(ue.Errors) != 2 || ue.Op != "productCreate" {
		t.Fatalf("UserErrorsErr = %v, want *UserErrorsError with 2 errors", err)
	}
	want := "shopify productCreate: user errors: product.title: Title can't be blank (BLANK); Something else"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if err := shopify.UserErrorsErr("productCreate", nil); err != nil {
		t.Errorf("UserErrorsErr(none) = %v, want nil", err)
	}
}

func TestAdminRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okBody(1, 999)}}}
	a, _ := newAdmin(t, h)
	tests := []struct {
		name, shop, token string
		want              error
	}{
		{"bad shop", "demo.myshopify.com.evil.com", aToken, shopify.ErrBadShop},
		{"no token", "demo.myshopify.com", "", shopify.ErrUnauthorized},
	}
	for _, tt := range tests {
		if err := a.Query(context.Background(), tt.shop, tt.token, shopQuery, nil, &shopName{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if n := h.count(); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestAdminDefaultDeadline(t *testing.T) {
	t.Parallel()
	var left atomic.Int64
	a := &shopify.Admin{
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if dl, ok := r.Context().Deadline(); ok {
				left.Store(int64(time.Until(dl)))
			}
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(okBody(1, 999))), Request: r}, nil
		})},
		Limiter: &shopify.Limiter{},
	}
	if err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &shopName{}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	if got := time.Duration(left.Load()); got <= 25*time.Second || got > 30*time.Second {
		t.Errorf("deadline in %v, want about 30s", got)
	}
}

func TestAdminLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okBody(12, 988)}}}
	a, _ := newAdmin(t, h)
	var buf testkit.LogBuffer
	a.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, map[string]any{"n": "secret-variable"}, &shopName{}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	got := buf.String()
	for _, want := range []string{"shop=demo.myshopify.com", "operation=ShopName", "requested_cost=12", "actual_cost=12", "duration="} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
	for _, bad := range []string{aToken, "secret-variable"} {
		if strings.Contains(got, bad) {
			t.Errorf("log %q contains %q", got, bad)
		}
	}
}

func TestAdminConcurrentQueries(t *testing.T) {
	t.Parallel()
	h := &scripted{replies: []reply{{status: 200, body: okBody(5, 995)}}}
	a, _ := newAdmin(t, h)
	a.Logger = slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			var out shopName
			shop := fmt.Sprintf("shop-%d.myshopify.com", i%3)
			if err := a.Query(context.Background(), shop, aToken, shopQuery, map[string]any{"n": i}, &out); err != nil {
				errs <- err
				return
			}
			if out.Shop.Name != "Demo" {
				errs <- fmt.Errorf("goroutine %d: shop name = %q, want Demo", i, out.Shop.Name)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := h.count(); got != n {
		t.Errorf("requests = %d, want %d", got, n)
	}
}
