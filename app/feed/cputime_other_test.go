//go:build !unix

package feed_test

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }

// processMaxRSS is not measured on this platform.
func processMaxRSS() int64 { return 0 }
