package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app/apptest"
)

// TestRemoteWrappersDispatch drives the --server wrapper of sync through
// cobra, around a stand-in shaped like the local sync command.
func TestRemoteWrappersDispatch(t *testing.T) {
	t.Setenv("MKSYNC_TOKEN_B", "")
	d := apptest.Start(t, apptest.Options{RateLimitSync: 60})
	a := d.NewTenant(t, "A", true)
	d.Fake.SeedDemo(a.Company)
	t.Setenv("MKSYNC_TOKEN", a.Token.Reveal())

	localRuns := 0
	local := func(*cobra.Command, []string) error { localRuns++; return nil }
	run := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		s := streams{in: strings.NewReader(""), out: &out, err: &errOut}
		syncCmd := &cobra.Command{Use: "sync", Args: cobra.ExactArgs(1), RunE: local}
		fl := syncCmd.Flags()
		fl.String("tenant", "", "")
		fl.Bool("to-metakocka", false, "")
		fl.Bool("from-metakocka", false, "")
		fl.Bool("all", false, "")
		fl.StringArray("id", nil, "")
		fl.Bool("json", false, "")
		root := &cobra.Command{Use: "mksync", SilenceErrors: true, SilenceUsage: true}
		root.AddCommand(withRemoteSync(syncCmd, s))
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

	require.Zero(t, localRuns)
	_, err = run("sync", "products", "--to-metakocka", "--all")
	require.NoError(t, err)
	require.Equal(t, 1, localRuns, "without --server the local command runs")
	_, err = run("sync", "products", "--to-metakocka", "--all", "--token", "mks_x")
	require.ErrorContains(t, err, "needs --server")
}
