package postgres

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/mksync/mksync"
)

// Cursors are opaque to callers: base64url of the keyset position. Lists in
// id order use the last id; newest-first lists (sync runs, error records,
// alerts) use "<unix micros>|<id>" of the last row, since their order is by
// time, then id.

func encodeIDCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("i|" + id))
}

func decodeIDCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	s := string(b)
	if err != nil || !strings.HasPrefix(s, "i|") || len(s) == 2 {
		return "", badCursor()
	}
	return s[2:], nil
}

func encodeTimeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("t|" + t.UTC().Format(time.RFC3339Nano) + "|" + id))
}

// decodeTimeCursor returns ok=false for the empty (first page) cursor.
func decodeTimeCursor(c string) (t time.Time, id string, ok bool, err error) {
	if c == "" {
		return time.Time{}, "", false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	parts := strings.SplitN(string(b), "|", 3)
	if err != nil || len(parts) != 3 || parts[0] != "t" || parts[2] == "" {
		return time.Time{}, "", false, badCursor()
	}
	t, err = time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return time.Time{}, "", false, badCursor()
	}
	return t, parts[2], true, nil
}

func badCursor() error {
	return mksync.Errorf(mksync.EINVALID, "malformed page cursor")
}

// likePattern returns a case-insensitive substring pattern for ILIKE with
// LIKE's wildcards in s escaped (ESCAPE '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
