package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuTimes are CPU seconds (user + system) used so far by the replicas,
// by every local postgres process, and by this process (the driver and
// the emulators), and the replicas' context switches (every thread's,
// voluntary and not), read from /proc; zero where /proc is missing. At a
// low rate a Go server's CPU goes largely to waking up (issue 17), so the
// switches say how much of it the scheduler costs.
type cpuTimes struct {
	app, postgres, bench float64
	appSwitches          int64
}

// clockTick is USER_HZ, 100 on Linux.
const clockTick = 100.0

// procCPU reads utime+stime of one process from /proc/PID/stat.
func procCPU(pid string) (float64, string) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0, ""
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, ""
	}
	comm := s[open+1 : end]
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return 0, comm
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTick, comm
}

// procSwitches is the context switches of every thread of one process so
// far (threads that ended take theirs with them; Go rarely ends one).
func procSwitches(pid string) int64 {
	tasks, err := os.ReadDir(filepath.Join("/proc", pid, "task"))
	if err != nil {
		return 0
	}
	var n int64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc", pid, "task", t.Name(), "status"))
		if err == nil {
			n += switchesOf(string(b))
		}
	}
	return n
}

// switchesOf sums the voluntary and involuntary context switches of a
// /proc status file.
func switchesOf(status string) int64 {
	var n int64
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
			x, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			n += x
		}
	}
	return n
}

// readCPU sums the CPU of the given replica pids, of postgres processes
// and of this process. Postgres backends that ended during a run take
// their CPU with them, so the postgres figure is a lower bound.
func readCPU(replicas []int) cpuTimes {
	var c cpuTimes
	for _, pid := range replicas {
		v, _ := procCPU(strconv.Itoa(pid))
		c.app += v
		c.appSwitches += procSwitches(strconv.Itoa(pid))
	}
	c.bench, _ = procCPU(strconv.Itoa(os.Getpid()))
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if v, comm := procCPU(e.Name()); comm == "postgres" {
			c.postgres += v
		}
	}
	return c
}

// cpuShare is the CPU each part used between two readings, in cores.
func cpuShare(a, b cpuTimes, wall time.Duration) (app, pg, bench float64) {
	w := wall.Seconds()
	return (b.app - a.app) / w, (b.postgres - a.postgres) / w, (b.bench - a.bench) / w
}
