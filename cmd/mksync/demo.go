package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
)

// demoFlags are the options of `mksync demo`.
type demoFlags struct {
	dir                string
	addr               string
	reset              bool
	keep               bool
	faultRate          float64
	timeoutRate        float64
	commitThenFailRate float64
	latency            time.Duration
}

// The demo's fixed names: the simulator company and the tenant it serves.
const (
	demoCompanyID  = "1001"
	demoTenantName = "Demo d.o.o. (mksync demo)"
	demoDefaultDir = "./mksync-demo"
)

func newDemoCmd(s streams) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run mksync against the built-in Metakocka simulator with demo data",
		Long: `Run mksync in one process against the built-in Metakocka simulator: the
simulator with a seeded company (partners, products, sales documents), the
embedded SQLite store in --dir, a demo tenant connected to the simulator,
and the server with its web UI, API, /metrics and job workers. It prints the
UI's address and a sign-in token, syncs both ways once (pulls Metakocka's
products and documents, pushes the demo's own CRM contacts and products) so
the UI shows real state, and runs until Ctrl-C.

The simulator keeps its data in memory, so each start begins from its seed.
To match it, each start also recreates the demo tenant (with a new sign-in
token) in the kept store; --keep keeps the previous demo tenant and its
data instead (its mappings to records the old simulator had and the new one
lacks are dropped, so those records are pushed again), and
--reset deletes --dir first (store, key file, admin data).

--fault-rate, --timeout-rate, --commit-then-fail-rate and --latency make the
simulator misbehave, to watch retries, error records and alerts.`,
		Example: `  go run ./cmd/mksync demo
  mksync demo --fault-rate 0.2 --latency 50ms
  mksync demo --reset --addr 127.0.0.1:9000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), s, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "dir", demoDefaultDir, "folder of the demo's SQLite store, kept between runs")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8080", "address of the UI and API (a free port when it is taken)")
	fl.BoolVar(&f.reset, "reset", false, "delete --dir first and start over")
	fl.BoolVar(&f.keep, "keep", false, "keep the previous demo tenant and its data instead of recreating it")
	fl.Float64Var(&f.faultRate, "fault-rate", 0, "probability that the simulator answers HTTP 500/503")
	fl.Float64Var(&f.timeoutRate, "timeout-rate", 0, "probability that a simulator request hangs past mksync's timeout")
	fl.Float64Var(&f.commitThenFailRate, "commit-then-fail-rate", 0, "probability that the simulator carries a write out but answers 503 or hangs")
	fl.DurationVar(&f.latency, "latency", 0, "latency the simulator adds to every request")
	return cmd
}

func runDemo(ctx context.Context, s streams, f demoFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	for name, v := range map[string]float64{"fault-rate": f.faultRate, "timeout-rate": f.timeoutRate, "commit-then-fail-rate": f.commitThenFailRate} {
		if err := validateRate(name, v); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if f.latency < 0 {
		return fmt.Errorf("demo: --latency %v: must not be negative", f.latency)
	}
	if f.reset && f.keep {
		return errors.New("demo: --reset and --keep exclude each other")
	}
	if f.dir == "" {
		f.dir = demoDefaultDir
	}
	cfg, err := app.LoadEnv()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	level := slog.LevelWarn // the terminal shows the demo's own lines
	if cfg.IsSet("MKSYNC_LOG_LEVEL") {
		level = cfg.LogLevel
	}
	log := observe.NewLogger(s.err, observe.Options{Level: level})

	if f.reset {
		if err := os.RemoveAll(f.dir); err != nil {
			return fmt.Errorf("demo: reset %s: %w", f.dir, err)
		}
	}

	// The simulator, seeded, on a free loopback port.
	secret, _, err := mksync.NewTokenSecret()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fake := mkfake.New(mkfake.Options{Seed: 1, Logger: observe.WithCategory(log, observe.CatMetakocka)})
	defer fake.Close()
	fake.AddCompany(demoCompanyID, secret.Reveal())
	fake.SeedDemo(demoCompanyID)
	fake.SeedDemoCoupons(demoCompanyID)
	fake.SetFaults(demoCompanyID, mkfake.Faults{
		Latency: f.latency, ErrorRate: f.faultRate, HangRate: f.timeoutRate,
		HangFor: 2 * time.Minute, CommitThenFailRate: f.commitThenFailRate,
	})
	mkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: simulator listener: %w", err)
	}
	mkSrv := &http.Server{Handler: fake, ReadHeaderTimeout: app.ServeReadHeaderTimeout}
	go func() { _ = mkSrv.Serve(mkLn) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mkSrv.Shutdown(sctx)
	}()
	mkURL := "http://" + mkLn.Addr().String()

	// The store, kept in --dir; the demo's tenant may point its settings
	// at the simulator.
	cfg.DB = "sqlite:" + filepath.Join(f.dir, "mksync.db")
	cfg.MetakockaURLs = mksync.MetakockaURLs{mkURL}
	a, err := app.Start(ctx, cfg, app.Options{Logger: log, Jobs: jobs.Config{StopTimeout: 5 * time.Second}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer a.Close()
	st := a.Store
	tenantID, token, err := demoTenant(ctx, st, f.keep, mkURL, secret)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if f.keep {
		if err := forgetMissing(ctx, st, tenantID, fake); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		// Taken (another demo, another server): any free port will do.
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("demo: listen: %w", err)
		}
		fmt.Fprintf(s.out, "%s is taken; using a free port instead\n", f.addr)
	}
	h, err := a.Handler(ctx)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("demo: %w", err)
	}
	srv := app.Serve(ctx, ln, h, log)
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(s.out, "mksync demo\n")
	fmt.Fprintf(s.out, "  Metakocka simulator  %s (company %s, seeded with demo data)\n", mkURL, demoCompanyID)
	fmt.Fprintf(s.out, "  data                 %s (kept between runs; --reset starts over)\n", f.dir)
	fmt.Fprintf(s.out, "  web UI               %s/\n", base)
	fmt.Fprintf(s.out, "  sign-in token        %s\n", token.Reveal())
	fmt.Fprintf(s.out, "  API                  %s/api (Authorization: Bearer <token>)\n", base)
	fmt.Fprintf(s.out, "  metrics              %s\n", metricsURL(a, base))
	fmt.Fprintf(s.out, "initial two-way sync:\n")
	if err := demoSync(ctx, s, a, tenantID); err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(s.out, "  the initial sync stopped: %v\n", err)
		}
	}
	fmt.Fprintf(s.out, "ready: open %s/ and sign in with the token above; Ctrl-C stops\n", base)
	if err := srv.Wait(ctx, 5*time.Second); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(s.out, "demo stopped\n")
	return nil
}

// demoSync runs the initial two-way sync now, one run after another, and
// prints one line per run: Metakocka's products and documents (with their
// partners) come in, then the CRM's contacts, products and documents go
// out. The runs are ordinary sync runs, queued as jobs and worked by the
// demo's workers; the UI lists them.
func demoSync(ctx context.Context, s streams, a *app.App, tenantID string) error {
	steps := []struct {
		et  mksync.EntityType
		dir mksync.Direction
	}{
		{mksync.EntityProduct, mksync.FromMetakocka},
		{mksync.EntitySalesDocument, mksync.FromMetakocka},
		{mksync.EntityContact, mksync.ToMetakocka},
		{mksync.EntityProduct, mksync.ToMetakocka},
		{mksync.EntitySalesDocument, mksync.ToMetakocka},
	}
	for _, st := range steps {
		run := mksync.SyncRun{EntityType: st.et, Direction: st.dir, Trigger: mksync.TriggerCLI}
		err := a.SyncAndWait(ctx, tenantID, &run, nil, 0)
		r := run.Result
		fmt.Fprintf(s.out, "  %-15s %-16s %-9s %d created, %d updated, %d unchanged, %d conflicts, %d failed\n",
			st.et, st.dir, run.Status, r.Created, r.Updated, r.Skipped, r.Conflicts, r.Failed)
		if err != nil {
			return err
		}
	}
	return nil
}

// metricsURL says where a's GET /metrics answers, and with what token.
func metricsURL(a *app.App, base string) string {
	if m := a.MetricsAddr(); m != "" {
		return "http://" + m + "/metrics"
	}
	return base + "/metrics (Authorization: Bearer MKSYNC_METRICS_TOKEN or the admin token)"
}
