package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/bench"
)

// benchFlags are the options of `mksync bench`.
type benchFlags struct {
	records, sequential int
	entity              string
	latency, jitter     time.Duration
	concurrency, batch  int
	db                  string
	asJSON, quiet       bool
	capacity            int
	latencyProfile      string
	cpuProfile          string
	// adaptive: no --concurrency, the engine finds the limit.
	adaptive, sweep bool
}

func newBenchCmd(s streams) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure sync throughput against the built-in Metakocka simulator",
		Long: `Run, in this process, against the Metakocka simulator on a loopback port
answering after --latency (+ up to --jitter):

  1. a bulk push of --records new records at --concurrency;
  2. a no-op resync of them (must make zero write calls);
  3. a pull of --records records changed in Metakocka;
  4. the same push at concurrency 1 (the original sequential approach) on
     --sequential-records new records: the baseline of the speed-up.

It reports records/s, the ratio to the latency-bound limit (concurrency /
latency), the speed-up over sequential, Metakocka calls per record, p50/p99
per-record latency, the peak heap and the no-op resync's time and write
calls.

Without --concurrency the in-flight limit is adaptive (as in worker and
serve: it grows while answers are fast, backs off on 429, 5xx and slow
answers), up to 32; --concurrency N fixes it at N. --capacity N gives the
simulated company a capacity (above N requests in flight latency grows in
proportion, above 2N it answers 429 with Retry-After), --latency-profile
metakocka adds latencies drawn from the documented opr_time_ms values, and
--sweep adds pushes at fixed concurrencies against the same simulator to
report the best fixed rate and the adaptive push's ratio to it.

--cpuprofile FILE writes a Go CPU profile of the whole run (engine,
store and simulator: they share the process) to FILE; each phase's
samples carry the label phase=seed, push, noop, change, pull, sequential
or sweep, and the simulator's own samples also side=simulator, so
'go tool pprof -tagfocus phase=pull -tagignore side=simulator FILE'
shows mksync's pull alone.

--db sqlite (default) uses a temporary SQLite file; a postgres:// URL
uses a fresh schema in that database, dropped afterwards. Nothing of an
existing mksync database is read or changed. Progress goes to stderr.`,
		Example: `  mksync bench
  mksync bench --records 5000 --entity contacts --latency 20ms --concurrency 8
  mksync bench --records 100000 --entity products --json
  mksync bench --capacity 12 --records 3000 --sweep
  mksync bench --entity sales-documents --records 2000 --cpuprofile cpu.out
  mksync bench --db postgres://postgres@127.0.0.1:5432/bench?sslmode=disable`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.adaptive = !cmd.Flags().Changed("concurrency")
			return runBench(cmd.Context(), s, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.records, "records", 1000, "records pushed, resynced and pulled")
	fl.IntVar(&f.sequential, "sequential-records", 0, "records of the concurrency-1 baseline push (default min(records, 400))")
	fl.StringVar(&f.entity, "entity", "contacts", "contacts, products or sales-documents")
	fl.DurationVar(&f.latency, "latency", 20*time.Millisecond, "simulated Metakocka latency per request")
	fl.DurationVar(&f.jitter, "jitter", 0, "random extra latency, uniform in [0, jitter)")
	fl.IntVar(&f.concurrency, "concurrency", 8, "fix the Metakocka requests in flight (the tenant's concurrency); without it the limit is adaptive")
	fl.IntVar(&f.capacity, "capacity", 0, "the simulated company serves this many requests at once at full speed; above it latency grows, above twice it HTTP 429 (0 = unbounded)")
	fl.StringVar(&f.latencyProfile, "latency-profile", "", `"metakocka": add latencies drawn from the documented opr_time_ms values`)
	fl.BoolVar(&f.sweep, "sweep", false, "also push at fixed concurrencies 4, 8, 12, 16, 24 and 32 and report the best (bestFixedRecordsPerSec, adaptiveRatio)")
	fl.IntVar(&f.batch, "batch-size", 50, "the tenant's batch size")
	fl.StringVar(&f.db, "db", "sqlite", "sqlite (a temporary file), sqlite:PATH of a new file, or a postgres:// URL (a temporary schema)")
	fl.BoolVar(&f.asJSON, "json", false, "print the figures as one JSON object")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file (samples labelled by phase)")
	return cmd
}

func runBench(ctx context.Context, s streams, f benchFlags) error {
	et, ok := entityArgs[f.entity]
	if !ok {
		return fmt.Errorf("--entity %q: want contacts, products or sales-documents", f.entity)
	}
	if f.records < 1 {
		return fmt.Errorf("--records %d: want at least 1", f.records)
	}
	if f.latency <= 0 || f.jitter < 0 {
		return fmt.Errorf("--latency must be positive and --jitter not negative")
	}
	if err := checkSimShape(f.capacity, f.latencyProfile); err != nil {
		return err
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	st, dbName, cleanup, err := app.OpenBenchStore(ctx, f.db)
	if err != nil {
		return err
	}
	defer cleanup()

	progress := s.err
	if f.quiet {
		progress = io.Discard
	}
	limit := fmt.Sprintf("concurrency %d", f.concurrency)
	if f.adaptive {
		limit = "adaptive concurrency"
	}
	fmt.Fprintf(progress, "mksync bench: %d %s, latency %v (+%v jitter), %s, capacity %d, %s\n", f.records, f.entity, f.latency, f.jitter, limit, f.capacity, dbName)
	cfg := bench.Config{
		Store: st, Records: f.records, Entity: et, Latency: f.latency, Jitter: f.jitter,
		Concurrency: f.concurrency, Adaptive: f.adaptive, Capacity: f.capacity, LatencyProfile: f.latencyProfile,
		BatchSize: f.batch, SequentialRecords: f.sequential, Progress: progress,
	}
	if f.sweep {
		cfg.Sweep = []int{4, 8, 12, 16, 24, 32}
	}
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	out := benchOutput{Report: rep, DB: dbName}
	if f.asJSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printBench(s.out, out)
}

// startCPUProfile starts a CPU profile into a new file at path; stop ends
// it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// benchOutput is the JSON `mksync bench --json` prints: the bench.Report
// fields and the database kind.
type benchOutput struct {
	bench.Report
	DB string `json:"db"`
}

// printBench prints the figures as a table.
func printBench(w io.Writer, o benchOutput) error {
	r := o.Report
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := [][2]string{
		{"records", fmt.Sprintf("%d %s (%s)", r.Records, r.Entity, o.DB)},
		{"latency", fmt.Sprintf("%.0f ms + jitter %.0f ms, concurrency %d (adaptive %v), batch %d, capacity %d %s", r.LatencyMs, r.JitterMs, r.Concurrency, r.Adaptive, r.BatchSize, r.Capacity, r.LatencyProfile)},
		{"429s", fmt.Sprintf("%.2f%% of the push's requests; 90%% of the final rate after %.1f s", 100*r.RateLimitedShare, r.SecondsTo90Percent)},
		{"best fixed", fmt.Sprintf("%.1f records/s at concurrency %d (sweep); this push %.2f of it", r.BestFixedRecordsPerSec, r.BestFixedConcurrency, r.AdaptiveRatio)},
		{"push", fmt.Sprintf("%.1f records/s in %.2f s", r.PushRecordsPerSec, r.PushSeconds)},
		{"limit ratio", fmt.Sprintf("%.2f of %.0f records/s (concurrency / latency; peak %d requests in flight)", r.LimitRatio, r.LimitRecordsPerSec, r.PeakInFlight)},
		{"sequential", fmt.Sprintf("%.1f records/s (%d records at concurrency 1)", r.SequentialRecordsPerSec, r.SequentialRecords)},
		{"speed-up", fmt.Sprintf("%.1f×", r.SpeedupVsSequential)},
		{"calls/record", fmt.Sprintf("%.2f (push), %.3f (pull)", r.CallsPerRecord, r.PullCallsPerRecord)},
		{"per record", fmt.Sprintf("p50 %.1f ms, p99 %.1f ms", r.P50Ms, r.P99Ms)},
		{"no-op resync", fmt.Sprintf("%.2f s, %d write calls, %d calls", r.NoopResyncSeconds, r.NoopWriteCalls, r.NoopCalls)},
		{"pull", fmt.Sprintf("%.1f records/s in %.2f s (%d updated)", r.PullRecordsPerSec, r.PullSeconds, r.PullUpdated)},
		{"peak heap", fmt.Sprintf("%.1f MB live, %.1f MB with garbage not yet collected (simulator included)", float64(r.PeakHeapBytes)/1e6, float64(r.PeakHeapObjectsBytes)/1e6)},
		{"without simulator", fmt.Sprintf("%.1f MB live at the peak; the simulator and fixed overhead hold %.1f MB", float64(r.EngineHeapBytes)/1e6, float64(r.SimulatorHeapBytes)/1e6)},
		{"machine", fmt.Sprintf("%d CPUs, GOMAXPROCS %d, %s, load %.2f → %.2f", r.NumCPU, r.GOMAXPROCS, r.GoVersion, r.LoadStart, r.LoadEnd)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}
