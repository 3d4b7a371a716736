package mksync

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode/utf8"
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
