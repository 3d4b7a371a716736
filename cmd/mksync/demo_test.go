package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/observe"
)

// startDemo runs `mksync demo` in-process with args and returns the lines
// it printed up to "ready:" and a stop func (Ctrl-C: cancel its context)
// that returns the command's error.
func startDemo(t *testing.T, args ...string) (lines []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	var errOut observe.LogBuffer
	root := newRootCmd(strings.NewReader(""), outW, &errOut)
	root.SetArgs(append([]string{"demo"}, args...))
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		outW.Close()
	}()
	rd := bufio.NewReader(outR)
	for {
		line, err := rd.ReadString('\n')
		require.NoError(t, err, "demo stopped before it was ready: %s\n%s", strings.Join(lines, ""), errOut.String())
		lines = append(lines, strings.TrimRight(line, "\n"))
		if strings.HasPrefix(line, "ready:") {
			break
		}
	}
	rest := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(rd)
		rest <- string(b)
	}()
	var stopped bool
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.Contains(t, <-rest, "demo stopped")
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("demo did not stop after Ctrl-C")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return lines, stop
}

// field returns the value printed after label in the demo's banner.
func field(t *testing.T, lines []string, label string) string {
	t.Helper()
	for _, l := range lines {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), label); ok {
			return strings.Fields(v)[0]
		}
	}
	t.Fatalf("no %q line in %q", label, lines)
	return ""
}

// The demo starts on a taken address (it picks a free port), syncs both
// ways, and a person signing in with the printed token sees synced
// contacts; the API lists the mappings; Ctrl-C stops it cleanly. A second
// start on the same folder begins again from the re-seeded simulator.
func TestDemoCommand(t *testing.T) {
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "")
	t.Setenv("MKSYNC_SESSION_KEY", "")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	dir := filepath.Join(t.TempDir(), "demo")

	lines, stop := startDemo(t, "--addr", busy.Addr().String(), "--dir", dir)
	out := strings.Join(lines, "\n")
	require.Contains(t, out, "is taken; using a free port instead")
	for _, l := range lines {
		if strings.Contains(l, "_metakocka ") {
			require.Contains(t, l, "succeeded", l)
			require.Contains(t, l, " 0 failed", l)
		}
	}
	base := strings.TrimSuffix(field(t, lines, "web UI"), "/")
	require.NotEqual(t, "http://"+busy.Addr().String(), base)
	token := field(t, lines, "sign-in token")
	require.True(t, strings.HasPrefix(token, "mks_"), token)

	// Sign in through the UI's form, as a browser would.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(base + "/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	u, err := url.Parse(base)
	require.NoError(t, err)
	var csrf string
	for _, c := range jar.Cookies(u) {
		if c.Name == "mksync_login" {
			csrf = c.Value
		}
	}
	require.NotEmpty(t, csrf)
	resp, err = browser.PostForm(base+"/login", url.Values{"token": {token}, "csrf": {csrf}, "next": {"/contacts"}})
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(page))
	require.Contains(t, string(page), "Kovač in partnerji d.o.o.", "the demo's own contact")
	require.Contains(t, string(page), `badge-synced`)
	require.Contains(t, string(page), ">Synced<")

	// The API shows the same state.
	resp, body := get(t, base+"/api/integrations/metakocka/contacts/mappings", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	items, _ := body["items"].([]any)
	require.NotEmpty(t, items)
	require.Positive(t, scrape(t, base, "mksync_sync_records_total", `outcome="created"`))

	// Every product pulled from the simulator shows its real price and
	// tax rate (the demo company keeps them on its own price list, which
	// the demo tenant discovers).
	resp, body = get(t, base+"/api/products?limit=200", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	products, _ := body["items"].([]any)
	pulled := 0
	for _, it := range products {
		p := it.(map[string]any)
		if !strings.HasPrefix(fmt.Sprint(p["code"]), "DEMO-") {
			continue
		}
		pulled++
		require.NotContains(t, []string{"0", "0.00", "<nil>"}, fmt.Sprint(p["price"]), "price of %v", p["code"])
		require.NotContains(t, []string{"0", "0.00", "<nil>"}, fmt.Sprint(p["taxRate"]), "tax rate of %v", p["code"])
	}
	require.Positive(t, pulled, "products pulled from the simulator")

	// The web shop's coupon order and the credit note are pulled, with
	// totals as the simulator summed them.
	resp, body = get(t, base+"/api/sales-documents?limit=200", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	docs, _ := body["items"].([]any)
	kinds := map[string]int{}
	for _, it := range docs {
		d := it.(map[string]any)
		kinds[fmt.Sprint(d["kind"])]++
		if d["number"] == "WEB-1001" {
			require.Equal(t, "10", fmt.Sprint(d["discountValue"]))
			require.NotContains(t, []string{"0", "<nil>"}, fmt.Sprint(d["totalGross"]))
		}
	}
	require.Equal(t, 1, kinds["credit_note"], "%v", kinds)
	require.Positive(t, kinds["order"], "%v", kinds)
	// The price list was not configured: it was discovered from the demo
	// company's products.
	resp, body = get(t, base+"/api/integrations/metakocka/credentials", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	settings, _ := body["settings"].(map[string]any)
	require.Equal(t, "PC_MAIN", settings["pricelist"])
	require.Equal(t, "discovered", settings["pricelistSource"])
	require.NoError(t, stop())

	// Again on the same folder: a new token; the old one is gone with the
	// old demo tenant, and the sync starts from the re-seeded simulator.
	lines, stop = startDemo(t, "--addr", "127.0.0.1:0", "--dir", dir)
	require.NotEqual(t, token, field(t, lines, "sign-in token"))
	require.Contains(t, strings.Join(lines, "\n"), "contact         to_metakocka     succeeded 4 created")
	base = strings.TrimSuffix(field(t, lines, "web UI"), "/")
	resp, _ = get(t, base+"/api/integrations/metakocka/contacts/mappings", token)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.NoError(t, stop())
}
