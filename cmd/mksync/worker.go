package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/sqlite"
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
	fl.Float64Var(&f.pacing.RequestsPerSecond, "metakocka-rps", 0, "requests per second this process sends one Metakocka company (default 5; negative: unlimited)")
	fl.IntVar(&f.pacing.MaxInFlight, "metakocka-in-flight", 0, "ceiling of the requests in flight per Metakocka company, across the fleet on PostgreSQL (default 32 when adaptive, else 4)")
	fl.BoolVar(&f.pacing.Adaptive, "metakocka-adaptive", true, "find each Metakocka company's in-flight limit from its answers (latency, 429, 5xx) up to --metakocka-in-flight; false fixes it there")
}

// poolConns is the PostgreSQL pool a process with these job workers gets
// when its URL has no pool_max_conns: a connection per bulk and interactive
// worker, and River's own (LISTEN, a fetch per queue, leadership) and the
// API's beside them.
func (f *jobFlags) poolConns() int32 {
	return int32(max(f.bulkWorkers, 1)+max(f.interactiveWorkers, 1)) + poolConnsBeside
}

// poolConnsBeside are the connections a process uses beside its job
// workers'.
const poolConnsBeside = 6

// minPoolConns is the least pool that bulkWorkers can work with (below it
// the worker warns).
func minPoolConns(bulkWorkers int) int32 { return int32(bulkWorkers) + poolConnsBeside }

// config is the jobs.Config of these flags.
func (f *jobFlags) config(st mksync.Store, r jobs.Runner, log *slog.Logger) jobs.Config {
	return jobs.Config{
		Store:                st,
		Runner:               r,
		Logger:               log,
		BulkWorkers:          f.bulkWorkers,
		InteractiveWorkers:   f.interactiveWorkers,
		BulkSlice:            f.bulkSlice,
		BulkTimeout:          f.bulkTimeout,
		JobTimeout:           f.jobTimeout,
		RescueStuckJobsAfter: f.rescueAfter,
		RunLease:             f.runLease,
		StopTimeout:          f.stopTimeout,
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
	log := newServeLogger(s)
	f.dbFlags.poolConns = f.jobFlags.poolConns()
	st, err := f.open(ctx, s) // migrates (app and River) unless --no-migrate
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer st.Close()

	tel, err := newTelemetry(st, log)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if err := tel.start(ctx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer tel.stop()
	_, stopJobs, err := startJobs(ctx, st, f.jobFlags, false, log, tel)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}

	var health *http.Server
	healthDone := make(chan error, 1)
	if f.healthAddr != "" {
		ln, err := net.Listen("tcp", f.healthAddr)
		if err != nil {
			stopJobs()
			return fmt.Errorf("worker: health listener on %s: %w", f.healthAddr, err)
		}
		health = &http.Server{Handler: healthHandler(st, tel.handler()), ReadHeaderTimeout: serveReadHeaderTimeout}
		go func() { healthDone <- health.Serve(ln) }()
		fmt.Fprintf(s.out, "health on http://%s\n", ln.Addr())
	}
	fmt.Fprintf(s.out, "worker started (%d bulk, %d interactive workers)\n", f.bulkWorkers, f.interactiveWorkers)

	select {
	case <-ctx.Done():
	case err := <-healthDone:
		stopJobs()
		return fmt.Errorf("worker: health server: %w", err)
	}
	var herr error
	if health != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		herr = health.Shutdown(shutdownCtx)
		cancel()
	}
	stopJobs()
	return herr
}

// healthHandler answers /healthz (the process runs), /readyz (the
// database answers) and /metrics (with metrics).
func healthHandler(st mksync.Store, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// jobSyncer is the API's Syncer in a process with jobs: the engine syncs
// single records now, runs are queued as jobs, and Cancel cancels them.
type jobSyncer struct {
	*engine.Engine
	jobs *jobs.Jobs
}

// StartSync queues a run as a job (see jobs.Jobs.StartSync).
func (s *jobSyncer) StartSync(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	return s.jobs.StartSync(ctx, tenantID, run, ids)
}

// Cancel cancels a queued or running run (see jobs.Jobs.Cancel).
func (s *jobSyncer) Cancel(ctx context.Context, tenantID, runID string) error {
	return s.jobs.Cancel(ctx, tenantID, runID)
}

// startJobs makes and starts the jobs of a process (workers unless
// noWorkers: then it only queues) and returns the API's Syncer and the
// func that stops them (waiting up to the stop timeout; errors are logged).
// With tel (nil: none) the engine and jobs report to its Monitor and
// /metrics shows the engine's caches and the job queue.
func startJobs(ctx context.Context, st mksync.Store, f jobFlags, noWorkers bool, log *slog.Logger, tel *telemetry) (*jobSyncer, func(), error) {
	r, err := newEngineRunner(st, f.pacing, log, tel)
	if err != nil {
		return nil, nil, err
	}
	cfg := f.config(st, r, log)
	cfg.NoWorkers = noWorkers
	if tel != nil {
		cfg.Monitor = tel.mon
	}
	j, err := newJobs(st, cfg, f.pacing, log)
	if err != nil {
		return nil, nil, err
	}
	if err := j.Start(ctx); err != nil {
		return nil, nil, err
	}
	if tel != nil {
		tel.watchEngine(r.e)
		tel.metrics.WatchJobs(j)
	}
	stop := func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.stopTimeout+30*time.Second)
		defer cancel()
		if err := j.Stop(stopCtx); err != nil {
			log.Error("job workers did not stop cleanly", "category", "JOBS", "error", err)
		}
	}
	return &jobSyncer{Engine: r.e, jobs: j}, stop, nil
}

// newJobs makes the Jobs of a process on st with the sync engine (paced by
// pacing) as its Runner when cfg.Runner is nil. The engine's own background
// starter is not used: runs are jobs.
func newJobs(st mksync.Store, cfg jobs.Config, pacing metakocka.PacingConfig, log *slog.Logger) (*jobs.Jobs, error) {
	db, err := jobsDatabase(st)
	if err != nil {
		return nil, err
	}
	if cfg.Runner == nil {
		r, err := newEngineRunner(st, pacing, log, nil)
		if err != nil {
			return nil, err
		}
		cfg.Runner = r
	}
	if pg, ok := st.(*postgres.DB); ok {
		// River keeps a connection for LISTEN and one per queue fetch
		// beside the jobs' own store calls.
		if need := minPoolConns(cfg.BulkWorkers); pg.Pool().Config().MaxConns < need {
			log.Warn("the PostgreSQL pool is small for the job workers; add pool_max_conns to the database URL",
				"category", "JOBS", "pool_max_conns", pg.Pool().Config().MaxConns, "suggested", need)
		}
	}
	return jobs.New(db, cfg)
}

// jobsDatabase is the jobs.Database inside st's database.
func jobsDatabase(st mksync.Store) (jobs.Database, error) {
	switch db := st.(type) {
	case *sqlite.DB:
		return jobs.SQLite(db.WriteDB(), sqlite.TxOf), nil
	case *postgres.DB:
		return jobs.Postgres(db.Pool(), postgres.TxOf), nil
	}
	return nil, fmt.Errorf("jobs need a SQLite or PostgreSQL store, not %T", st)
}

// migrateJobs brings River's tables in st's database up to date (after the
// store's own migrations; serialized across processes).
func migrateJobs(ctx context.Context, st mksync.Store) error {
	db, err := jobsDatabase(st)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, db, nil); err != nil {
		return fmt.Errorf("migrate jobs: %w", err)
	}
	return nil
}

// engineRunner is the sync engine as a jobs.Runner.
type engineRunner struct {
	e *engine.Engine
}

// newEngineRunner makes the process's engine on st, paced by pacing and
// reporting to tel when it is not nil. MKSYNC_CACHE_SIZE sets the size of
// its caches.
func newEngineRunner(st mksync.Store, pacing metakocka.PacingConfig, log *slog.Logger, tel *telemetry) (*engineRunner, error) {
	size, err := cacheSizeFromEnv()
	if err != nil {
		return nil, err
	}
	if pg, ok := st.(*postgres.DB); ok && pacing.Slots == nil {
		pacing.Slots = pg // one budget per company for the whole fleet
	}
	cfg := engine.Config{Store: st, Logger: log, Pacing: pacing, CacheSize: size}
	if tel != nil {
		cfg = tel.engineConfig(cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sync engine: %w", err)
	}
	return &engineRunner{e: e}, nil
}

// cacheSizeFromEnv reads MKSYNC_CACHE_SIZE: entries per engine cache, 0
// (unset) for the engine's default.
func cacheSizeFromEnv() (int, error) {
	v := os.Getenv("MKSYNC_CACHE_SIZE")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10_000_000 {
		return 0, fmt.Errorf("MKSYNC_CACHE_SIZE=%q: want entries per cache, 1 to 10000000", v)
	}
	return n, nil
}

// PrepareRun fills a new run without storing it (jobs stores it with its
// job in one transaction).
func (r *engineRunner) PrepareRun(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string) error {
	return r.e.PrepareRun(ctx, tenantID, run, ids)
}

// RunSync works on the run until it is final or stop says so; a run whose
// records Metakocka refuses for bad credentials ends failed with
// EUNAUTHORIZED (see engine.Engine.RunSync).
func (r *engineRunner) RunSync(ctx context.Context, tenantID, runID string, stop func() bool) (bool, error) {
	return r.e.RunSyncUntil(ctx, tenantID, runID, stop)
}

func (r *engineRunner) SyncRecord(ctx context.Context, tenantID string, et mksync.EntityType, dir mksync.Direction, id string) (mksync.SyncResult, error) {
	if dir == mksync.FromMetakocka {
		return r.e.SyncFromMetakocka(ctx, tenantID, et, id)
	}
	return r.e.SyncToMetakocka(ctx, tenantID, et, id)
}

// ApplyStock pulls every product a stock webhook names (its stock comes
// with it, one-way from Metakocka).
func (r *engineRunner) ApplyStock(ctx context.Context, tenantID string, payload []byte) error {
	var body struct {
		StockList []struct {
			MkID string `json:"mk_id"`
		} `json:"stock_list"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		return mksync.WrapError(mksync.EINVALID, "stock webhook payload is not the documented JSON", err)
	}
	var ids []string
	for _, s := range body.StockList {
		if s.MkID != "" && !slices.Contains(ids, s.MkID) {
			ids = append(ids, s.MkID)
		}
	}
	for _, id := range ids {
		if _, err := r.e.SyncFromMetakocka(ctx, tenantID, mksync.EntityProduct, id); err != nil {
			return fmt.Errorf("pull product %s for its stock: %w", id, err)
		}
	}
	return nil
}

// EnqueueRecordPush queues the push of a record the API just wrote, inside
// the write's transaction tx (httpapi.RecordQueue, for tenants with AutoPush).
func (s *jobSyncer) EnqueueRecordPush(ctx context.Context, tx mksync.Store, tenantID string, et mksync.EntityType, id string, version int64) error {
	return s.jobs.EnqueueRecord(ctx, tx, jobs.RecordArgs{TenantID: tenantID, EntityType: et, Direction: mksync.ToMetakocka,
		ID: id, Version: version, Trigger: mksync.TriggerAutoPush})
}
