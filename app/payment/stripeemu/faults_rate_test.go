package stripeemu_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestFailureRate strikes every request with a random fault and checks the
// mix (failures before processing, throttling, timeouts, answers lost after
// processing), then retries every request with its Idempotency-Key once the
// faults are off: each key ends with exactly one PaymentIntent, so the
// faults never charge twice a client that retries as Stripe advises.
func TestFailureRate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.emu.SetFailureRate(1, 11)
	b.emu.SetFaultHang(20 * time.Millisecond)
	// No keep-alive: a dropped answer is a transport error, not a silent
	// resend by net/http.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	post := func(key string, token string) (int, http.Header, string, error) {
		f := url.Values{"amount": {"2599"}, "currency": {"usd"}, "confirm": {"true"}, "capture_method": {"manual"},
			"payment_method_data[shared_payment_granted_token]": {token}, "metadata[checkout_session_id]": {key}}
		req, _ := http.NewRequest(http.MethodPost, b.emu.URL()+"/v1/payment_intents", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Stripe-Version", preview)
		req.Header.Set("Idempotency-Key", key)
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, "", err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(raw), nil
	}
	const n = 60
	kinds := map[string]int{}
	tokens := make([]string, n)
	for i := range n {
		tokens[i] = b.grant("approve") // helpers are never struck
		status, h, body, err := post(fmt.Sprintf("k%d", i), tokens[i])
		switch {
		case err != nil:
			kinds["dropped after processing"]++
		case status == http.StatusOK:
			kinds["slow answer after processing"]++
		case status == http.StatusInternalServerError && h.Get("Stripe-Should-Retry") == "true":
			kinds["500 after processing"]++
		case status == http.StatusTooManyRequests && strings.Contains(body, "rate_limit"):
			kinds["429"]++
		case status == http.StatusGatewayTimeout:
			kinds["timeout"]++
		case status >= 500 && strings.Contains(body, "api_error"):
			kinds["5xx before processing"]++
		default:
			t.Errorf("request %d: %d %s, want a fault", i, status, body)
		}
	}
	if len(kinds) != 6 {
		t.Errorf("fault kinds=%v, want all six", kinds)
	}
	if st := b.emu.Stats(); st.Faults != n {
		t.Errorf("faults=%d, want %d (every request struck)", st.Faults, n)
	}

	b.emu.SetFailureRate(0, 0)
	for i := range n {
		if status, _, body, err := post(fmt.Sprintf("k%d", i), tokens[i]); err != nil || status != http.StatusOK {
			t.Fatalf("retry %d: %d %s %v", i, status, body, err)
		}
	}
	perKey := map[string]int{}
	for _, in := range b.emu.Intents(acct) {
		perKey[in.Metadata["checkout_session_id"]]++
	}
	for i := range n {
		if k := fmt.Sprintf("k%d", i); perKey[k] != 1 {
			t.Errorf("key %s: %d intents, want 1", k, perKey[k])
		}
	}

	// ResetFaults turns the rate off as well.
	b.emu.SetFailureRate(1, 12)
	b.emu.ResetFaults()
	if r := b.call(t, http.MethodGet, "/v1/account", b.key, nil); r.status != http.StatusOK {
		t.Errorf("after ResetFaults: %d", r.status)
	}
}
