package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/observe"
)

// entityArgs maps the CLI's entity names to entity types.
var entityArgs = map[string]mksync.EntityType{
	"contacts":        mksync.EntityContact,
	"products":        mksync.EntityProduct,
	"sales-documents": mksync.EntitySalesDocument,
}

func newSyncCmd(s streams) *cobra.Command {
	var (
		f        dbFlags
		tenantID string
		to, from bool
		all      bool
		ids      []string
		asJSON   bool
		dryRun   bool
		apply    string
	)
	cmd := &cobra.Command{
		Use:   "sync contacts|products|sales-documents --tenant ID --to-metakocka|--from-metakocka [--all | --id X ...]",
		Short: "Sync records of one tenant with Metakocka now and print the result",
		Long: `Run a sync of one tenant's contacts, products or sales documents with its
Metakocka company, in this process, against the configured database, and print
the SyncResult. --to-metakocka pushes CRM records (--id takes CRM ids);
--from-metakocka pulls Metakocka records (--id takes Metakocka mk_ids). --all
syncs every record (pushes skip unchanged ones; document pulls are
incremental). The run is stored as a sync run (trigger cli). Exit status 1
when any record failed.

--dry-run previews the sync instead: every record is decided as the sync
would, nothing is written to Metakocka, the records or their mappings, and
the plan is printed (totals, then per record: link to which mk_id by which
key, create, update field by field, conflict, ambiguous, fail). --apply RUN
then runs exactly that plan; a record whose state moved since the preview is
not written and is reported as failed (code conflict).`,
		Example: `  mksync sync contacts --tenant 0195... --to-metakocka --all
  mksync sync contacts --tenant 0195... --to-metakocka --all --dry-run
  mksync sync contacts --tenant 0195... --apply 0195...
  mksync sync products --tenant 0195... --from-metakocka --id 1600000042 --json`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"contacts", "products", "sales-documents"},
		RunE: func(cmd *cobra.Command, args []string) error {
			et := entityArgs[args[0]]
			switch {
			case tenantID == "":
				return errors.New("--tenant is required")
			case apply != "":
				if to || from || all || len(ids) > 0 || dryRun {
					return errors.New("--apply takes the preview's run id alone (its plan names the direction and the records)")
				}
				return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
					return applyCLI(cmd.Context(), s, f, st, tenantID, et, apply, asJSON)
				})
			case to == from:
				return errors.New("give exactly one of --to-metakocka and --from-metakocka")
			case all == (len(ids) > 0):
				return errors.New("give either --all or at least one --id")
			}
			dir := mksync.ToMetakocka
			if from {
				dir = mksync.FromMetakocka
			}
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				cfg, err := f.config()
				if err != nil {
					return err
				}
				run := mksync.SyncRun{EntityType: et, Direction: dir, Trigger: mksync.TriggerCLI, DryRun: dryRun}
				log := observe.WithCategory(cliLogger(s), observe.CatSync)
				if err := app.SyncNow(cmd.Context(), cfg, st, log, tenantID, &run, ids); err != nil {
					return err
				}
				if dryRun {
					return printPlan(cmd.Context(), s, st, run, asJSON)
				}
				if err := printResult(s, run, asJSON); err != nil {
					return err
				}
				if run.Result.Failed > 0 {
					return exitError{code: 1}
				}
				return nil
			})
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&tenantID, "tenant", "", "tenant id (required)")
	fl.BoolVar(&to, "to-metakocka", false, "push CRM records to Metakocka")
	fl.BoolVar(&from, "from-metakocka", false, "pull Metakocka records into the CRM")
	fl.BoolVar(&all, "all", false, "sync every record")
	fl.StringArrayVar(&ids, "id", nil, "a record to sync (CRM id, or mk_id with --from-metakocka); repeatable")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	fl.BoolVar(&dryRun, "dry-run", false, "preview: decide every record, write nothing, print the plan")
	fl.StringVar(&apply, "apply", "", "apply the plan of this preview run (from --dry-run)")
	return cmd
}

// printResult prints a finished run's result.
func printResult(s streams, run mksync.SyncRun, asJSON bool) error {
	res := run.Result
	if res.Errors == nil {
		res.Errors = []mksync.RecordError{}
	}
	if asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(s.out, "run %s: %s, %d processed\n", run.ID, run.Status, run.Processed)
	fmt.Fprintf(s.out, "created %d, updated %d, skipped %d, conflicts %d, failed %d, linked %d, ambiguous %d\n",
		res.Created, res.Updated, res.Skipped, res.Conflicts, res.Failed, res.Linked, res.Ambiguous)
	for _, e := range res.Errors {
		fmt.Fprintf(s.out, "  %s: %s: %s (errorId %s)\n", e.ID, e.Code, e.Error, e.ErrorID)
	}
	return nil
}
