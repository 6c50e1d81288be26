package web

import (
	"errors"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

func TestKeyLimiter(t *testing.T) {
	t.Parallel()
	k := newKeyLimiter(10, 20) // 10/s, bursts of 20
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 20; i++ {
		if err := k.allow(1, now); err != nil {
			t.Fatalf("request %d of the burst refused: %v", i, err)
		}
	}
	err := k.allow(1, now)
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code != app.CodeRateLimited || ae.Reason != "rate_limit_exceeded" || ae.RetryAfter <= 0 || ae.RetryAfter > 100*time.Millisecond {
		t.Fatalf("21st request: %v (retry after %v), want rate_limit_exceeded within 100ms", err, ae)
	}
	if err := k.allow(2, now); err != nil {
		t.Errorf("another key shares the bucket: %v", err)
	}
	if err := k.allow(1, now.Add(100*time.Millisecond)); err != nil {
		t.Errorf("a token should be back after 100ms: %v", err)
	}
	// A refused request does not spend a token: after 100ms exactly one more fits.
	if err := k.allow(1, now.Add(100*time.Millisecond)); err == nil {
		t.Error("a second request in the same 100ms was allowed")
	}
	if newKeyLimiter(0, 0).allow(1, now) != nil {
		t.Error("a zero rate must mean no limit")
	}
}
