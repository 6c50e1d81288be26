package procs

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNext: one P only after DownAfter calm intervals in a row, the default
// again at the first busy one, and no change inside the band.
func TestNext(t *testing.T) {
	s := &Scaler{Up: 0.6, Down: 0.3, DownAfter: 3}
	cases := []struct {
		name  string
		cores []float64
		want  []bool // one P after each interval
	}{
		{"calm long enough", []float64{0.1, 0.1, 0.1, 0.1}, []bool{false, false, true, true}},
		{"calm broken by the band", []float64{0.1, 0.1, 0.4, 0.1, 0.1}, []bool{false, false, false, false, false}},
		{"busy raises at once", []float64{0.1, 0.1, 0.1, 0.9, 0.1}, []bool{false, false, true, false, false}},
		{"the band keeps one P", []float64{0, 0, 0, 0.5, 0.59, 0.3}, []bool{false, false, true, true, true, true}},
		{"the band keeps the default", []float64{0.5, 0.45, 0.31}, []bool{false, false, false}},
		{"exactly Up stays", []float64{0, 0, 0, 0.6}, []bool{false, false, true, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var st state
			var got []bool
			for _, c := range tc.cores {
				st = s.next(st, c)
				got = append(got, st.one)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("one P after each interval = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRun: an idle process goes to one P, a busy one back to the default,
// and stopping restores the default.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	busy := false
	var cpu time.Duration
	last := time.Now()
	var sets []int
	s := &Scaler{
		Interval: 2 * time.Millisecond, Up: 0.6, Down: 0.3, DownAfter: 2,
		// Busy: two cores' worth of CPU per wall second; idle: none.
		CPUTime: func() (time.Duration, bool) {
			mu.Lock()
			defer mu.Unlock()
			now := time.Now()
			if busy {
				cpu += 2 * now.Sub(last)
			}
			last = now
			return cpu, true
		},
		Set: func(p int) {
			mu.Lock()
			defer mu.Unlock()
			sets = append(sets, p)
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	waitFor := func(what string, want []int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := slices.Clone(sets)
			mu.Unlock()
			if slices.Equal(got, want) {
				return
			}
			if len(got) > len(want) || time.Now().After(deadline) {
				t.Fatalf("%s: GOMAXPROCS decisions %v, want %v", what, got, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("idle", []int{1})
	mu.Lock()
	busy = true
	mu.Unlock()
	waitFor("busy", []int{1, 0})
	mu.Lock()
	busy = false
	mu.Unlock()
	waitFor("idle again", []int{1, 0, 1})
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sets, []int{1, 0, 1, 0}) {
		t.Errorf("after stopping: decisions %v, want the default restored last", sets)
	}
}

// TestSysmonEnv: the setting is added once, never over the operator's.
func TestSysmonEnv(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		want    string // GODEBUG after, "" when nothing is to be done
	}{
		{"no GODEBUG", []string{"PATH=/bin"}, sysmonSetting},
		{"other settings kept, theirs last", []string{"GODEBUG=http2client=0"}, sysmonSetting + ",http2client=0"},
		{"empty GODEBUG", []string{"GODEBUG="}, sysmonSetting},
		{"already set (re-executed)", []string{"GODEBUG=" + sysmonSetting}, ""},
		{"operator's schedtrace", []string{"GODEBUG=gctrace=1,schedtrace=1000"}, ""},
		{"operator's schedtrace=0", []string{"GODEBUG=schedtrace=0"}, ""},
		{"turned off", []string{"RUNTIME_TUNING=off", "PATH=/bin"}, ""},
		{"turned off, any case", []string{"RUNTIME_TUNING=OFF"}, ""},
		{"on", []string{"RUNTIME_TUNING=on"}, sysmonSetting},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, ok := SysmonEnv(tc.environ)
			if tc.want == "" {
				if ok {
					t.Fatalf("SysmonEnv = %v, want nothing to do", env)
				}
				return
			}
			if !ok {
				t.Fatal("SysmonEnv: nothing to do, want the setting added")
			}
			var got []string
			for _, kv := range env {
				if v, found := strings.CutPrefix(kv, "GODEBUG="); found {
					got = append(got, v)
				}
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("GODEBUG = %q, want exactly %q", got, tc.want)
			}
			wantLen := len(tc.environ)
			if !hasKey(tc.environ, "GODEBUG") {
				wantLen++ // GODEBUG added
			}
			if len(env) != wantLen {
				t.Errorf("environment %v lost or duplicated entries of %v", env, tc.environ)
			}
		})
	}
}

func hasKey(environ []string, k string) bool {
	for _, kv := range environ {
		if strings.HasPrefix(kv, k+"=") {
			return true
		}
	}
	return false
}

// TestSetRuntime: a decision reaches the Go runtime, and the default comes
// back as the runtime computes it.
func TestSetRuntime(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skip("one CPU: nothing to scale")
	}
	t.Cleanup(runtime.SetDefaultGOMAXPROCS)
	setRuntime(1)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("after one P: GOMAXPROCS = %d", got)
	}
	setRuntime(0)
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Fatalf("after the default: GOMAXPROCS = %d, want %d", got, def)
	}
}
