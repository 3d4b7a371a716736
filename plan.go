package mksync

import (
	"context"
	"encoding/json"
	"fmt"
)

// PlanAction is what a preview (a dry-run sync run) says a sync would do to
// one record (docs/mapping.md, "Preview").
type PlanAction string

// The plan actions.
const (
	// PlanLink: the record would be linked to an existing record on the
	// other side (MetakockaID, or LocalID on a pull) matched by Key.
	PlanLink PlanAction = "link"
	// PlanCreateThere: a new Metakocka record would be created.
	PlanCreateThere PlanAction = "create_in_metakocka"
	// PlanCreateHere: a new CRM record would be created.
	PlanCreateHere PlanAction = "create_in_crm"
	// PlanUpdateThere / PlanUpdateHere: the record on that side would be
	// updated, field by field as Changes say.
	PlanUpdateThere PlanAction = "update_in_metakocka"
	PlanUpdateHere  PlanAction = "update_in_crm"
	// PlanDeleteThere: the Metakocka record of a record deleted in the
	// CRM (a tombstone; Key is the deleted record's local id) would be
	// deleted there by the tenant's deletion policy (delete_in_metakocka:
	// product_delete for a product, delete_document for a sales order).
	PlanDeleteThere PlanAction = "delete_in_metakocka"
	// PlanConflict: both sides changed; Reason says what the policy keeps
	// or that a person must decide.
	PlanConflict PlanAction = "conflict"
	// PlanAmbiguous: two or more Candidates matched; a person decides.
	PlanAmbiguous PlanAction = "ambiguous"
	// PlanSkip: nothing would be written (unchanged, gone, deleted on purpose).
	PlanSkip PlanAction = "skip"
	// PlanFail: the record would fail (Reason).
	PlanFail PlanAction = "fail"
)

// NeedsDecision reports whether a person must decide the record before it
// can sync (an open conflict or an ambiguous match).
func (a PlanAction) NeedsDecision() bool { return a == PlanConflict || a == PlanAmbiguous }

// FieldChange is one field an update would change: the value the target
// side holds (Old, "" when it holds none) and the one it would get (New),
// both as they appear in the synced view.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// PlanItem is one record of a preview's plan.
type PlanItem struct {
	// Key identifies the record within its plan: the local id on a push,
	// the mk_id on a pull.
	Key         string        `json:"key"`
	Action      PlanAction    `json:"action"`
	LocalID     string        `json:"localId,omitempty"`
	MetakockaID string        `json:"metakockaId,omitempty"`
	MatchedBy   string        `json:"matchedBy,omitempty"`
	Reason      string        `json:"reason,omitempty"`
	Changes     []FieldChange `json:"changes,omitempty"`
	Candidates  []string      `json:"candidates,omitempty"`
	// LocalHash and RemoteHash are the hashes of the two sides' views when
	// the preview decided ("" for a side without a record): applying the
	// plan re-decides a record whose state has moved since.
	LocalHash  string `json:"-"`
	RemoteHash string `json:"-"`
	// Forced marks an item of a single-record preview, decided as an
	// explicit sync (an open conflict settled for the side synced to):
	// applying it syncs the record explicitly too.
	Forced bool `json:"-"`
}

// PlanTotals counts a plan's records by action.
type PlanTotals map[PlanAction]int

// PlanStore keeps the plans of previews (dry-run sync runs). A plan
// belongs to its run; items are keyed by PlanItem.Key within it, so a
// resumed preview that decides a record again replaces its item.
type PlanStore interface {
	// SavePlanItems stores items of the run runID (inserted, or replacing
	// the item with the same key). ENOTFOUND for an unknown run.
	SavePlanItems(ctx context.Context, tenantID, runID string, items []PlanItem) error
	// FindPlanItems lists the run's items in key order; the cursor is the
	// last key of the page. Skipped records are not stored.
	FindPlanItems(ctx context.Context, tenantID, runID string, p Page) ([]PlanItem, string, error)
	// FindPlanItem returns the run's item with key; ENOTFOUND when none.
	FindPlanItem(ctx context.Context, tenantID, runID, key string) (PlanItem, error)
	// CountPlanItems counts the run's stored items by action.
	CountPlanItems(ctx context.Context, tenantID, runID string) (PlanTotals, error)
}

// storedPlanItem is a plan item as the stores keep it: with the hashes the
// API leaves out.
type storedPlanItem struct {
	plainPlanItem
	LocalHash  string `json:"localHash,omitempty"`
	RemoteHash string `json:"remoteHash,omitempty"`
	Forced     bool   `json:"forced,omitempty"`
}

type plainPlanItem PlanItem

// EncodePlanItem is the JSON a store keeps of it (hashes included), so
// that every store keeps the same.
func EncodePlanItem(it PlanItem) ([]byte, error) {
	return json.Marshal(storedPlanItem{plainPlanItem(it), it.LocalHash, it.RemoteHash, it.Forced})
}

// DecodePlanItem reads what EncodePlanItem wrote.
func DecodePlanItem(b []byte) (PlanItem, error) {
	var v storedPlanItem
	if err := json.Unmarshal(b, &v); err != nil {
		return PlanItem{}, WrapError(EINTERNAL, "unreadable plan item", err)
	}
	it := PlanItem(v.plainPlanItem)
	it.LocalHash, it.RemoteHash, it.Forced = v.LocalHash, v.RemoteHash, v.Forced
	return it, nil
}

// CheckPlanItems validates items before a store keeps them.
func CheckPlanItems(items []PlanItem) error {
	for _, it := range items {
		if it.Key == "" || it.Action == "" {
			return Errorf(EINVALID, "invalid plan item: key and action are required")
		}
	}
	return nil
}

// PlanApplier is what preparing the apply of a plan reads.
type PlanApplier interface {
	FindSyncRun(ctx context.Context, tenantID, id string) (SyncRun, error)
	FindPlanItems(ctx context.Context, tenantID, runID string, p Page) ([]PlanItem, string, error)
}

// PrepareApply returns the run that applies the plan of the preview
// previewID (not stored: start it with RunStarter.StartSync) and the ids it
// runs over: every record of the plan but the skipped ones, which the plan
// does not keep. Errors: EINVALID for a plan with nothing to apply, ENOTFOUND for an unknown run, EINVALID for a run
// that is not a preview, ECONFLICT for a preview that has not finished (or
// was cancelled or failed: its plan is not whole).
func PrepareApply(ctx context.Context, st PlanApplier, tenantID, previewID string) (SyncRun, []string, error) {
	pr, err := st.FindSyncRun(ctx, tenantID, previewID)
	if err != nil {
		return SyncRun{}, nil, err
	}
	if !pr.DryRun {
		return SyncRun{}, nil, Errorf(EINVALID, "sync run %s is not a preview (dryRun)", previewID)
	}
	if pr.Status != RunSucceeded && pr.Status != RunPartial {
		return SyncRun{}, nil, Errorf(ECONFLICT, "preview %s is %s: only a finished preview can be applied", previewID, pr.Status)
	}
	var ids []string
	for after := ""; ; {
		items, next, err := st.FindPlanItems(ctx, tenantID, previewID, Page{After: after, Limit: MaxPageLimit})
		if err != nil {
			return SyncRun{}, nil, fmt.Errorf("read plan of preview %s: %w", previewID, err)
		}
		for _, it := range items {
			if it.Action != PlanSkip {
				ids = append(ids, it.Key)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(ids) == 0 {
		// A run over no ids would be a run over every record.
		return SyncRun{}, nil, Errorf(EINVALID, "preview %s plans no change: nothing to apply", previewID)
	}
	return SyncRun{EntityType: pr.EntityType, Direction: pr.Direction, PlanRunID: previewID}, ids, nil
}
