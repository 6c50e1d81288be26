package procs

import (
	"os"
	"strings"
	"syscall"
)

// The Go runtime's monitor thread (sysmon) sleeps deeply whenever every P
// is idle, and the next system call any goroutine makes wakes it; it then
// bets that the program is busy again and polls every 20 µs for about a
// millisecond (runtime/proc.go says so). A server at a low request rate
// goes idle between almost every request, so it pays that bet several times
// per request: acpbench counted 164 context switches per conversation at
// 20/s, 82 with sysmon kept out of deep sleep, and 31 with that and one P
// (Scaler), for about 40% less app CPU (docs/benchmarks.md, issue 17).
//
// The runtime offers no API for this, and reads GODEBUG once at start, so
// the only switch is GODEBUG=schedtrace: with a scheduler trace due, sysmon
// never sleeps deeply and stays on its backed-off 10 ms period (100 wake-ups
// a second when idle instead of none). The period is the largest the runtime
// accepts, 2³¹−1 ms (24.8 days); the runtime prints one "SCHED" line to
// stderr when the period has passed since the host booted, so on a host up
// more than 24.8 days one such line appears at start and then every 24.8
// days.
const sysmonSetting = "schedtrace=2147483647"

// SysmonEnv returns environ with the setting added to GODEBUG, or false
// when it is not to be added: GODEBUG already names schedtrace (the
// operator's choice, or this process was re-executed already), or
// RUNTIME_TUNING is "off".
func SysmonEnv(environ []string) ([]string, bool) {
	var godebug string
	idx := -1
	for i, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "RUNTIME_TUNING":
			if strings.EqualFold(v, "off") {
				return nil, false
			}
		case "GODEBUG":
			godebug, idx = v, i
		}
	}
	for _, f := range strings.Split(godebug, ",") {
		if k, _, _ := strings.Cut(f, "="); strings.TrimSpace(k) == "schedtrace" {
			return nil, false
		}
	}
	out := append([]string(nil), environ...)
	if idx < 0 {
		return append(out, "GODEBUG="+sysmonSetting), true
	}
	// The setting goes first: where a key repeats, the runtime applies the
	// last, so nothing the operator wrote is overridden.
	v := sysmonSetting
	if godebug != "" {
		v += "," + godebug
	}
	out[idx] = "GODEBUG=" + v
	return out, true
}

// KeepSysmonAwake re-executes this program with SysmonEnv's environment
// (same process id, arguments and open files). It returns nil without doing
// anything when SysmonEnv says no, and an error when the program cannot be
// re-executed, in which case the caller simply goes on with Go's default.
// Call it first thing in main, before any goroutine or file matters.
func KeepSysmonAwake() error {
	env, ok := SysmonEnv(os.Environ())
	if !ok {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, env)
}
