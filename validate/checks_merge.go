package validate

import (
	"context"
	"fmt"

	"github.com/mksync/mksync"
)

// mergeChecks are the checks of conflicts that decide (issue: a field-level
// three-way merge, and newest_wins deciding for every entity).
func mergeChecks(et mksync.EntityType) []check {
	return []check{mergeCheck(et), newestWinsCheck(et)}
}

// otherField is a second synced field of a record, beside the checked one
// (field): what the CRM changes while Metakocka changes the checked field.
func otherField(rec any) *string {
	switch r := rec.(type) {
	case *mksync.Contact:
		return &r.RegistrationNumber
	case *mksync.Product:
		return &r.Description
	case *mksync.SalesDocument:
		return &r.Notes
	}
	return nil
}

// mergeCheck: the CRM changes one field, Metakocka another; one run keeps
// both, with no conflict.
func mergeCheck(et mksync.EntityType) check {
	return check{name: "three-way merge", run: func(ctx context.Context, e *env) (string, error) {
		mk, id, mkID, err := e.pushNewDirect(ctx, et)
		if err != nil {
			return "", err
		}
		if err := mk.SetConflictPolicy(ctx, mksync.NewestWins); err != nil {
			return "", err
		}
		rec, err := e.Get(ctx, et, id)
		if err != nil {
			return "", err
		}
		crmValue := e.name("crm")
		*otherField(rec) = crmValue
		if err := e.Put(ctx, rec); err != nil {
			return "", err
		}
		mkValue := e.name("mk")
		if err := mk.SetRemote(ctx, et, mkID, mkValue); err != nil {
			return "", err
		}
		run, err := e.Run(ctx, et, []string{id})
		if err != nil {
			return "", err
		}
		if run.Result.Conflicts != 0 || run.Result.Failed != 0 {
			return "", fmt.Errorf("result %s, want no conflict: the two sides changed different fields", describeResult(run.Result))
		}
		got, err := e.Get(ctx, et, id)
		if err != nil {
			return "", err
		}
		if field(got) != mkValue || *otherField(got) != crmValue {
			return "", fmt.Errorf("CRM record has %q and %q, want Metakocka's %q and its own %q", field(got), *otherField(got), mkValue, crmValue)
		}
		if remote, err := mk.Remote(ctx, et, mkID); err != nil || remote != mkValue {
			return "", fmt.Errorf("the Metakocka record has %q (%v), want its own change %q kept", remote, err, mkValue)
		}
		return "both changes kept, 0 conflicts", nil
	}}
}

// newestWinsCheck: under newest_wins a change on one side only is no
// conflict, and the same field changed on both sides is decided (one
// value on both sides, the mapping synced), never left open.
func newestWinsCheck(et mksync.EntityType) check {
	return check{name: "newest_wins decides", run: func(ctx context.Context, e *env) (string, error) {
		mk, id, mkID, err := e.pushNewDirect(ctx, et)
		if err != nil {
			return "", err
		}
		if err := mk.SetConflictPolicy(ctx, mksync.NewestWins); err != nil {
			return "", err
		}
		if err := mk.SetRemote(ctx, et, mkID, e.name("mk-only")); err != nil {
			return "", err
		}
		if _, err := e.Pull(ctx, et, mkID); err != nil {
			return "", fmt.Errorf("pull: %w", err)
		}
		if _, err := e.change(ctx, e, et, id, "crm-only"); err != nil {
			return "", err
		}
		run, err := e.Run(ctx, et, []string{id})
		if err != nil {
			return "", err
		}
		if run.Result.Conflicts != 0 || run.Result.Failed != 0 {
			return "", fmt.Errorf("one side changed at a time: result %s, want no conflict", describeResult(run.Result))
		}
		crmValue, err := e.change(ctx, e, et, id, "crm")
		if err != nil {
			return "", err
		}
		if err := mk.SetRemote(ctx, et, mkID, e.name("mk")); err != nil {
			return "", err
		}
		if run, err = e.Run(ctx, et, []string{id}); err != nil {
			return "", err
		}
		if run.Result.Conflicts != 1 {
			return "", fmt.Errorf("same field on both sides: result %s, want 1 conflict", describeResult(run.Result))
		}
		m, _, err := e.Mapping(ctx, et, id)
		if err != nil || m.State != mksync.StateSynced {
			return "", fmt.Errorf("mapping %s (%v), want synced: newest_wins must decide", m.State, err)
		}
		got, err := e.Get(ctx, et, id)
		if err != nil {
			return "", err
		}
		remote, err := mk.Remote(ctx, et, mkID)
		if err != nil || remote != field(got) {
			return "", fmt.Errorf("CRM %q, Metakocka %q (%v): want one value on both sides", field(got), remote, err)
		}
		kept := "Metakocka's"
		if remote == crmValue {
			kept = "the CRM's"
		}
		return "one-side changes: 0 conflicts; both sides: decided, kept " + kept, nil
	}}
}
