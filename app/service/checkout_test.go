package service_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/shopify/emulator"
	"github.com/acpbridge/acpbridge/web"
)

// agent is an ACP client of one shop, as ChatGPT would be.
type agent struct {
	t       *testing.T
	base    string
	key     string
	version acp.Version
	// headers are added to every request (e.g. a signature).
	headers map[string]string
	seq     int
	// fast skips the schema check of answers (the load test, where the
	// check would be most of the client's CPU).
	fast bool
}

// checkoutEnv is a synced shop ready to sell to agents.
type checkoutEnv struct {
	*shopifyEnv
	sh    *app.Shop
	key   string
	items catalogItems
}

// catalogItems names the seeded variants by what they test.
type catalogItems struct {
	inStock, outOfStock, lowStock, digital emulator.Variant
	lowStockQty                            int
}

func newCheckoutEnv(t *testing.T, kind app.DatabaseKind) *checkoutEnv {
	t.Helper()
	e, sh, _ := syncedEnv(t, kind)
	ctx := context.Background()
	key, _, err := e.svc.Agents().CreateAPIKey(ctx, sh.ID, "test agent")
	if err != nil {
		t.Fatal(err)
	}
	if acct, err := e.svc.Agents().ConnectPayment(ctx, sh.ID, payment.ProviderName, e.stripe.RestrictedKey(testStripeAccount)); err != nil || acct != testStripeAccount {
		t.Fatalf("ConnectPayment = %q, %v", acct, err)
	}
	ce := &checkoutEnv{shopifyEnv: e, sh: e.shop(t), key: key}
	for _, p := range e.emu.Products(testShop) {
		if p.Status != "ACTIVE" || !p.Published {
			continue
		}
		for _, v := range p.Variants {
			switch {
			case !v.RequiresShipping:
				ce.items.digital = v
			case v.Tracked && v.InventoryPolicy == "DENY" && v.InventoryQuantity == 0:
				ce.items.outOfStock = v
			case v.Tracked && v.InventoryPolicy == "DENY" && v.InventoryQuantity >= 1 && v.InventoryQuantity <= 3:
				ce.items.lowStock, ce.items.lowStockQty = v, v.InventoryQuantity
			case v.Tracked && v.InventoryQuantity >= 5 && ce.items.inStock.ID == 0:
				ce.items.inStock = v
			}
		}
	}
	for name, v := range map[string]emulator.Variant{"in stock": ce.items.inStock, "out of stock": ce.items.outOfStock, "low stock": ce.items.lowStock, "digital": ce.items.digital} {
		if v.ID == 0 {
			t.Fatalf("the seeded catalog has no %s variant", name)
		}
	}
	return ce
}

func (e *checkoutEnv) agent(t *testing.T, v acp.Version) *agent {
	return &agent{t: t, base: web.ACPBaseURL(e.svc.URL(), testShop), key: e.key, version: v}
}

// response is one answer of the checkout API.
type response struct {
	status int
	header http.Header
	body   []byte
	m      map[string]any
}

func (r response) str(path ...string) string {
	var cur any = r.m
	for _, p := range path {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i, _ := strconv.Atoi(p)
			if i >= len(c) {
				return ""
			}
			cur = c[i]
		default:
			return ""
		}
	}
	switch c := cur.(type) {
	case string:
		return c
	case nil:
		return ""
	default:
		b, _ := json.Marshal(c)
		return string(b)
	}
}

// do sends one request with the agent's credentials and version, checks
// the answer against the version's JSON Schema (a session or an Error),
// and returns it.
func (a *agent) do(method, path string, body any) response {
	a.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			a.t.Fatal(err)
		}
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	if a.version != "" {
		req.Header.Set("API-Version", string(a.version))
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost {
		a.seq++
		req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%d-%p", a.t.Name(), a.seq, a))
	}
	for k, v := range a.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	if err := json.Unmarshal(b, &r.m); err != nil {
		a.t.Fatalf("%s %s: %d, not a JSON object: %q", method, path, resp.StatusCode, b)
	}
	if a.fast {
		return r
	}
	def := "Error"
	if resp.StatusCode < 300 {
		def = acptest.SessionDef(r.m["order"] != nil)
	}
	v := a.version
	if _, ok := acp.ParseVersion(string(v)); !ok {
		v = acp.V20260417 // version errors use the newest shape
	}
	if err := acptest.Validate(v, def, b); err != nil {
		a.t.Errorf("%s %s (%s): the %d answer does not match the %s schema: %v\n%s", method, path, a.version, resp.StatusCode, def, err, b)
	}
	if resp.StatusCode >= 500 {
		a.t.Errorf("%s %s: server error %d: %s", method, path, resp.StatusCode, b)
	}
	return r
}

// createBody is a create request of the agent's version.
func (a *agent) createBody(items []acp.ItemInput, buyer bool, address map[string]any) map[string]any {
	var lines []map[string]any
	for _, it := range items {
		lines = append(lines, map[string]any{"id": it.ID, "quantity": it.Quantity})
	}
	body := map[string]any{}
	if a.version == acp.V20250929 {
		body["items"] = lines
		if address != nil {
			body["fulfillment_address"] = address
		}
		if buyer {
			body["buyer"] = map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
		}
	} else {
		body["line_items"] = lines
		body["currency"] = "usd"
		body["capabilities"] = map[string]any{}
		if address != nil {
			body["fulfillment_details"] = map[string]any{"name": "Ada Lovelace", "address": address}
		}
		if buyer {
			body["buyer"] = map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
		}
	}
	return body
}

// addressUpdate is an update request setting the shipping address.
func (a *agent) addressUpdate(address map[string]any) map[string]any {
	if a.version == acp.V20250929 {
		return map[string]any{"fulfillment_address": address}
	}
	return map[string]any{"fulfillment_details": map[string]any{"name": "Ada Lovelace", "address": address}}
}

// selectOption is an update request choosing a fulfillment option.
func (a *agent) selectOption(id string) map[string]any {
	if a.version == acp.V20250929 {
		return map[string]any{"fulfillment_option_id": id}
	}
	return map[string]any{"selected_fulfillment_options": []map[string]any{{"type": "shipping", "option_id": id, "item_ids": []string{}}}}
}

func californiaAddress() map[string]any {
	return map[string]any{"name": "Ada Lovelace", "line_one": "1 Market St", "city": "San Francisco", "state": "CA", "country": "US", "postal_code": "94105"}
}

func item(v emulator.Variant, qty int) acp.ItemInput {
	return acp.ItemInput{ID: strconv.FormatInt(v.ID, 10), Quantity: qty}
}

// totals reads the session's totals by type.
func totals(t *testing.T, r response) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	ts, _ := r.m["totals"].([]any)
	for _, x := range ts {
		m := x.(map[string]any)
		out[m["type"].(string)] += int64(m["amount"].(float64))
	}
	return out
}

// messages lists "type/code@param" of the session's messages.
func messages(r response) []string {
	var out []string
	ms, _ := r.m["messages"].([]any)
	for _, x := range ms {
		m := x.(map[string]any)
		s := fmt.Sprint(m["type"])
		if c, ok := m["code"]; ok {
			s += "/" + fmt.Sprint(c)
		}
		if p, ok := m["param"]; ok {
			s += "@" + fmt.Sprint(p)
		}
		out = append(out, s)
	}
	return out
}

func hasMessage(r response, want string) bool {
	for _, m := range messages(r) {
		if strings.HasPrefix(m, want) {
			return true
		}
	}
	return false
}

// eachVersion runs fn once per supported ACP version.
func eachVersion(t *testing.T, fn func(t *testing.T, v acp.Version)) {
	for _, v := range acp.SupportedVersions {
		t.Run(string(v), func(t *testing.T) { fn(t, v) })
	}
}

// TestCheckoutConversation walks a purchase to ready_for_payment in each
// version: create, address, option choice, then cancel; every answer
// validates against the version's schema and its totals add up.
func TestCheckoutConversation(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		eachVersion(t, func(t *testing.T, v acp.Version) {
			a := e.agent(t, v)
			r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 2)}, true, nil))
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			id := r.str("id")
			if r.str("status") != "not_ready_for_payment" || !hasMessage(r, "error/missing@$.fulfillment") {
				t.Fatalf("create without address: status %s, messages %v", r.str("status"), messages(r))
			}
			if got := totals(t, r); got["items_base_amount"] != 2*e.items.inStock.PriceCents || got["total"] != got["subtotal"]+got["tax"] {
				t.Errorf("totals before the address = %v (unit price %d)", got, e.items.inStock.PriceCents)
			}
			if r.str("currency") != "usd" {
				t.Errorf("currency = %q", r.str("currency"))
			}

			r = a.do("POST", "/checkout_sessions/"+id, a.addressUpdate(californiaAddress()))
			if r.status != http.StatusOK || r.str("status") != "ready_for_payment" {
				t.Fatalf("address: %d status %s messages %v\n%s", r.status, r.str("status"), messages(r), r.body)
			}
			opts, _ := r.m["fulfillment_options"].([]any)
			if len(opts) < 2 {
				t.Fatalf("want at least two shipping options for California, got %s", r.str("fulfillment_options"))
			}
			links := r.str("links")
			wantLinks := []string{"terms_of_use", "privacy_policy", "return_policy", "shipping_policy", "contact_us", "/policies/shipping-policy"}
			if v == acp.V20250929 {
				wantLinks = []string{"terms_of_use", "privacy_policy", "seller_shop_policies"}
			}
			for _, w := range wantLinks {
				if !strings.Contains(links, w) {
					t.Errorf("links %s lack %q", links, w)
				}
			}
			tot := totals(t, r)
			if tot["tax"] <= 0 || tot["fulfillment"] < 0 {
				t.Errorf("California is taxed: totals %v", tot)
			}
			if tot["total"] != tot["subtotal"]-tot["discount"]+tot["fulfillment"]+tot["tax"] {
				t.Errorf("totals do not add up: %v", tot)
			}

			// Choose the dearer option: fulfillment follows.
			second := opts[1].(map[string]any)["id"].(string)
			r = a.do("POST", "/checkout_sessions/"+id, a.selectOption(second))
			if r.status != http.StatusOK || r.str("status") != "ready_for_payment" {
				t.Fatalf("select option: %d %s", r.status, r.body)
			}
			tot2 := totals(t, r)
			if tot2["fulfillment"] <= tot["fulfillment"] {
				t.Errorf("choosing %s: fulfillment %d, want more than %d", second, tot2["fulfillment"], tot["fulfillment"])
			}
			selected := r.str("fulfillment_option_id")
			if v == acp.V20260417 {
				selected = r.str("selected_fulfillment_options", "0", "option_id")
			}
			if selected != second {
				t.Errorf("selected option = %q, want %q", selected, second)
			}

			g := a.do("GET", "/checkout_sessions/"+id, nil)
			if g.status != http.StatusOK || !bytes.Equal(g.body, r.body) {
				t.Errorf("GET differs from the last answer:\n%s\n%s", g.body, r.body)
			}

			c := a.do("POST", "/checkout_sessions/"+id+"/cancel", nil)
			if c.status != http.StatusOK || c.str("status") != "canceled" {
				t.Fatalf("cancel: %d %s", c.status, c.body)
			}
			c = a.do("POST", "/checkout_sessions/"+id+"/cancel", nil)
			if c.status != http.StatusMethodNotAllowed {
				t.Errorf("second cancel: %d %s, want 405", c.status, c.body)
			}
			u := a.do("POST", "/checkout_sessions/"+id, a.addressUpdate(californiaAddress()))
			if u.status != http.StatusConflict {
				t.Errorf("update of a canceled session: %d %s, want 409", u.status, u.body)
			}
		})
	})
}

// TestCheckoutBusinessProblems: problems a buyer can fix are 2xx sessions
// with error messages pointing at the field, never protocol errors.
func TestCheckoutBusinessProblems(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	eachVersion(t, func(t *testing.T, v acp.Version) {
		a := e.agent(t, v)
		lines := "line_items"
		if v == acp.V20250929 {
			lines = "items"
		}
		tests := []struct {
			name    string
			items   []acp.ItemInput
			buyer   bool
			address map[string]any
			want    string
			ready   bool
		}{
			{"out of stock", []acp.ItemInput{item(e.items.outOfStock, 1)}, true, californiaAddress(), "error/out_of_stock@$." + lines + "[0]", false},
			{"more than in stock", []acp.ItemInput{item(e.items.lowStock, e.items.lowStockQty+1)}, true, californiaAddress(), "error/", false},
			// Not a problem yet: complete takes it (TestContactEmail).
			{"no buyer email", []acp.ItemInput{item(e.items.inStock, 1)}, false, californiaAddress(), "info@$.buyer.email", true},
			{"address not served", []acp.ItemInput{item(e.items.inStock, 1)}, true,
				map[string]any{"name": "A", "line_one": "1 Rue", "city": "Ulaanbaatar", "state": "UB", "country": "MN", "postal_code": "14200"}, "error/", false},
			{"digital needs no address", []acp.ItemInput{item(e.items.digital, 1)}, true, nil, "", true},
			{"low stock within stock", []acp.ItemInput{item(e.items.lowStock, e.items.lowStockQty)}, true, californiaAddress(), "", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := a.do("POST", "/checkout_sessions", a.createBody(tt.items, tt.buyer, tt.address))
				if r.status != http.StatusCreated {
					t.Fatalf("create: %d %s", r.status, r.body)
				}
				if got := r.str("status") == "ready_for_payment"; got != tt.ready {
					t.Errorf("status %s, messages %v", r.str("status"), messages(r))
				}
				if tt.want != "" && !hasMessage(r, tt.want) {
					t.Errorf("messages %v, want one starting %q", messages(r), tt.want)
				}
				if tt.name == "digital needs no address" {
					opts, _ := r.m["fulfillment_options"].([]any)
					if len(opts) != 1 || opts[0].(map[string]any)["type"] != "digital" {
						t.Errorf("digital cart options = %s", r.str("fulfillment_options"))
					}
				}
			})
		}
	})
}

// TestCheckoutBadInput: protocol problems are precise 4xx errors in the
// version's shape, and no session is left behind.
func TestCheckoutBadInput(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	count := func() int {
		var n int
		if err := e.db.QueryRow("SELECT COUNT(*) FROM checkout_sessions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ok := strconv.FormatInt(e.items.inStock.ID, 10)
	// A draft product's variant: in the catalog, never in the feed.
	var draft string
	for _, p := range e.emu.Products(testShop) {
		if p.Status == "DRAFT" {
			draft = strconv.FormatInt(p.Variants[0].ID, 10)
		}
	}
	if draft == "" {
		t.Fatal("the seeded catalog has no draft product")
	}
	eachVersion(t, func(t *testing.T, v acp.Version) {
		a := e.agent(t, v)
		lines := "line_items"
		if v == acp.V20250929 {
			lines = "items"
		}
		create := func(id string, qty int) string {
			b, _ := json.Marshal(a.createBody([]acp.ItemInput{{ID: id, Quantity: qty}}, true, nil))
			return string(b)
		}
		tests := []struct {
			name   string
			body   string
			ctype  string
			status int
			code   string
			param  string
		}{
			{"malformed json", `{"` + lines + `": [`, "", 400, "invalid_json", ""},
			// Unknown fields are ignored (TestUnknownFieldsEverywhere),
			// but never hide a real problem.
			{"unknown field and a wrong type", strings.Replace(strings.Replace(create(ok, 1), `{`, `{"surprise":1,`, 1), `"quantity":1`, `"quantity":"1"`, 1), "", 400, "invalid_type", "$." + lines + "[0].quantity"},
			{"wrong type", strings.Replace(create(ok, 1), `"quantity":1`, `"quantity":"1"`, 1), "", 400, "invalid_type", "$." + lines + "[0].quantity"},
			{"zero quantity", create(ok, 0), "", 400, "invalid", "$." + lines + "[0].quantity"},
			{"negative quantity", create(ok, -3), "", 400, "invalid", "$." + lines + "[0].quantity"},
			{"huge quantity", create(ok, 1_000_000), "", 400, "invalid", "$." + lines + "[0].quantity"},
			{"unknown item", create("999999999", 1), "", 400, "invalid", "$." + lines + "[0].id"},
			{"not a variant id", create("sku-123", 1), "", 400, "invalid", "$." + lines + "[0].id"},
			{"draft product", create(draft, 1), "", 400, "invalid", "$." + lines + "[0].id"},
			{"wrong content type", create(ok, 1), "text/plain", 415, "unsupported_media_type", ""},
			{"too large", `{"x":"` + strings.Repeat("a", 1<<20) + `"}`, "", 413, "request_too_large", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := count()
				if tt.ctype != "" {
					a.headers = map[string]string{"Content-Type": tt.ctype}
					defer func() { a.headers = nil }()
				}
				r := a.do("POST", "/checkout_sessions", tt.body)
				if r.status != tt.status || r.str("code") != tt.code || r.str("param") != tt.param || r.str("type") != "invalid_request" {
					t.Errorf("got %d %s, want %d code %s param %q", r.status, r.body, tt.status, tt.code, tt.param)
				}
				if r.str("message") == "" {
					t.Error("error without a message")
				}
				if after := count(); after != before {
					t.Errorf("a refused request left %d sessions behind", after-before)
				}
			})
		}
		t.Run("bad postal code", func(t *testing.T) {
			addr := californiaAddress()
			addr["postal_code"] = "ABCDE"
			r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, addr))
			if r.status != 400 || !strings.HasSuffix(r.str("param"), ".postal_code") {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
		t.Run("unknown session", func(t *testing.T) {
			for _, id := range []string{"cs_nosuchsession", "../../etc", "CS_UPPER"} {
				r := a.do("GET", "/checkout_sessions/"+id, nil)
				if r.status != 404 {
					t.Errorf("GET %s: %d %s", id, r.status, r.body)
				}
			}
		})
	})
	t.Run("version", func(t *testing.T) {
		for _, tt := range []struct{ version, code string }{{"", "missing_api_version"}, {"2024-01-01", "unsupported_api_version"}, {"latest", "unsupported_api_version"}} {
			a := e.agent(t, acp.Version(tt.version))
			r := a.do("POST", "/checkout_sessions", `{}`)
			if r.status != 400 || r.str("code") != tt.code || !strings.Contains(r.str("supported_versions"), "2025-09-29") {
				t.Errorf("API-Version %q: %d %s", tt.version, r.status, r.body)
			}
		}
	})
}

// TestCheckoutAuth: keys are per shop and revocable, several may be live,
// signatures are checked when sent and required when the shop says so.
func TestCheckoutAuth(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	v := acp.V20260417
	a := e.agent(t, v)
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.str("id")

	second, k2, err := e.svc.Agents().CreateAPIKey(ctx, e.sh.ID, "rotation")
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"first key": e.key, "second key": second} {
		b := &agent{t: t, base: a.base, key: key, version: v}
		if r := b.do("GET", "/checkout_sessions/"+id, nil); r.status != 200 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if err := e.svc.Agents().RevokeAPIKey(ctx, e.sh.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	refused := map[string]*agent{
		"no key":       {t: t, base: a.base, version: v},
		"unknown key":  {t: t, base: a.base, key: agents.APIKeyPrefix + "_bm90IGEga2V5IGF0IGFsbCwgbm90IGF0IGFsbCBubw", version: v},
		"revoked key":  {t: t, base: a.base, key: second, version: v},
		"feed token":   {t: t, base: a.base, key: "acpf_whatever", version: v},
		"another shop": {t: t, base: web.ACPBaseURL(e.svc.URL(), "other-shop.myshopify.com"), key: e.key, version: v},
	}
	for name, b := range refused {
		if r := b.do("GET", "/checkout_sessions/"+id, nil); r.status != 401 {
			t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
		}
	}

	// Signatures: optional until required; a sent one is always checked.
	sig, err := e.svc.Agents().RotateSigningSecret(ctx, e.sh.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"order_notes":"leave at the door"}`
	sign := func(ts, body, secret string) string {
		return base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(secret), ts, []byte(body)))
	}
	// Each signed case has its own Timestamp: a signature is accepted once
	// (replay protection), so two requests must not share one.
	now := strconv.FormatInt(time.Now().Unix(), 10)
	earlier := strconv.FormatInt(time.Now().Unix()-1, 10)
	cases := []struct {
		name    string
		require bool
		headers map[string]string
		status  int
	}{
		{"unsigned, optional", false, nil, 200},
		{"signed, optional", false, map[string]string{"Timestamp": now, "Signature": sign(now, body, sig)}, 200},
		{"bad signature, optional", false, map[string]string{"Timestamp": now, "Signature": sign(now, body, "wrong")}, 401},
		{"unsigned, required", true, nil, 401},
		{"signed, required", true, map[string]string{"Timestamp": earlier, "Signature": sign(earlier, body, sig)}, 200},
		{"RFC 3339 timestamp", true, map[string]string{"Timestamp": time.Now().UTC().Format(time.RFC3339), "Signature": sign(time.Now().UTC().Format(time.RFC3339), body, sig)}, 200},
		{"stale timestamp", true, map[string]string{"Timestamp": "1700000000", "Signature": sign("1700000000", body, sig)}, 401},
		{"body changed", true, map[string]string{"Timestamp": now, "Signature": sign(now, body+" ", sig)}, 401},
		{"garbled", true, map[string]string{"Timestamp": "soon", "Signature": "!!!"}, 401},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			st, err := e.svc.Agents().Settings(ctx, e.sh.ID)
			if err != nil {
				t.Fatal(err)
			}
			st.RequireSignature = tt.require
			if err := e.svc.Store().SaveACPSettings(ctx, *st); err != nil {
				t.Fatal(err)
			}
			a.headers = tt.headers
			defer func() { a.headers = nil }()
			r := a.do("POST", "/checkout_sessions/"+id, body)
			if r.status != tt.status {
				t.Errorf("%d %s, want %d", r.status, r.body, tt.status)
			}
		})
	}

	// Uninstalling the app stops every key of the shop.
	if err := e.svc.Store().UninstallShop(ctx, testShop); err != nil {
		t.Fatal(err)
	}
	if r := a.do("GET", "/checkout_sessions/"+id, nil); r.status != 401 {
		t.Errorf("after uninstall: %d %s", r.status, r.body)
	}
	if code, _, _ := get(t, a.base+"/.well-known/acp.json"); code != 404 {
		t.Errorf("discovery after uninstall: %d", code)
	}
}

// TestDiscovery: the public document validates and names the base URL.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	base := web.ACPBaseURL(e.svc.URL(), testShop)
	code, h, body := get(t, base+"/.well-known/acp.json")
	if code != 200 || !strings.Contains(h.Get("Cache-Control"), "max-age") {
		t.Fatalf("discovery: %d %v %s", code, h, body)
	}
	if err := acptest.Validate(acp.V20260417, "DiscoveryResponse", []byte(body)); err != nil {
		t.Errorf("discovery does not match the schema: %v\n%s", err, body)
	}
	var d struct {
		APIBaseURL string `json:"api_base_url"`
	}
	_ = json.Unmarshal([]byte(body), &d)
	if d.APIBaseURL != base {
		t.Errorf("api_base_url = %q, want %q", d.APIBaseURL, base)
	}
	if code, _, _ := get(t, web.ACPBaseURL(e.svc.URL(), "nobody.myshopify.com")+"/.well-known/acp.json"); code != 404 {
		t.Errorf("unknown shop: %d", code)
	}
}

// TestCheckoutDiscountsAndQuoteCache: codes Shopify accepts lower the
// lines; codes it refuses are warnings; an unchanged cart is not quoted
// again.
func TestCheckoutDiscountsAndQuoteCache(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.agent(t, acp.V20260417)
	body := a.createBody([]acp.ItemInput{item(e.items.inStock, 2)}, true, californiaAddress())
	r := a.do("POST", "/checkout_sessions", body)
	if r.status != http.StatusCreated || r.str("status") != "ready_for_payment" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id, before := r.str("id"), totals(t, r)

	calls := e.emu.Stats(testShop).GraphQLCalls
	g := a.do("POST", "/checkout_sessions/"+id, map[string]any{"order_notes": "gift wrap please"})
	if g.status != 200 {
		t.Fatalf("notes: %d %s", g.status, g.body)
	}
	// Price and stock come from the synced catalog (checked live only at
	// complete), and the cached quote saves the calculation.
	if n := e.emu.Stats(testShop).GraphQLCalls - calls; n != 0 {
		t.Errorf("an update that changes no quote input made %d Shopify calls, want 0", n)
	}

	r = a.do("POST", "/checkout_sessions/"+id, map[string]any{"discounts": map[string]any{"codes": []string{"welcome10", "NOPE"}}})
	if r.status != 200 {
		t.Fatalf("codes: %d %s", r.status, r.body)
	}
	after := totals(t, r)
	wantOff := before["items_base_amount"] / 10
	if got := after["items_discount"]; got < wantOff-1 || got > wantOff+1 {
		t.Errorf("WELCOME10 on %d: items_discount %d, want about %d (totals %v)", before["items_base_amount"], got, wantOff, after)
	}
	if after["total"] >= before["total"] || after["total"] != after["subtotal"]-after["discount"]+after["fulfillment"]+after["tax"] {
		t.Errorf("totals after the code: %v (before %v)", after, before)
	}
	if !hasMessage(r, "warning/discount_code_invalid") {
		t.Errorf("the unknown code is not reported: %v", messages(r))
	}
	if r.str("status") != "ready_for_payment" {
		t.Errorf("a refused code must not block payment: %s", r.str("status"))
	}
	// Clearing the codes restores the price.
	r = a.do("POST", "/checkout_sessions/"+id, map[string]any{"discounts": map[string]any{"codes": []string{}}})
	if got := totals(t, r); got["total"] != before["total"] {
		t.Errorf("after clearing codes: %v, want total %d", got, before["total"])
	}
}

// TestCheckoutShopifySlowOrDown: quoting gives up within its budget and
// the session says so; the next update, with Shopify back, is quoted.
func TestCheckoutShopifySlowOrDown(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	e.svc.Checkout().Pricer.(*checkout.Pricing).Timeout = 300 * time.Millisecond
	a := e.agent(t, acp.V20260417)
	for i, fault := range []struct {
		name   string
		inject func()
	}{
		{"slow", func() { e.emu.SlowNext(5, 3*time.Second) }},
		{"down", func() { e.emu.FailNext(5, http.StatusServiceUnavailable) }},
	} {
		t.Run(fault.name, func(t *testing.T) {
			fault.inject()
			start := time.Now()
			// A cart of its own: a calculation cached by an earlier
			// case would need no Shopify at all.
			r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1+i)}, true, californiaAddress()))
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("create took %v with Shopify %s; the budget is 300ms", took, fault.name)
			}
			if r.status != http.StatusCreated || r.str("status") != "not_ready_for_payment" {
				t.Fatalf("create with Shopify %s: %d %s", fault.name, r.status, r.body)
			}
			if !strings.Contains(string(r.body), `"resolution":"recoverable"`) {
				t.Errorf("no recoverable message: %v", messages(r))
			}
			e.emu.SlowNext(0, 0)
			e.emu.FailNext(0, 0)
			var u response
			waitFor(t, "Shopify back", func() bool {
				u = a.do("POST", "/checkout_sessions/"+r.str("id"), map[string]any{"order_notes": fault.name})
				return u.str("status") == "ready_for_payment"
			})
			if got := totals(t, u); got["tax"] == 0 {
				t.Errorf("quoted after recovery without tax: %v", got)
			}
		})
	}
}

// TestCheckoutExpiry: a session past its TTL is expired for every caller.
func TestCheckoutExpiry(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	a := e.agent(t, acp.V20260417)
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil))
	exp, err := time.Parse(time.RFC3339Nano, r.str("expires_at"))
	if err != nil || exp.Sub(time.Now()) < checkout.DefaultSessionTTL-time.Minute {
		t.Fatalf("expires_at %q: %v", r.str("expires_at"), err)
	}
	e.svc.Checkout().Now = func() time.Time { return exp.Add(time.Second) }
	g := a.do("GET", "/checkout_sessions/"+r.str("id"), nil)
	if g.status != 200 || g.str("status") != "expired" {
		t.Fatalf("after expiry: %d %s", g.status, g.body)
	}
	if u := a.do("POST", "/checkout_sessions/"+r.str("id"), map[string]any{"order_notes": "x"}); u.status != http.StatusConflict {
		t.Errorf("update of an expired session: %d %s", u.status, u.body)
	}
	if c := a.do("POST", "/checkout_sessions/"+r.str("id")+"/cancel", nil); c.status != http.StatusMethodNotAllowed {
		t.Errorf("cancel of an expired session: %d %s", c.status, c.body)
	}
}

// TestCheckoutConcurrentUpdates: parallel updates of one session (on two
// replicas) all land or are told to retry; none is lost silently.
func TestCheckoutConcurrentUpdates(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabasePostgres)
	replica := newReplica(t, e.shopifyEnv)
	a := e.agent(t, acp.V20260417)
	r := a.do("POST", "/checkout_sessions", a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, true, californiaAddress()))
	id := r.str("id")
	const n = 12
	results := make(chan response, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			b := &agent{t: t, base: a.base, key: a.key, version: a.version, seq: i * 1000}
			if i%2 == 1 {
				b.base = web.ACPBaseURL(replica.svc.URL(), testShop)
			}
			results <- b.do("POST", "/checkout_sessions/"+id, map[string]any{"line_items": []map[string]any{{"id": strconv.FormatInt(e.items.inStock.ID, 10), "quantity": i%3 + 1}}})
		}(i)
	}
	var ok, retry int
	for i := 0; i < n; i++ {
		switch r := <-results; r.status {
		case 200:
			ok++
		case 409:
			retry++
			if r.header.Get("Retry-After") == "" {
				t.Errorf("409 without Retry-After: %s", r.body)
			}
		default:
			t.Errorf("concurrent update: %d %s", r.status, r.body)
		}
	}
	if ok == 0 {
		t.Fatalf("no update succeeded (%d told to retry)", retry)
	}
	g := a.do("GET", "/checkout_sessions/"+id, nil)
	var rowVersion int64
	if err := e.db.QueryRow("SELECT row_version FROM checkout_sessions WHERE id = $1", id).Scan(&rowVersion); err != nil {
		t.Fatal(err)
	}
	if rowVersion != int64(ok)+1 {
		t.Errorf("%d updates succeeded but the row was written %d times", ok, rowVersion-1)
	}
	if tot := totals(t, g); tot["total"] != tot["subtotal"]+tot["fulfillment"]+tot["tax"]-tot["discount"] {
		t.Errorf("final totals do not add up: %v", tot)
	}
}
