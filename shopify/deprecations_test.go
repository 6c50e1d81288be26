package shopify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/shopify"
)

// TestAdminDeprecationHeader: a response carrying
// X-Shopify-API-Deprecated-Reason is counted per (operation, reason) and
// logged once per pair, and one without it is not counted.
func TestAdminDeprecationHeader(t *testing.T) {
	t.Parallel()
	const reason = "https://shopify.dev/changelog/some-field-is-deprecated"
	srv := &scripted{replies: []reply{
		{status: http.StatusOK, body: okBody(2, 998), header: map[string]string{shopify.DeprecatedReasonHeader: reason}},
		{status: http.StatusOK, body: okBody(2, 998), header: map[string]string{shopify.DeprecatedReasonHeader: reason}},
		{status: http.StatusOK, body: okBody(2, 998), header: map[string]string{shopify.DeprecatedReasonHeader: "line\t break   reason "}},
		{status: http.StatusOK, body: okBody(2, 998)},
	}}
	a, _ := newAdmin(t, srv)
	var logs bytes.Buffer
	a.Deprecations = &shopify.Deprecations{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for i := range 4 {
		var out shopName
		if err := a.Query(context.Background(), "demo.myshopify.com", aToken, shopQuery, nil, &out); err != nil {
			t.Fatalf("Query %d: %v", i, err)
		}
	}
	got := a.Deprecations.Snapshot()
	if len(got) != 2 {
		t.Fatalf("Snapshot = %+v, want 2 pairs", got)
	}
	// Sorted by reason within the operation: "https…" < "line…".
	if got[0].Operation != "ShopName" || got[0].Reason != reason || got[0].Calls != 2 || got[0].Shop != "demo.myshopify.com" {
		t.Errorf("first pair = %+v, want ShopName %q ×2 on demo", got[0], reason)
	}
	if got[1].Reason != "line break reason" || got[1].Calls != 1 {
		t.Errorf("second pair = %+v, want the cleaned reason %q ×1", got[1], "line break reason")
	}
	if n := strings.Count(logs.String(), "deprecated API use"); n != 2 {
		t.Errorf("logged %d warnings, want 2 (one per pair):\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), aToken) {
		t.Errorf("the log carries the access token:\n%s", logs.String())
	}
}

// TestDeprecationsBounded: past the bound, new reasons are counted under
// "other" instead of growing the set (and the metric's labels) without end.
func TestDeprecationsBounded(t *testing.T) {
	t.Parallel()
	var d shopify.Deprecations
	for i := range 500 {
		d.Observe(context.Background(), "demo.myshopify.com", "Op", strings.Repeat("r", i%300+1))
	}
	d.Observe(context.Background(), "demo.myshopify.com", "Op", "")
	snap := d.Snapshot()
	var total int64
	other := false
	for _, p := range snap {
		total += p.Calls
		other = other || p.Reason == "other"
		if len(p.Reason) > 204 {
			t.Errorf("reason of %d bytes kept", len(p.Reason))
		}
	}
	if len(snap) > 65 || !other || total != 500 {
		t.Errorf("%d pairs (other: %v), %d calls; want at most 65 pairs with an \"other\" pair and 500 calls", len(snap), other, total)
	}
}
