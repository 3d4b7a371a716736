package observe

import (
	"bytes"
	"sync"
)

// LogBuffer keeps log output in memory for a reader while loggers on other
// goroutines still write to it (a bytes.Buffer is not safe for that). Tests
// and in-process harnesses use it to look at what a component logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
