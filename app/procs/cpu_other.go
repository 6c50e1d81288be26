//go:build !unix

package procs

import "time"

// processCPU cannot be read here; Enabled reports false.
func processCPU() (time.Duration, bool) { return 0, false }
