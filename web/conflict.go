package web

import (
	"encoding/json"
	"strings"

	"github.com/mksync/mksync"
)

// ConflictView is the last conflict of a record as its page shows it: the
// fields changed on both sides since the last sync, with both values and
// the side whose value was kept. It is read from the conflict's error
// record (the engine's details "fields" {field, crm, metakocka}, "winner"
// and "policy"), so a person sees what a sync decided for them without
// opening the error.
type ConflictView struct {
	ErrorID string
	When    string
	// Policy is the conflict policy that decided ("explicit" for a sync
	// run in one direction on purpose).
	Policy string
	// Open: no side was kept; the record waits for a person.
	Open   bool
	Kept   string
	Fields []ConflictField
}

// ConflictField is one field changed on both sides.
type ConflictField struct {
	Field, CRM, Metakocka string
	// KeptCRM / KeptMetakocka mark the value that was kept.
	KeptCRM, KeptMetakocka bool
}

// conflictOf returns the conflict view of the newest of errs (newest
// first) when it is a conflict with its fields, or the one lastError names
// (the mapping's open conflict); nil when the record's last recorded
// problem is not a conflict.
func conflictOf(errs []mksync.ErrorRecord, lastError string) *ConflictView {
	for i, e := range errs {
		if (i == 0 || e.ID == lastError) && e.Code == mksync.ECONFLICT {
			if v := newConflictView(e); v != nil {
				return v
			}
		}
	}
	return nil
}

// newConflictView reads a conflict error record; nil when it lists no
// fields (an older record, or another kind of conflict such as a stale
// version).
func newConflictView(e mksync.ErrorRecord) *ConflictView {
	raw, err := json.Marshal(e.Details["fields"])
	if err != nil {
		return nil
	}
	var fields []struct {
		Field     string          `json:"field"`
		CRM       json.RawMessage `json:"crm"`
		Metakocka json.RawMessage `json:"metakocka"`
	}
	if json.Unmarshal(raw, &fields) != nil || len(fields) == 0 {
		return nil
	}
	winner, _ := e.Details["winner"].(string)
	policy, _ := e.Details["policy"].(string)
	v := &ConflictView{ErrorID: e.ID, When: formatTime(e.CreatedAt), Policy: policyLabel(policy)}
	switch winner {
	case "crm":
		v.Kept = "the CRM's values"
	case "metakocka":
		v.Kept = "Metakocka's values"
	default:
		v.Open, v.Kept = true, "neither yet: it needs a decision"
	}
	for _, f := range fields {
		v.Fields = append(v.Fields, ConflictField{Field: f.Field, CRM: jsonText(f.CRM), Metakocka: jsonText(f.Metakocka),
			KeptCRM: winner == "crm", KeptMetakocka: winner == "metakocka"})
	}
	return v
}

// jsonText is a field's JSON value for people: a string as it is, an empty
// value as "(empty)", anything else as compact JSON.
func jsonText(raw json.RawMessage) string {
	var s string
	switch t := strings.TrimSpace(string(raw)); {
	case t == "" || t == "null" || t == `""`:
		return "(empty)"
	case json.Unmarshal(raw, &s) == nil:
		return s
	default:
		return t
	}
}

// policyLabel names a conflict policy for people.
func policyLabel(p string) string {
	switch mksync.ConflictPolicy(p) {
	case mksync.CRMWins:
		return "CRM wins"
	case mksync.MetakockaWins:
		return "Metakocka wins"
	case mksync.NewestWins:
		return "newest change wins"
	}
	if p == "explicit" {
		return "a sync in one direction, on purpose"
	}
	return p
}
