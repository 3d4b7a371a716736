package mksync_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mksync/mksync"
)

// converting is an error of another package that presents itself as a
// domain error through an As method, as Metakocka's client errors do.
type converting struct{ wait time.Duration }

func (c converting) Error() string { return "upstream said wait" }

func (c converting) As(target any) bool {
	t, ok := target.(**mksync.Error)
	if !ok {
		return false
	}
	*t = &mksync.Error{Code: mksync.ERATELIMITED, Message: "wait", RetryAfter: c.wait}
	return true
}

func TestErrorRetryAfterFindsTheHintAnywhereInTheChain(t *testing.T) {
	hinted := &mksync.Error{Code: mksync.ERATELIMITED, RetryAfter: 7 * time.Second}
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"nil", nil, 0},
		{"plain error", errors.New("x"), 0},
		{"domain error without hint", mksync.Errorf(mksync.EUPSTREAM, "x"), 0},
		{"domain error with hint", hinted, 7 * time.Second},
		{"wrapped", fmt.Errorf("op: %w", hinted), 7 * time.Second},
		{"behind a domain error without hint", mksync.WrapError(mksync.EUPSTREAM, "push", hinted), 7 * time.Second},
		{"joined", errors.Join(errors.New("a"), hinted), 7 * time.Second},
		{"converting error", fmt.Errorf("op: %w", converting{wait: 3 * time.Second}), 3 * time.Second},
		{"converting error without hint", converting{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mksync.ErrorRetryAfter(tt.err); got != tt.want {
				t.Errorf("ErrorRetryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}
