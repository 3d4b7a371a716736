package sqlite

import (
	"database/sql"
	"encoding/base64"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

// timeLayout is fixed-width UTC with microseconds, so that TEXT comparison
// in SQL orders like time (pruning, since/until filters).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// fmtTime is the stored form of t (UTC, microseconds).
func fmtTime(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(timeLayout) }

// fmtTimePtr stores nil (and the zero time) as NULL.
func fmtTimePtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return fmtTime(*t)
}

// fmtTimeOrNull stores the zero time as NULL.
func fmtTimeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

// parseTime reads a stored time.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, internal("parse stored time", err)
	}
	return t.UTC(), nil
}

// times parses several stored times into their destinations: (stored
// text, *time.Time) pairs.
func times(pairs ...any) error { return parsePairs(parseTime, pairs) }

// nullTime reads a nullable stored time.
func nullTime(ns sql.NullString) (*time.Time, error) {
	if !ns.Valid {
		return nil, nil
	}
	t, err := parseTime(ns.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// truncNow is the store's clock in stored precision.
func (s *store) truncNow() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// trunc normalises a caller-given time to stored precision.
func trunc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// fmtDec is the stored (exact) form of a decimal.
func fmtDec(d decimal.Decimal) string { return d.String() }

// parseDec reads a stored decimal.
func parseDec(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, internal("parse stored decimal", err)
	}
	return d, nil
}

// decs parses several stored decimals into their destinations: (stored
// text, *decimal.Decimal) pairs.
func decs(pairs ...any) error { return parsePairs(parseDec, pairs) }

// parsePairs parses (stored text, *T) pairs with parse.
func parsePairs[T any](parse func(string) (T, error), pairs []any) error {
	for i := 0; i < len(pairs); i += 2 {
		v, err := parse(pairs[i].(string))
		if err != nil {
			return err
		}
		*pairs[i+1].(*T) = v
	}
	return nil
}

// parseDate reads a stored date.
func parseDate(s string) (mksync.Date, error) {
	d, err := time.Parse(mksync.DateLayout, s)
	if err != nil {
		return mksync.Date{}, internal("parse stored date", err)
	}
	return mksync.Date{Time: d}, nil
}

func fmtDatePtr(d *mksync.Date) any {
	if d == nil || d.IsZero() {
		return nil
	}
	return d.String()
}

func nullDate(ns sql.NullString) (*mksync.Date, error) {
	if !ns.Valid {
		return nil, nil
	}
	d, err := parseDate(ns.String)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// searchText is what Search matches against: the fields, Unicode-lowercased
// (SQLite's own lower() folds ASCII only), joined by a separator no search
// can contain across two fields.
func searchText(fields ...string) string {
	return strings.ToLower(strings.Join(fields, "\x1f"))
}

// likePattern turns a search into a LIKE pattern matching it as a literal
// substring (with ESCAPE '\').
func likePattern(search string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(search)) + "%"
}

// encodeCursor makes the opaque cursor that follows the record with key.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// decodeCursor reads a cursor; "" is the first page. A malformed cursor is
// EINVALID.
func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", mksync.Errorf(mksync.EINVALID, "malformed page cursor")
	}
	return string(b), nil
}

// pageOf trims a result fetched with limit+1 rows to limit and returns the
// cursor of the next page ("" when this is the last one).
func pageOf[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(key(items[limit-1]))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
