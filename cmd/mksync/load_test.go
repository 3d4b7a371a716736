package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka/mkfake"
)

// BenchmarkServeLoad drives a real `mksync serve` (SQLite, job workers, the
// simulator on loopback with 20 ms latency, rate limits and pacing off) with
// many concurrent API clients
// for a fixed time: half list contacts, half sync one contact to Metakocka.
// It fails on any 5xx and reports requests/s and p50/p99 per route.
//
//	go test ./cmd/mksync -run X -bench ServeLoad -benchtime 1x
//
// MKSYNC_LOAD_CLIENTS (default 200) and MKSYNC_LOAD_SECONDS (default 10)
// change the load; each b.N iteration is one whole load run.
func BenchmarkServeLoad(b *testing.B) {
	clients := envIntDefault(b, "MKSYNC_LOAD_CLIENTS", 200)
	seconds := envIntDefault(b, "MKSYNC_LOAD_SECONDS", 10)
	b.Setenv("MKSYNC_LOG_LEVEL", "error")
	// Rate limits and Metakocka pacing off: the load measures mksync itself
	// (with the default pacing of 5 requests/s per company, single syncs of
	// one tenant queue behind each other by design).
	st := serveTenant(b, "90", 9, "--rate-limit-sync", "100000000", "--rate-limit-api", "100000000",
		"--metakocka-rps", "-1", "--metakocka-in-flight", "32")
	st.fake.SetFaults("90", mkfake.Faults{Latency: 20 * time.Millisecond})
	base, token, stop := st.base, st.token, st.stop

	var ids []string
	for i := range 100 {
		resp, c := post(b, base+"/api/contacts", token, map[string]any{"name": fmt.Sprintf("Load contact %03d", i), "email": fmt.Sprintf("l%03d@example.com", i)})
		require.Equal(b, http.StatusCreated, resp.StatusCode, "%v", c)
		ids = append(ids, c["id"].(string))
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: time.Minute}

	b.ResetTimer()
	for range b.N {
		lat := map[string][]time.Duration{}
		codes := map[string]map[int]int{}
		var mu sync.Mutex
		deadline := time.Now().Add(time.Duration(seconds) * time.Second)
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(c), 1))
				for time.Now().Before(deadline) {
					route, req := "GET /api/contacts", mustRequest(b, "GET", base+"/api/contacts?limit=50", "")
					if c%2 == 1 {
						route = "POST sync-to-metakocka"
						req = mustRequest(b, "POST", base+"/api/integrations/metakocka/contacts/sync-to-metakocka",
							`{"contactId":"`+ids[rng.IntN(len(ids))]+`"}`)
					}
					req.Header.Set("Authorization", "Bearer "+token)
					start := time.Now()
					resp, err := hc.Do(req)
					d := time.Since(start)
					code := 0
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
					}
					mu.Lock()
					lat[route] = append(lat[route], d)
					if codes[route] == nil {
						codes[route] = map[int]int{}
					}
					codes[route][code]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()

		total := 0
		for route, ds := range lat {
			slices.Sort(ds)
			total += len(ds)
			p := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / float64(time.Millisecond) }
			short := "list"
			if strings.Contains(route, "sync") {
				short = "sync"
			}
			b.ReportMetric(p(0.50), short+"-p50-ms")
			b.ReportMetric(p(0.99), short+"-p99-ms")
			b.Logf("%s: %d requests, codes %v, p50 %.1f ms, p99 %.1f ms", route, len(ds), codes[route], p(0.50), p(0.99))
			for code, n := range codes[route] {
				if code == 0 || code >= 500 {
					b.Fatalf("%s: %d answers with status %d (0 = transport error); want none", route, n, code)
				}
			}
		}
		b.ReportMetric(float64(total)/float64(seconds), "req/s")
	}
	b.StopTimer()
	require.NoError(b, stop())
}

func mustRequest(tb testing.TB, method, url, body string) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func envIntDefault(tb testing.TB, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", key, v)
	}
	return n
}
