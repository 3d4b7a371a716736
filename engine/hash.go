package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/shopspring/decimal"
)

// payloadHash is the hash kept in a mapping: SHA-256 (first 16 bytes, hex)
// of the canonical JSON of a view — the mapped fields only, in a fixed
// order, decimals in their shortest form. Equal views give equal hashes on
// both sides of the sync.
func payloadHash(view any) string {
	b, err := json.Marshal(view)
	if err != nil {
		// Views are plain structs of strings and bools; this cannot fail.
		panic("engine: hash view: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// dec returns the canonical text of d ("10.5", never "10.50" or "1.05E1").
func dec(d decimal.Decimal) string {
	return d.String()
}
