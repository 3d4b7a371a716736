package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/jobs"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/redisbudget"
	"github.com/mksync/mksync/postgres"
)

// Options are what a command chooses beyond Config.
type Options struct {
	// Logger receives the process's JSON lines; default: discard.
	Logger *slog.Logger
	// Store, when set, is used instead of opening Config.DB; App.Close
	// then leaves it open.
	Store mksync.Store
	// NoMigrate skips the migrations (store and job queue) at start.
	NoMigrate bool
	// Jobs configures the job queue: worker counts, slices, timeouts,
	// NoWorkers. Store, Runner, Logger and Monitor are filled in.
	Jobs jobs.Config
	// Pacing bounds this process's requests per Metakocka company.
	Pacing metakocka.PacingConfig
	// Engine, when set, adjusts the engine's config last (tests: fast
	// retries and timeouts).
	Engine func(*engine.Config)
	// StopTimeout bounds stopping the jobs at Close beyond
	// Jobs.StopTimeout; default 30 s.
	StopTimeout time.Duration
	// NoEngine leaves the sync engine out of the API and the UI built by
	// Handler: their sync routes and buttons answer 503 "not configured"
	// (an API for records only). The jobs still run on the engine.
	NoEngine bool
}

// App is a started mksync process: an open store, its telemetry, the sync
// engine and the job queue (working jobs unless Options.Jobs.NoWorkers).
// Handler adds the API and UI. Close undoes the start, last first.
type App struct {
	Config Config
	Store  mksync.Store
	Engine *engine.Engine
	Jobs   *jobs.Jobs
	Log    *slog.Logger

	tel      *telemetry
	noEngine bool
	// metricsAddr is where Handler serves GET /metrics apart (MetricsAddr).
	metricsAddr string
	closers     []func()
}

// Start opens (unless Options.Store) and migrates (unless NoMigrate) the
// store, then builds and starts the telemetry, the engine and the jobs.
// ctx bounds only starting. On error everything started is closed.
func Start(ctx context.Context, cfg Config, o Options) (_ *App, err error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, Store: o.Store, Log: log, noEngine: o.NoEngine}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.Store == nil {
		var pool int32
		if !o.Jobs.NoWorkers {
			pool = PoolConns(o.Jobs.BulkWorkers, o.Jobs.InteractiveWorkers)
		}
		if a.Store, err = OpenStoreSized(ctx, cfg, pool, log); err != nil {
			return nil, err
		}
		st := a.Store
		a.closers = append(a.closers, func() { _ = st.Close() })
	}
	if !o.NoMigrate {
		if err := Migrate(ctx, a.Store); err != nil {
			return nil, err
		}
	}
	if a.tel, err = newTelemetry(cfg, a.Store, log); err != nil {
		return nil, err
	}
	if err := a.tel.start(ctx); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.tel.stop)
	if o.Pacing.Rates == nil {
		if o.Pacing.Rates, err = a.metakockaRates(ctx); err != nil {
			return nil, err
		}
	}
	if a.Engine, err = newEngine(cfg, a.Store, o, log, a.tel); err != nil {
		return nil, err
	}
	if err := a.startJobs(ctx, o); err != nil {
		return nil, err
	}
	return a, nil
}

// metakockaRates returns where the process keeps each Metakocka company's
// requests per second (Config.MetakockaRateStore): Redis or PostgreSQL for
// a fleet, else nil (the Pacer's own memory).
func (a *App) metakockaRates(ctx context.Context) (metakocka.RateStore, error) {
	choice := a.Config.MetakockaRateStore
	pg, isPG := a.Store.(*postgres.DB)
	if choice == "" {
		switch {
		case a.Config.RedisURL != "":
			choice = "redis"
		case isPG:
			choice = "postgres"
		default:
			choice = "memory"
		}
	}
	switch choice {
	case "redis":
		opts, err := redis.ParseURL(a.Config.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("MKSYNC_REDIS_URL: %w", err)
		}
		c := redis.NewClient(opts)
		a.closers = append(a.closers, func() { _ = c.Close() })
		if err := c.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("metakocka rate store: redis ping %s: %w", opts.Addr, err)
		}
		return redisbudget.New(c, "mksync:metakocka-rate:"), nil
	case "postgres":
		if !isPG {
			return nil, mksync.Errorf(mksync.EINVALID, "MKSYNC_METAKOCKA_RATE_STORE=postgres needs a PostgreSQL MKSYNC_DB")
		}
		return pg, nil
	}
	return nil, nil
}

// newEngine makes the process's engine on st, paced by o.Pacing, with
// cfg.CacheSize entries per cache, reporting to tel.
func newEngine(cfg Config, st mksync.Store, o Options, log *slog.Logger, tel *telemetry) (*engine.Engine, error) {
	pacing := o.Pacing
	if pg, ok := st.(*postgres.DB); ok && pacing.Slots == nil {
		pacing.Slots = pg // one in-flight budget per company for the whole fleet
	}
	ecfg := engine.Config{Store: st, Logger: log, Pacing: pacing, CacheSize: cfg.CacheSize}
	ecfg = tel.engineConfig(ecfg)
	if o.Engine != nil {
		o.Engine(&ecfg)
	}
	e, err := engine.New(ecfg)
	if err != nil {
		return nil, fmt.Errorf("sync engine: %w", err)
	}
	tel.watchEngine(e)
	return e, nil
}

// startJobs makes and starts the job queue with the engine as its Runner.
func (a *App) startJobs(ctx context.Context, o Options) error {
	db, err := JobsDatabase(a.Store)
	if err != nil {
		return err
	}
	jc := o.Jobs
	jc.Store, jc.Runner, jc.Logger, jc.Monitor = a.Store, a.Engine, a.Log, a.tel.mon
	if !jc.NoWorkers {
		warnSmallPool(a.Store, jc.BulkWorkers, a.Log)
	}
	if a.Jobs, err = jobs.New(db, jc); err != nil {
		return err
	}
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	a.tel.metrics.WatchJobs(a.Jobs)
	grace := jc.StopTimeout
	if grace == 0 {
		grace = jobs.DefaultStopTimeout
	}
	extra := o.StopTimeout
	if extra == 0 {
		extra = 30 * time.Second
	}
	a.closers = append(a.closers, func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace+extra)
		defer cancel()
		if err := a.Jobs.Stop(stopCtx); err != nil {
			a.Log.Error("job workers did not stop cleanly", "category", "JOBS", "error", err)
		}
	})
	return nil
}

// Close stops what Start started, last first: the jobs (running ones may
// finish for their stop timeout), the telemetry, the store. Safe to call
// twice.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// onClose adds f to what Close undoes (before everything started earlier).
func (a *App) onClose(f func()) { a.closers = append(a.closers, f) }

// SyncAndWait starts a run as a job (the one way runs execute) and waits,
// polling the store every poll (default 50 ms), until it is final; run is
// then as stored. It needs a process with workers. Errors: the start's,
// ctx's, and for a failed run EUPSTREAM naming it.
func (a *App) SyncAndWait(ctx context.Context, tenantID string, run *mksync.SyncRun, ids []string, poll time.Duration) error {
	if err := a.Jobs.StartSync(ctx, tenantID, run, ids); err != nil {
		return err
	}
	done, err := WaitRun(ctx, a.Store, tenantID, run.ID, poll)
	*run = done
	if err == nil && done.Status == mksync.RunFailed {
		return mksync.Errorf(mksync.EUPSTREAM, "%s %s run %s failed", done.EntityType, done.Direction, done.ID)
	}
	return err
}

// WaitRun polls the stored run every poll (default 50 ms) until it is
// final, and returns it.
func WaitRun(ctx context.Context, st mksync.Store, tenantID, runID string, poll time.Duration) (mksync.SyncRun, error) {
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		run, err := st.FindSyncRun(ctx, tenantID, runID)
		if err != nil || run.Status.Final() {
			return run, err
		}
		select {
		case <-ctx.Done():
			return run, fmt.Errorf("wait for run %s: %w", runID, ctx.Err())
		case <-t.C:
		}
	}
}

// EnsureAdminToken stores the hash of cfg.AdminToken when set, or, when
// no admin token exists yet, generates one and returns it (to be printed
// once: only its hash is kept). It returns "" when nothing was generated.
func EnsureAdminToken(ctx context.Context, cfg Config, st mksync.Store) (mksync.Secret, error) {
	if tok := cfg.AdminToken.Reveal(); tok != "" {
		if len(tok) < 16 {
			return "", errors.New("MKSYNC_ADMIN_TOKEN must be at least 16 characters")
		}
		if err := st.SetAdminTokenHash(ctx, mksync.HashToken(tok)); err != nil {
			return "", fmt.Errorf("set admin token: %w", err)
		}
		return "", nil
	}
	_, err := st.AdminTokenHash(ctx)
	switch {
	case err == nil:
		return "", nil
	case mksync.ErrorCode(err) != mksync.ENOTFOUND:
		return "", fmt.Errorf("read admin token: %w", err)
	}
	plain, hash, err := mksync.NewTokenSecret()
	if err != nil {
		return "", err
	}
	if err := st.SetAdminTokenHash(ctx, hash); err != nil {
		return "", fmt.Errorf("set admin token: %w", err)
	}
	return plain, nil
}

// SyncNow works a run over ids to the end in this process, on an engine
// of its own and without the job queue: `mksync sync` uses it, because a
// CLI command must not start job workers beside a running server's (one
// process works SQLite's jobs). It follows the run lifecycle all the same
// (CreateRun, then WorkRun until final); run is then as stored.
func SyncNow(ctx context.Context, cfg Config, st mksync.Store, log *slog.Logger, tenantID string, run *mksync.SyncRun, ids []string) error {
	e, err := engine.New(engine.Config{Store: st, Logger: log, CacheSize: cfg.CacheSize})
	if err != nil {
		return fmt.Errorf("sync engine: %w", err)
	}
	if err := e.CreateRun(ctx, tenantID, run, ids); err != nil {
		return err
	}
	_, err = e.WorkRun(ctx, tenantID, run.ID, nil)
	done, ferr := st.FindSyncRun(context.WithoutCancel(ctx), tenantID, run.ID)
	if ferr != nil {
		return errors.Join(err, fmt.Errorf("read run %s back: %w", run.ID, ferr))
	}
	*run = done
	return err
}
