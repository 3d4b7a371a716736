package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/app/apptest"
)

func TestValidateAgainstSimulator(t *testing.T) {
	t.Parallel()
	out, _, err := runCLI(t, "", "validate", "products")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Regexp(t, `^\d+ passed, 0 failed, \d+ skipped$`, lines[len(lines)-1])
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

// TestValidateWithoutArgumentListsChoices: a bare `mksync validate` says
// what it can check instead of running anything, and exits non-zero.
func TestValidateWithoutArgumentListsChoices(t *testing.T) {
	t.Parallel()
	out, errOut, err := runCLI(t, "", "validate")
	require.Equal(t, exitError{code: 2}, err)
	require.Empty(t, out, "no check ran")
	for _, choice := range []string{"contacts", "products", "sales-documents", "all"} {
		require.Regexp(t, `(?m)^  `+choice+` +\S`, errOut)
	}

	_, _, err = runCLI(t, "", "validate", "invoices")
	require.ErrorContains(t, err, `invalid argument "invoices"`)
}

// TestValidateServerThroughCLI runs `mksync validate --server` against a
// deployment, with the token from the environment.
func TestValidateServerThroughCLI(t *testing.T) {
	t.Setenv("MKSYNC_TOKEN_B", "")
	d := apptest.Start(t, apptest.Options{RateLimitSync: 60})
	a := d.NewTenant(t, "A", true)
	t.Setenv("MKSYNC_TOKEN", a.Token.Reveal())

	out, errOut, err := runCLI(t, "", "validate", "contacts", "--server", d.URL)
	require.NoError(t, err, out)
	require.NotContains(t, out+errOut, a.Token.Reveal())
	require.True(t, strings.HasSuffix(out, "10 passed, 0 failed, 14 skipped\n"), out) // the address update, two matching and two merge checks need direct access

	_, _, err = runCLI(t, "", "validate", "all", "--token", "mks_x")
	require.ErrorContains(t, err, "need --server")
	_, _, err = runCLI(t, "", "validate", "all", "--server", d.URL, "--metakocka-url", "https://x.example")
	require.ErrorContains(t, err, "not both")
	t.Setenv("MKSYNC_TOKEN", "")
	_, _, err = runCLI(t, "", "validate", "contacts", "--server", d.URL)
	require.ErrorContains(t, err, "MKSYNC_TOKEN")
}
