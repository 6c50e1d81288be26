package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// A Shared Payment Token works once: Stripe consumes it with the
// PaymentIntent it pays. So every purchase needs its own token, as from a
// real agent. The Stripe emulator grants them through its test helper
// (POST /v1/test_helpers/shared_payment/granted_tokens, loopback only,
// never struck by injected faults), which is what `demo` prints in
// demo.json as payment.stripe_url and payment.stripe_test_key.

// TokenFunc adapts a function (e.g. an in-process stripeemu.GrantToken)
// to a TokenSource.
type TokenFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// HelperTokens grants tokens through the Stripe emulator's test helper.
// Prefill grants a stock of them before a run, so the run measures the
// app and not the grants; Token takes from the stock and grants more when
// it runs out.
type HelperTokens struct {
	// StripeURL is the emulator's base URL; SecretKey the merchant
	// account's test key (demo.json payment.stripe_url, .stripe_test_key).
	StripeURL, SecretKey string
	// MaxAmount is each token's usage limit in cents (default 1,000,000).
	MaxAmount int64
	// Client defaults to a client with a 10 s timeout.
	Client *http.Client

	mu    sync.Mutex
	stock []string
}

// Prefill grants n tokens with 8 requests at a time.
func (h *HelperTokens) Prefill(ctx context.Context, n int) error {
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	per := (n + 7) / 8
	for w := 0; w < 8 && w*per < n; w++ {
		cnt := min(per, n-w*per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]string, 0, cnt)
			for range cnt {
				t, err := h.grant(ctx)
				if err != nil {
					errc <- err
					return
				}
				got = append(got, t)
			}
			h.mu.Lock()
			h.stock = append(h.stock, got...)
			h.mu.Unlock()
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// Token returns an unused token.
func (h *HelperTokens) Token(ctx context.Context) (string, error) {
	h.mu.Lock()
	if n := len(h.stock); n > 0 {
		t := h.stock[n-1]
		h.stock = h.stock[:n-1]
		h.mu.Unlock()
		return t, nil
	}
	h.mu.Unlock()
	return h.grant(ctx)
}

func (h *HelperTokens) grant(ctx context.Context) (string, error) {
	maxAmount := h.MaxAmount
	if maxAmount <= 0 {
		maxAmount = 1_000_000
	}
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	form := url.Values{"payment_method": {"pm_card_visa"}, "usage_limits[currency]": {"usd"},
		"usage_limits[max_amount]": {fmt.Sprint(maxAmount)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(h.StripeURL, "/")+"/v1/test_helpers/shared_payment/granted_tokens", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(h.SecretKey, "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Stripe-Version", "2026-04-22.preview")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("grant a token: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var tok struct{ ID string }
	if err := json.Unmarshal(b, &tok); err != nil || !strings.HasPrefix(tok.ID, "spt_") {
		return "", fmt.Errorf("grant a token: %d %s", resp.StatusCode, sample(b))
	}
	return tok.ID, nil
}
