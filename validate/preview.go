package validate

import (
	"context"
	"errors"
	"fmt"

	"github.com/mksync/mksync"
)

// previewCheck: a preview of a push of a changed record and a new one plans
// an update (field by field) and a create, and writes nothing: no write
// call to Metakocka, the Metakocka record as it was, no mapping for the new
// record and the changed record's mapping not synced again (its hashes and
// last sync time as they were).
func previewCheck(et mksync.EntityType) check {
	return check{name: "preview plans, writes nothing", run: func(ctx context.Context, e *env) (string, error) {
		pv, ok := e.Driver.(Previewer)
		if !ok {
			return "", skip("the target cannot run previews")
		}
		id, mkID, err := e.pushNew(ctx, et)
		if err != nil {
			return "", err
		}
		if _, err := e.change(ctx, e, et, id, "previewed"); err != nil {
			return "", fmt.Errorf("change: %w", err)
		}
		before, _, err := e.Mapping(ctx, et, id)
		if err != nil {
			return "", err
		}
		rec, err := e.create(ctx, e, et)
		if err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		newID := idOf(rec)
		var writes int64
		if sim := e.Simulator(); sim != nil {
			writes = sim.Writes()
		}
		remote, err := e.remoteValue(ctx, et, mkID)
		if err != nil {
			return "", err
		}
		run, plan, err := pv.Preview(ctx, et, []string{id, newID})
		if err != nil {
			return "", err
		}
		if !run.DryRun || run.Status != mksync.RunSucceeded {
			return "", fmt.Errorf("preview %s: dryRun %v, %s: %s", run.ID, run.DryRun, run.Status, describeResult(run.Result))
		}
		if err := planned(plan, id, mksync.PlanUpdateThere, newID); err != nil {
			return "", err
		}
		if sim := e.Simulator(); sim != nil && sim.Writes() != writes {
			return "", fmt.Errorf("%d write calls to Metakocka during a preview", sim.Writes()-writes)
		}
		if now, err := e.remoteValue(ctx, et, mkID); err != nil || now != remote {
			return "", errors.Join(err, fmt.Errorf("the Metakocka record changed during a preview: %q → %q", remote, now))
		}
		after, _, err := e.Mapping(ctx, et, id)
		if err != nil || after.PushedHash != before.PushedHash || after.PulledHash != before.PulledHash || !after.LastSyncedAt.Equal(before.LastSyncedAt) {
			return "", errors.Join(err, fmt.Errorf("a preview changed a mapping: %+v → %+v", before, after))
		}
		if _, found, err := e.Mapping(ctx, et, newID); err != nil || found {
			return "", errors.Join(err, errors.New("a preview wrote a mapping for a new record"))
		}
		return fmt.Sprintf("preview %s: update and create planned, 0 writes", run.ID), nil
	}}
}

// remoteValue reads the checked field of the Metakocka record mkID when the
// driver reaches Metakocka directly ("" otherwise).
func (e *env) remoteValue(ctx context.Context, et mksync.EntityType, mkID string) (string, error) {
	mk := e.Direct()
	if mk == nil {
		return "", nil
	}
	return mk.Remote(ctx, et, mkID)
}

// planned checks that the plan updates id (with its changes listed) and
// creates newID.
func planned(plan []mksync.PlanItem, id string, want mksync.PlanAction, newID string) error {
	var upd, crt bool
	for _, it := range plan {
		switch {
		case it.Key == id && it.Action == want && len(it.Changes) > 0:
			upd = true
		case it.Key == newID && it.Action == mksync.PlanCreateThere:
			crt = true
		}
	}
	if !upd || !crt {
		return fmt.Errorf("plan %+v: want %s of %s with its changes and a create of %s", plan, want, id, newID)
	}
	return nil
}
