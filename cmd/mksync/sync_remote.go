package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/client"
)

// withRemoteSync adds the --server mode to the sync command: with --server
// the sync runs in the named deployment, through its REST API (as a sync
// run the CLI waits for), instead of in this process against a database.
// It reads the command's own flags by name (--to-metakocka,
// --from-metakocka, --all, --id, --json). main wires it as
// withRemoteSync(newSyncCmd(s), s).
func withRemoteSync(cmd *cobra.Command, s streams) *cobra.Command {
	var f remoteFlags
	f.register(cmd, false)
	cmd.Long += `

With --server URL and --token T (or MKSYNC_TOKEN) the sync runs in that
deployment instead, for the token's tenant (no --tenant, no database): the
CLI queues a sync run through the REST API, waits for it and prints its
result.`
	cmd.Example += `
  MKSYNC_TOKEN=mks_… mksync sync contacts --to-metakocka --all --server https://mksync.example.com`
	local := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !f.enabled() {
			if f.token != "" {
				return errors.New("--token needs --server")
			}
			return local(c, args)
		}
		fl := c.Flags()
		if fl.Changed("dry-run") || fl.Changed("apply") {
			return errors.New("--dry-run and --apply run in this process; with --server, use the API's ?dryRun=true and POST /api/sync-runs/{id}/apply")
		}
		if fl.Changed("tenant") {
			return errors.New("--server: the token names the tenant; leave out --tenant")
		}
		to, _ := fl.GetBool("to-metakocka")
		from, _ := fl.GetBool("from-metakocka")
		all, _ := fl.GetBool("all")
		ids, _ := fl.GetStringArray("id")
		asJSON, _ := fl.GetBool("json")
		switch {
		case len(args) != 1:
			return errors.New("give one of contacts, products, sales-documents")
		case to == from:
			return errors.New("give exactly one of --to-metakocka and --from-metakocka")
		case all == (len(ids) > 0):
			return errors.New("give either --all or at least one --id")
		}
		et, ok := remoteEntity(args[0])
		if !ok {
			return fmt.Errorf("unknown entity %q", args[0])
		}
		dir := mksync.ToMetakocka
		if from {
			dir = mksync.FromMetakocka
		}
		return runSyncRemote(c.Context(), s, f, et, dir, ids, asJSON)
	}
	return cmd
}

// runSyncRemote queues a sync run of et in dir over ids (all records when
// none) in the deployment, waits for it, prints its result and returns
// exitError{1} when a record failed or the run did not succeed.
func runSyncRemote(ctx context.Context, s streams, f remoteFlags, et mksync.EntityType, dir mksync.Direction, ids []string, asJSON bool) error {
	c, err := f.newClient(f.token, "MKSYNC_TOKEN", remoteCallRetry())
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	var runID string
	if dir == mksync.ToMetakocka {
		runID, err = c.SyncAllToMetakocka(ctx, et, ids...)
	} else {
		runID, err = c.SyncAllFromMetakocka(ctx, et, ids...)
	}
	if err != nil {
		return fmt.Errorf("sync: start run: %w", err)
	}
	fmt.Fprintf(s.err, "sync run %s queued at %s; waiting\n", runID, c.BaseURL())
	run, err := c.WaitSyncRun(ctx, runID, client.WaitOptions{Interval: time.Second})
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := printResult(s, run, asJSON); err != nil {
		return err
	}
	if run.Result.Failed > 0 || run.Status != mksync.RunSucceeded {
		return exitError{code: 1}
	}
	return nil
}
