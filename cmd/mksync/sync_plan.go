package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/observe"
)

// printPlan prints a finished preview: its totals, then every record of its
// plan (skipped records are only counted).
func printPlan(ctx context.Context, s streams, st mksync.Store, run mksync.SyncRun, asJSON bool) error {
	var items []mksync.PlanItem
	for after := ""; ; {
		page, next, err := st.FindPlanItems(ctx, run.TenantID, run.ID, mksync.Page{After: after, Limit: mksync.MaxPageLimit})
		if err != nil {
			return fmt.Errorf("read the plan of preview %s: %w", run.ID, err)
		}
		items = append(items, page...)
		if next == "" {
			break
		}
		after = next
	}
	res := run.Result
	if asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			RunID  string            `json:"runId"`
			Status mksync.RunStatus  `json:"status"`
			Result mksync.SyncResult `json:"result"`
			Items  []mksync.PlanItem `json:"items"`
		}{run.ID, run.Status, res, nonNilItems(items)})
	}
	fmt.Fprintf(s.out, "preview %s: %s, %d records decided, nothing written\n", run.ID, run.Status, run.Processed)
	fmt.Fprintf(s.out, "would create %d, link %d, update %d; %d need a decision (%d conflicts, %d ambiguous); skip %d, fail %d\n",
		res.Created, res.Linked, res.Updated, res.Conflicts+res.Ambiguous, res.Conflicts, res.Ambiguous, res.Skipped, res.Failed)
	for _, it := range items {
		fmt.Fprintf(s.out, "  %s  %s%s\n", it.Key, it.Action, planDetail(it))
		for _, c := range it.Changes {
			fmt.Fprintf(s.out, "      %s: %q → %q\n", c.Field, c.Old, c.New)
		}
	}
	fmt.Fprintf(s.out, "apply it with: mksync sync %s --tenant %s --apply %s\n", cliEntity(run.EntityType), run.TenantID, run.ID)
	return nil
}

// planDetail is what follows a plan item's action on its line.
func planDetail(it mksync.PlanItem) string {
	var b strings.Builder
	if it.MetakockaID != "" && it.MetakockaID != it.Key {
		fmt.Fprintf(&b, " mk_id %s", it.MetakockaID)
	}
	if it.LocalID != "" && it.LocalID != it.Key {
		fmt.Fprintf(&b, " crm id %s", it.LocalID)
	}
	if it.MatchedBy != "" {
		fmt.Fprintf(&b, " by %s", it.MatchedBy)
	}
	if len(it.Candidates) > 0 {
		fmt.Fprintf(&b, " candidates %s", strings.Join(it.Candidates, ", "))
	}
	if it.Reason != "" {
		fmt.Fprintf(&b, ": %s", it.Reason)
	}
	return b.String()
}

func nonNilItems(items []mksync.PlanItem) []mksync.PlanItem {
	if items == nil {
		return []mksync.PlanItem{}
	}
	return items
}

// cliEntity is the CLI's name of et.
func cliEntity(et mksync.EntityType) string {
	for name, t := range entityArgs {
		if t == et {
			return name
		}
	}
	return string(et)
}

// applyCLI applies the plan of the preview previewID in this process and
// prints the run's result; exit status 1 when a record failed (a record
// moved since the preview fails with code conflict).
func applyCLI(ctx context.Context, s streams, f dbFlags, st mksync.Store, tenantID string, et mksync.EntityType, previewID string, asJSON bool) error {
	run, ids, err := mksync.PrepareApply(ctx, st, tenantID, previewID)
	if err != nil {
		return err
	}
	if run.EntityType != et {
		return fmt.Errorf("preview %s is of %s, not %s", previewID, cliEntity(run.EntityType), cliEntity(et))
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	run.Trigger = mksync.TriggerCLI
	log := observe.WithCategory(cliLogger(s), observe.CatSync)
	if err := app.SyncNow(ctx, cfg, st, log, tenantID, &run, ids); err != nil {
		return err
	}
	if err := printResult(s, run, asJSON); err != nil {
		return err
	}
	if run.Result.Failed > 0 {
		return exitError{code: 1}
	}
	return nil
}
