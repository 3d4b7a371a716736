package metakocka_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves goroutines behind (a retry loop or
// iterator that outlives its call, a request that is never closed).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
