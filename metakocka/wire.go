package metakocka

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// This file holds the small wire types that carry Metakocka's loose encoding.
// Metakocka sends numbers and booleans as JSON strings ("10.5", "true"), its
// documented examples also use a decimal comma ("19,99"), and some callers
// send plain JSON numbers and booleans. Every type here decodes all of those,
// always encodes the string form Metakocka documents, and distinguishes "not
// sent" from a zero value so that partial updates never overwrite a field the
// caller did not set (encoding/json's omitzero uses the IsZero methods).

var jsonNull = []byte("null")

// Decimal is an optional exact decimal number (money, quantities, weights). It
// never passes through float64.
type Decimal struct {
	Value decimal.Decimal
	// Valid is false when the field was absent, null or "" on the wire; such a
	// Decimal is not encoded.
	Valid bool
	// text is the form a decoded Decimal had on the wire ("5,50"); it is
	// written back while it still means Value, so that a value read and
	// written unchanged goes back exactly as Metakocka sent it.
	text string
}

// NewDecimal returns a set Decimal.
func NewDecimal(d decimal.Decimal) Decimal { return Decimal{Value: d, Valid: true} }

// MustDecimal parses s (dot or comma decimal separator) and panics on error;
// for constants in code and tests.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// ParseDecimal parses a Metakocka number: "10", "10.5", "19,99", " 1.234,56 "
// (when both separators occur the last one is the decimal separator and the
// other groups thousands). An empty string gives an unset Decimal.
func ParseDecimal(s string) (Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Decimal{}, nil
	}
	dot, comma := strings.LastIndexByte(s, '.'), strings.LastIndexByte(s, ',')
	switch {
	case dot >= 0 && comma >= 0:
		if comma > dot { // 1.234,56
			s = strings.ReplaceAll(s, ".", "")
			s = strings.Replace(s, ",", ".", 1)
		} else { // 1,234.56
			s = strings.ReplaceAll(s, ",", "")
		}
	case comma >= 0:
		if strings.Count(s, ",") > 1 {
			return Decimal{}, fmt.Errorf("metakocka: ambiguous number %q", s)
		}
		s = strings.Replace(s, ",", ".", 1)
	}
	if strings.Count(s, ".") > 1 {
		return Decimal{}, fmt.Errorf("metakocka: invalid number %q", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Decimal{}, fmt.Errorf("metakocka: invalid number %q", s)
	}
	return NewDecimal(d), nil
}

// IsZero reports whether d is unset (not whether it is 0).
func (d Decimal) IsZero() bool { return !d.Valid }

// String returns the canonical dot form, or "" when unset.
func (d Decimal) String() string {
	if !d.Valid {
		return ""
	}
	return d.Value.String()
}

// MarshalJSON writes "10.5", or null when unset; a decoded Decimal whose
// Value did not change is written in the form it was read ("5,50").
func (d Decimal) MarshalJSON() ([]byte, error) {
	if !d.Valid {
		return jsonNull, nil
	}
	if d.text != "" {
		if had, err := ParseDecimal(d.text); err == nil && had.Value.Equal(d.Value) {
			return json.Marshal(d.text)
		}
	}
	return json.Marshal(d.Value.String())
}

// Same reports whether d is set and equal to v.
func (d Decimal) Same(v decimal.Decimal) bool { return d.Valid && d.Value.Equal(v) }

// UnmarshalJSON accepts "10.5", "19,99", 10.5, "", and null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("metakocka: number: %w", err)
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	if v.Valid {
		v.text = strings.TrimSpace(s)
	}
	*d = v
	return nil
}

// Bool is an optional boolean, "true"/"false" on the wire.
type Bool struct {
	Value bool
	// Valid is false when the field was absent, null or ""; such a Bool is not
	// encoded.
	Valid bool
}

// NewBool returns a set Bool.
func NewBool(b bool) Bool { return Bool{Value: b, Valid: true} }

// IsZero reports whether b is unset (not whether it is false).
func (b Bool) IsZero() bool { return !b.Valid }

// True reports whether b is set and true.
func (b Bool) True() bool { return b.Valid && b.Value }

// MarshalJSON writes "true" or "false", or null when unset.
func (b Bool) MarshalJSON() ([]byte, error) {
	if !b.Valid {
		return jsonNull, nil
	}
	return json.Marshal(strconv.FormatBool(b.Value))
}

// UnmarshalJSON accepts "true"/"false" (any case), "1"/"0", true/false, "", and null.
func (b *Bool) UnmarshalJSON(data []byte) error {
	s, err := scalarText(data)
	if err != nil {
		return fmt.Errorf("metakocka: bool: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		*b = Bool{}
	case "true", "1":
		*b = NewBool(true)
	case "false", "0":
		*b = NewBool(false)
	default:
		return fmt.Errorf("metakocka: invalid bool %q", s)
	}
	return nil
}

// Int is an optional integer (counts, offsets, days), "10" on the wire.
type Int struct {
	Value int64
	// Valid is false when the field was absent, null or ""; such an Int is not
	// encoded.
	Valid bool
}

// NewInt returns a set Int.
func NewInt(i int64) Int { return Int{Value: i, Valid: true} }

// IsZero reports whether i is unset (not whether it is 0).
func (i Int) IsZero() bool { return !i.Valid }

// MarshalJSON writes "10", or null when unset.
func (i Int) MarshalJSON() ([]byte, error) {
	if !i.Valid {
		return jsonNull, nil
	}
	return json.Marshal(strconv.FormatInt(i.Value, 10))
}

// UnmarshalJSON accepts "10", 10, "", and null.
func (i *Int) UnmarshalJSON(b []byte) error {
	s, err := scalarText(b)
	if err != nil {
		return fmt.Errorf("metakocka: integer: %w", err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		*i = Int{}
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("metakocka: invalid integer %q", s)
	}
	*i = NewInt(v)
	return nil
}

// scalarText returns the text of a JSON string, number or boolean; "" for null.
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, jsonNull):
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	case b[0] == '{' || b[0] == '[':
		return "", fmt.Errorf("got a JSON %s, want a scalar", map[byte]string{'{': "object", '[': "array"}[b[0]])
	default: // number or bool literal, already valid JSON
		return string(b), nil
	}
}

// List is a JSON array that Metakocka sometimes sends as a single bare value:
// product_list with one product is an object, a localization may be one object,
// and a category is either "Fruit" or ["Fruit", "Apple"]. List decodes all of
// those (null gives an empty list) and always encodes an array.
type List[T any] []T

// UnmarshalJSON accepts an array, a single value, or null.
func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, jsonNull) {
		*l = nil
		return nil
	}
	if b[0] == '[' {
		var s []T
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = s
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*l = List[T]{one}
	return nil
}

// Extra holds the fields of a JSON object that the typed struct does not model,
// so that a value read from Metakocka and written back (get_document, then
// put_document, which replaces the whole document) loses nothing.
type Extra map[string]json.RawMessage

// jsonFieldNames returns the JSON keys of the struct type t's fields.
func jsonFieldNames(t reflect.Type) map[string]bool {
	names := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for n := range jsonFieldNames(f.Type) {
				names[n] = true
			}
			continue
		}
		if tag == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names[name] = true
	}
	return names
}

// unmarshalKeep decodes data into v (a pointer to a struct without JSON
// methods) and returns the object's keys that v does not model, minus the keys
// for which skip returns true.
func unmarshalKeep(data []byte, v any, skip func(key string) bool) (Extra, error) {
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	known := jsonFieldNames(reflect.TypeOf(v).Elem())
	var extra Extra
	for k, raw := range all {
		if known[k] || (skip != nil && skip(k)) {
			continue
		}
		if extra == nil {
			extra = Extra{}
		}
		extra[k] = raw
	}
	return extra, nil
}

// marshalKeep encodes v (a struct without JSON methods) and adds the extra
// keys that v did not write.
func marshalKeep(v any, extra Extra) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if _, ok := obj[k]; !ok {
			obj[k] = raw
		}
	}
	return json.Marshal(obj)
}

// TaxRate returns the rate of a Metakocka tax code as a fraction: three digits
// give the rate in tenths of a percent ("220" is 0.22, "085" is 0.085, "000" is
// 0). The codes of the company's tax table ("EX1"…"EX4") and unknown codes
// report ok=false, since their rate is defined by the company's settings, not
// the code: Metakocka gives it as tax_factor/tax_desc (show_tax_factor), and
// ExTaxRate gives the rates the documentation shows.
func TaxRate(code string) (rate decimal.Decimal, ok bool) {
	if len(code) != 3 {
		return decimal.Decimal{}, false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return decimal.Decimal{}, false
		}
	}
	n, _ := strconv.Atoi(code)
	return decimal.New(int64(n), -3), true
}

// exTaxRates are the rates of the EX codes in the documentation's examples:
// EX4 22 % (tax_desc "22", tax_factor "0.22", sum_tax_ex4 0.88 on a basic of
// 4), EX3 9.5 %, EX1 25 % (a Croatian order). EX2's rate is never shown.
var exTaxRates = map[string]decimal.Decimal{
	"EX1": decimal.New(25, -2),
	"EX3": decimal.New(95, -3),
	"EX4": decimal.New(22, -2),
}

// ExTaxRate returns the rate, as a fraction, that the documentation shows for
// a code of a company's tax table ("EX1", "EX3", "EX4"; case-insensitive).
// These are EX codes' usual rates, not exemptions: a company's own table can
// differ, so a tax_factor given by Metakocka wins over this. EX2 and other
// codes report ok=false.
func ExTaxRate(code string) (rate decimal.Decimal, ok bool) {
	rate, ok = exTaxRates[strings.ToUpper(strings.TrimSpace(code))]
	return rate, ok
}
