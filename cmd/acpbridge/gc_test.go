package main

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: the server defaults apply only where the environment says
// nothing.
func TestTuneGC(t *testing.T) {
	prevPct := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPct)
		debug.SetMemoryLimit(prevLimit)
	})
	cases := []struct {
		name      string
		env       map[string]string
		wantPct   int
		wantLimit int64
	}{
		{"defaults", nil, serverGCPercent, serverMemoryLimit},
		{"GOGC set", map[string]string{"GOGC": "150"}, 100, serverMemoryLimit},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "2GiB"}, serverGCPercent, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			debug.SetMemoryLimit(1 << 40)
			tuneGC(func(k string) string { return tc.env[k] })
			pct := debug.SetGCPercent(100)
			limit := debug.SetMemoryLimit(1 << 40)
			if pct != tc.wantPct {
				t.Errorf("GOGC = %d, want %d", pct, tc.wantPct)
			}
			if want := tc.wantLimit; want < 0 && limit != 1<<40 || want >= 0 && limit != want {
				t.Errorf("memory limit = %d, want %d (−1: left alone)", limit, tc.wantLimit)
			}
		})
	}
}
