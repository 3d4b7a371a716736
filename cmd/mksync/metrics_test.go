package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka/mkfake"
)

// post sends body as JSON with the bearer token and decodes the answer.
func post(t testing.TB, url, token string, body any) (*http.Response, map[string]any) {
	t.Helper()
	return send(t, "POST", url, token, body)
}

// send sends body as JSON with method to url as token's tenant and decodes
// the JSON answer.
func send(t testing.TB, method, url, token string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp, out
}

// testMetricsToken is MKSYNC_METRICS_TOKEN in the tests (cliEnv).
const testMetricsToken = "metrics-token-for-the-tests-0123"

// scrape returns the sum of the samples of metric whose labels contain
// every one of labels (`name="value"`), scraping base/metrics with
// testMetricsToken as Prometheus would.
func scrape(t *testing.T, base, metric string, labels ...string) float64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	body := string(raw)
	var sum float64
	for line := range strings.SplitSeq(body, "\n") {
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		require.NoError(t, err, line)
		sum += v
	}
	return sum
}

// /metrics of a running serve shows a sync: the record's outcome and the
// Metakocka requests it made.
func TestServeMetricsMoveAfterSync(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "")
	t.Setenv("MKSYNC_ADDR", "")
	fake := mkfake.New(mkfake.Options{Seed: 3})
	fake.AddCompany("77", "secret-77")
	mk := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); mk.Close() })

	db := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
	tenant := strings.TrimSpace(mustRun(t, "", "tenant", "create", "--name", "Metrics d.o.o.", "--db", db))
	mustRun(t, "secret-77\n", "credentials", "set", "--tenant", tenant, "--company-id", "77", "--metakocka-url", mk.URL, "--db", db)
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--tenant", tenant, "--name", "test", "--db", db))

	base, _, stop := startServe(t, "--db", db)
	before := scrape(t, base, "mksync_sync_records_total", `outcome="created"`)
	require.Zero(t, before)

	resp, c := post(t, base+"/api/contacts", token, map[string]any{"name": "Metrics Contact d.o.o.", "email": "m@example.com"})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", c)
	resp, res := post(t, base+"/api/integrations/metakocka/contacts/sync-to-metakocka", token, map[string]any{"contactId": c["id"]})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%v", res)

	require.Equal(t, 1.0, scrape(t, base, "mksync_sync_records_total",
		`entity="contact"`, `direction="to_metakocka"`, `outcome="created"`))
	require.Positive(t, scrape(t, base, "mksync_metakocka_requests_total", `method="add_partner"`, `outcome="ok"`))
	require.Positive(t, scrape(t, base, "mksync_http_requests_total", `code="200"`))
	require.Positive(t, scrape(t, base, "go_goroutines"))
	require.NoError(t, stop())
}

// /metrics is not public on the API's listener: it answers the metrics
// token or the admin token only; with MKSYNC_METRICS_ADDR it moves to a
// listener of its own and the API's listener no longer serves it.
func TestServeMetricsAccess(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "operator-chosen-admin-token")
	t.Setenv("MKSYNC_ADDR", "")
	db := filepath.Join(t.TempDir(), "mksync.db")
	status := func(url, token string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	base, _, stop := startServe(t, "--db", db)
	require.Equal(t, http.StatusUnauthorized, status(base+"/metrics", ""))
	require.Equal(t, http.StatusUnauthorized, status(base+"/metrics", "not-the-metrics-token"))
	require.Equal(t, http.StatusOK, status(base+"/metrics", testMetricsToken))
	require.Equal(t, http.StatusOK, status(base+"/metrics", "operator-chosen-admin-token"))
	require.NoError(t, stop())

	t.Setenv("MKSYNC_METRICS_ADDR", "127.0.0.1:0")
	base, printed, stop := startServe(t, "--db", db, "--no-migrate")
	require.Len(t, printed, 1)
	metrics := strings.TrimSpace(strings.TrimPrefix(printed[0], "metrics on "))
	require.True(t, strings.HasPrefix(metrics, "http://127.0.0.1:"), printed[0])
	require.Equal(t, http.StatusOK, status(metrics, ""), "the metrics listener is for Prometheus' network")
	require.Positive(t, scrape(t, strings.TrimSuffix(metrics, "/metrics"), "go_goroutines"))
	require.NotEqual(t, http.StatusOK, status(base+"/metrics", testMetricsToken), "no longer on the API's listener")
	require.NoError(t, stop())

	t.Setenv("MKSYNC_METRICS_ADDR", "")
	t.Setenv("MKSYNC_METRICS_TOKEN", "short")
	_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--db", db)
	require.ErrorContains(t, err, "MKSYNC_METRICS_TOKEN")
}
