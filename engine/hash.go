package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"

	"github.com/shopspring/decimal"
)

// snapshot is a view as a mapping keeps it: its canonical JSON (the
// synced fields, see fields.go) and the hash of that JSON.
type snapshot struct {
	js, hash string
	// of is the view the snapshot was made of (see snapAs).
	of any
}

// snap is the snapshot of a view: the canonical JSON of the mapped fields
// only, in a fixed order, decimals in their shortest form, and its hash,
// SHA-256 (first 16 bytes, hex). Equal views give equal snapshots on both
// sides of the sync. One marshal gives both, so keeping the fields costs
// no more than the hash did.
func snap(view any) snapshot {
	b, err := json.Marshal(view)
	if err != nil {
		// Views are plain structs of strings and bools; this cannot fail.
		panic("engine: snapshot view: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return snapshot{js: string(b), hash: hex.EncodeToString(sum[:16]), of: view}
}

// snapAs is the snapshot of view, which is often the view a known
// snapshot was made of (a record just written from a pulled view): then it
// is that snapshot, with no second marshal.
func snapAs(view any, known snapshot) snapshot {
	if known.of != nil && reflect.DeepEqual(view, known.of) {
		return known
	}
	return snap(view)
}

// payloadHash is the hash kept in a mapping (see snap).
func payloadHash(view any) string {
	return snap(view).hash
}

// dec returns the canonical text of d ("10.5", never "10.50" or "1.05E1").
func dec(d decimal.Decimal) string {
	return d.String()
}
