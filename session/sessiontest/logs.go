package sessiontest

import (
	"bytes"
	"sync"
)

// Logs collects what a test's server writes to its logger from many goroutines, for the test to
// read (a token that must never be logged, a trace id that must be).
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
