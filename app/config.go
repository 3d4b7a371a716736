package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mksync/mksync"
)

// DefaultDB is the database used when neither --db nor MKSYNC_DB names one.
const DefaultDB = "sqlite:./mksync-data/mksync.db"

// Config is every setting of an mksync process, read from the environment
// once at start (LoadConfig) and passed down; the commands' flags override
// fields afterwards. Each field names its variable; zero values take the
// documented defaults (README.md, "Configuration").
type Config struct {
	// DB is the database (MKSYNC_DB): "sqlite:PATH", a file path, or a
	// postgres:// URL; default DefaultDB.
	DB string
	// Addr is the address serve listens on (MKSYNC_ADDR); default ":8080".
	Addr string
	// EncryptionKey is base64 of 32 bytes (MKSYNC_ENCRYPTION_KEY) sealing
	// secrets at rest. Unset on SQLite: a key file beside the database.
	// Required on PostgreSQL.
	EncryptionKey mksync.Secret
	// EncryptionKeysOld are earlier keys, comma-separated, that may still
	// open secrets during a rotation (MKSYNC_ENCRYPTION_KEYS_OLD).
	EncryptionKeysOld mksync.Secret
	// AdminToken is the token of /api/admin (MKSYNC_ADMIN_TOKEN), at least
	// 16 characters; unset: one is generated on first start.
	AdminToken mksync.Secret
	// SessionKey signs the UI's session cookies (MKSYNC_SESSION_KEY), at
	// least 32 characters; unset: random per process.
	SessionKey mksync.Secret
	// PublicURL is the address users open (MKSYNC_PUBLIC_URL), the TLS
	// proxy's when one fronts the server: with https:// the UI's cookies
	// are Secure and answers carry HSTS.
	PublicURL string
	// RateLimitSync is sync requests per minute per tenant
	// (MKSYNC_RATE_LIMIT_SYNC); 0: the API's default, 10.
	RateLimitSync int
	// RateLimitAPI is other API requests per minute per tenant
	// (MKSYNC_RATE_LIMIT_API); 0: the API's default, 1200.
	RateLimitAPI int
	// MetakockaURLs are the origins a tenant may set as its Metakocka URL
	// besides the real API's (MKSYNC_METAKOCKA_URLS, comma-separated; "*"
	// allows any).
	MetakockaURLs mksync.MetakockaURLs
	// RedisURL shares the rate limits of many instances through Redis
	// (MKSYNC_REDIS_URL); "": in-process buckets.
	RedisURL string
	// MetakockaRateStore keeps the requests per second of each Metakocka
	// company (MKSYNC_METAKOCKA_RATE_STORE): "redis" (needs RedisURL) or
	// "postgres" (needs a PostgreSQL store) share it across the fleet,
	// "memory" keeps one per process; "" (auto): Redis when RedisURL is
	// set, else PostgreSQL when the store is, else memory.
	MetakockaRateStore string
	// LogLevel is the level of the JSON logs on stderr (MKSYNC_LOG_LEVEL:
	// debug, info, warn, error); default info.
	LogLevel slog.Level
	// MetricsPerTenant adds a tenant label to sync and Metakocka metrics
	// (MKSYNC_METRICS_PER_TENANT); default false.
	MetricsPerTenant bool
	// MetricsAddr serves GET /metrics on a listener of its own
	// (MKSYNC_METRICS_ADDR, no token); "": on the API's listener, behind
	// MetricsToken or the admin token.
	MetricsAddr string
	// MetricsToken opens GET /metrics on the API's listener
	// (MKSYNC_METRICS_TOKEN), at least 16 characters.
	MetricsToken mksync.Secret
	// CacheSize is the entries of each of the engine's caches
	// (MKSYNC_CACHE_SIZE, 1 to 10,000,000); 0: the engine's default, 20000.
	CacheSize int
	// ErrorRetentionDays is how long error records are kept
	// (MKSYNC_ERROR_RETENTION_DAYS); default 30.
	ErrorRetentionDays int
	// AlertWebhookURL receives signed alert notices
	// (MKSYNC_ALERT_WEBHOOK_URL); needs AlertWebhookSecret.
	AlertWebhookURL string
	// AlertWebhookSecret is the HMAC-SHA256 key of those notices
	// (MKSYNC_ALERT_WEBHOOK_SECRET), at least 16 bytes.
	AlertWebhookSecret mksync.Secret
	// Token and TokenB are tenant tokens of a remote deployment for
	// `validate --server` and `sync --server` (MKSYNC_TOKEN,
	// MKSYNC_TOKEN_B), kept out of the process list.
	Token, TokenB mksync.Secret

	// set names the variables LoadConfig found set.
	set map[string]bool
}

// SecureCookies reports whether the UI's cookies are Secure and HSTS is
// sent: PublicURL is https://.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// IsSet reports whether LoadConfig found the variable name set (to a
// non-empty value), for settings whose default depends on the command.
func (c Config) IsSet(name string) bool { return c.set[name] }

// DefaultErrorRetentionDays is Config.ErrorRetentionDays when unset.
const DefaultErrorRetentionDays = 30

// setting is one variable of Config: how to read it into the config.
type setting struct {
	name string
	set  func(c *Config, v string) error
}

// settings are Config's variables, in README order.
var settings = []setting{
	{"MKSYNC_DB", func(c *Config, v string) error { c.DB = v; return nil }},
	{"MKSYNC_ADDR", func(c *Config, v string) error { c.Addr = v; return nil }},
	{"MKSYNC_ENCRYPTION_KEY", func(c *Config, v string) error { c.EncryptionKey = mksync.Secret(v); return nil }},
	{"MKSYNC_ENCRYPTION_KEYS_OLD", func(c *Config, v string) error { c.EncryptionKeysOld = mksync.Secret(v); return nil }},
	{"MKSYNC_ADMIN_TOKEN", func(c *Config, v string) error {
		if len(v) < 16 {
			return errors.New("must be at least 16 characters")
		}
		c.AdminToken = mksync.Secret(v)
		return nil
	}},
	{"MKSYNC_SESSION_KEY", func(c *Config, v string) error {
		if len(v) < 32 {
			return errors.New("must be at least 32 characters")
		}
		c.SessionKey = mksync.Secret(v)
		return nil
	}},
	{"MKSYNC_PUBLIC_URL", func(c *Config, v string) error {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("want an absolute http:// or https:// URL")
		}
		c.PublicURL = v
		return nil
	}},
	{"MKSYNC_RATE_LIMIT_SYNC", func(c *Config, v string) (err error) {
		c.RateLimitSync, err = intIn(v, 0, 1_000_000, "requests per minute")
		return err
	}},
	{"MKSYNC_RATE_LIMIT_API", func(c *Config, v string) (err error) {
		c.RateLimitAPI, err = intIn(v, 0, 1_000_000, "requests per minute")
		return err
	}},
	{"MKSYNC_METAKOCKA_URLS", func(c *Config, v string) (err error) {
		c.MetakockaURLs, err = mksync.ParseMetakockaURLs(v)
		return err
	}},
	{"MKSYNC_REDIS_URL", func(c *Config, v string) error {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			return errors.New("want redis://host:port/db")
		}
		c.RedisURL = v
		return nil
	}},
	{"MKSYNC_METAKOCKA_RATE_STORE", func(c *Config, v string) error {
		switch v {
		case "auto":
		case "redis", "postgres", "memory":
			c.MetakockaRateStore = v
		default:
			return errors.New("want auto, redis, postgres or memory")
		}
		return nil
	}},
	{"MKSYNC_LOG_LEVEL", func(c *Config, v string) error {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return errors.New("want debug, info, warn or error")
		}
		return nil
	}},
	{"MKSYNC_METRICS_ADDR", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return errors.New("want host:port or :port")
		}
		c.MetricsAddr = v
		return nil
	}},
	{"MKSYNC_METRICS_TOKEN", func(c *Config, v string) error {
		if len(v) < 16 {
			return errors.New("must be at least 16 characters")
		}
		c.MetricsToken = mksync.Secret(v)
		return nil
	}},
	{"MKSYNC_METRICS_PER_TENANT", func(c *Config, v string) (err error) {
		if c.MetricsPerTenant, err = strconv.ParseBool(v); err != nil {
			return errors.New("want true or false")
		}
		return nil
	}},
	{"MKSYNC_CACHE_SIZE", func(c *Config, v string) (err error) {
		c.CacheSize, err = intIn(v, 1, 10_000_000, "entries per cache")
		return err
	}},
	{"MKSYNC_ERROR_RETENTION_DAYS", func(c *Config, v string) (err error) {
		c.ErrorRetentionDays, err = intIn(v, 1, 100_000, "days")
		return err
	}},
	{"MKSYNC_ALERT_WEBHOOK_URL", func(c *Config, v string) error {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("want an absolute http(s) URL")
		}
		c.AlertWebhookURL = v
		return nil
	}},
	{"MKSYNC_ALERT_WEBHOOK_SECRET", func(c *Config, v string) error {
		if len(v) < 16 {
			return errors.New("must be at least 16 bytes")
		}
		c.AlertWebhookSecret = mksync.Secret(v)
		return nil
	}},
	{"MKSYNC_TOKEN", func(c *Config, v string) error { c.Token = mksync.Secret(v); return nil }},
	{"MKSYNC_TOKEN_B", func(c *Config, v string) error { c.TokenB = mksync.Secret(v); return nil }},
}

// TestVariables are MKSYNC_* variables of the test suite (README.md):
// LoadConfig accepts and ignores them, so that a test process can start
// the program.
var TestVariables = []string{
	"MKSYNC_TEST_POSTGRES_URL", "MKSYNC_TEST_REDIS_URL",
	"MKSYNC_REQUIRE_POSTGRES", "MKSYNC_REQUIRE_REDIS", "MKSYNC_REQUIRE_BROWSER",
	"MKSYNC_CHROMIUM", "MKSYNC_UPDATE_SCREENSHOTS",
	"MKSYNC_CHAOS_N", "MKSYNC_CRASH_RECORDS", "MKSYNC_RELIABILITY_N",
	"MKSYNC_BENCH_N", "MKSYNC_BENCH_NOOP_N", "MKSYNC_LOAD_CLIENTS", "MKSYNC_LOAD_SECONDS",
	"MKSYNC_CRASH_SEED", "MKSYNC_TEST_TIMEOUT",
	// The TypeScript client's tests (clients/typescript/scripts/test.sh).
	"MKSYNC_REQUIRE_SYNC", "MKSYNC_URL", "MKSYNC_FAKE_URL",
}

// Variables lists the MKSYNC_* variables Config reads, in README order.
func Variables() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.name
	}
	return out
}

// LoadConfig reads Config from environ (os.Environ()'s "KEY=value"
// lines). It refuses, naming the variable, a malformed value and an
// MKSYNC_* variable it does not know (a typo would otherwise be ignored
// silently); TestVariables are accepted and ignored. Empty values count as
// unset. Errors: EINVALID.
func LoadConfig(environ []string) (Config, error) {
	c := Config{ErrorRetentionDays: DefaultErrorRetentionDays, LogLevel: slog.LevelInfo, set: map[string]bool{}}
	var problems []string
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "MKSYNC_") {
			continue
		}
		i := slices.IndexFunc(settings, func(s setting) bool { return s.name == name })
		switch {
		case i < 0 && slices.Contains(TestVariables, name):
			continue
		case i < 0:
			problems = append(problems, fmt.Sprintf("%s: unknown variable (known: %s)", name, strings.Join(Variables(), ", ")))
			continue
		case v == "":
			continue
		}
		if err := settings[i].set(&c, v); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", name, shown(name, v), err))
		}
		c.set[name] = true
	}
	if c.AlertWebhookURL != "" && c.AlertWebhookSecret == "" {
		problems = append(problems, "MKSYNC_ALERT_WEBHOOK_SECRET: required with MKSYNC_ALERT_WEBHOOK_URL (every notice is signed)")
	}
	if c.MetakockaRateStore == "redis" && c.RedisURL == "" {
		problems = append(problems, "MKSYNC_METAKOCKA_RATE_STORE: redis needs MKSYNC_REDIS_URL")
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return Config{}, mksync.Errorf(mksync.EINVALID, "configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// shown is v as an error may print it: secrets are never echoed.
func shown(name, v string) string {
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "URL"} {
		if strings.Contains(name, w) {
			return "…"
		}
	}
	return v
}

// intIn parses v as an integer in [lo, hi].
func intIn(v string, lo, hi int, unit string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want %s, %d to %d", unit, lo, hi)
	}
	return n, nil
}

// LoadEnv is LoadConfig of the process's environment.
func LoadEnv() (Config, error) { return LoadConfig(os.Environ()) }
