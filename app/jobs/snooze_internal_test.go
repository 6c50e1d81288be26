package jobs

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
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

// TestSnoozeClaimed: a job that found its row claimed elsewhere snoozes
// until the claim ends (at least a second), through both workers' paths;
// other errors pass unchanged.
func TestSnoozeClaimed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		err      error
		min, max time.Duration // 0: not snoozed
	}{
		{"claimed for 10 s", fmt.Errorf("x: %w", &app.Claimed{Until: time.Now().Add(10 * time.Second)}), 9 * time.Second, 10 * time.Second},
		{"claim just past", &app.Claimed{Until: time.Now().Add(-time.Second)}, time.Second, time.Second},
		{"another error", errors.New("boom"), 0, 0},
	} {
		for _, got := range []error{snoozeClaimed(tc.err), snoozeThrottled(tc.err)} {
			var snooze *river.JobSnoozeError
			switch {
			case tc.max > 0 && (!errors.As(got, &snooze) || snooze.Duration < tc.min || snooze.Duration > tc.max):
				t.Errorf("%s: %v, want a snooze of %v to %v", tc.name, got, tc.min, tc.max)
			case tc.max == 0 && got != tc.err:
				t.Errorf("%s: %v, want it unchanged", tc.name, got)
			}
		}
	}
}
