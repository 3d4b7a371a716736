package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateAgainstSimulator(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, "", "validate", "products")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Regexp(t, `^\d+ passed, 0 failed$`, lines[len(lines)-1])
	for _, l := range lines[:len(lines)-1] {
		require.True(t, strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "- "), l)
	}
	require.Contains(t, out, "no duplicate after commit-then-fail")
}

func TestValidateNeedsBothURLAndCompany(t *testing.T) {
	t.Parallel()
	_, _, err := runCLI(t, "", "validate", "all", "--company-id", "16")
	require.Error(t, err)
	var ee exitError
	require.False(t, errors.As(err, &ee))
}
