package testkit

import (
	"bytes"
	"sync"
)

// LogBuffer is a bytes.Buffer that a logger may write to from many
// goroutines while the test reads it: slog handlers, servers and child
// processes' output all write concurrently with the test's assertions, and a
// bare bytes.Buffer is a data race the race detector reports.
// The zero value is ready to use.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
