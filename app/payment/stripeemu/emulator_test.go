package stripeemu_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

const (
	acct  = "acct_1Shop"
	other = "acct_1Other"
	// preview is the Stripe-Version that takes the SPT parameter.
	preview = stripeemu.PreviewAPIVersion
)

type bundle struct {
	emu   *stripeemu.Emulator
	clock *testkit.Clock
	key   string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	c := testkit.NewClock(time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC))
	emu, err := stripeemu.New(stripeemu.Config{Accounts: []string{acct, other}, Now: c.Now, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	return &bundle{emu: emu, clock: c, key: emu.SecretKey(acct)}
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	body   map[string]any
}

// errField returns error.<name> of an error answer.
func (r reply) errField(name string) any {
	e, _ := r.body["error"].(map[string]any)
	return e[name]
}

// call sends a form request with the key, the headers given as pairs
// ("Stripe-Version", v, "Idempotency-Key", k) and the form.
func (b *bundle) call(t *testing.T, method, path, key string, form url.Values, headers ...string) reply {
	t.Helper()
	var body io.Reader
	u := b.emu.URL() + path
	if method == http.MethodGet {
		if len(form) > 0 {
			u += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
	}
	return reply{status: res.StatusCode, header: res.Header, body: m}
}

// charge creates and confirms a manual-capture intent for the token.
func (b *bundle) charge(t *testing.T, token, idem string, extra ...string) reply {
	t.Helper()
	f := url.Values{"amount": {"2599"}, "currency": {"usd"}, "confirm": {"true"}, "capture_method": {"manual"},
		"payment_method_data[shared_payment_granted_token]": {token}, "metadata[checkout_session_id]": {"cs_1"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	h := []string{"Stripe-Version", preview}
	if idem != "" {
		h = append(h, "Idempotency-Key", idem)
	}
	return b.call(t, http.MethodPost, "/v1/payment_intents", b.key, f, h...)
}

func (b *bundle) grant(kind string) string {
	return b.emu.GrantToken(acct, kind, "usd", 10_000, time.Time{})
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"NoKey", "", http.StatusUnauthorized},
		{"UnknownKey", "Bearer sk_test_0000000000000000000000000000", http.StatusUnauthorized},
		{"SecretKey", "Bearer " + b.key, http.StatusOK},
		{"RestrictedKey", "Bearer " + b.emu.RestrictedKey(acct), http.StatusOK},
		{"BasicAuth", "Basic " + basic(b.key+":"), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, b.emu.URL()+"/v1/account", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != tt.want {
				t.Fatalf("status=%d, want %d: %v", res.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusOK && body["id"] != acct {
				t.Errorf("account=%v", body["id"])
			}
			if tt.want == http.StatusUnauthorized {
				e := body["error"].(map[string]any)
				if e["type"] != "invalid_request_error" || e["message"] == "" {
					t.Errorf("error=%v", e)
				}
				if strings.Contains(e["message"].(string), "0000000000000000000000000000") {
					t.Error("the key is not redacted")
				}
			}
		})
	}
}

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.grant(stripeemu.KindApprove)
	first := b.charge(t, tok, "idem-1")
	if first.status != http.StatusOK {
		t.Fatalf("status=%d %v", first.status, first.body)
	}
	if id := first.header.Get("Request-Id"); !strings.HasPrefix(id, "req_") {
		t.Errorf("Request-Id=%q", id)
	}
	if v := first.header.Get("Stripe-Version"); v != preview {
		t.Errorf("Stripe-Version=%q, want the request's", v)
	}
	if first.header.Get("Idempotency-Key") != "idem-1" || first.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("headers=%v", first.header)
	}
	again := b.charge(t, tok, "idem-1")
	if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Original-Request") != first.header.Get("Request-Id") {
		t.Errorf("replay headers=%v", again.header)
	}
	if again.body["id"] != first.body["id"] {
		t.Errorf("replayed id=%v, want %v", again.body["id"], first.body["id"])
	}
	acctReply := b.call(t, http.MethodGet, "/v1/account", b.key, nil)
	if v := acctReply.header.Get("Stripe-Version"); v != stripeemu.DefaultAPIVersion {
		t.Errorf("default Stripe-Version=%q", v)
	}
	bad := b.call(t, http.MethodGet, "/v1/account", b.key, nil, "Stripe-Version", "yesterday")
	if bad.status != http.StatusBadRequest {
		t.Errorf("bad version: status=%d", bad.status)
	}
}

func TestPaymentIntentShapes(t *testing.T) {
	t.Parallel()

	t.Run("Approved", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.charge(t, b.grant(stripeemu.KindApprove), "k", "description", "Order 1")
		if r.status != http.StatusOK {
			t.Fatalf("status=%d %v", r.status, r.body)
		}
		for field, want := range map[string]any{
			"object": "payment_intent", "status": "requires_capture", "amount": 2599.0, "amount_capturable": 2599.0,
			"amount_received": 0.0, "currency": "usd", "capture_method": "manual", "livemode": false,
			"description": "Order 1", "next_action": nil, "last_payment_error": nil,
		} {
			if r.body[field] != want {
				t.Errorf("%s=%v, want %v", field, r.body[field], want)
			}
		}
		if id, _ := r.body["id"].(string); !strings.HasPrefix(id, "pi_") {
			t.Errorf("id=%v", r.body["id"])
		}
		if ch, _ := r.body["latest_charge"].(string); !strings.HasPrefix(ch, "ch_") {
			t.Errorf("latest_charge=%v", r.body["latest_charge"])
		}
		if pm, _ := r.body["payment_method"].(string); !strings.HasPrefix(pm, "pm_") {
			t.Errorf("payment_method=%v", r.body["payment_method"])
		}
		if md, _ := r.body["metadata"].(map[string]any); md["checkout_session_id"] != "cs_1" {
			t.Errorf("metadata=%v", r.body["metadata"])
		}
	})

	t.Run("AutomaticCapture", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.charge(t, b.grant(stripeemu.KindApprove), "k", "capture_method", "automatic")
		if r.body["status"] != "succeeded" || r.body["amount_received"] != 2599.0 {
			t.Errorf("intent=%v", r.body)
		}
	})

	t.Run("Declined", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.charge(t, b.grant(stripeemu.KindDecline), "k")
		if r.status != http.StatusPaymentRequired {
			t.Fatalf("status=%d, want 402", r.status)
		}
		if r.errField("type") != "card_error" || r.errField("code") != "card_declined" || r.errField("decline_code") != "generic_decline" {
			t.Errorf("error=%v", r.body["error"])
		}
		if ch, _ := r.errField("charge").(string); !strings.HasPrefix(ch, "ch_") {
			t.Errorf("charge=%v", r.errField("charge"))
		}
		pi, _ := r.errField("payment_intent").(map[string]any)
		if pi["status"] != "requires_payment_method" || pi["payment_method"] != nil {
			t.Errorf("payment_intent=%v", pi)
		}
		last, _ := pi["last_payment_error"].(map[string]any)
		if last["code"] != "card_declined" || last["decline_code"] != "generic_decline" {
			t.Errorf("last_payment_error=%v", last)
		}
	})

	t.Run("Requires3DS", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.charge(t, b.grant(stripeemu.KindRequires3DS), "k")
		na, _ := r.body["next_action"].(map[string]any)
		if r.body["status"] != "requires_action" || na["type"] != "use_stripe_sdk" {
			t.Fatalf("intent=%v", r.body)
		}
		withReturn := b.charge(t, b.grant(stripeemu.KindRequires3DS), "k2", "return_url", "https://shop.example/back")
		na, _ = withReturn.body["next_action"].(map[string]any)
		redirect, _ := na["redirect_to_url"].(map[string]any)
		if na["type"] != "redirect_to_url" || redirect["return_url"] != "https://shop.example/back" {
			t.Errorf("next_action=%v", na)
		}
		id := r.body["id"].(string)
		// Confirming without a 3-D Secure result changes nothing.
		same := b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/confirm", b.key, nil)
		if same.body["status"] != "requires_action" {
			t.Errorf("confirm without result: %v", same.body["status"])
		}
		done := b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/confirm", b.key, url.Values{
			"payment_method_options[card][three_d_secure][cryptogram]":                    {"AAABBBCCCDDDEEEFFFGGGHHHIII="},
			"payment_method_options[card][three_d_secure][transaction_id]":                {"f25084f0-5b16-4c0a-ae5d-b24808a95e4b"},
			"payment_method_options[card][three_d_secure][version]":                       {"2.2.0"},
			"payment_method_options[card][three_d_secure][electronic_commerce_indicator]": {"05"},
		})
		if done.status != http.StatusOK || done.body["status"] != "requires_capture" || done.body["next_action"] != nil {
			t.Errorf("confirm: %d %v", done.status, done.body)
		}
	})

	t.Run("RetryOnSameIntentWithNewToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		r := b.charge(t, b.grant(stripeemu.KindDecline), "k")
		pi := r.errField("payment_intent").(map[string]any)
		id := pi["id"].(string)
		again := b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/confirm", b.key,
			url.Values{"payment_method_data[shared_payment_granted_token]": {b.grant(stripeemu.KindApprove)}},
			"Stripe-Version", preview)
		if again.status != http.StatusOK || again.body["status"] != "requires_capture" {
			t.Errorf("confirm with a new token: %d %v", again.status, again.body)
		}
		v, _ := b.emu.Intent(id)
		if v.Attempts != 2 || v.Authorizations != 1 {
			t.Errorf("attempts=%d authorizations=%d", v.Attempts, v.Authorizations)
		}
	})

	t.Run("ConfirmWrongState", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.charge(t, b.grant(stripeemu.KindApprove), "k").body["id"].(string)
		r := b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/confirm", b.key, nil)
		if r.status != http.StatusBadRequest || r.errField("code") != "payment_intent_unexpected_state" {
			t.Fatalf("confirm of requires_capture: %d %v", r.status, r.body)
		}
		if pi, _ := r.errField("payment_intent").(map[string]any); pi["status"] != "requires_capture" {
			t.Errorf("error without the intent: %v", r.body)
		}
	})

	t.Run("PartialCapture", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.charge(t, b.grant(stripeemu.KindApprove), "k").body["id"].(string)
		over := b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/capture", b.key, url.Values{"amount_to_capture": {"2600"}})
		if over.status != http.StatusBadRequest || over.errField("code") != "amount_too_large" {
			t.Errorf("over capture: %d %v", over.status, over.body)
		}
		r := b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/capture", b.key, url.Values{"amount_to_capture": {"1000"}})
		if r.body["status"] != "succeeded" || r.body["amount_received"] != 1000.0 || r.body["amount_capturable"] != 0.0 {
			t.Errorf("capture: %v", r.body)
		}
		ref := b.call(t, http.MethodPost, "/v1/refunds", b.key, url.Values{"payment_intent": {id}, "amount": {"1001"}})
		if ref.errField("code") != "amount_too_large" {
			t.Errorf("refund above the captured amount: %v", ref.body)
		}
	})

	t.Run("ExpandLatestCharge", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		id := b.charge(t, b.grant(stripeemu.KindApprove), "k").body["id"].(string)
		r := b.call(t, http.MethodGet, "/v1/payment_intents/"+id, b.key, url.Values{"expand[0]": {"latest_charge"}})
		ch, _ := r.body["latest_charge"].(map[string]any)
		if ch["object"] != "charge" || ch["captured"] != false || ch["amount"] != 2599.0 {
			t.Errorf("latest_charge=%v", r.body["latest_charge"])
		}
		bad := b.call(t, http.MethodGet, "/v1/payment_intents/"+id, b.key, url.Values{"expand[0]": {"customer"}})
		if bad.status != http.StatusBadRequest {
			t.Errorf("unsupported expand: %d", bad.status)
		}
	})
}

func TestParameters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.grant(stripeemu.KindApprove)
	tests := []struct {
		name      string
		form      url.Values
		version   string
		wantCode  string
		wantParam string
	}{
		{"UnknownParameter", url.Values{"amount": {"100"}, "currency": {"usd"}, "colour": {"red"}}, preview,
			"parameter_unknown", "colour"},
		{"SPTNeedsPreviewVersion", url.Values{"amount": {"100"}, "currency": {"usd"}, "confirm": {"true"},
			"payment_method_data[shared_payment_granted_token]": {tok}}, "",
			"parameter_unknown", "payment_method_data[shared_payment_granted_token]"},
		{"MissingAmount", url.Values{"currency": {"usd"}}, preview, "parameter_missing", "amount"},
		{"BadAmount", url.Values{"amount": {"1.5"}, "currency": {"usd"}}, preview, "parameter_invalid_integer", "amount"},
		{"ConfirmWithoutPaymentMethod", url.Values{"amount": {"100"}, "currency": {"usd"}, "confirm": {"true"}}, preview,
			"parameter_missing", "payment_method"},
		{"BadCaptureMethod", url.Values{"amount": {"100"}, "currency": {"usd"}, "capture_method": {"later"}}, preview,
			"", "capture_method"},
		{"LongMetadataKey", url.Values{"amount": {"100"}, "currency": {"usd"},
			"metadata[" + strings.Repeat("k", 41) + "]": {"v"}}, preview, "", "metadata[" + strings.Repeat("k", 41) + "]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.version != "" {
				h = []string{"Stripe-Version", tt.version}
			}
			r := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, tt.form, h...)
			if r.status != http.StatusBadRequest || r.errField("type") != "invalid_request_error" {
				t.Fatalf("status=%d %v", r.status, r.body)
			}
			if got, _ := r.errField("code").(string); got != tt.wantCode {
				t.Errorf("code=%q, want %q", got, tt.wantCode)
			}
			if r.errField("param") != tt.wantParam {
				t.Errorf("param=%v, want %q", r.errField("param"), tt.wantParam)
			}
		})
	}
	// The token was never consumed by those failures.
	if s := b.emu.TokenState(tok); s != "active" {
		t.Errorf("token state=%s, want active", s)
	}
	// The late-2025 top-level parameter works in any version.
	r := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, url.Values{"amount": {"100"}, "currency": {"usd"},
		"confirm": {"true"}, "shared_payment_granted_token": {tok}})
	if r.status != http.StatusOK || r.body["status"] != "succeeded" {
		t.Errorf("legacy parameter: %d %v", r.status, r.body)
	}
}

func TestTokenHelpers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	expires := b.clock.Now().Add(time.Hour).Unix()
	g := b.call(t, http.MethodPost, "/v1/test_helpers/shared_payment/granted_tokens", b.key, url.Values{
		"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"5000"},
		"usage_limits[expires_at]": {jsonInt(expires)}, "seller_details[network_id]": {"internal"},
	})
	if g.status != http.StatusOK {
		t.Fatalf("grant: %d %v", g.status, g.body)
	}
	id, _ := g.body["id"].(string)
	limits, _ := g.body["usage_limits"].(map[string]any)
	if !strings.HasPrefix(id, "spt_") || g.body["object"] != "shared_payment.granted_token" ||
		limits["max_amount"] != 5000.0 || limits["currency"] != "usd" || limits["expires_at"] != float64(expires) {
		t.Errorf("token=%v", g.body)
	}
	got := b.call(t, http.MethodGet, "/v1/shared_payment/granted_tokens/"+id, b.key, nil)
	if got.body["id"] != id || got.body["deactivated_reason"] != nil {
		t.Errorf("retrieve: %v", got.body)
	}
	if r := b.call(t, http.MethodGet, "/v1/shared_payment/granted_tokens/"+id, b.emu.SecretKey(other), nil); r.status != http.StatusNotFound {
		t.Errorf("retrieve from another account: %d", r.status)
	}
	if r := b.charge(t, id, "k", "amount", "5001"); r.errField("code") != "amount_too_large" {
		t.Errorf("above max_amount: %v", r.body)
	}
	if r := b.charge(t, id, "k2", "amount", "5000"); r.status != http.StatusOK {
		t.Errorf("at max_amount: %d %v", r.status, r.body)
	}
	got = b.call(t, http.MethodGet, "/v1/shared_payment/granted_tokens/"+id, b.key, nil)
	if got.body["deactivated_reason"] != "consumed" {
		t.Errorf("after use: %v", got.body)
	}
	if r := b.charge(t, id, "k3", "amount", "100"); r.errField("code") != "token_already_used" {
		t.Errorf("second use: %v", r.body)
	}

	// Revoke.
	tok := b.grant(stripeemu.KindApprove)
	rv := b.call(t, http.MethodPost, "/v1/test_helpers/shared_payment/granted_tokens/"+tok+"/revoke", b.key, nil)
	if rv.body["deactivated_reason"] != "revoked" || b.emu.TokenState(tok) != "revoked" {
		t.Errorf("revoke: %v", rv.body)
	}
	if r := b.charge(t, tok, "k4"); r.errField("code") != "shared_payment_granted_token_revoked" {
		t.Errorf("revoked token: %v", r.body)
	}

	// Expiry follows the clock.
	exp := b.emu.GrantToken(acct, stripeemu.KindApprove, "usd", 10_000, b.clock.Now().Add(time.Minute))
	b.clock.Advance(time.Minute)
	if r := b.charge(t, exp, "k5"); r.errField("code") != "shared_payment_granted_token_expired" {
		t.Errorf("expired token: %v", r.body)
	}
	if s := b.emu.TokenState(exp); s != "expired" {
		t.Errorf("state=%s", s)
	}

	// Helper validation.
	for _, f := range []url.Values{
		{"usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100"}},
		{"payment_method": {"pm_card_visa"}, "usage_limits[max_amount]": {"100"}},
		{"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}},
		{"payment_method": {"pm_card_nope"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100"}},
		{"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100"},
			"usage_limits[expires_at]": {"1"}},
	} {
		if r := b.call(t, http.MethodPost, "/v1/test_helpers/shared_payment/granted_tokens", b.key, f); r.status != http.StatusBadRequest {
			t.Errorf("grant %v: status=%d", f, r.status)
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestIdempotency(t *testing.T) {
	t.Parallel()

	t.Run("OtherParameters", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tok := b.grant(stripeemu.KindApprove)
		b.charge(t, tok, "k")
		r := b.charge(t, tok, "k", "amount", "100")
		if r.status != http.StatusBadRequest || r.errField("type") != "idempotency_error" {
			t.Errorf("status=%d %v", r.status, r.body)
		}
		// The same key on another endpoint is refused too.
		id := b.emu.Intents(acct)[0].ID
		r = b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/capture", b.key, nil, "Idempotency-Key", "k")
		if r.errField("type") != "idempotency_error" {
			t.Errorf("other endpoint: %v", r.body)
		}
	})

	t.Run("ValidationErrorsAreNotStored", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := url.Values{"currency": {"usd"}}
		r := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, f, "Idempotency-Key", "v")
		if r.status != http.StatusBadRequest {
			t.Fatal(r.body)
		}
		f.Set("amount", "100")
		if r := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, f, "Idempotency-Key", "v"); r.status != http.StatusOK {
			t.Errorf("after a validation error the key is free: %d %v", r.status, r.body)
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f := url.Values{"amount": {"100"}, "currency": {"usd"}, "confirm": {"true"}, "payment_method": {"pm_card_visa"}}
		first := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, f, "Idempotency-Key", "e")
		b.clock.Advance(23 * time.Hour)
		if r := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, f, "Idempotency-Key", "e"); r.body["id"] != first.body["id"] {
			t.Error("replay within 24h expected")
		}
		b.clock.Advance(time.Hour)
		if r := b.call(t, http.MethodPost, "/v1/payment_intents", b.key, f, "Idempotency-Key", "e"); r.body["id"] == first.body["id"] {
			t.Error("after 24h the key is new again")
		}
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("FailNext", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, st := range []int{500, 502, 503, 429, 409} {
			b.emu.FailNext(1, st)
			r := b.call(t, http.MethodGet, "/v1/account", b.key, nil)
			if r.status != st || r.errField("type") == nil {
				t.Errorf("FailNext(%d): %d %v", st, r.status, r.body)
			}
		}
		if r := b.call(t, http.MethodGet, "/v1/account", b.key, nil); r.status != http.StatusOK {
			t.Errorf("after the faults: %d", r.status)
		}
		if st := b.emu.Stats(); st.Faults != 5 {
			t.Errorf("faults=%d", st.Faults)
		}
	})

	t.Run("HelpersAreNotFaulted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.emu.FailNext(1, 500)
		g := b.call(t, http.MethodPost, "/v1/test_helpers/shared_payment/granted_tokens", b.key, url.Values{
			"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"}, "usage_limits[max_amount]": {"100"}})
		if g.status != http.StatusOK {
			t.Errorf("helper: %d", g.status)
		}
		if r := b.call(t, http.MethodGet, "/v1/account", b.key, nil); r.status != 500 {
			t.Errorf("the fault is still pending for the API: %d", r.status)
		}
	})

	t.Run("FailAfterProcessingStoresTheResult", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.emu.FailAfterProcessing(1)
		tok := b.grant(stripeemu.KindApprove)
		r := b.charge(t, tok, "k")
		if r.status != 500 || r.header.Get("Stripe-Should-Retry") != "true" {
			t.Fatalf("status=%d headers=%v", r.status, r.header)
		}
		ins := b.emu.Intents(acct)
		if len(ins) != 1 || ins[0].Status != "requires_capture" || ins[0].Authorizations != 1 {
			t.Fatalf("intents=%+v", ins)
		}
		again := b.charge(t, tok, "k")
		if again.status != http.StatusOK || again.body["id"] != ins[0].ID || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry: %d %v", again.status, again.body)
		}
	})

	t.Run("SlowNextGivesUpWithTheClient", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.emu.SlowNext(1, 5*time.Second)
		c := &http.Client{Timeout: 100 * time.Millisecond}
		req, _ := http.NewRequest(http.MethodPost, b.emu.URL()+"/v1/payment_intents", strings.NewReader(url.Values{
			"amount": {"100"}, "currency": {"usd"}, "confirm": {"true"}, "payment_method": {"pm_card_visa"}}.Encode()))
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
			t.Fatal("expected a timeout")
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(b.emu.Intents(acct)); n != 0 {
			t.Errorf("intents=%d, want none: the client left before processing", n)
		}
	})

	t.Run("CloseEndsHungRequests", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.emu.HangNext(1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, _ := http.NewRequest(http.MethodGet, b.emu.URL()+"/v1/account", nil)
			req.Header.Set("Authorization", "Bearer "+b.key)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		time.Sleep(100 * time.Millisecond)
		start := time.Now()
		if err := b.emu.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		<-done
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("close took %v", d)
		}
	})
}

func TestCallsAndDeterminism(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.charge(t, b.grant(stripeemu.KindApprove), "k").body["id"].(string)
	b.call(t, http.MethodPost, "/v1/payment_intents/"+id+"/capture", b.key, nil)
	for path, want := range map[string]int{
		"/v1/payment_intents":                    1,
		"POST /v1/payment_intents":               1,
		"/v1/payment_intents/" + id + "/capture": 1,
		"/v1/payment_intents/{id}/capture":       1,
		"POST /v1/payment_intents/{id}/capture":  1,
		"/v1/refunds":                            0,
	} {
		if got := b.emu.Calls(path); got != want {
			t.Errorf("Calls(%q)=%d, want %d", path, got, want)
		}
	}

	// Same seed, same keys and ids.
	mk := func() (string, string) {
		e, err := stripeemu.New(stripeemu.Config{Accounts: []string{acct}, Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		return e.SecretKey(acct), e.GrantToken(acct, stripeemu.KindApprove, "usd", 100, time.Time{})
	}
	k1, t1 := mk()
	k2, t2 := mk()
	if k1 != k2 || t1 != t2 || !strings.HasPrefix(k1, "sk_test_") {
		t.Errorf("keys %s/%s tokens %s/%s", k1, k2, t1, t2)
	}
	if k1 == b.key {
		t.Error("another seed gives the same key")
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.call(t, http.MethodGet, "/v1/charges", b.key, nil)
	if r.status != http.StatusNotFound || r.errField("type") != "invalid_request_error" {
		t.Errorf("status=%d %v", r.status, r.body)
	}
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	emu, err := stripeemu.New(stripeemu.Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	k := emu.AddAccount("acct_1Demo")
	if emu.AddAccount("acct_1Demo") != k || emu.SecretKey("acct_1Demo") != k {
		t.Error("adding an account twice changed its key")
	}
	if gen := emu.AddAccount(""); gen == "" || gen == k {
		t.Errorf("generated account key=%q", gen)
	}
	ids := emu.Accounts()
	if len(ids) != 2 || !strings.HasPrefix(ids[0], "acct_") {
		t.Errorf("accounts=%v", ids)
	}
	if !strings.HasPrefix(emu.RestrictedKey("acct_1Demo"), "rk_test_") || emu.SecretKey("acct_nope") != "" {
		t.Error("keys")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("AddAccount(\"shop\") did not panic")
			}
		}()
		emu.AddAccount("shop")
	}()
	if _, err := stripeemu.New(stripeemu.Config{Accounts: []string{"bad"}}); err == nil {
		t.Error("New accepted an account id without acct_")
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.emu.SetLatency(500 * time.Millisecond)
	start := time.Now()
	b.call(t, http.MethodGet, "/v1/account", b.key, nil)
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("answered in %v, want at least the latency", d)
	}
	b.emu.FailAfterProcessing(3)
	b.emu.ResetFaults()
	start = time.Now()
	if r := b.charge(t, b.grant(stripeemu.KindApprove), "k"); r.status != http.StatusOK {
		t.Errorf("after ResetFaults: %d", r.status)
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("still slow after ResetFaults: %v", d)
	}
}
