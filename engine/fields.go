package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// fields is a view as field name → canonical JSON value: the unit the
// three-way merge works in and what a field diff (old → new) lists. A
// document's lines are one field ("lines"): a line list changed on both
// sides is one conflict, never two half-merged lists.
type fields map[string]json.RawMessage

// fieldsOf reads a snapshot's JSON (a mapping's SyncedView) as fields.
func fieldsOf(js string) (fields, error) {
	var f fields
	if err := json.Unmarshal([]byte(js), &f); err != nil {
		return nil, fmt.Errorf("read synced fields: %w", err)
	}
	return f, nil
}

// same reports whether field name holds the same value in a and b; a
// field left out (an omitted empty value) is the same only as one left out.
func (a fields) same(b fields, name string) bool {
	return bytes.Equal(a[name], b[name])
}

// names lists the field names of all of fs, sorted.
func names(fs ...fields) []string {
	var out []string
	for _, f := range fs {
		for k := range f {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// fieldChange is one field that differs between two versions of a record.
type fieldChange struct {
	Field    string
	Old, New json.RawMessage // nil: the field is left out (empty)
}

// diffFields lists the top-level fields whose values differ from old to
// new, in name order: the merge's unit (a document's lines are one field),
// what a conflict names. A preview shows people finer paths
// ("lines[0].quantity"), so it diffs flattened views instead (diffViews).
func diffFields(old, new fields) []fieldChange {
	var out []fieldChange
	for _, k := range names(old, new) {
		if !old.same(new, k) {
			out = append(out, fieldChange{Field: k, Old: old[k], New: new[k]})
		}
	}
	return out
}

// viewFrom builds a view of type V from fields (a merged record).
func viewFrom[V any](f fields) (V, error) {
	var v V
	b, err := json.Marshal(f)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return v, fmt.Errorf("build merged view: %w", err)
	}
	return v, nil
}

// fieldValue is a field's value as people read it (a conflict record's
// details): the decoded JSON, nil when the field is empty.
func fieldValue(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	return v
}
