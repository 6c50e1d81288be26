package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBillingInBrowser walks billing in Chromium against a demo whose shop
// gets one free agent order a month: the first purchase goes through; the
// next checkout is refused with the plan message; the overview's banner
// says the month is used up, and its button sends the merchant to the
// emulator's Shopify approval page; once approved, Shopify returns the
// merchant to the plan page, which shows the plan, and buying works again.
// Screenshots: billing-*.png in test-artifacts/browser.
func TestBillingInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, _ := startDemo(t, ctx, "--free-orders", "1")
	shots := artifactsDir(t)
	var full struct {
		Payment struct {
			StripeURL string `json:"stripe_url"`
			TestKey   string `json:"stripe_test_key"`
		} `json:"payment"`
		Items []struct {
			ID               string `json:"id"`
			Available        bool   `json:"available"`
			Inventory        int64  `json:"inventory"`
			RequiresShipping bool   `json:"requires_shipping"`
		} `json:"items"`
	}
	raw, err := os.ReadFile(m.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &full); err != nil {
		t.Fatal(err)
	}
	item := ""
	for _, it := range full.Items {
		if it.Available && it.Inventory > 3 && it.RequiresShipping {
			item = it.ID
			break
		}
	}
	seq := 0
	call := func(path, body string) (int, map[string]any) {
		t.Helper()
		seq++
		req, _ := http.NewRequest(http.MethodPost, m.ACP.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.ACP.APIKey)
		req.Header.Set("API-Version", "2026-04-17")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "billing-browser-"+strconv.Itoa(seq))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	createBody := `{"currency":"usd","capabilities":{},"line_items":[{"id":"` + item + `","quantity":1}],"buyer":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"},
"fulfillment_details":{"name":"Ada Lovelace","address":{"name":"Ada Lovelace","line_one":"1 Market St","city":"San Francisco","state":"CA","country":"US","postal_code":"94105"}}}`
	// purchase creates and completes a checkout; it returns the create's
	// answer when that is refused.
	purchase := func() (int, map[string]any) {
		t.Helper()
		status, s := call("/checkout_sessions", createBody)
		if status != http.StatusCreated {
			return status, s
		}
		tok := grantToken(t, full.Payment.StripeURL, full.Payment.TestKey)
		status, done := call("/checkout_sessions/"+s["id"].(string)+"/complete",
			`{"payment_data":{"handler_id":"card_tokenized","instrument":{"type":"card","credential":{"type":"spt","token":"`+tok+`"}}}}`)
		if status != http.StatusOK || done["status"] != "completed" {
			t.Fatalf("complete: %d %v", status, done)
		}
		return status, done
	}
	if status, out := purchase(); status != http.StatusOK {
		t.Fatalf("the free order: %d %v", status, out)
	}
	status, refused := purchase()
	if status != http.StatusForbidden || refused["code"] != "merchant_plan_limit_reached" {
		t.Fatalf("a checkout past the free tier: %d %v, want 403 merchant_plan_limit_reached", status, refused)
	}

	bctx := newBrowser(ctx, t, exe, 1280, 900)
	pg := &browserPage{t: t, ctx: bctx, shots: shots, name: "billing"}
	do, text, shot := pg.do, pg.text, pg.shot

	// The overview says the month is used up and offers the plan.
	do("overview", chromedp.Navigate(m.AdminURL), visible(`[data-billing-banner]`))
	shot("billing-over-limit")
	if got := text(`#billing-banner-usage`); !strings.Contains(got, "1 of 1 free agent orders used") {
		t.Errorf("banner: %q", got)
	}
	// The button sends the merchant to Shopify's approval page (the
	// emulator's), at the top level.
	do("upgrade", click(`#banner-upgrade`), visible(`#approve`))
	shot("billing-approve")
	if got := text(`#plan-name`); !strings.Contains(got, "acpbridge Growth") {
		t.Errorf("approval page plan: %q", got)
	}
	// Approved: Shopify returns the merchant to the plan page.
	do("approve", click(`#approve`), visible(`[data-billing-approved]`))
	shot("billing-plan-active")
	if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.HasPrefix(loc, strings.TrimRight(m.AppURL, "/")+"/admin/billing?") || !strings.Contains(loc, "id_token=") {
		t.Errorf("the plan page was not reached through the return URL and the bounce page: %s", loc)
	}
	if got := text(`#plan-name`); !strings.Contains(got, "acpbridge Growth (test charge)") {
		t.Errorf("plan shown: %q", got)
	}
	// One heading (s-page's) and no nav of the page's own: App Bridge's
	// (the emulator's stand-in here) is the only one.
	if ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelectorAll('h1').length === 1 && document.querySelector('h1').textContent === document.querySelector('s-page').getAttribute('heading') &&
  Array.from(document.querySelectorAll('nav')).every(n => n.id === 'app-bridge-nav') && document.querySelector('#app-bridge-nav a[aria-current="page"]').textContent === 'Plan'`)); err != nil || !ok {
		t.Errorf("the plan page's heading and nav: %v %v", ok, err)
	}

	// Buying works again.
	if status, out := purchase(); status != http.StatusOK {
		t.Fatalf("a purchase with the plan: %d %v", status, out)
	}
	do("overview with the plan", chromedp.Navigate(m.AdminURL), visible(`[data-billing-banner]`))
	if got := text(`[data-billing-banner]`); !strings.Contains(got, "2 agent orders in") || !strings.Contains(got, "Your plan: acpbridge Growth") {
		t.Errorf("banner with the plan: %q", got)
	}
	shot("billing-overview-with-plan")
}
