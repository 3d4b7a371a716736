package app_test

import (
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
)

// A process with job workers sizes its PostgreSQL pool from its own worker
// counts when the URL has no pool_max_conns (as the README's does not
// need to), so the default needs no warning; a pool_max_conns in the URL
// is kept, and one too small for the workers is warned about.
func TestWorkerPoolSizedFromWorkers(t *testing.T) {
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	base := url + sep + "search_path=" + pgtest.Schema(t, url)
	key, err := keyring.GenerateKey()
	require.NoError(t, err)
	defaults := jobs.Config{}
	for _, tc := range []struct {
		name     string
		url      string
		workers  jobs.Config
		wantPool int32
		warns    bool
	}{
		{"defaults, URL silent", base, defaults, int32(jobs.DefaultBulkWorkers + jobs.DefaultInteractiveWorkers + 6), false},
		{"more workers, URL silent", base, jobs.Config{BulkWorkers: 16, InteractiveWorkers: 4}, 26, false},
		{"URL says enough", base + "&pool_max_conns=40", defaults, 40, false},
		{"URL says too few", base + "&pool_max_conns=5", defaults, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := app.LoadConfig([]string{"MKSYNC_DB=" + tc.url, "MKSYNC_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key)})
			require.NoError(t, err)
			logs := &observe.LogBuffer{}
			o := app.Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), Jobs: tc.workers}
			o.Jobs.StopTimeout = time.Second
			a, err := app.Start(t.Context(), cfg, o)
			require.NoError(t, err)
			t.Cleanup(a.Close)
			require.Equal(t, tc.wantPool, a.Store.(*postgres.DB).Pool().Config().MaxConns)
			require.Equal(t, tc.warns, strings.Contains(logs.String(), "pool is small"), "logs: %s", logs)
		})
	}
}
