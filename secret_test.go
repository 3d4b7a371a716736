package mksync_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mksync/mksync"
)

func TestSecretNeverPrints(t *testing.T) {
	s := mksync.Secret("plain-8899")
	b, _ := json.Marshal(struct{ K mksync.Secret }{s})
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), string(b)} {
		if strings.Contains(out, "plain-8899") {
			t.Fatalf("secret leaked: %q", out)
		}
	}
	if s.Reveal() != "plain-8899" {
		t.Fatal("Reveal must return the plaintext")
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err  error
		code string
		msg  string
	}{
		{nil, "", ""},
		{fmt.Errorf("boom"), mksync.EINTERNAL, "internal error"},
		{mksync.Errorf(mksync.ENOTFOUND, "contact %s not found", "x"), mksync.ENOTFOUND, "contact x not found"},
		{fmt.Errorf("wrapped: %w", mksync.Errorf(mksync.EINVALID, "bad")), mksync.EINVALID, "bad"},
	}
	for _, tt := range tests {
		if got := mksync.ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
		}
		if got := mksync.ErrorMessage(tt.err); got != tt.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tt.err, got, tt.msg)
		}
	}
}
