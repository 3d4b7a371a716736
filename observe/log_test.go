package observe_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/observe"
)

func TestLoggerRedactsSecrets(t *testing.T) {
	const plain = "s3cr3t-8899-plaintext"
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"secret_key attr", func(l *slog.Logger) { l.Info("call", "secret_key", plain) }},
		{"camelCase secretKey", func(l *slog.Logger) { l.Info("call", "secretKey", plain) }},
		{"token attr", func(l *slog.Logger) { l.Info("auth", "token", plain) }},
		{"api_token attr", func(l *slog.Logger) { l.Info("auth", "api_token", plain) }},
		{"authorization header", func(l *slog.Logger) { l.Info("req", "Authorization", "Bearer "+plain) }},
		{"nested group", func(l *slog.Logger) {
			l.Info("req", slog.Group("creds", slog.String("company_id", "16"), slog.String("secret_key", plain)))
		}},
		{"with attrs", func(l *slog.Logger) { l.With("secret_key", plain).Info("x") }},
		{"Secret type under innocent key", func(l *slog.Logger) { l.Info("x", "value", mksync.Secret(plain)) }},
		{"Secret inside error text", func(l *slog.Logger) {
			l.Error("x", "err", fmt.Errorf("call failed with %v", mksync.Secret(plain)))
		}},
		{"Secret in struct via %+v", func(l *slog.Logger) {
			l.Info("x", "creds", fmt.Sprintf("%+v %#v", struct{ S mksync.Secret }{plain}, mksync.Secret(plain)))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := observe.WithCategory(observe.NewLogger(&buf, observe.Options{}), observe.CatMetakocka)
			tt.log(l)
			out := buf.String()
			if strings.Contains(out, plain) {
				t.Fatalf("log line leaks the secret: %s", out)
			}
			if !strings.Contains(out, observe.Redacted) {
				t.Fatalf("expected a redaction marker in %s", out)
			}
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatalf("not JSON: %v: %s", err, out)
			}
			if m["category"] != observe.CatMetakocka {
				t.Fatalf("category = %v, want %s", m["category"], observe.CatMetakocka)
			}
		})
	}
}

func TestLoggerKeepsOrdinaryFields(t *testing.T) {
	var buf bytes.Buffer
	l := observe.NewLogger(&buf, observe.Options{})
	l.Info("sync", "company_id", "16", "tenant_id", "t1", "err", errors.New("boom"))
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["company_id"] != "16" || m["tenant_id"] != "t1" || m["err"] != "boom" {
		t.Fatalf("ordinary fields altered: %v", m)
	}
}

func TestIsSensitiveKey(t *testing.T) {
	for key, want := range map[string]bool{
		"secret_key": true, "SECRET-KEY": true, "token": true, "webhook_secret": true,
		"company_id": false, "count_code": false, "mk_id": false, "tenant_id": false,
	} {
		if got := observe.IsSensitiveKey(key); got != want {
			t.Errorf("IsSensitiveKey(%q) = %v, want %v", key, got, want)
		}
	}
}
