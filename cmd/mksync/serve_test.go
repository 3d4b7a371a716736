package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/observe"
)

// startServe runs `mksync serve` in-process and returns its base URL, the
// lines it printed before listening, and a stop function that cancels its
// context and returns its error.
func startServe(t testing.TB, args ...string) (base string, printed []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var errOut observe.LogBuffer // serve logs while this reads
	root := newRootCmd(strings.NewReader(""), outW, &errOut)
	root.SetArgs(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		outW.Close()
	}()
	rd := bufio.NewReader(outR)
	for {
		line, err := rd.ReadString('\n')
		require.NoError(t, err, "serve stopped before listening: %s", errOut.String())
		if after, ok := strings.CutPrefix(line, "listening on "); ok {
			base = strings.TrimSpace(after)
			break
		}
		printed = append(printed, line)
	}
	go func() { _, _ = io.Copy(io.Discard, rd) }()
	var stopped bool
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop after its context was cancelled")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, printed, stop
}

func get(t *testing.T, url, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp, body
}

func TestServeCommand(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "")
	t.Setenv("MKSYNC_ADDR", "")
	db := filepath.Join(t.TempDir(), "data", "mksync.db")

	base, printed, stop := startServe(t, "--db", db)
	require.Len(t, printed, 1, "the generated admin token is printed once")
	admin := strings.TrimSpace(printed[0][strings.LastIndex(printed[0], " ")+1:])
	require.True(t, strings.HasPrefix(admin, "mks_"), printed[0])

	resp, body := get(t, base+"/healthz", "")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "ok", body["status"])
	resp, _ = get(t, base+"/readyz", "")
	require.Equal(t, 200, resp.StatusCode)
	resp, body = get(t, base+"/api/contacts", "")
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, "unauthorized", body["code"])
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
	resp, _ = get(t, base+"/api/admin/tenants", admin)
	require.Equal(t, 200, resp.StatusCode)
	resp, body = get(t, base+"/api/openapi.json", "")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "3.1.0", body["openapi"])
	require.NoError(t, stop())

	// A second start keeps the admin token and prints nothing secret.
	base, printed, stop = startServe(t, "--db", db)
	require.Empty(t, printed)
	resp, _ = get(t, base+"/api/admin/tenants", admin)
	require.Equal(t, 200, resp.StatusCode)
	require.NoError(t, stop())

	// MKSYNC_ADMIN_TOKEN replaces it.
	t.Setenv("MKSYNC_ADMIN_TOKEN", "operator-chosen-admin-token")
	base, printed, stop = startServe(t, "--db", db, "--no-migrate")
	require.Empty(t, printed)
	resp, _ = get(t, base+"/api/admin/tenants", "operator-chosen-admin-token")
	require.Equal(t, 200, resp.StatusCode)
	resp, _ = get(t, base+"/api/admin/tenants", admin)
	require.Equal(t, 401, resp.StatusCode)
	require.NoError(t, stop())
}

func TestServeRejectsBadRateLimitEnv(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_RATE_LIMIT_SYNC", "ten")
	_, _, err := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.db"))
	require.ErrorContains(t, err, "MKSYNC_RATE_LIMIT_SYNC")
}

// A mistyped variable would otherwise be ignored silently: every command
// that reads the configuration refuses to start, naming it, and creates
// no database.
func TestCommandsRefuseUnknownVariable(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_RATE_LIMIT_SNYC", "20")
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"worker"}, {"tenant", "list"}, {"migrate"}} {
		dir := t.TempDir()
		_, _, err := runCLI(t, "", append(args, "--db", filepath.Join(dir, "x.db"))...)
		require.ErrorContains(t, err, "MKSYNC_RATE_LIMIT_SNYC", args[0])
		require.NoFileExists(t, filepath.Join(dir, "x.db"), args[0])
	}
}

// River's job dashboard at /admin/jobs opens to the admin token only, as a
// Bearer token or as a browser's Basic auth password; a tenant's token is
// refused with 403.
func TestServeJobDashboard(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "")
	t.Setenv("MKSYNC_ADDR", "")
	db := filepath.Join(t.TempDir(), "data", "mksync.db")
	tenant := strings.TrimSpace(mustRun(t, "", "tenant", "create", "--name", "Dashboard d.o.o.", "--db", db))
	tenantToken := strings.TrimSpace(mustRun(t, "", "token", "create", "--tenant", tenant, "--db", db))

	base, printed, _ := startServe(t, "--db", db, "--no-migrate")
	require.Len(t, printed, 1, "the generated admin token is printed once")
	admin := strings.TrimSpace(printed[0][strings.LastIndex(printed[0], " ")+1:])

	do := func(path, bearer, basicPass string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if basicPass != "" {
			req.SetBasicAuth("admin", basicPass)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	for _, path := range []string{"/admin/jobs", "/admin/jobs/", "/admin/jobs/api/jobs?limit=5"} {
		resp, _ := do(path, "", "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic", path)
		resp, _ = do(path, "mks_not-a-token", "")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		resp, _ = do(path, "", "wrong")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		resp, _ = do(path, tenantToken, "")
		require.Equal(t, http.StatusForbidden, resp.StatusCode, path)
		resp, _ = do(path, "", tenantToken)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, path)
	}
	resp, body := do("/admin/jobs/", admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "<html")
	resp, body = do("/admin/jobs/", "", admin)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = do("/admin/jobs/api/jobs?limit=5", "", admin)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `"data"`)
	resp, _ = do("/admin/jobs", admin, "")
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.Equal(t, "/admin/jobs/", resp.Header.Get("Location"))
}

// The dashboard behind `mksync serve` refuses a cross-site POST carrying
// the admin's Basic credentials (the review deleted a job so) and its pages
// may not be framed.
func TestServeJobDashboardCrossSite(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "operator-chosen-admin-token")
	t.Setenv("MKSYNC_ADDR", "")
	base, _, _ := startServe(t, "--db", filepath.Join(t.TempDir(), "mksync.db"))

	req, err := http.NewRequest(http.MethodPost, base+"/admin/jobs/api/jobs/delete", strings.NewReader(`{"ids":["1"]}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	req.SetBasicAuth("admin", "operator-chosen-admin-token")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	req, err = http.NewRequest(http.MethodGet, base+"/admin/jobs/", nil)
	require.NoError(t, err)
	req.SetBasicAuth("admin", "operator-chosen-admin-token")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
}

// MKSYNC_PUBLIC_URL=https://… (a TLS proxy in front) makes the UI's cookies
// Secure and sends HSTS; a malformed value is refused, naming the variable.
func TestServePublicURL(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "operator-chosen-admin-token")
	t.Setenv("MKSYNC_ADDR", "")
	t.Setenv("MKSYNC_PUBLIC_URL", "https://mksync.example.com")
	base, _, stop := startServe(t, "--db", filepath.Join(t.TempDir(), "mksync.db"))
	resp, err := http.Get(base + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
	require.NotEmpty(t, resp.Cookies())
	for _, c := range resp.Cookies() {
		require.True(t, c.Secure, c.Name)
	}
	require.NoError(t, stop())

	t.Setenv("MKSYNC_PUBLIC_URL", "mksync.example.com")
	_, _, err = runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "x.db"))
	require.ErrorContains(t, err, "MKSYNC_PUBLIC_URL")
}
