package app_test

import (
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
)

func TestCacheSizeFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
		bad  bool
	}{
		{env: "", want: 0},
		{env: "5000", want: 5000},
		{env: "10000000", want: 10_000_000},
		{env: "0", bad: true},
		{env: "-1", bad: true},
		{env: "20k", bad: true},
		{env: "10000001", bad: true},
	} {
		t.Run(tc.env, func(t *testing.T) {
			got, err := app.LoadConfig([]string{"MKSYNC_CACHE_SIZE=" + tc.env})
			if tc.bad {
				require.ErrorContains(t, err, "MKSYNC_CACHE_SIZE")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.CacheSize)
		})
	}
}

func TestLoadConfigReadsEveryVariable(t *testing.T) {
	cfg, err := app.LoadConfig([]string{
		"PATH=/bin", // not ours
		"MKSYNC_DB=postgres://u@h/db",
		"MKSYNC_ADDR=:9090",
		"MKSYNC_ENCRYPTION_KEY=k1",
		"MKSYNC_ENCRYPTION_KEYS_OLD=k0",
		"MKSYNC_ADMIN_TOKEN=0123456789abcdef",
		"MKSYNC_SESSION_KEY=0123456789abcdef0123456789abcdef",
		"MKSYNC_RATE_LIMIT_SYNC=20",
		"MKSYNC_RATE_LIMIT_API=600",
		"MKSYNC_METAKOCKA_URLS=http://127.0.0.1:8090",
		"MKSYNC_REDIS_URL=redis://127.0.0.1:6379/0",
		"MKSYNC_METAKOCKA_RATE_STORE=redis",
		"MKSYNC_LOG_LEVEL=debug",
		"MKSYNC_METRICS_PER_TENANT=true",
		"MKSYNC_CACHE_SIZE=500",
		"MKSYNC_ERROR_RETENTION_DAYS=7",
		"MKSYNC_ALERT_WEBHOOK_URL=https://hooks.example/x",
		"MKSYNC_ALERT_WEBHOOK_SECRET=0123456789abcdef",
		"MKSYNC_TOKEN=mks_a",
		"MKSYNC_TOKEN_B=mks_b",
		"MKSYNC_REQUIRE_POSTGRES=1", // a test knob: accepted, ignored
	})
	require.NoError(t, err)
	require.Equal(t, "postgres://u@h/db", cfg.DB)
	require.Equal(t, ":9090", cfg.Addr)
	require.Equal(t, "k1", cfg.EncryptionKey.Reveal())
	require.Equal(t, "k0", cfg.EncryptionKeysOld.Reveal())
	require.Equal(t, "0123456789abcdef", cfg.AdminToken.Reveal())
	require.Len(t, cfg.SessionKey.Reveal(), 32)
	require.Equal(t, 20, cfg.RateLimitSync)
	require.Equal(t, 600, cfg.RateLimitAPI)
	require.Equal(t, mksync.MetakockaURLs{"http://127.0.0.1:8090"}, cfg.MetakockaURLs)
	require.Equal(t, "redis://127.0.0.1:6379/0", cfg.RedisURL)
	require.Equal(t, "redis", cfg.MetakockaRateStore)
	require.Equal(t, slog.LevelDebug, cfg.LogLevel)
	require.True(t, cfg.MetricsPerTenant)
	require.Equal(t, 500, cfg.CacheSize)
	require.Equal(t, 7, cfg.ErrorRetentionDays)
	require.Equal(t, "https://hooks.example/x", cfg.AlertWebhookURL)
	require.Equal(t, "0123456789abcdef", cfg.AlertWebhookSecret.Reveal())
	require.Equal(t, "mks_a", cfg.Token.Reveal())
	require.Equal(t, "mks_b", cfg.TokenB.Reveal())
	require.True(t, cfg.IsSet("MKSYNC_LOG_LEVEL"))

	def, err := app.LoadConfig(nil)
	require.NoError(t, err)
	require.Equal(t, app.DefaultErrorRetentionDays, def.ErrorRetentionDays)
	require.Equal(t, slog.LevelInfo, def.LogLevel)
	require.False(t, def.IsSet("MKSYNC_LOG_LEVEL"))
}

// A typo or a malformed value stops the start with the variable's name;
// a secret's value is never echoed.
func TestLoadConfigRefusesUnknownAndMalformed(t *testing.T) {
	for _, tc := range []struct {
		env, name string
	}{
		{"MKSYNC_DATABASE=x.db", "MKSYNC_DATABASE"},
		{"MKSYNC_RATE_LIMIT_SYNC=ten", "MKSYNC_RATE_LIMIT_SYNC"},
		{"MKSYNC_RATE_LIMIT_API=-5", "MKSYNC_RATE_LIMIT_API"},
		{"MKSYNC_METAKOCKA_URLS=gopher://x", "MKSYNC_METAKOCKA_URLS"},
		{"MKSYNC_REDIS_URL=http://x", "MKSYNC_REDIS_URL"},
		{"MKSYNC_METAKOCKA_RATE_STORE=etcd", "MKSYNC_METAKOCKA_RATE_STORE"},
		{"MKSYNC_METAKOCKA_RATE_STORE=redis", "MKSYNC_METAKOCKA_RATE_STORE"}, // without MKSYNC_REDIS_URL
		{"MKSYNC_LOG_LEVEL=loud", "MKSYNC_LOG_LEVEL"},
		{"MKSYNC_METRICS_PER_TENANT=maybe", "MKSYNC_METRICS_PER_TENANT"},
		{"MKSYNC_ERROR_RETENTION_DAYS=0", "MKSYNC_ERROR_RETENTION_DAYS"},
		{"MKSYNC_ERROR_RETENTION_DAYS=-1", "MKSYNC_ERROR_RETENTION_DAYS"},
		{"MKSYNC_ERROR_RETENTION_DAYS=30d", "MKSYNC_ERROR_RETENTION_DAYS"},
		{"MKSYNC_ALERT_WEBHOOK_URL=ftp://alerts.example.com", "MKSYNC_ALERT_WEBHOOK_URL"},
		{"MKSYNC_ALERT_WEBHOOK_URL=not a url", "MKSYNC_ALERT_WEBHOOK_URL"},
		{"MKSYNC_ALERT_WEBHOOK_SECRET=short-secret", "MKSYNC_ALERT_WEBHOOK_SECRET"},
		{"MKSYNC_ADMIN_TOKEN=short-token", "MKSYNC_ADMIN_TOKEN"},
		{"MKSYNC_SESSION_KEY=too-short-session-key", "MKSYNC_SESSION_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := app.LoadConfig([]string{tc.env})
			require.Error(t, err)
			require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
			require.Contains(t, mksync.ErrorMessage(err), tc.name)
			if strings.Contains(tc.name, "SECRET") || strings.Contains(tc.name, "TOKEN") || strings.Contains(tc.name, "KEY") {
				_, v, _ := strings.Cut(tc.env, "=")
				require.NotContains(t, err.Error(), v, "a secret is never echoed")
			}
		})
	}
	_, err := app.LoadConfig([]string{"MKSYNC_ALERT_WEBHOOK_URL=https://hooks.example/x"})
	require.ErrorContains(t, err, "MKSYNC_ALERT_WEBHOOK_SECRET", "a webhook URL needs its secret")
}

// Every variable of README's configuration table is a Config field, and
// every Config variable is in the table.
func TestREADMEConfigurationTableMatchesConfig(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	start := strings.Index(readme, "## Configuration")
	require.GreaterOrEqual(t, start, 0)
	end := strings.Index(readme[start+1:], "\n## ")
	require.Greater(t, end, 0)
	var inTable []string
	for _, line := range strings.Split(readme[start:start+1+end], "\n") {
		if !strings.HasPrefix(line, "| `MKSYNC_") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		inTable = append(inTable, regexp.MustCompile("MKSYNC_[A-Z0-9_]+").FindAllString(first, -1)...)
	}
	slices.Sort(inTable)
	known := app.Variables()
	slices.Sort(known)
	require.Equal(t, known, inTable)
}
