package main

import "runtime/debug"

// Garbage collector defaults for a server process. Under load the collector
// took about a tenth of the app's CPU at Go's default (GOGC=100) while the
// live heap stays small (tens of MB; a million-item feed build peaks under
// 100 MB). Collecting when the heap has grown 4× instead of 2× cuts that
// work, and a soft memory limit makes the collector work harder again
// before the heap gets large. An operator's GOGC or GOMEMLIMIT wins.
const (
	serverGCPercent   = 400
	serverMemoryLimit = 1 << 30 // 1 GiB, soft
)

// tuneGC applies the server defaults the environment does not override. It
// returns what it set, for the log.
func tuneGC(getenv func(string) string) (gcPercent int, memoryLimit int64) {
	gcPercent, memoryLimit = -1, -1
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
		gcPercent = serverGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serverMemoryLimit)
		memoryLimit = serverMemoryLimit
	}
	return gcPercent, memoryLimit
}
