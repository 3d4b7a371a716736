package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/postgres/pgtest"
)

// runBenchJSON runs `mksync bench --json` with args and decodes its output.
func runBenchJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out := mustRun(t, "", append([]string{"bench", "--json", "--quiet"}, args...)...)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	return got
}

// checkBenchFigures checks that the documented fields are there and sane
// (no timing thresholds: the machine may be loaded).
func checkBenchFigures(t *testing.T, got map[string]any, records int) {
	t.Helper()
	num := func(k string) float64 {
		t.Helper()
		v, ok := got[k].(float64)
		require.True(t, ok, "field %s missing or not a number in %v", k, got)
		return v
	}
	for _, k := range []string{"pushRecordsPerSec", "limitRatio", "speedupVsSequential", "pullRecordsPerSec", "p50Ms", "p99Ms", "noopResyncSeconds"} {
		require.Positive(t, num(k), k)
	}
	require.LessOrEqual(t, num("p50Ms"), num("p99Ms"))
	require.Greater(t, num("limitRatio"), 0.0)
	require.LessOrEqual(t, num("limitRatio"), 1.5, "cannot beat the latency bound by much")
	require.GreaterOrEqual(t, num("callsPerRecord"), 1.0, "a new record costs at least its create")
	require.Positive(t, num("peakInFlight"))
	require.LessOrEqual(t, num("peakInFlight"), num("concurrency"), "the run's requests in flight stay within its concurrency")
	require.Positive(t, num("peakHeapBytes"))
	require.Positive(t, num("simulatorHeapBytes"))
	require.Positive(t, num("engineHeapBytes"))
	require.Zero(t, num("noopWriteCalls"), "a no-op resync writes nothing")
	require.Zero(t, num("pushFailed"))
	require.Equal(t, float64(records), num("records"))
	require.Equal(t, float64(records), num("pullUpdated"))
}

func TestBenchCommandJSON(t *testing.T) {
	cliEnv(t)
	got := runBenchJSON(t, "--records", "200", "--concurrency", "8")
	checkBenchFigures(t, got, 200)
	require.Equal(t, "sqlite", got["db"])
	require.Equal(t, 8.0, got["concurrency"])
	require.Equal(t, false, got["adaptive"], "--concurrency fixes the limit")
	t.Logf("bench 200 contacts: %.0f records/s, limit ratio %.2f, speed-up %.1f, p50 %.1f ms, p99 %.1f ms",
		got["pushRecordsPerSec"], got["limitRatio"], got["speedupVsSequential"], got["p50Ms"], got["p99Ms"])
}

// Without --concurrency the limit is adaptive; --capacity shapes the
// simulator and --sweep adds the fixed concurrencies and the ratio.
func TestBenchCommandAdaptiveSweep(t *testing.T) {
	cliEnv(t)
	// Twice the capacity is the largest swept concurrency: no 429 pauses
	// in the sweep, so the test stays short.
	got := runBenchJSON(t, "--records", "100", "--latency", "5ms", "--capacity", "16", "--sweep", "--sequential-records", "10")
	checkBenchFigures(t, got, 100)
	require.Equal(t, true, got["adaptive"])
	require.Equal(t, 16.0, got["capacity"])
	for _, k := range []string{"rateLimitedShare", "secondsTo90Percent", "bestFixedRecordsPerSec", "bestFixedConcurrency", "adaptiveRatio"} {
		require.Contains(t, got, k)
	}
	require.Positive(t, got["bestFixedRecordsPerSec"])
	require.Contains(t, []any{4.0, 8.0, 12.0, 16.0, 24.0, 32.0}, got["bestFixedConcurrency"])
	require.InDelta(t, got["pushRecordsPerSec"].(float64)/got["bestFixedRecordsPerSec"].(float64), got["adaptiveRatio"], 1e-9)
	t.Logf("adaptive bench, capacity 16: %.0f records/s, %.2f of the best fixed (%v at %v), 429s %.2f%%, peak %v in flight",
		got["pushRecordsPerSec"], got["adaptiveRatio"], got["bestFixedRecordsPerSec"], got["bestFixedConcurrency"],
		100*got["rateLimitedShare"].(float64), got["peakInFlight"])
}

func TestBenchCommandDocumentsAndPostgres(t *testing.T) {
	cliEnv(t)
	got := runBenchJSON(t, "--records", "60", "--entity", "sales-documents", "--latency", "5ms", "--jitter", "2ms")
	checkBenchFigures(t, got, 60)

	url := pgtest.URL(t)
	got = runBenchJSON(t, "--records", "100", "--entity", "products", "--latency", "5ms", "--db", url)
	checkBenchFigures(t, got, 100)
	require.Equal(t, "postgres", got["db"])
}

// --cpuprofile writes a gzipped pprof profile whose samples carry the
// phase labels (the label key, the push phase and the simulator's side are
// in its string table).
func TestBenchCommandCPUProfile(t *testing.T) {
	cliEnv(t)
	path := filepath.Join(t.TempDir(), "cpu.out")
	got := runBenchJSON(t, "--records", "200", "--concurrency", "8", "--latency", "5ms", "--cpuprofile", path)
	checkBenchFigures(t, got, 200)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err, "a pprof profile is gzipped")
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	// The profile's string table (field 6, wire type 2: tag 0x32, then the
	// length) holds the label key and values as strings of their own;
	// function names only contain them.
	for _, s := range []string{"phase", "push", "simulator"} {
		entry := append([]byte{0x32, byte(len(s))}, s...)
		require.True(t, bytes.Contains(raw, entry), "string table entry %q: samples are labelled", s)
	}
}

func TestBenchCommandRejectsBadFlags(t *testing.T) {
	cliEnv(t)
	for _, args := range [][]string{
		{"bench", "--entity", "partners"},
		{"bench", "--records", "0"},
		{"bench", "--latency", "0s"},
		{"bench", "--db", "mysql://x"},
		{"bench", "--concurrency", "1000"},
		{"bench", "--capacity", "-1"},
		{"bench", "--latency-profile", "fast"},
		{"bench", "--cpuprofile", filepath.Join(t.TempDir(), "missing", "cpu.out")},
	} {
		_, _, err := runCLI(t, "", args...)
		require.Error(t, err, "%v", args)
	}
}
