package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestThrottledShopAnswersGracefully puts a shop whose Shopify API budget
// is spent in front of agents, through the real routes on PostgreSQL:
//
//  1. a cart whose draft order Shopify throttles answers 429 with
//     Retry-After (not the 503 of an unreachable Shopify, not a 500), and
//     the same request sent again with the same Idempotency-Key runs
//     afresh (a 429 is not stored);
//  2. an agent that gives up while the app waits for Shopify leaves no
//     500 and no error line in the log (formerly "feed settings: context
//     canceled", logged as an internal error and answered 500);
//  3. with the bucket nearly empty and restoring a point a minute, quotes
//     answer at once with the protocol's recoverable message instead of
//     waiting for points, and the app stops sending calls Shopify would
//     throttle.
//
// No timing is asserted: counts, statuses and log lines only.
func TestThrottledShopAnswersGracefully(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabasePostgres)
	ctx := context.Background()
	a := e.agent(t, acp.V20260417)

	// 1. The draft order of a cart, throttled (an HTTP 429 from Shopify).
	if _, err := e.svc.Agents().SetCompletionMethod(ctx, e.sh.ID, app.CompletionShopifyCheckout); err != nil {
		t.Fatal(err)
	}
	create := map[string]any{"line_items": []any{map[string]any{"id": item(e.items.inStock, 1).ID, "quantity": 1}},
		"buyer": map[string]any{"email": "ada@example.com"}}
	e.failShopify("CreateDraftOrder", 1, http.StatusTooManyRequests)
	r := a.cartCall("POST", "/carts", "burst-cart", create)
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); r.status != http.StatusTooManyRequests || err != nil || secs < 1 ||
		r.str("code") != "rate_limit_exceeded" {
		t.Fatalf("cart with its draft throttled: %d, Retry-After %q: %s; want 429 rate_limit_exceeded with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	if hits := e.shopifyFaultHits(); hits != 1 {
		t.Fatalf("%d injected 429s hit, want 1", hits)
	}
	if r := a.cartCall("POST", "/carts", "burst-cart", create); r.status != http.StatusCreated || r.str("continue_url") == "" {
		t.Fatalf("the same cart request again: %d %s; want it run afresh and created", r.status, r.body)
	}
	// 1b. A session's draft order (the handoff, written when the buyer
	// follows continue_url), throttled: the buyer's page says 429 with
	// Retry-After, and following the link again goes on to the draft.
	sessionBody := a.createBody([]acp.ItemInput{item(e.items.inStock, 2)}, true, californiaAddress())
	r = a.do("POST", "/checkout_sessions", sessionBody)
	link := r.str("continue_url")
	if r.status != http.StatusCreated || link == "" {
		t.Fatalf("session: %d %s; want it handed to Shopify's checkout", r.status, r.body)
	}
	e.failShopify("CreateDraftOrder", 1, http.StatusTooManyRequests)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || err != nil || secs < 1 ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "Try again") {
		t.Fatalf("following the link with its draft throttled: %d, Retry-After %q:\n%s; want a 429 page with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), page)
	}
	if hits := e.shopifyFaultHits(); hits != 2 {
		t.Fatalf("%d injected 429s hit, want 2", hits)
	}
	if resp, err = noFollow.Get(link); err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") == "" {
		t.Fatalf("the link again: %v, %v; want a redirect to the draft", resp, err)
	}
	resp.Body.Close()
	a.headers = nil
	if _, err := e.svc.Agents().SetCompletionMethod(ctx, e.sh.ID, app.CompletionDelegatedPayment); err != nil {
		t.Fatal(err)
	}

	// 2. An agent that gives up while Shopify is slow.
	e.emu.SetLatency(5 * time.Second)
	body, _ := json.Marshal(a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
	req, _ := http.NewRequest("POST", a.base+"/checkout_sessions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("API-Version", string(a.version))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "burst-gone")
	impatient := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := impatient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the impatient agent got an answer (%d): the app did not wait for Shopify", resp.StatusCode)
	}
	// The app notices when its own calls end with the client's context.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(e.logs.String(), "client went away"); {
		if time.Now().After(deadline) {
			t.Fatalf("no line says the client went away:\n%s", e.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.emu.SetLatency(0)

	// 3. An almost empty bucket: 20 points at most, one back a minute.
	// (Last: the app's limiter goes on believing it, as it should.)
	e.emu.SetThrottle(20, 1.0/60)
	before := e.emu.Stats(testShop)
	// Each create to another state: a cart state priced before is
	// answered from the stored calculation, without asking Shopify.
	states := []string{"NY", "TX", "WA", "FL", "IL", "MA"}
	creates := len(states)
	for i, state := range states {
		addr := californiaAddress()
		addr["state"] = state
		r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, addr))
		// The first quote may still be paid for: the app learns the
		// bucket's new size from its answer.
		if r.status != http.StatusCreated || i > 0 && (r.str("status") == "ready_for_payment" || !hasRecoverable(r)) {
			t.Fatalf("create %d on a spent budget: %d %s; want 201, not ready, with a recoverable message", i, r.status, r.body)
		}
		// The message says how long the budget needs (a point a minute:
		// tens of seconds), as Retry-After would.
		if i > 0 && !regexp.MustCompile(`try again in [0-9]+ seconds`).Match(r.body) {
			t.Errorf("create %d on a spent budget: %s; want the wait in the message", i, r.body)
		}
	}
	// The app stops asking once it has seen the bucket: at most the
	// first quote's calls reach Shopify.
	after := e.emu.Stats(testShop)
	if sent := after.GraphQLCalls - before.GraphQLCalls; sent >= creates {
		t.Errorf("%d Shopify calls for %d quotes on a spent budget; want the app to give up before sending", sent, creates)
	}

	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"status":500`) {
			t.Errorf("logged: %s", line)
		}
	}
}

// hasRecoverable reports whether a session answer carries an error
// message that retrying may resolve.
func hasRecoverable(r response) bool {
	msgs, _ := r.m["messages"].([]any)
	for _, m := range msgs {
		if mm, ok := m.(map[string]any); ok && mm["type"] == "error" && mm["resolution"] == "recoverable" {
			return true
		}
	}
	return false
}
