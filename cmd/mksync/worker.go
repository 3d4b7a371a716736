package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka"
)

// workerFlags are the options of `mksync worker` (and the job options
// `mksync serve` shares).
type workerFlags struct {
	dbFlags
	jobFlags
	healthAddr string
}

// jobFlags configure this process's job workers.
type jobFlags struct {
	bulkWorkers        int
	interactiveWorkers int
	bulkSlice          time.Duration
	bulkTimeout        time.Duration
	jobTimeout         time.Duration
	rescueAfter        time.Duration
	runLease           time.Duration
	stopTimeout        time.Duration
	// pacing bounds this process's requests per Metakocka company.
	pacing metakocka.PacingConfig
}

// register adds the job flags to fl.
func (f *jobFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.bulkWorkers, "workers", jobs.DefaultBulkWorkers, "sync run slices this process works at once (queue bulk)")
	fl.IntVar(&f.interactiveWorkers, "interactive-workers", jobs.DefaultInteractiveWorkers, "single-record and stock webhook jobs this process works at once (queue interactive)")
	fl.DurationVar(&f.bulkSlice, "bulk-slice", jobs.DefaultBulkSlice, "how long a sync run works before yielding its worker to the next waiting run")
	fl.DurationVar(&f.bulkTimeout, "bulk-timeout", jobs.DefaultBulkTimeout, "a sync run slice running this long is cancelled and retried from its checkpoint")
	fl.DurationVar(&f.jobTimeout, "job-timeout", jobs.DefaultJobTimeout, "a single-record, stock or schedule job running this long is cancelled and retried")
	fl.DurationVar(&f.rescueAfter, "rescue-stuck-after", jobs.DefaultRescueStuckJobsAfter, "a job running this long is taken to have lost its process, and retried (must exceed --bulk-timeout and --job-timeout)")
	fl.DurationVar(&f.runLease, "run-lease", jobs.DefaultRunLease, "a sync run whose worker stopped heart-beating this long is taken over by another worker")
	fl.DurationVar(&f.stopTimeout, "stop-timeout", jobs.DefaultStopTimeout, "on shutdown, how long running jobs may finish before they are put back in the queue")
	fl.Float64Var(&f.pacing.RequestsPerSecond, "metakocka-rps", 0, "requests per second mksync sends one Metakocka company, fleet-wide with a shared MKSYNC_METAKOCKA_RATE_STORE (default 5; negative: unlimited)")
	fl.IntVar(&f.pacing.MaxInFlight, "metakocka-in-flight", 0, "ceiling of the requests in flight per Metakocka company, across the fleet on PostgreSQL (default 32 when adaptive, else 4)")
	fl.BoolVar(&f.pacing.Adaptive, "metakocka-adaptive", true, "find each Metakocka company's in-flight limit from its answers (latency, 429, 5xx) up to --metakocka-in-flight; false fixes it there")
}

// options are the app.Options of these flags.
func (f *jobFlags) options(log *slog.Logger) app.Options {
	return app.Options{
		Logger: log,
		Pacing: f.pacing,
		Jobs: jobs.Config{
			BulkWorkers:          f.bulkWorkers,
			InteractiveWorkers:   f.interactiveWorkers,
			BulkSlice:            f.bulkSlice,
			BulkTimeout:          f.bulkTimeout,
			JobTimeout:           f.jobTimeout,
			RescueStuckJobsAfter: f.rescueAfter,
			RunLease:             f.runLease,
			StopTimeout:          f.stopTimeout,
		},
	}
}

func newWorkerCmd(s streams) *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run job workers only (bulk and scheduled syncs), no HTTP API",
		Long: `Run mksync's durable job workers without the HTTP API: bulk and "sync all"
runs, single-record pushes, stock webhooks and per-tenant schedules, from
the queues in the database (River). On PostgreSQL any number of worker and
serve processes share the queues; on SQLite run one process with workers.

It migrates the database on start (unless --no-migrate; concurrent starts
are serialized), prints "worker started" once it works jobs, and on
SIGINT/SIGTERM stops fetching, lets running jobs finish for --stop-timeout
and puts the rest back in the queue. See docs/scaling.md.`,
		Example: `  mksync worker --db postgres://mksync@db/mksync --workers 8
  mksync worker --health-addr :9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), s, f)
		},
	}
	f.dbFlags.register(cmd)
	f.jobFlags.register(cmd)
	cmd.Flags().StringVar(&f.healthAddr, "health-addr", "", "serve /healthz, /readyz and /metrics on this address (off when empty)")
	return cmd
}

func runWorker(ctx context.Context, s streams, f workerFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := f.config()
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	log := newServeLogger(s, cfg)
	o := f.jobFlags.options(log)
	o.NoMigrate = f.noMigrate // migrates (app and River) unless --no-migrate
	a, err := app.Start(ctx, cfg, o)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer a.Close()

	var health *app.Server
	if f.healthAddr != "" {
		ln, err := net.Listen("tcp", f.healthAddr)
		if err != nil {
			return fmt.Errorf("worker: health listener on %s: %w", f.healthAddr, err)
		}
		health = app.Serve(ctx, ln, a.HealthHandler(), log)
		fmt.Fprintf(s.out, "health on http://%s\n", ln.Addr())
	}
	fmt.Fprintf(s.out, "worker started (%d bulk, %d interactive workers)\n", f.bulkWorkers, f.interactiveWorkers)
	if health == nil {
		<-ctx.Done()
		return nil
	}
	if err := health.Wait(ctx, 5*time.Second); err != nil {
		return fmt.Errorf("worker: health server: %w", err)
	}
	return nil
}
