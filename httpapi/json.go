package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

// writeJSON writes v with status. Encoding errors can only come from types
// that cannot be encoded, a bug caught by the tests; the header is sent by then.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// decodeJSON reads the request body strictly into dst: the content type must
// be JSON, unknown fields and trailing data are rejected, and a value of the
// wrong type is reported per field. Every problem found is listed in the
// EINVALID error's details, so that a caller fixes all at once. A body over
// the limit set by the body middleware yields *http.MaxBytesError (413).
func decodeJSON(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONContentType(ct) {
		return invalidBody("request body must be JSON", "Content-Type", "must be application/json")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyReadError(err)
	}
	return unmarshalStrict(body, dst)
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// bodyReadError keeps *http.MaxBytesError (413) and makes anything else an
// EINVALID: a body that cannot be read is the client's doing.
func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe
	}
	return mksync.WrapError(mksync.EINVALID, "could not read request body", err)
}

// formatBytes writes a size for people ("1 MiB", "16 KiB", "300 bytes").
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// unmarshalStrict decodes body into dst with the rules of decodeJSON.
func unmarshalStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidBody("request body is empty", "body", "must be a JSON object")
	}
	if !utf8.Valid(body) {
		// encoding/json would store U+FFFD in place of each bad byte.
		return invalidBody("request body is not valid UTF-8", "body", fmt.Sprintf("invalid UTF-8 at byte %d", invalidUTF8At(body)))
	}
	if !json.Valid(body) {
		return invalidBody("request body is not valid JSON", "body", syntaxProblem(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if dec.More() {
			return invalidBody("request body has data after the JSON value", "body", "must hold exactly one JSON value")
		}
		return nil
	}
	problems := map[string]string{}
	fieldProblems(body, reflect.TypeOf(dst).Elem(), "", problems)
	if len(problems) == 0 {
		// The probe found nothing more precise; say what the decoder said,
		// which names types and fields but never echoes values.
		problems["body"] = "could not be decoded"
	}
	return &mksync.Error{Code: mksync.EINVALID, Message: "invalid request body: " + describe(problems), Details: problems, Err: err}
}

// invalidUTF8At returns the offset of the first byte of body that does not
// start a valid UTF-8 sequence.
func invalidUTF8At(body []byte) int {
	for i := 0; i < len(body); {
		r, n := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(body)
}

func invalidBody(msg, field, rule string) error {
	return &mksync.Error{Code: mksync.EINVALID, Message: msg, Details: map[string]string{field: rule}}
}

// syntaxProblem locates a JSON syntax error by byte offset.
func syntaxProblem(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	}
	return "malformed JSON"
}

// describe lists problems as "field rule; field rule" in field order.
func describe(problems map[string]string) string {
	keys := make([]string, 0, len(problems))
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + problems[k]
	}
	return strings.Join(parts, "; ")
}

var (
	decimalType   = reflect.TypeFor[decimal.Decimal]()
	dateType      = reflect.TypeFor[mksync.Date]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[duration]()
	unmarshalType = reflect.TypeFor[json.Unmarshaler]()
)

// fieldProblems walks raw (valid JSON) against type t and records, per JSON
// path ("lines[2].quantity"), every unknown field and every value that does
// not decode into its field. It runs only after decoding failed, to turn the
// decoder's first error into a list of all of them.
func fieldProblems(raw []byte, t reflect.Type, path string, out map[string]string) {
	for t.Kind() == reflect.Pointer {
		if string(bytes.TrimSpace(raw)) == "null" {
			return
		}
		t = t.Elem()
	}
	isUnmarshaler := reflect.PointerTo(t).Implements(unmarshalType)
	switch {
	case t.Kind() == reflect.Struct && !isUnmarshaler:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			out[orBody(path)] = "must be an object"
			return
		}
		fields := jsonFields(t)
		for k, v := range obj {
			f, ok := fields[k]
			if !ok {
				out[join(path, k)] = "is not a known field"
				continue
			}
			fieldProblems(v, f.Type, join(path, k), out)
		}
	case t.Kind() == reflect.Slice && !isUnmarshaler:
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			out[orBody(path)] = "must be an array"
			return
		}
		for i, v := range arr {
			fieldProblems(v, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	default:
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			out[orBody(path)] = expectation(t)
		}
	}
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonFields returns the decodable fields of struct type t by JSON name,
// including those of embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// expectation says what a JSON value of type t must look like.
func expectation(t reflect.Type) string {
	switch t {
	case decimalType:
		return "must be a decimal number (a string such as \"10.50\")"
	case dateType:
		return "must be a date (YYYY-MM-DD)"
	case timeType:
		return "must be an RFC 3339 timestamp"
	case durationType:
		return "must be a duration such as \"15m\" or \"1h\""
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Bool:
		return "must be a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be an integer in range"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.Map:
		return "must be an object"
	}
	return "has the wrong type"
}

// duration is a time.Duration written as Go duration text ("15m0s").
type duration time.Duration

// MarshalJSON writes the duration as text.
func (d duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads duration text ("90s", "15m", "1h").
func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return mksync.Errorf(mksync.EINVALID, "duration must be a string")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return mksync.Errorf(mksync.EINVALID, "invalid duration")
	}
	*d = duration(v)
	return nil
}
