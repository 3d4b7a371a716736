package engine

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"github.com/google/uuid"
)

// Count code prefixes: "MKS" + base32 of a UUID's 16 bytes (29 characters),
// or, for a local id that is not a UUID, "MKH" + base32 of the first 16
// bytes of its SHA-256. Both fit Metakocka's 30-character count_code.
const (
	countCodeUUID = "MKS"
	countCodeHash = "MKH"
)

var countCodeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CountCode returns the deterministic Metakocka count_code of the local
// record id: the same id always gives the same code, and different ids give
// different codes. The engine creates every Metakocka record with it, which
// is what makes creates idempotent (a retried create finds the first one).
func CountCode(localID string) string {
	if u, err := uuid.Parse(localID); err == nil && u.String() == strings.ToLower(localID) {
		return countCodeUUID + countCodeEncoding.EncodeToString(u[:])
	}
	sum := sha256.Sum256([]byte(localID))
	return countCodeHash + countCodeEncoding.EncodeToString(sum[:16])
}

// LocalIDOf returns the local id a count_code made by CountCode from a UUID
// encodes, and false for any other count_code. It lets a pull recognise a
// Metakocka record that mksync created for a local record whose mapping was
// lost.
func LocalIDOf(countCode string) (string, bool) {
	rest, ok := strings.CutPrefix(countCode, countCodeUUID)
	if !ok {
		return "", false
	}
	b, err := countCodeEncoding.DecodeString(rest)
	if err != nil || len(b) != 16 {
		return "", false
	}
	u, err := uuid.FromBytes(b)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
