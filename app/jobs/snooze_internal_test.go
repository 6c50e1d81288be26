package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/shopify"
)

// TestSnoozeThrottled: a job that failed for the shop's Shopify budget
// snoozes until the points are back; any other outcome passes unchanged.
func TestSnoozeThrottled(t *testing.T) {
	t.Parallel()
	other := errors.New("boom")
	for _, tc := range []struct {
		name       string
		err        error
		wantSnooze time.Duration // 0: not snoozed
	}{
		{"throttled with its wait", fmt.Errorf("process webhook 3: %w", &shopify.ThrottledError{RetryAfter: 3100 * time.Millisecond}), 3100 * time.Millisecond},
		{"throttled, no wait known", fmt.Errorf("x: %w", shopify.ErrThrottled), 0},
		{"another error", other, 0},
		{"success", nil, 0},
	} {
		got := snoozeThrottled(tc.err)
		var snooze *river.JobSnoozeError
		switch {
		case tc.wantSnooze > 0 && (!errors.As(got, &snooze) || snooze.Duration != tc.wantSnooze):
			t.Errorf("%s: %v, want a snooze of %v", tc.name, got, tc.wantSnooze)
		case tc.wantSnooze == 0 && got != tc.err:
			t.Errorf("%s: %v, want %v unchanged", tc.name, got, tc.err)
		}
	}
}
