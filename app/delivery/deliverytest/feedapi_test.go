package deliverytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testToken = "test-token"

// do sends one request to the handler, with valid headers unless changed.
func do(t *testing.T, a *FeedAPI, method, path, body string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("API-Version", "2026-04-17")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	return rec.Result()
}

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return v
}

func TestFeedAPIErrors(t *testing.T) {
	t.Parallel()
	variant := `{"id":"v1","title":"V"}`
	tests := []struct {
		name       string
		method     string
		path       string // {feed} is replaced by an existing feed id
		body       string
		header     map[string]string
		wantStatus int
		wantCode   string
		wantParam  string
	}{
		{"no token", "GET", "/feeds/{feed}", "", map[string]string{"Authorization": ""}, 401, "unauthorized", ""},
		{"wrong token", "GET", "/feeds/{feed}", "", map[string]string{"Authorization": "Bearer nope"}, 401, "unauthorized", ""},
		{"no API version", "GET", "/feeds/{feed}", "", map[string]string{"API-Version": ""}, 400, "missing_api_version", ""},
		{"old API version", "GET", "/feeds/{feed}", "", map[string]string{"API-Version": "2025-09-29"}, 400, "unsupported_api_version", ""},
		{"unknown feed", "GET", "/feeds/feed_nope", "", nil, 404, "feed_not_found", "id"},
		{"unknown feed products", "PATCH", "/feeds/feed_nope/products", `{"products":[{"id":"p","variants":[` + variant + `]}]}`, nil, 404, "feed_not_found", "id"},
		{"bad country", "POST", "/feeds", `{"target_country":"usa"}`, nil, 400, "invalid_target_country", "target_country"},
		{"unknown create field", "POST", "/feeds", `{"country":"US"}`, nil, 400, "invalid_request", ""},
		{"not JSON", "PATCH", "/feeds/{feed}/products", `{`, nil, 400, "invalid_product_payload", "$"},
		{"wrong content type", "PATCH", "/feeds/{feed}/products", `{}`, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", ""},
		{"no products", "PATCH", "/feeds/{feed}/products", `{"products":[]}`, nil, 400, "invalid_product_payload", "$.products"},
		{"products missing", "PATCH", "/feeds/{feed}/products", `{}`, nil, 400, "invalid_product_payload", "$.products"},
		{"unknown top-level field", "PATCH", "/feeds/{feed}/products", `{"products":[],"x":1}`, nil, 400, "invalid_product_payload", "$"},
		{"trailing data", "PATCH", "/feeds/{feed}/products", `{"products":[]} {}`, nil, 400, "invalid_product_payload", "$"},
		{"product not object", "PATCH", "/feeds/{feed}/products", `{"products":["p"]}`, nil, 400, "invalid_product_payload", "$.products[0]"},
		{"product id not string", "PATCH", "/feeds/{feed}/products", `{"products":[{"id":1,"variants":[` + variant + `]}]}`, nil, 400, "invalid_product_payload", "$.products[0].id"},
		{"no variants", "PATCH", "/feeds/{feed}/products", `{"products":[{"id":"p"}]}`, nil, 400, "invalid_product_payload", "$.products[0].variants"},
		{"variant without id", "PATCH", "/feeds/{feed}/products", `{"products":[{"id":"p","variants":[{"title":"V"}]}]}`, nil, 400, "invalid_product_payload", "$.products[0].variants[0].id"},
		{"variant without title", "PATCH", "/feeds/{feed}/products", `{"products":[{"id":"p","variants":[` + variant + `]},{"id":"q","variants":[{"id":"v"}]}]}`, nil, 400, "invalid_product_payload", "$.products[1].variants[0].title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := NewFeedAPI(FeedAPIConfig{Token: testToken})
			feed := a.AddFeed("US")
			resp := do(t, a, tt.method, strings.ReplaceAll(tt.path, "{feed}", feed), tt.body, tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			e := decode[apiError](t, resp)
			if e.Code != tt.wantCode || e.Param != tt.wantParam || e.Type == "" || e.Message == "" {
				t.Errorf("error = %+v, want code %q, param %q, and type and message set", e, tt.wantCode, tt.wantParam)
			}
			if len(a.Products(feed)) != 0 || a.Applied() != 0 {
				t.Error("a rejected request changed the feed")
			}
		})
	}
}

func TestFeedAPIFlow(t *testing.T) {
	t.Parallel()
	a := NewFeedAPI(FeedAPIConfig{Token: testToken})
	resp := do(t, a, "POST", "/feeds", `{"target_country":"US"}`, nil)
	meta := decode[struct {
		ID            string `json:"id"`
		TargetCountry string `json:"target_country"`
		UpdatedAt     string `json:"updated_at"`
	}](t, resp)
	if resp.StatusCode != http.StatusCreated || meta.ID == "" || meta.TargetCountry != "US" || meta.UpdatedAt == "" {
		t.Fatalf("create = %d %+v", resp.StatusCode, meta)
	}
	upsert := func(body string) {
		t.Helper()
		if resp := do(t, a, "PATCH", "/feeds/"+meta.ID+"/products", body, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH status = %d", resp.StatusCode)
		}
	}
	upsert(`{"products":[{"id":"b","variants":[{"id":"b1","title":"B"}]},{"id":"a","variants":[{"id":"a1","title":"A"}]}]}`)
	upsert(`{"products":[{"id":"a","title":"new","variants":[{"id":"a1","title":"A"}]}]}`) // a is replaced, b stays

	got := decode[struct {
		Products []map[string]any `json:"products"`
	}](t, do(t, a, "GET", "/feeds/"+meta.ID+"/products", "", nil))
	if len(got.Products) != 2 || got.Products[0]["id"] != "a" || got.Products[0]["title"] != "new" || got.Products[1]["id"] != "b" {
		t.Errorf("products = %v, want a (updated) then b", got.Products)
	}
	if resp := do(t, a, "GET", "/feeds/"+meta.ID, "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET feed status = %d", resp.StatusCode)
	}
}

func TestFeedAPIIdempotency(t *testing.T) {
	t.Parallel()
	a := NewFeedAPI(FeedAPIConfig{Token: testToken})
	feed := a.AddFeed("")
	path := "/feeds/" + feed + "/products"
	body := `{"products":[{"id":"p","variants":[{"id":"v","title":"V"}]}]}`
	same := "{ \"products\": [ {\"variants\":[{\"title\":\"V\",\"id\":\"v\"}], \"id\":\"p\"} ] }" // reordered, respaced
	key := map[string]string{"Idempotency-Key": "k1"}
	tests := []struct {
		name         string
		body         string
		header       map[string]string
		wantStatus   int
		wantReplayed bool
		wantApplied  int
	}{
		{"first", body, key, 200, false, 1},
		{"same key same body", body, key, 200, true, 1},
		{"same key equivalent JSON", same, key, 200, true, 1},
		{"same key other body", `{"products":[{"id":"q","variants":[{"id":"v","title":"V"}]}]}`, key, 422, false, 1},
		{"other key", body, map[string]string{"Idempotency-Key": "k2"}, 200, false, 2},
		{"no key", body, nil, 200, false, 3},
	}
	for _, tt := range tests { // in order: each step builds on the last
		resp := do(t, a, "PATCH", path, tt.body, tt.header)
		if resp.StatusCode != tt.wantStatus || (resp.Header.Get("Idempotent-Replayed") == "true") != tt.wantReplayed || a.Applied() != tt.wantApplied {
			t.Errorf("%s: status %d, replayed %q, applied %d; want %d, %v, %d", tt.name, resp.StatusCode,
				resp.Header.Get("Idempotent-Replayed"), a.Applied(), tt.wantStatus, tt.wantReplayed, tt.wantApplied)
		}
	}
}

func TestFeedAPIFaults(t *testing.T) {
	t.Parallel()
	a := NewFeedAPI(FeedAPIConfig{Token: testToken})
	a.FailNext(2, http.StatusTooManyRequests)
	a.SetRetryAfter(1500 * time.Millisecond) // rounds up to 2 s
	for i := range 2 {
		resp := do(t, a, "GET", "/feeds/x", "", map[string]string{"Authorization": ""})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Errorf("request %d: status %d, Retry-After %q; want 429 and 2", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if e := decode[apiError](t, resp); e.Code != "rate_limit_exceeded" {
			t.Errorf("request %d: error %+v", i, e)
		}
	}
	if resp := do(t, a, "GET", "/feeds/x", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("after the faults: status %d, want 404", resp.StatusCode)
	}
	if a.Requests() != 3 {
		t.Errorf("Requests() = %d, want 3", a.Requests())
	}
}
