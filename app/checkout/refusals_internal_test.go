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
