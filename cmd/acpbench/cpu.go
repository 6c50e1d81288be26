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
// the emulators), read from /proc; zero where /proc is missing.
type cpuTimes struct{ app, postgres, bench float64 }

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

// readCPU sums the CPU of the given replica pids, of postgres processes
// and of this process. Postgres backends that ended during a run take
// their CPU with them, so the postgres figure is a lower bound.
func readCPU(replicas []int) cpuTimes {
	var c cpuTimes
	for _, pid := range replicas {
		v, _ := procCPU(strconv.Itoa(pid))
		c.app += v
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
