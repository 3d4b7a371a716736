package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/client"
	"github.com/mksync/mksync/client/clienttest"
)

func runValidateRemoteForTest(t *testing.T, f remoteFlags, target string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := runValidateRemote(context.Background(), streams{in: strings.NewReader(""), out: &out, err: &errOut}, f, target)
	for _, tok := range []string{f.token, f.tokenB, os.Getenv("MKSYNC_TOKEN")} {
		if tok != "" {
			require.NotContains(t, out.String()+errOut.String(), tok, "a token is never printed")
		}
	}
	return out.String(), err
}

func TestValidateRemotePassesAgainstADeployment(t *testing.T) {
	t.Setenv("MKSYNC_TOKEN", "")
	t.Setenv("MKSYNC_TOKEN_B", "")
	d := clienttest.Start(t, clienttest.Options{RateLimitSync: 60})
	a := d.NewTenant(t, "A", true)
	b := d.NewTenant(t, "B", true)
	d.Fake.SeedDemo(a.Company)

	out, err := runValidateRemoteForTest(t, remoteFlags{server: d.URL, token: a.Token.Reveal(), tokenB: b.Token.Reveal()}, "all")
	require.NoError(t, err, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Equal(t, "23 passed, 0 failed", lines[len(lines)-1], out)
	require.NotContains(t, out, "✗")
	for _, want := range []string{"✓ deployment:", "✓ contacts: create → sync → mapping visible", "✓ products: update → resync",
		"✓ sales-documents: unchanged resync reports skipped", "✓ contacts: pull from Metakocka", "✓ products: bad input → 400 envelope with errorId",
		"✓ sales-documents: another tenant's ids → 404", "✓ api: rate limit → 429 with Retry-After", "- cleanup: deleted 5 CRM records, 0 left"} {
		require.Contains(t, out, want)
	}

	// Everything it made in the CRM is gone; the Metakocka copies carry the prefix.
	ca, err := client.New(client.Config{BaseURL: d.URL, Token: a.Token})
	require.NoError(t, err)
	ctx := context.Background()
	cs, err := ca.ListContacts(ctx, client.ListOptions{Search: remoteValidatePrefix})
	require.NoError(t, err)
	require.Empty(t, cs.Items)
	ps, err := ca.ListProducts(ctx, client.ListOptions{Search: remoteValidatePrefix})
	require.NoError(t, err)
	require.Empty(t, ps.Items)
	for _, p := range d.Fake.Partners(a.Company) {
		if strings.Contains(p.Customer, "VALIDATE") {
			require.True(t, strings.HasPrefix(p.Customer, remoteValidatePrefix), p.Customer)
		}
	}
}

func TestValidateRemoteWithoutTokenB(t *testing.T) {
	t.Setenv("MKSYNC_TOKEN_B", "")
	d := clienttest.Start(t, clienttest.Options{RateLimitSync: 30})
	a := d.NewTenant(t, "A", true)
	t.Setenv("MKSYNC_TOKEN", a.Token.Reveal())
	out, err := runValidateRemoteForTest(t, remoteFlags{server: d.URL}, "products")
	require.NoError(t, err, out)
	require.Contains(t, out, "- products: another tenant's ids → 404 (skipped: no --token-b)")
	require.True(t, strings.HasSuffix(out, "8 passed, 0 failed\n"), out)
}

func TestValidateRemoteFails(t *testing.T) {
	t.Setenv("MKSYNC_TOKEN", "")
	t.Setenv("MKSYNC_TOKEN_B", "")
	d := clienttest.Start(t, clienttest.Options{NoEngine: true})
	unconnected := d.NewTenant(t, "no credentials", false)

	out, err := runValidateRemoteForTest(t, remoteFlags{server: d.URL, token: "mks_wrong"}, "contacts")
	require.Equal(t, exitError{code: 1}, err)
	require.Contains(t, out, "✗ deployment: reachable, token accepted, Metakocka connected: GET /api/contacts: 401 unauthorized")
	require.True(t, strings.HasSuffix(out, "0 passed, 1 failed\n"), out)

	out, err = runValidateRemoteForTest(t, remoteFlags{server: d.URL, token: unconnected.Token.Reveal()}, "contacts")
	require.Equal(t, exitError{code: 1}, err)
	require.Contains(t, out, "read Metakocka credentials")
	require.Contains(t, out, string(mksync.ENOTFOUND))

	_, err = runValidateRemoteForTest(t, remoteFlags{server: d.URL}, "contacts")
	require.ErrorContains(t, err, "MKSYNC_TOKEN")
	_, err = runValidateRemoteForTest(t, remoteFlags{server: d.URL, token: "x"}, "invoices")
	require.ErrorContains(t, err, "unknown target")
}

// TestRemoteWrappersDispatch drives the --server wrappers through cobra,
// around stand-ins shaped like the local validate and sync commands.
func TestRemoteWrappersDispatch(t *testing.T) {
	t.Setenv("MKSYNC_TOKEN_B", "")
	d := clienttest.Start(t, clienttest.Options{RateLimitSync: 60})
	a := d.NewTenant(t, "A", true)
	d.Fake.SeedDemo(a.Company)
	t.Setenv("MKSYNC_TOKEN", a.Token.Reveal())

	localRuns := 0
	local := func(*cobra.Command, []string) error { localRuns++; return nil }
	run := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		s := streams{in: strings.NewReader(""), out: &out, err: &errOut}
		validate := &cobra.Command{Use: "validate", Args: cobra.ExactArgs(1), RunE: local}
		syncCmd := &cobra.Command{Use: "sync", Args: cobra.ExactArgs(1), RunE: local}
		fl := syncCmd.Flags()
		fl.String("tenant", "", "")
		fl.Bool("to-metakocka", false, "")
		fl.Bool("from-metakocka", false, "")
		fl.Bool("all", false, "")
		fl.StringArray("id", nil, "")
		fl.Bool("json", false, "")
		root := &cobra.Command{Use: "mksync", SilenceErrors: true, SilenceUsage: true}
		root.AddCommand(withRemoteValidate(validate, s), withRemoteSync(syncCmd, s))
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		require.NotContains(t, out.String()+errOut.String(), a.Token.Reveal())
		return out.String(), err
	}

	out, err := run("sync", "products", "--from-metakocka", "--all", "--server", d.URL)
	require.NoError(t, err, out)
	require.Contains(t, out, ": succeeded, 30 processed")
	require.Contains(t, out, "created 30, updated 0, skipped 0, conflicts 0, failed 0")

	out, err = run("sync", "products", "--to-metakocka", "--all", "--json", "--server", d.URL)
	require.NoError(t, err, out)
	var res mksync.SyncResult
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, 30, res.Skipped, "pulled products are unchanged")

	_, err = run("sync", "products", "--to-metakocka", "--id", "missing", "--server", d.URL)
	require.ErrorContains(t, err, "404 not_found")
	_, err = run("sync", "products", "--to-metakocka", "--all", "--tenant", "x", "--server", d.URL)
	require.ErrorContains(t, err, "leave out --tenant")

	out, err = run("validate", "contacts", "--server", d.URL)
	require.NoError(t, err, out)
	require.True(t, strings.HasSuffix(out, "8 passed, 0 failed\n"), out)

	require.Zero(t, localRuns)
	_, err = run("sync", "products", "--to-metakocka", "--all")
	require.NoError(t, err)
	_, err = run("validate", "all")
	require.NoError(t, err)
	require.Equal(t, 2, localRuns, "without --server the local commands run")
	_, err = run("validate", "all", "--token", "mks_x")
	require.ErrorContains(t, err, "need --server")
}
