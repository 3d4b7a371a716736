package mksync

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Validator collects every broken rule of a record so that a caller sees all
// of its mistakes at once, not one per round trip.
type Validator struct {
	fields map[string]string
}

// Check records rule as broken for field when ok is false; the first broken
// rule of a field wins.
func (v *Validator) Check(ok bool, field, rule string) {
	if ok {
		return
	}
	if v.fields == nil {
		v.fields = map[string]string{}
	}
	if _, seen := v.fields[field]; !seen {
		v.fields[field] = rule
	}
}

// Required checks that s is not blank.
func (v *Validator) Required(s, field string) {
	v.Check(strings.TrimSpace(s) != "", field, "is required")
}

// MaxLen checks that s has at most n characters (Metakocka counts characters,
// not bytes).
func (v *Validator) MaxLen(s string, n int, field string) {
	v.Check(utf8.RuneCountInString(s) <= n, field, fmt.Sprintf("must be at most %d characters", n))
}

// Bounds of the decimals (prices, quantities, rates, dimensions) mksync
// accepts: what Metakocka takes and sends back (its documented prices carry
// up to 6 decimals, e.g. "4.233766"), and the precision of an IEEE double,
// in which many ERP clients hold them. Trailing zeros after the point do
// not count: "1.50000000" is 1.5.
const (
	MaxDecimalIntegerDigits = 15
	MaxDecimalScale         = 6
)

// Decimal checks that d has at most MaxDecimalIntegerDigits digits before
// the point and MaxDecimalScale after it, and reports whether it does.
// Compare d (LessThan, Cmp) only when it does: comparing 1e1000000000 would
// first expand it to a billion digits. It never expands d itself.
func (v *Validator) Decimal(d decimal.Decimal, field string) bool {
	ok := decimalFits(d)
	v.Check(ok, field, fmt.Sprintf("must have at most %d digits before the decimal point and %d after it",
		MaxDecimalIntegerDigits, MaxDecimalScale))
	return ok
}

// decimalFits is Decimal's rule, on the coefficient and exponent only.
func decimalFits(d decimal.Decimal) bool {
	coef := d.Coefficient()
	coef.Abs(coef)
	if coef.Sign() == 0 {
		return true
	}
	if coef.BitLen() > 4096 {
		// Over 1,200 digits, no more to print (a megabyte of them would
		// take long), though trailing zeros could make it fit.
		return false
	}
	all := coef.String()
	// Trailing zeros of the coefficient move into the exponent; more
	// significant digits than both bounds together never fit.
	digits := strings.TrimRight(all, "0")
	if len(digits) > MaxDecimalIntegerDigits+MaxDecimalScale {
		return false
	}
	exp := int64(d.Exponent()) + int64(len(all)-len(digits))
	return int64(len(digits))+exp <= MaxDecimalIntegerDigits && -exp <= MaxDecimalScale
}

// Email checks that s, when set, is a bare e-mail address.
func (v *Validator) Email(s, field string) {
	if s == "" {
		return
	}
	a, err := mail.ParseAddress(s)
	v.Check(err == nil && a.Address == s, field, "must be an e-mail address")
}

// OneOf checks that s is one of allowed.
func (v *Validator) OneOf(s string, allowed []string, field string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.Check(false, field, "must be one of "+strings.Join(allowed, ", "))
}

// Err returns an EINVALID *Error listing every broken rule, or nil.
func (v *Validator) Err(what string) error {
	if len(v.fields) == 0 {
		return nil
	}
	keys := make([]string, 0, len(v.fields))
	for k := range v.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+v.fields[k])
	}
	return &Error{
		Code:    EINVALID,
		Message: fmt.Sprintf("invalid %s: %s", what, strings.Join(parts, "; ")),
		Details: v.fields,
	}
}
