package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// TestDemoPurchase buys an item through `demo` in each ACP version, as an
// agent would with curl: the emulated shop then holds exactly one paid
// order per purchase with the session's total, and the agent webhook given
// with --agent-webhook-url receives a correctly signed order_create.
func TestDemoPurchase(t *testing.T) {
	t.Parallel()
	hook := newAgentHook(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, _ := startDemo(t, ctx, "--agent-webhook-url", hook.URL+"/acp/events")
	var m struct {
		ACP struct {
			BaseURL       string `json:"base_url"`
			APIKey        string `json:"api_key"`
			WebhookSecret string `json:"webhook_secret"`
		} `json:"acp"`
		Payment struct {
			ApproveToken  string `json:"approve_token"`
			StripeURL     string `json:"stripe_url"`
			StripeTestKey string `json:"stripe_test_key"`
		} `json:"payment"`
		Items []struct {
			ID               string `json:"id"`
			RequiresShipping bool   `json:"requires_shipping"`
			Inventory        int    `json:"inventory"`
		} `json:"items"`
		Shopify struct {
			GraphQLURL  string `json:"graphql_url"`
			AccessToken string `json:"access_token"`
		} `json:"shopify"`
	}
	raw, err := os.ReadFile(started.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	item := ""
	for _, it := range m.Items {
		if it.RequiresShipping && it.Inventory > 5 {
			item = it.ID
			break
		}
	}
	if item == "" {
		t.Fatal("demo.json lists no item in stock")
	}

	call := func(v acp.Version, path string, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, m.ACP.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.ACP.APIKey)
		req.Header.Set("API-Version", string(v))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("demo-%d", time.Now().UnixNano()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		def := acptest.SessionDef(out["order"] != nil)
		if err := acptest.Validate(v, def, b); err != nil {
			t.Errorf("%s answer does not match the schema: %v", v, err)
		}
		return out
	}
	grant := func() string { // a new single-use token from the Stripe emulator's test helper
		form := url.Values{"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100000"}}
		req, _ := http.NewRequest(http.MethodPost, m.Payment.StripeURL+"/v1/test_helpers/shared_payment/granted_tokens", strings.NewReader(form.Encode()))
		req.SetBasicAuth(m.Payment.StripeTestKey, "")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Stripe-Version", "2026-04-22.preview")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok struct{ ID string }
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		if !strings.HasPrefix(tok.ID, "spt_") {
			t.Fatalf("granting a token: %d", resp.StatusCode)
		}
		return tok.ID
	}
	total := func(s map[string]any) int64 {
		for _, x := range s["totals"].([]any) {
			if tt := x.(map[string]any); tt["type"] == "total" {
				return int64(tt["amount"].(float64))
			}
		}
		return -1
	}
	addr := `{"name":"Ada Lovelace","line_one":"1 Market St","city":"San Francisco","state":"CA","country":"US","postal_code":"94105"}`
	sessions := map[string]int64{}
	// 2026-04-17.
	s := call(acp.V20260417, "/checkout_sessions", `{"line_items":[{"id":"`+item+`","quantity":2}],"currency":"usd","capabilities":{},
		"buyer":{"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace"},"fulfillment_details":{"name":"Ada Lovelace","address":`+addr+`}}`)
	if s["status"] != "ready_for_payment" {
		t.Fatalf("2026-04-17 session: %v", s)
	}
	c := call(acp.V20260417, "/checkout_sessions/"+s["id"].(string)+"/complete",
		`{"payment_data":{"handler_id":"card_tokenized","instrument":{"type":"card","credential":{"type":"spt","token":"`+m.Payment.ApproveToken+`"}}}}`)
	if c["status"] != "completed" {
		t.Fatalf("2026-04-17 complete: %v", c)
	}
	sessions[s["id"].(string)] = total(c)
	// 2025-09-29.
	s = call(acp.V20250929, "/checkout_sessions", `{"items":[{"id":"`+item+`","quantity":1}],
		"buyer":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"},"fulfillment_address":`+addr+`}`)
	c = call(acp.V20250929, "/checkout_sessions/"+s["id"].(string)+"/complete", `{"payment_data":{"token":"`+grant()+`","provider":"stripe"}}`)
	if c["status"] != "completed" {
		t.Fatalf("2025-09-29 complete: %v", c)
	}
	sessions[s["id"].(string)] = total(c)

	// The emulated shop: one paid order per session, with its total.
	q := `{"query":"{ orders(first: 20) { nodes { sourceIdentifier displayFinancialStatus totalPriceSet { shopMoney { amount } } } } }"}`
	req, _ := http.NewRequest(http.MethodPost, m.Shopify.GraphQLURL, strings.NewReader(q))
	req.Header.Set("X-Shopify-Access-Token", m.Shopify.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var orders struct {
		Data struct {
			Orders struct {
				Nodes []struct {
					SourceIdentifier       string
					DisplayFinancialStatus string
					TotalPriceSet          struct{ ShopMoney struct{ Amount string } }
				}
			}
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&orders)
	resp.Body.Close()
	count := map[string]int{}
	for _, o := range orders.Data.Orders.Nodes {
		if want, ok := sessions[o.SourceIdentifier]; ok {
			count[o.SourceIdentifier]++
			if o.DisplayFinancialStatus != "PAID" || o.TotalPriceSet.ShopMoney.Amount != fmt.Sprintf("%d.%02d", want/100, want%100) {
				t.Errorf("order of %s: %s %s, session total %d", o.SourceIdentifier, o.DisplayFinancialStatus, o.TotalPriceSet.ShopMoney.Amount, want)
			}
		}
	}
	for id := range sessions {
		if count[id] != 1 {
			t.Errorf("session %s: %d orders in the shop, want 1", id, count[id])
		}
	}

	// The agent webhook: a signed order_create per purchase.
	creates := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(creates) < len(sessions) && time.Now().Before(deadline) {
		for _, d := range hook.take() {
			if err := orderevents.Verify([]byte(m.ACP.WebhookSecret), d.sig, d.body, time.Now()); err != nil {
				t.Errorf("a delivery does not verify: %v", err)
				continue
			}
			var ev struct {
				Type string
				Data struct {
					CheckoutSessionID string `json:"checkout_session_id"`
				}
			}
			_ = json.Unmarshal(d.body, &ev)
			if ev.Type == "order_create" {
				creates[ev.Data.CheckoutSessionID] = true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for id := range sessions {
		if !creates[id] {
			t.Errorf("no signed order_create for %s", id)
		}
	}
}

// agentHook is an agent's order-event webhook for the demo tests: it keeps
// what it receives, signature and body, until the test takes it.
type agentHook struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookDelivery
}

// hookDelivery is one order event as the agent received it.
type hookDelivery struct {
	sig  string
	body []byte
}

func newAgentHook(t *testing.T) *agentHook {
	t.Helper()
	h := &agentHook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookDelivery{r.Header.Get("Merchant-Signature"), b})
		h.mu.Unlock()
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	t.Cleanup(h.Close)
	return h
}

// take returns the deliveries received since the last take.
func (h *agentHook) take() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.got
	h.got = nil
	return out
}
