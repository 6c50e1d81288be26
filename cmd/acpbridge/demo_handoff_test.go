package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// TestDemoHandoffPurchase buys through `demo`'s second shop as the printed
// quickstart says: the session answers a continue_url instead of taking a
// payment, complete is refused, the buyer follows that URL (the app writes
// the draft order and redirects to its invoice, the emulator's checkout
// page) and pays there, and then the session reads completed with the Shopify
// order, the shop holds exactly one order for it with the session's total,
// and the agent webhook receives one signed order_create.
func TestDemoHandoffPurchase(t *testing.T) {
	t.Parallel()
	hook := newAgentHook(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started, _ := startDemo(t, ctx, "--agent-webhook-url", hook.URL+"/acp/events")
	var m struct {
		Handoff struct {
			Shop string `json:"shop"`
			ACP  struct {
				BaseURL       string `json:"base_url"`
				APIKey        string `json:"api_key"`
				WebhookSecret string `json:"webhook_secret"`
			} `json:"acp"`
			Items []struct {
				ID               string `json:"id"`
				RequiresShipping bool   `json:"requires_shipping"`
				Inventory        int    `json:"inventory"`
			} `json:"items"`
		} `json:"handoff"`
	}
	raw, err := os.ReadFile(started.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	h := m.Handoff
	item := ""
	for _, it := range h.Items {
		if it.RequiresShipping && it.Inventory > 5 {
			item = it.ID
			break
		}
	}
	if item == "" {
		t.Fatal("demo.json's handoff shop lists no item in stock")
	}

	call := func(method, path, body string, wantStatus int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, h.ACP.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.ACP.APIKey)
		req.Header.Set("API-Version", string(acp.V20260417))
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("handoff-%d", time.Now().UnixNano()))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, wantStatus)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if wantStatus < 300 {
			if err := acptest.Validate(acp.V20260417, acptest.SessionDef(out["order"] != nil), b); err != nil {
				t.Errorf("the answer does not match the 2026-04-17 schema: %v", err)
			}
		}
		return out
	}
	addr := `{"name":"Ada Lovelace","line_one":"1 Market St","city":"San Francisco","state":"CA","country":"US","postal_code":"94105"}`
	s := call(http.MethodPost, "/checkout_sessions", `{"line_items":[{"id":"`+item+`","quantity":2}],"currency":"usd","capabilities":{},
		"buyer":{"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace"},"fulfillment_details":{"name":"Ada Lovelace","address":`+addr+`}}`, http.StatusCreated)
	id, _ := s["id"].(string)
	continueURL, _ := s["continue_url"].(string)
	if s["status"] != "requires_escalation" || !strings.HasPrefix(continueURL, strings.TrimRight(started.AppURL, "/")+"/checkout/continue/") {
		t.Fatalf("handoff session: status %v, continue_url %q; want requires_escalation and the app's link", s["status"], continueURL)
	}
	var total int64 = -1
	for _, x := range s["totals"].([]any) {
		if tt := x.(map[string]any); tt["type"] == "total" {
			total = int64(tt["amount"].(float64))
		}
	}

	// complete is refused with the protocol's error, naming what to do.
	refused := call(http.MethodPost, "/checkout_sessions/"+id+"/complete",
		`{"payment_data":{"handler_id":"card_tokenized","instrument":{"type":"card","credential":{"type":"spt","token":"spt_x"}}}}`, http.StatusBadRequest)
	if refused["code"] != "requires_escalation" {
		t.Fatalf("complete on a handoff session: %v", refused)
	}

	// The buyer follows the link to Shopify's checkout (the emulator's
	// page) and pays there.
	page, err := http.Get(continueURL)
	if err != nil {
		t.Fatal(err)
	}
	pageBody, _ := io.ReadAll(page.Body)
	page.Body.Close()
	invoiceURL := page.Request.URL.String()
	if page.StatusCode != http.StatusOK || invoiceURL == continueURL || !strings.Contains(string(pageBody), fmt.Sprintf("%d.%02d", total/100, total%100)) {
		t.Fatalf("checkout page %s: %d, does not show the session total %d:\n%.600s", invoiceURL, page.StatusCode, total, pageBody)
	}
	// As demo-contract.md says, a POST to the continue_url itself pays: the
	// app's link passes it on to the checkout page (307, method kept).
	paid, err := http.Post(continueURL, "application/x-www-form-urlencoded", strings.NewReader("email=ada%40example.com"))
	if err != nil {
		t.Fatal(err)
	}
	paid.Body.Close()
	if paid.StatusCode != http.StatusOK || paid.Request.URL.String() != invoiceURL || paid.Request.Method != http.MethodPost {
		t.Fatalf("paying through the continue_url: %d at %s %s, want 200 from POST %s", paid.StatusCode, paid.Request.Method, paid.Request.URL, invoiceURL)
	}
	// Paying again makes no second order.
	again, err := http.Post(invoiceURL, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusConflict {
		t.Errorf("paying twice: %d, want 409", again.StatusCode)
	}

	// The session completes by itself, with the Shopify order.
	var done map[string]any
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		done = call(http.MethodGet, "/checkout_sessions/"+id, "", http.StatusOK)
		if done["status"] == "completed" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	order, _ := done["order"].(map[string]any)
	if done["status"] != "completed" || order == nil || order["id"] == "" || order["permalink_url"] == "" {
		t.Fatalf("after payment the session reads %v, order %v", done["status"], order)
	}

	// One signed order_create for the session.
	creates := 0
	for deadline := time.Now().Add(30 * time.Second); creates == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, d := range hook.take() {
			if err := orderevents.Verify([]byte(h.ACP.WebhookSecret), d.sig, d.body, time.Now()); err != nil {
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
			if ev.Type == "order_create" && ev.Data.CheckoutSessionID == id {
				creates++
			}
		}
	}
	time.Sleep(500 * time.Millisecond) // a second order_create would come now
	for _, d := range hook.take() {
		if strings.Contains(string(d.body), `"order_create"`) && strings.Contains(string(d.body), id) {
			creates++
		}
	}
	if creates != 1 {
		t.Errorf("order_create events for %s: %d, want 1", id, creates)
	}
}
