package mksync

import "log/slog"

// Secret holds a credential (a Metakocka secret_key, an API token, an
// encryption key). Its String, GoString, JSON and slog forms are redacted, so a
// secret that reaches a log line, an error message or an API response by
// mistake shows as "[REDACTED]". Call Reveal at the one place that must send it.
type Secret string

const redacted = "[REDACTED]"

// Reveal returns the plaintext. Use it only where the value leaves the process
// on purpose (the Metakocka request body, the encryption routine).
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s == "" }

// String implements fmt.Stringer with a redacted form.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer with a redacted form (covers %#v).
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer with a redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON never writes the plaintext.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText never writes the plaintext.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
