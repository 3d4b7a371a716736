package mkfake

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// obj is a decoded JSON object of a request. Requests are decoded with
// json.Decoder.UseNumber, so numbers arrive as json.Number.
type obj = map[string]any

// str returns v as the string Metakocka would read: strings as they are,
// JSON numbers in their literal form, booleans as "true"/"false", and ""
// for null, objects and arrays.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		return ""
	}
}

// field returns m[key] as a string (see str).
func field(m obj, key string) string {
	if m == nil {
		return ""
	}
	return str(m[key])
}

// boolOf parses a Metakocka boolean: "true"/"false" strings, JSON booleans,
// and the usual spellings ("1", "yes", "da"). ok is false when the value is
// absent or empty, so callers can tell "not given" from "false".
func boolOf(v any) (b, ok bool) {
	s := strings.ToLower(str(v))
	switch s {
	case "":
		return false, false
	case "true", "1", "yes", "da", "y":
		return true, true
	default:
		return false, true
	}
}

// decimalOf parses a Metakocka number: a string with a decimal dot or a
// decimal comma ("19,99"), or a JSON number. An empty value is zero with
// ok=false; a malformed one is an error naming the attribute.
func decimalOf(name string, v any) (d decimal.Decimal, ok bool, err error) {
	s := str(v)
	if s == "" {
		return decimal.Zero, false, nil
	}
	s = strings.ReplaceAll(s, " ", "")
	if strings.Contains(s, ",") {
		if strings.Contains(s, ".") {
			// "1.234,56": dots group thousands.
			s = strings.ReplaceAll(s, ".", "")
		}
		s = strings.ReplaceAll(s, ",", ".")
	}
	d, err = decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, false, invalidf("Paramether '%s' has invalid number value : %s", name, str(v))
	}
	return d, true, nil
}

// intOf parses a non-negative integer such as offset or limit; empty gives def.
func intOf(name string, v any, def int) (int, error) {
	d, ok, err := decimalOf(name, v)
	if err != nil {
		return 0, err
	}
	if !ok {
		return def, nil
	}
	if !d.IsInteger() || d.IsNegative() {
		return 0, invalidf("Paramether '%s' has invalid value : %s", name, str(v))
	}
	return int(d.IntPart()), nil
}

// normNumber re-writes a number given in any accepted form with a decimal
// dot; values that are not numbers are kept as given.
func normNumber(v any) string {
	d, ok, err := decimalOf("", v)
	if err != nil || !ok {
		return str(v)
	}
	return d.String()
}

// boolStr is the wire form of a boolean.
func boolStr(b bool) string { return strconv.FormatBool(b) }

// dateLayouts are the date and timestamp forms the docs use in requests.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02Z07:00",
	"2006-01-02",
	"02.01.2006",
	"2.1.2006",
}

// parseTime reads a date or timestamp in any of the documented forms; a date
// without an offset is read in loc.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalidf("Invalid date value : %s", s)
}

// strictDateLayouts are the forms the docs show for dates in requests: a
// date with its offset ("2014-11-23+02:00"), a timestamp with its offset,
// and the older "16.02.2022" form.
var strictDateLayouts = []string{time.RFC3339, "2006-01-02Z07:00", "02.01.2006", "2.1.2006"}

// parseDate accepts only the documented forms (strictDateLayouts): a bare
// "2014-11-23" is refused, unless the simulator is Lenient (parseTime).
func (s *Server) parseDate(v string) (time.Time, error) {
	if s.lenient {
		return parseTime(v, s.loc)
	}
	v = strings.TrimSpace(v)
	for _, l := range strictDateLayouts {
		if t, err := time.ParseInLocation(l, v, s.loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, invalidf("Invalid date value : %s. Use the form 2014-11-23+02:00", v)
}

// copyAny deep-copies decoded JSON (maps, slices and scalars).
func copyAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = copyAny(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = copyAny(e)
		}
		return s
	default:
		return v
	}
}

// copyMap deep-copies an object, keeping nil as nil.
func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return copyAny(m).(map[string]any)
}

// objects returns v as a list of objects: a list is returned as its object
// elements, a single object as a one-element list (Metakocka accepts both
// shapes for lists, e.g. "offer_list").
func objects(v any) []obj {
	switch x := v.(type) {
	case map[string]any:
		return []obj{x}
	case []any:
		out := make([]obj, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	default:
		return nil
	}
}

// countryISO maps the country names the docs use to ISO 3166 alpha-2 codes,
// for the "country_iso_2" attribute of document partners.
var countryISO = map[string]string{
	"slovenia": "SI", "slovenija": "SI", "si": "SI",
	"croatia": "HR", "hrvaška": "HR", "hr": "HR",
	"italy": "IT", "italija": "IT", "it": "IT",
	"austria": "AT", "avstrija": "AT", "at": "AT",
	"germany": "DE", "nemčija": "DE", "de": "DE",
	"hungary": "HU", "madžarska": "HU", "hu": "HU",
	"serbia": "RS", "srbija": "RS", "rs": "RS",
	"romania": "RO", "romunija": "RO", "ro": "RO",
}
