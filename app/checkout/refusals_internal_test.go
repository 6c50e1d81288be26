package checkout

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

func TestShopifyRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		err       error
		wantCode  app.Code
		wantAfter time.Duration
	}{
		{"throttled with its wait", fmt.Errorf("upsert: %w", &shopify.ThrottledError{RetryAfter: 2500 * time.Millisecond}), app.CodeRateLimited, 2500 * time.Millisecond},
		{"throttled, no wait known", fmt.Errorf("upsert: %w", shopify.ErrThrottled), app.CodeRateLimited, time.Second},
		{"Shopify down", fmt.Errorf("upsert: %w", shopify.ErrUnavailable), app.CodeUnavailable, 2 * time.Second},
		{"anything else", errors.New("boom"), app.CodeUnavailable, 2 * time.Second},
	} {
		got := shopifyRefusal(tc.err, "could not")
		if got.Code != tc.wantCode || got.RetryAfter != tc.wantAfter || got.Message == "" {
			t.Errorf("%s: %+v, want %s after %s", tc.name, got, tc.wantCode, tc.wantAfter)
		}
	}
}

// TestUnreachableQuoteThrottled: a quote Shopify could not give because of
// the shop's API budget carries the budget's wait (for the continue link's
// 429), one it could not give for another reason carries none; neither is
// complete, and both say retrying may work.
func TestUnreachableQuoteThrottled(t *testing.T) {
	t.Parallel()
	p := &Pricing{}
	for _, tc := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"throttled", fmt.Errorf("calculate: %w", &shopify.ThrottledError{RetryAfter: 4 * time.Second}), 4 * time.Second},
		{"down", fmt.Errorf("calculate: %w", shopify.ErrUnavailable), 0},
	} {
		q := p.unreachable(t.Context(), &app.Shop{Domain: "a.myshopify.com"}, Quote{Complete: true}, tc.err)
		if q.Throttled != tc.want || q.Complete || len(q.Messages) != 1 || q.Messages[0].Resolution != "recoverable" {
			t.Errorf("%s: throttled %s, complete %v, messages %+v; want %s", tc.name, q.Throttled, q.Complete, q.Messages, tc.want)
		}
	}
}
