// Package observe sets up what operators use to see mksync at work:
// structured JSON logs with a category on every line and redaction of
// secrets, and the Prometheus metrics (their declarations, the /metrics
// handler, the HTTP and Metakocka transport middleware, the cache and job
// sources) with the events the engine and the job layer report.
//
// It is a leaf: it imports only the root package's types and libraries,
// never another mksync package, so that every layer may log and count.
// Alert rules, notifications and retention, which read and write the store,
// live in package alerts.
package observe

import (
	"io"
	"log/slog"
	"strings"
)

// Log categories, the "category" attribute of every log line. They let an
// operator filter one subsystem's lines without parsing messages.
const (
	CatSync      = "SYNC"
	CatAPI       = "API"
	CatAuth      = "AUTH"
	CatDatabase  = "DATABASE"
	CatJobs      = "JOBS"
	CatMetakocka = "METAKOCKA"
	CatClient    = "CLIENT"
)

// Redacted replaces the value of any attribute whose key names a secret.
const Redacted = "[REDACTED]"

// sensitiveKeys are attribute keys (compared case-insensitively, after removing
// '_' and '-') whose values are never written, whatever their type.
var sensitiveKeys = []string{
	"secretkey", "secret", "password", "token", "apitoken", "authorization",
	"encryptionkey", "admintoken", "cookie", "signature", "webhooksecret",
}

// IsSensitiveKey reports whether a log attribute or JSON field named key must
// never have its value written out.
func IsSensitiveKey(key string) bool {
	k := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(key))
	for _, s := range sensitiveKeys {
		if k == strings.ToLower(s) || strings.HasSuffix(k, strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// Options configure NewLogger.
type Options struct {
	// Level is the minimum level written; default slog.LevelInfo.
	Level slog.Leveler
	// AddSource adds file:line to each line; default false.
	AddSource bool
}

// NewLogger returns a JSON logger writing to w. Attributes whose key names a
// secret (secret_key, token, password, authorization, …) are replaced by
// Redacted at any depth of groups, so a careless log call cannot leak them.
func NewLogger(w io.Writer, opts Options) *slog.Logger {
	level := opts.Level
	if level == nil {
		level = slog.LevelInfo
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		AddSource:   opts.AddSource,
		ReplaceAttr: redactAttr,
	})
	return slog.New(h)
}

func redactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	if IsSensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	return a
}

// Category returns the attribute that tags a log line with its subsystem.
func Category(c string) slog.Attr { return slog.String("category", c) }

// WithCategory returns l with the category attribute attached.
func WithCategory(l *slog.Logger, c string) *slog.Logger { return l.With(Category(c)) }

// Discard returns a logger that writes nothing, for tests and quiet commands.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
