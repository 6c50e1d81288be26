//go:build unix

package feed_test

import (
	"runtime"
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processMaxRSS is the peak resident set size of the test process, in
// bytes (Linux reports it in KiB, the BSDs and macOS in bytes).
func processMaxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "linux" {
		return int64(ru.Maxrss) << 10
	}
	return int64(ru.Maxrss)
}
