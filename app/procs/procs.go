// Package procs sizes the Go scheduler to the load: one P (GOMAXPROCS=1)
// while the process uses little CPU, the runtime's default (one per core, or
// the container's limit) as soon as it uses more.
//
// Why: at a low request rate a server goes idle between almost every request.
// Each time a goroutine becomes runnable while another P is idle, the runtime
// wakes a second thread to look for work it rarely finds (a futex wake, a
// spin, a futex sleep). acpbench measured, at 20 conversations/s on 2 cores,
// 164 context switches per conversation with two Ps and 99 with one, and
// about a fifth less app CPU (docs/benchmarks.md, issue 17). Under load the
// second P is needed, so Scaler gives it back within one interval.
package procs

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// Defaults for Scaler. One P can use at most one core; raising above 0.6 of
// it keeps queueing delay low (a single server at 60% load waits about 1.5×
// a request's own time), and the band down to 0.3 keeps a load near a
// threshold from flapping. Lowering waits for calm to last, raising does
// not: a burst must not queue behind one P.
const (
	DefaultInterval  = time.Second
	DefaultUp        = 0.6
	DefaultDown      = 0.3
	DefaultDownAfter = 5
)

// Scaler switches GOMAXPROCS between 1 and the runtime's default by the
// process's CPU use over each interval.
type Scaler struct {
	Interval  time.Duration // how often CPU use is read
	Up        float64       // cores used over an interval above which the default is restored
	Down      float64       // cores used below which, for DownAfter intervals in a row, one P is used
	DownAfter int
	// CPUTime is the process's CPU time (user + system) so far.
	CPUTime func() (time.Duration, bool)
	// Set applies a decision: 1, or 0 for the runtime's default.
	Set    func(procs int)
	Logger *slog.Logger
}

// New returns a Scaler with the defaults, reading the process's CPU time
// and setting the runtime's GOMAXPROCS.
func New(logger *slog.Logger) *Scaler {
	return &Scaler{
		Interval: DefaultInterval, Up: DefaultUp, Down: DefaultDown, DownAfter: DefaultDownAfter,
		CPUTime: processCPU, Set: setRuntime, Logger: logger,
	}
}

// Enabled says whether scaling applies: not where the operator set
// GOMAXPROCS (their choice wins), not on one core (nothing to scale), not
// where the process's CPU time cannot be read.
func Enabled(getenv func(string) string) bool {
	if getenv("GOMAXPROCS") != "" || runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	_, ok := processCPU()
	return ok
}

// state is what one decision needs from the last.
type state struct {
	one  bool // running on one P
	calm int  // intervals in a row below Down
}

// next decides from one interval's CPU use (in cores).
func (s *Scaler) next(st state, cores float64) state {
	if cores > s.Up {
		return state{one: false}
	}
	if cores >= s.Down {
		return state{one: st.one}
	}
	st.calm++
	if !st.one && st.calm >= s.DownAfter {
		st.one = true
	}
	return st
}

// Run scales until ctx ends, then restores the runtime's default. It
// starts at the default: a replica starting under load must not queue.
func (s *Scaler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	var st state
	prevCPU, _ := s.CPUTime()
	prevAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			if st.one {
				s.Set(0)
			}
			return
		case now := <-t.C:
			cpu, ok := s.CPUTime()
			if !ok {
				continue
			}
			wall := now.Sub(prevAt)
			if wall <= 0 {
				continue
			}
			cores := float64(cpu-prevCPU) / float64(wall)
			prevCPU, prevAt = cpu, now
			nst := s.next(st, cores)
			if nst.one != st.one {
				procs := 0
				if nst.one {
					procs = 1
				}
				s.Set(procs)
				if s.Logger != nil {
					s.Logger.Debug("scheduler resized", "one_p", nst.one, "cores_used", cores)
				}
			}
			st = nst
		}
	}
}

// setRuntime applies a decision to the Go runtime. The default is restored
// with SetDefaultGOMAXPROCS, which also resumes the runtime's own updates
// when the container's CPU limit changes.
func setRuntime(procs int) {
	if procs == 1 {
		runtime.GOMAXPROCS(1)
		return
	}
	runtime.SetDefaultGOMAXPROCS()
}
