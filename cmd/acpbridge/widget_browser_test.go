package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestCheckoutWidgetInBrowser runs the checkout app's widget in Chromium
// as ChatGPT would host it: the HTML read over MCP (resources/read) from
// `demo`, served from a local page with a stand-in for the host's bridge
// (window.openai): toolOutput is the session checkout_session answered,
// callTool makes the real MCP tools/call (through a relay this test serves
// on the same origin, holding the API key as the host would), openExternal
// records where the buyer is sent, and requestCheckout plays ChatGPT's
// payment sheet: it completes the session through complete_checkout_session
// with a shared payment token from the demo's Stripe emulator. The
// Shopify-checkout shop's widget sends the buyer to the session's
// continue_url; the delegated-payment shop's takes an address, a shipping
// choice and the payment, and shows the order.
func TestCheckoutWidgetInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, _ := startDemo(t, ctx)
	shots := artifactsDir(t)

	type mcpKey struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	}
	type item struct {
		ID               string `json:"id"`
		RequiresShipping bool   `json:"requires_shipping"`
		Inventory        int    `json:"inventory"`
	}
	var m struct {
		MCP     mcpKey `json:"mcp"`
		Items   []item `json:"items"`
		Handoff struct {
			MCP   mcpKey `json:"mcp"`
			Items []item `json:"items"`
		} `json:"handoff"`
		Payment struct {
			StripeURL     string `json:"stripe_url"`
			StripeTestKey string `json:"stripe_test_key"`
		} `json:"payment"`
	}
	raw, err := os.ReadFile(started.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	shippable := func(items []item) string {
		for _, it := range items {
			if it.RequiresShipping && it.Inventory > 5 {
				return it.ID
			}
		}
		t.Fatal("demo.json lists no shippable item in stock")
		return ""
	}

	// The agent's side, with the official SDK: the widget, and the
	// session each shop's checkout_session opens.
	connect := func(k mcpKey) *mcp.ClientSession {
		t.Helper()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "widget-test-host", Version: "1"}, nil).Connect(ctx,
			&mcp.StreamableClientTransport{Endpoint: k.URL, HTTPClient: &http.Client{Transport: withHeader{"Authorization", k.Authorization}},
				DisableStandaloneSSE: true}, nil)
		if err != nil {
			t.Fatalf("initialize %s: %v", k.URL, err)
		}
		t.Cleanup(func() { _ = cs.Close() })
		return cs
	}
	shops := map[string]mcpKey{"delegated": m.MCP, "handoff": m.Handoff.MCP}
	clients := map[string]*mcp.ClientSession{"delegated": connect(m.MCP), "handoff": connect(m.Handoff.MCP)}
	rr, err := clients["delegated"].ReadResource(ctx, &mcp.ReadResourceParams{URI: "ui://widget/checkout-session.html"})
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].MIMEType != "text/html+skybridge" {
		t.Fatalf("resources/read: %v %+v", err, rr)
	}
	widget := rr.Contents[0].Text
	session := func(shop, tool string, args map[string]any) map[string]any {
		t.Helper()
		res, err := clients[shop].CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s %s: %v %+v", shop, tool, err, res)
		}
		b, _ := json.Marshal(res.StructuredContent)
		var s map[string]any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	opened := map[string]map[string]any{
		"delegated": session("delegated", "checkout_session", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": shippable(m.Items), "quantity": 2, "offerId": "o1"}}}}),
		"handoff":   session("handoff", "checkout_session", map[string]any{"checkout_session": map[string]any{"items": []any{map[string]any{"id": shippable(m.Handoff.Items), "quantity": 1}}}}),
	}
	for shop, s := range opened {
		if s["status"] != "not_ready_for_payment" || s["continue_url"] != nil {
			t.Fatalf("%s: checkout_session without an address = %v", shop, s)
		}
	}

	// The host: the page with the bridge, and the relay of its tool calls.
	var mu sync.Mutex
	var relayed []string
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shop := filepath.Base(r.URL.Path)
		k, ok := shops[shop]
		switch {
		case !ok:
			http.NotFound(w, r)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/widget/"):
			out, _ := json.Marshal(opened[shop])
			page := strings.Replace(widget, "<head>", "<head>\n<script>"+fmt.Sprintf(hostBridge, shop, grantToken(t, m.Payment.StripeURL, m.Payment.StripeTestKey), out)+"</script>", 1)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, page)
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/relay/"):
			var call struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			}
			if err := json.NewDecoder(r.Body).Decode(&call); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			relayed = append(relayed, shop+":"+call.Name)
			mu.Unlock()
			body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
				"params": map[string]any{"name": call.Name, "arguments": call.Arguments}})
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, k.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", k.Authorization)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer host.Close()

	bctx := newBrowser(ctx, t, exe, 600, 1000)
	pg := &browserPage{t: t, ctx: bctx, shots: shots, name: "widget", detail: func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("tool calls relayed: %v", relayed)
	}}
	fail, do, waitFor, shot := pg.fail, pg.do, pg.waitFor, pg.shot
	evalString := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			fail(expr, err)
		}
		return v
	}
	fillAddress := func() {
		t.Helper()
		do("address form", chromedp.WaitVisible(chromedp.CSS(`#address-form`)),
			chromedp.SendKeys(chromedp.CSS(`#f-email`), "ada@example.com"),
			chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Lovelace"),
			chromedp.SendKeys(chromedp.CSS(`#f-line_one`), "1 Market St"),
			chromedp.SendKeys(chromedp.CSS(`#f-city`), "San Francisco"),
			chromedp.SendKeys(chromedp.CSS(`#f-state`), "CA"),
			chromedp.SendKeys(chromedp.CSS(`#f-postal_code`), "94105"),
		)
		do("save the address", chromedp.Click(chromedp.CSS(`#address-save`)))
	}
	unlabeled := func() {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](unlabeledJS))
		if err != nil || len(v) > 0 {
			t.Errorf("controls without a label: %v %v", v, err)
		}
	}

	// Shopify's checkout: the address, then Continue opens the session's
	// continue_url through the host.
	do("handoff widget", chromedp.Navigate(host.URL+"/widget/handoff"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	if !strings.Contains(evalString(`document.querySelector("table").innerText`), "Qty") {
		t.Error("the handoff widget shows no items")
	}
	if got := evalString(`(function(){var b=document.getElementById("continue-pending");return b&&b.disabled&&!document.getElementById("pay")?"waiting":"no"})()`); got != "waiting" {
		t.Error("the handoff widget offers to pay, or to continue before the address")
	}
	shot("widget-handoff-address")
	unlabeled()
	// A country the store refuses: the error is shown, what was typed stays.
	do("bad country", chromedp.SetValue(chromedp.CSS(`#f-country`), "ZZ"))
	fillAddress()
	waitFor("the refusal shown", `!!document.getElementById("error")`)
	if got := evalString(`document.getElementById("error").textContent + "|" + document.getElementById("f-line_one").value`); !strings.HasPrefix(got, "Country code ") || strings.Contains(got, "$.") || !strings.HasSuffix(got, "|1 Market St") {
		t.Errorf("after a refused address: %q (want the form's label for the field, not its JSONPath, and what was typed kept)", got)
	}
	shot("widget-handoff-refused")
	do("fix the country", chromedp.SetValue(chromedp.CSS(`#f-country`), "US"), chromedp.Click(chromedp.CSS(`#address-save`)))
	waitFor("continue button", `!!document.getElementById("continue")`)
	shot("widget-handoff-continue")
	do("continue", chromedp.Click(chromedp.CSS(`#continue`)))
	waitFor("openExternal", `window.__host.external.length === 1`)
	handedOff := session("handoff", "get_checkout_session", map[string]any{"meta": map[string]any{"api_version": "2026-04-17"}, "id": opened["handoff"]["id"]})
	want, _ := handedOff["continue_url"].(string)
	if got := evalString(`window.__host.external[0]`); want == "" || got != want {
		t.Errorf("openExternal got %q, want the session's continue_url %q", got, want)
	}

	// Delegated payment: address, another shipping option, Pay, the order.
	do("delegated widget", chromedp.Navigate(host.URL+"/widget/delegated"), chromedp.WaitVisible(chromedp.CSS(`#address-form`)))
	if got := evalString(`document.getElementById("f-country").value`); got != "US" {
		t.Errorf("country default %q, want US", got)
	}
	if got := evalString(`document.getElementById("pay").disabled ? "disabled" : "enabled"`); got != "disabled" {
		t.Error("Pay is enabled before the address")
	}
	shot("widget-delegated-address")
	fillAddress()
	waitFor("ready to pay", `!!document.getElementById("pay") && !document.getElementById("pay").disabled`)
	options := evalString(`String(document.querySelectorAll('input[name="fulfillment"]').length)`)
	if options == "0" {
		t.Fatal("no shipping options after the address")
	}
	if options != "1" {
		before := evalString(`document.querySelector('dd.grand').textContent`)
		do("choose shipping", chromedp.Click(chromedp.CSS(`#opt-1`)))
		waitFor("the second option chosen", `document.getElementById("opt-1").checked && !document.getElementById("pay").disabled && !document.querySelector('[aria-busy="true"]')`)
		s := session("delegated", "get_checkout_session", map[string]any{"meta": map[string]any{"api_version": "2026-04-17"}, "id": opened["delegated"]["id"]})
		sel, _ := s["selected_fulfillment_options"].([]any)
		fo, _ := s["fulfillment_options"].([]any)
		if len(sel) != 1 || len(fo) < 2 || sel[0].(map[string]any)["option_id"] != fo[1].(map[string]any)["id"] {
			t.Errorf("the shop's session did not take the second option: %v", s["selected_fulfillment_options"])
		}
		t.Logf("total %s → %s", before, evalString(`document.querySelector('dd.grand').textContent`))
	}
	if got := evalString(`document.getElementById("pay").textContent`); !strings.Contains(got, "$") {
		t.Errorf("the Pay button shows no amount: %q", got)
	}
	shot("widget-delegated-ready")
	do("pay", chromedp.Click(chromedp.CSS(`#pay`)))
	waitFor("order shown", `!!document.querySelector(".order")`)
	shot("widget-delegated-order")
	if got := evalString(`document.querySelector(".order").innerText`); !strings.Contains(got, "Order placed") {
		t.Errorf("order box: %q", got)
	}
	done := session("delegated", "get_checkout_session", map[string]any{"meta": map[string]any{"api_version": "2026-04-17"}, "id": opened["delegated"]["id"]})
	if done["status"] != "completed" || done["order"] == nil {
		t.Errorf("the shop's session after Pay: %v", done)
	}
	if link := evalString(`(document.getElementById("order-link") || {}).href || ""`); link == "" || link != done["order"].(map[string]any)["permalink_url"] {
		t.Errorf("order link %q, want the order's permalink", link)
	}
	mu.Lock()
	defer mu.Unlock()
	calls := strings.Join(relayed, " ")
	for _, want := range []string{"handoff:update_checkout_session", "delegated:update_checkout_session", "delegated:complete_checkout_session"} {
		if !strings.Contains(calls, want) {
			t.Errorf("no %s among the relayed tool calls: %v", want, relayed)
		}
	}
}

// hostBridge stands in for ChatGPT's window.openai: %s the shop (its
// relay), %s the toolOutput, %s the shared payment token its payment sheet
// would have delegated.
const hostBridge = `
window.__host = { external: [] };
(function () {
  var shop = %q, token = %q;
  function call(name, args) {
    return fetch("/relay/" + shop, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: name, arguments: args }) })
      .then(function (r) { return r.json(); })
      .then(function (res) {
        if (res.error) { var e = new Error(res.error.message); e.data = res.error.data; throw e; }
        return res.result;
      });
  }
  window.openai = {
    theme: "light", locale: "en-US",
    toolOutput: %s,
    callTool: call,
    openExternal: function (o) { window.__host.external.push(o.href); },
    requestCheckout: function (session) {
      var handlers = (session.capabilities && session.capabilities.payment && session.capabilities.payment.handlers) || [];
      return call("complete_checkout_session", { meta: { api_version: "2026-04-17", idempotency_key: "host-" + session.id }, id: session.id,
        payload: { payment_data: { handler_id: handlers.length ? handlers[0].id : "card_tokenized",
          instrument: { type: "card", credential: { type: "spt", token: token } } } } });
    }
  };
})();
`

// grantToken is a new shared payment token from the Stripe emulator's
// test helper, as ChatGPT's payment sheet would delegate one.
func grantToken(t *testing.T, stripeURL, key string) string {
	t.Helper()
	form := url.Values{"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100000"}}
	req, _ := http.NewRequest(http.MethodPost, stripeURL+"/v1/test_helpers/shared_payment/granted_tokens", strings.NewReader(form.Encode()))
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Stripe-Version", "2026-04-22.preview")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var tok struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	if !strings.HasPrefix(tok.ID, "spt_") {
		t.Errorf("granting a token: %d", resp.StatusCode)
	}
	return tok.ID
}
