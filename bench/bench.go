// Package bench measures the sync engine the way `mksync bench` reports it:
// in one process, against the Metakocka simulator (mkfake) served over
// loopback HTTP with a set latency, on a real store (SQLite or PostgreSQL).
//
// One Run is, in order:
//
//  1. a bulk push of N new records at the configured concurrency;
//  2. a no-op resync of the same N records (nothing changed: it must make
//     no write call);
//  3. a pull of N records changed in Metakocka (changed through the API
//     with the latency switched off, then pulled with it on);
//  4. the same push as 1, of SequentialRecords new records of a second
//     tenant, at concurrency 1: the sequential approach of the original
//     implementation, the baseline of the speed-up.
//
// Go benchmarks (bench_test.go) and the CLI call the same phases.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// Config configures a Run. Zero fields take the documented defaults.
type Config struct {
	// Store is a migrated store whose credentials can be sealed; the run
	// adds its own tenants. Required.
	Store mksync.Store
	// Records is N, the records pushed, resynced and pulled; default 1,000.
	Records int
	// Entity is the record type; default contacts. A sales-document run
	// first pushes the contacts and products its documents name (one for
	// every ten documents), without latency and outside the figures.
	Entity mksync.EntityType
	// Latency and Jitter are the simulator's answer delay: Latency plus a
	// uniform [0, Jitter); default 20 ms and 0.
	Latency, Jitter time.Duration
	// Concurrency is the tenant's concurrency (Metakocka requests in flight); default 8.
	Concurrency int
	// Adaptive leaves the in-flight limit to the engine's adaptive limit
	// (metakocka.AdaptiveLimit) up to mksync.MaxConcurrency; Concurrency is
	// then ignored.
	Adaptive bool
	// Capacity and LatencyProfile shape the simulator (mkfake.Faults): a
	// company serving Capacity requests at once at full speed, latencies
	// drawn from a profile on top of Latency.
	Capacity       int
	LatencyProfile string
	// Sweep, when set, adds push-only runs of Records at each of these
	// fixed concurrencies (against the same simulator shape) and reports
	// the best.
	Sweep []int
	// BatchSize is the tenant's batch size; default 50.
	BatchSize int
	// SequentialRecords is the size of the concurrency-1 baseline push;
	// default min(Records, 400) (400 records take 8 s at 20 ms per call).
	SequentialRecords int
	// HeapSampleInterval spaces the heap samples; default 10 ms.
	HeapSampleInterval time.Duration
	// Progress, when set, receives one line per phase.
	Progress io.Writer
}

func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, mksync.Errorf(mksync.EINVALID, "bench config: Store is required")
	}
	if c.Records == 0 {
		c.Records = 1000
	}
	if c.Records < 0 {
		return c, mksync.Errorf(mksync.EINVALID, "bench config: Records must be positive")
	}
	if c.Entity == "" {
		c.Entity = mksync.EntityContact
	}
	if !slices.Contains(mksync.EntityTypes, c.Entity) {
		return c, mksync.Errorf(mksync.EINVALID, "bench config: unknown Entity %q", c.Entity)
	}
	if c.Latency == 0 {
		c.Latency = 20 * time.Millisecond
	}
	if c.Latency < 0 || c.Jitter < 0 {
		return c, mksync.Errorf(mksync.EINVALID, "bench config: Latency and Jitter must not be negative")
	}
	if c.Concurrency == 0 {
		c.Concurrency = 8
	}
	if c.Adaptive {
		c.Concurrency = mksync.MaxConcurrency
	}
	if c.Capacity < 0 {
		return c, mksync.Errorf(mksync.EINVALID, "bench config: Capacity must not be negative")
	}
	for _, n := range c.Sweep {
		if n < 1 || n > mksync.MaxConcurrency {
			return c, mksync.Errorf(mksync.EINVALID, "bench config: Sweep concurrencies must be between 1 and %d", mksync.MaxConcurrency)
		}
	}
	if c.Concurrency < 1 || c.Concurrency > mksync.MaxConcurrency {
		return c, mksync.Errorf(mksync.EINVALID, "bench config: Concurrency must be between 1 and %d", mksync.MaxConcurrency)
	}
	if c.BatchSize == 0 {
		c.BatchSize = 50
	}
	if c.SequentialRecords == 0 {
		c.SequentialRecords = min(c.Records, 400)
	}
	if c.HeapSampleInterval == 0 {
		c.HeapSampleInterval = 10 * time.Millisecond
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c, nil
}

// Report holds a Run's figures; its JSON is what `mksync bench --json`
// prints. Rates are records per second of wall time.
type Report struct {
	Entity      string  `json:"entity"`
	Records     int     `json:"records"`
	LatencyMs   float64 `json:"latencyMs"`
	JitterMs    float64 `json:"jitterMs"`
	Concurrency int     `json:"concurrency"`
	BatchSize   int     `json:"batchSize"`

	// PushSeconds is the wall time of the bulk push of Records new records.
	PushSeconds       float64 `json:"pushSeconds"`
	PushRecordsPerSec float64 `json:"pushRecordsPerSec"`
	// LimitRecordsPerSec is the latency-bound limit concurrency / mean
	// latency (Latency + Jitter/2) at one Metakocka call per record;
	// LimitRatio is PushRecordsPerSec over it.
	LimitRecordsPerSec float64 `json:"limitRecordsPerSec"`
	LimitRatio         float64 `json:"limitRatio"`
	// CallsPerRecord is the push's Metakocka requests per record.
	CallsPerRecord float64 `json:"callsPerRecord"`
	// PeakInFlight is the most push requests the simulator served at once;
	// above Concurrency the limit would not be one.
	PeakInFlight int64 `json:"peakInFlight"`
	// P50Ms and P99Ms are per-record latencies of the push (a worker's time
	// on one record).
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	// PushFailed counts records that failed (0 on a healthy run).
	PushFailed int `json:"pushFailed"`
	// Adaptive: the push's in-flight limit was found by the adaptive limit
	// (Concurrency is then its ceiling).
	Adaptive bool `json:"adaptive"`
	// Capacity and LatencyProfile: the simulator's shape (0 and "": none).
	Capacity       int    `json:"capacity,omitempty"`
	LatencyProfile string `json:"latencyProfile,omitempty"`
	// RateLimitedShare is the push's 429 answers over its requests.
	RateLimitedShare float64 `json:"rateLimitedShare"`
	// SecondsTo90Percent is when the push's throughput (records created
	// over the last second) first reached 90 % of its overall rate.
	SecondsTo90Percent float64 `json:"secondsTo90Percent"`
	// BestFixedRecordsPerSec and BestFixedConcurrency are the best push of
	// the sweep (Config.Sweep); AdaptiveRatio is PushRecordsPerSec over it.
	BestFixedRecordsPerSec float64 `json:"bestFixedRecordsPerSec,omitempty"`
	BestFixedConcurrency   int     `json:"bestFixedConcurrency,omitempty"`
	AdaptiveRatio          float64 `json:"adaptiveRatio,omitempty"`
	// SweepRecordsPerSec maps each swept concurrency to its push rate.
	SweepRecordsPerSec map[int]float64 `json:"sweepRecordsPerSec,omitempty"`

	// SequentialRecords were pushed at concurrency 1 (the baseline).
	SequentialRecords       int     `json:"sequentialRecords"`
	SequentialRecordsPerSec float64 `json:"sequentialRecordsPerSec"`
	SpeedupVsSequential     float64 `json:"speedupVsSequential"`

	// The no-op resync of the Records pushed: time, write calls (must be
	// 0) and all Metakocka calls.
	NoopResyncSeconds float64 `json:"noopResyncSeconds"`
	NoopWriteCalls    int64   `json:"noopWriteCalls"`
	NoopCalls         int64   `json:"noopCalls"`

	// The pull of Records changed in Metakocka.
	PullSeconds        float64 `json:"pullSeconds"`
	PullRecordsPerSec  float64 `json:"pullRecordsPerSec"`
	PullUpdated        int     `json:"pullUpdated"`
	PullCallsPerRecord float64 `json:"pullCallsPerRecord"`

	// PeakHeapBytes is the highest live heap (runtime/metrics
	// /gc/heap/live:bytes: what the last GC found reachable) seen during the
	// run; PeakHeapObjectsBytes the highest heap occupied by objects, live
	// or garbage not yet swept (/memory/classes/heap/objects:bytes), which
	// the GC lets grow to about twice the live heap (GOGC=100). Both include
	// the simulator, which keeps every record in memory too.
	PeakHeapBytes        uint64 `json:"peakHeapBytes"`
	PeakHeapObjectsBytes uint64 `json:"peakHeapObjectsBytes"`
	// SimulatorHeapBytes is the live heap after the run once the engine is
	// stopped and dropped and a GC has run: the simulator's records (all of
	// them are still held) plus the process's fixed overhead.
	// EngineHeapBytes, PeakHeapBytes - SimulatorHeapBytes, bounds mksync's
	// own peak from above: what the simulator allocates for the requests it
	// is serving at the peak counts on mksync's side.
	SimulatorHeapBytes uint64 `json:"simulatorHeapBytes"`
	EngineHeapBytes    uint64 `json:"engineHeapBytes"`

	// The machine: CPUs, GOMAXPROCS, Go version and the 1-minute load
	// average at the start and the end (0 where /proc/loadavg is missing).
	NumCPU     int     `json:"numCPU"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	GoVersion  string  `json:"goVersion"`
	LoadStart  float64 `json:"loadAvgStart"`
	LoadEnd    float64 `json:"loadAvgEnd"`
}

// writeMethods are the Metakocka methods that change data.
var writeMethods = []string{"add_partner", "update_partner", "product_add", "product_update", "product_delete",
	"put_document", "update_document", "delete_document"}

// WriteCalls counts the requests in st that changed (or may have changed)
// Metakocka data: write methods answered OK or committed before failing.
func WriteCalls(st mkfake.Stats) int64 {
	var n int64
	for _, m := range writeMethods {
		n += st.Calls(m, mkfake.OutcomeOK) + st.Calls(m, mkfake.OutcomeCommitThenFail)
	}
	return n
}

// World is an engine on a store, a simulator served over loopback HTTP
// and the means to add tenants connected to it: what a Run and the
// reliability tests work on. Close it when done.
type World struct {
	Store  mksync.Store
	Fake   *mkfake.Server
	URL    string
	Engine *engine.Engine

	srv *httptest.Server
	seq atomic.Int64
	// phase is the bench phase under way (inPhase), the profiler label of
	// the simulator's request handlers.
	phase atomic.Pointer[string]
}

// labelled gives the simulator's request handlers the profiler labels
// side=simulator and phase (the phase under way), so that a CPU profile
// tells the simulator's share of a phase from mksync's.
func (w *World) labelled(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		phase := "none"
		if p := w.phase.Load(); p != nil {
			phase = *p
		}
		pprof.Do(r.Context(), pprof.Labels("side", "simulator", "phase", phase), func(context.Context) { h.ServeHTTP(rw, r) })
	})
}

// WorldConfig configures NewWorld.
type WorldConfig struct {
	// Store is a migrated store that can seal credentials. Required.
	Store mksync.Store
	// Seed seeds the simulator's randomness (faults, jitter); default 1.
	Seed int64
	// Engine, when set, adjusts the engine's config before New (Store,
	// HTTP client, pacing and retries are filled in first).
	Engine func(*engine.Config)
}

// NewWorld starts a simulator on a loopback port and an engine on
// cfg.Store that talks to it. Retries wait at most a few milliseconds and
// the pacer only bounds requests in flight, so that figures measure the
// engine, not the backoff.
func NewWorld(cfg WorldConfig) (*World, error) {
	if cfg.Store == nil {
		return nil, mksync.Errorf(mksync.EINVALID, "bench world: Store is required")
	}
	fake := mkfake.New(mkfake.Options{Seed: cfg.Seed})
	w := &World{Store: cfg.Store, Fake: fake}
	srv := httptest.NewServer(w.labelled(fake))
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2 * mksync.MaxConcurrency
	ecfg := engine.Config{
		Store:      cfg.Store,
		HTTPClient: &http.Client{Transport: transport},
		Pacing:     metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 2 * mksync.MaxConcurrency},
		Retry:      metakocka.RetryConfig{MaxRetries: 4, InitialInterval: time.Millisecond, MaxInterval: 8 * time.Millisecond, MaxElapsed: time.Minute},
		RetryClock: metakocka.ShortSleeps{Max: 5 * time.Millisecond},
		Logger:     slog.New(slog.DiscardHandler),
	}
	if cfg.Engine != nil {
		cfg.Engine(&ecfg)
	}
	e, err := engine.New(ecfg)
	if err != nil {
		fake.Close()
		srv.Close()
		return nil, fmt.Errorf("bench world: %w", err)
	}
	w.URL, w.Engine, w.srv = srv.URL, e, srv
	return w, nil
}

// Close stops the simulator.
func (w *World) Close() {
	w.Fake.Close()
	w.srv.Close()
}

// heapWithoutEngine drops the engine (w.Engine is nil afterwards) and returns the live heap after a GC: what the simulator and
// the rest of the world hold without it.
func (w *World) heapWithoutEngine() uint64 {
	w.Engine = nil
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}

// AddTenant creates a tenant connected to a new simulator company and
// returns the tenant id and company id.
func (w *World) AddTenant(ctx context.Context, settings mksync.SyncSettings) (tenantID, company string, err error) {
	company = "bench-" + strconv.FormatInt(w.seq.Add(1), 10)
	secret := "secret-" + company
	w.Fake.AddCompany(company, secret)
	tn := mksync.Tenant{Name: "Bench tenant " + company}
	if err := w.Store.CreateTenant(ctx, &tn); err != nil {
		return "", "", fmt.Errorf("create bench tenant: %w", err)
	}
	if err := w.Store.SetCredentials(ctx, tn.ID, &mksync.MetakockaCredentials{
		CompanyID: company, SecretKey: mksync.Secret(secret), BaseURL: w.URL, Settings: settings,
	}); err != nil {
		return "", "", fmt.Errorf("set bench tenant credentials: %w", err)
	}
	return tn.ID, company, nil
}

// Client returns a Metakocka client of the company that retries without
// waiting (for changing data on the Metakocka side).
func (w *World) Client(company string) (*metakocka.Client, error) {
	c, err := metakocka.New(metakocka.Config{
		BaseURL: w.URL, CompanyID: company, SecretKey: mksync.Secret("secret-" + company),
		Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 2 * mksync.MaxConcurrency},
		Retry:  metakocka.RetryConfig{MaxRetries: 6, InitialInterval: time.Millisecond, MaxInterval: 8 * time.Millisecond},
		Clock:  metakocka.ShortSleeps{Max: 5 * time.Millisecond},
	})
	if err != nil {
		return nil, fmt.Errorf("metakocka client of %s: %w", company, err)
	}
	return c, nil
}

// latencies collects per-record durations (an engine.RecordObserver).
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
	on atomic.Bool
}

func (l *latencies) OnRecord(_ mksync.EntityType, _ mksync.Direction, d time.Duration) {
	if !l.on.Load() {
		return
	}
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// take returns the collected durations, sorted, and starts over.
func (l *latencies) take() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.d
	l.d = nil
	slices.Sort(d)
	return d
}

// quantile of sorted durations, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(len(sorted)-1, i))
	return float64(sorted[i]) / float64(time.Millisecond)
}

// heapSampler records the peaks of the live heap and of the heap
// occupied by objects until stopped.
type heapSampler struct {
	live, objects atomic.Uint64
	stop          chan struct{}
	done          chan struct{}
}

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	peaks := []*atomic.Uint64{&h.live, &h.objects}
	read := func() {
		metrics.Read(sample)
		for i, s := range sample {
			if s.Value.Kind() == metrics.KindUint64 && s.Value.Uint64() > peaks[i].Load() {
				peaks[i].Store(s.Value.Uint64())
			}
		}
	}
	read()
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the peaks (live heap, heap objects).
// Safe to call more than once.
func (h *heapSampler) Stop() (live, objects uint64) {
	select {
	case <-h.done:
	default:
		close(h.stop)
		<-h.done
	}
	return h.live.Load(), h.objects.Load()
}

// loadAvg reads the 1-minute load average (0 when unavailable).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Run runs the benchmark described in the package doc and returns its
// figures. A record that fails makes no error (it is counted); an error
// means a phase could not run.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	rep := Report{
		Entity: string(cfg.Entity), Records: cfg.Records, Concurrency: cfg.Concurrency, BatchSize: cfg.BatchSize,
		Adaptive: cfg.Adaptive, Capacity: cfg.Capacity, LatencyProfile: cfg.LatencyProfile,
		LatencyMs: ms(cfg.Latency), JitterMs: ms(cfg.Jitter),
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		LoadStart: loadAvg(),
	}
	heap := startHeapSampler(cfg.HeapSampleInterval)
	defer func() { heap.Stop() }()

	lat := &latencies{}
	w, err := NewWorld(WorldConfig{Store: cfg.Store, Seed: 1, Engine: func(c *engine.Config) {
		c.RecordObserver = lat
		if cfg.Adaptive {
			c.Pacing.Adaptive, c.Pacing.MaxInFlight = true, mksync.MaxConcurrency
		}
	}})
	if err != nil {
		return rep, err
	}
	defer w.Close()

	b := &bench{cfg: cfg, w: w, lat: lat}
	tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: cfg.Concurrency, BatchSize: cfg.BatchSize})
	if err != nil {
		return rep, err
	}
	phases := []struct {
		name string
		run  func(context.Context) error
	}{
		{"push", func(ctx context.Context) error { return b.push(ctx, tenant, company, cfg.Records, &rep) }},
		{"noop", func(ctx context.Context) error { return b.noop(ctx, tenant, company, &rep) }},
		{"pull", func(ctx context.Context) error { return b.pull(ctx, tenant, company, &rep) }},
		{"sequential", func(ctx context.Context) error { return b.sequential(ctx, &rep) }},
		{"sweep", func(ctx context.Context) error { return b.sweep(ctx, &rep) }},
	}
	for _, p := range phases {
		if err := w.inPhase(ctx, p.name, p.run); err != nil {
			return rep, err
		}
	}
	runtime.GC() // the sampler's last reading is then exact, the engine included
	rep.PeakHeapBytes, rep.PeakHeapObjectsBytes = heap.Stop()
	rep.SimulatorHeapBytes = w.heapWithoutEngine()
	if rep.PeakHeapBytes > rep.SimulatorHeapBytes {
		rep.EngineHeapBytes = rep.PeakHeapBytes - rep.SimulatorHeapBytes
	}
	rep.LoadEnd = loadAvg()
	return rep, nil
}

// inPhase runs f with the profiler label phase=name on its goroutine and
// the goroutines it starts (the simulator's handlers get it too, see
// labelled), so that a CPU profile of a run (mksync bench --cpuprofile)
// can be read one phase at a time.
func (w *World) inPhase(ctx context.Context, name string, f func(context.Context) error) error {
	prev := w.phase.Swap(&name)
	defer w.phase.Store(prev)
	var err error
	pprof.Do(ctx, pprof.Labels("phase", name), func(ctx context.Context) { err = f(ctx) })
	return err
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// bench carries a Run's state between phases.
type bench struct {
	cfg Config
	w   *World
	lat *latencies
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.cfg.Progress, format+"\n", args...)
}

// PhaseResult is one timed phase.
type PhaseResult struct {
	Run     mksync.SyncRun
	Elapsed time.Duration
	Stats   mkfake.Stats
}

// Push pushes every record of et of the tenant (a bulk run over all
// records) and returns the run, its wall time and the simulator's calls
// during it.
func Push(ctx context.Context, w *World, tenant string, et mksync.EntityType) (PhaseResult, error) {
	return timedRun(ctx, w, tenant, et, mksync.ToMetakocka)
}

// Pull pulls every record of et from the tenant's company.
func Pull(ctx context.Context, w *World, tenant string, et mksync.EntityType) (PhaseResult, error) {
	return timedRun(ctx, w, tenant, et, mksync.FromMetakocka)
}

func timedRun(ctx context.Context, w *World, tenant string, et mksync.EntityType, dir mksync.Direction) (PhaseResult, error) {
	w.Fake.ResetStats()
	run := mksync.SyncRun{EntityType: et, Direction: dir, Trigger: mksync.TriggerCLI}
	start := time.Now()
	err := workRun(ctx, w, tenant, &run)
	res := PhaseResult{Run: run, Elapsed: time.Since(start), Stats: w.Fake.Stats()}
	if err != nil {
		return res, fmt.Errorf("%s %s run: %w", et, dir, err)
	}
	return res, nil
}

// workRun creates the run and works it to the end in this goroutine
// (the engine's one run lifecycle, without the job queue's slicing, so the
// figures are the engine's own); run is then as stored. A run of
// maintainAfter records or more is followed by the store's upkeep, as the
// job queue follows each large slice (a PostgreSQL store vacuums and
// analyzes the run's tables), within the run's time.
func workRun(ctx context.Context, w *World, tenant string, run *mksync.SyncRun) error {
	if err := w.Engine.CreateRun(ctx, tenant, run, nil); err != nil {
		return fmt.Errorf("create run: %w", err)
	}
	_, err := w.Engine.WorkRun(ctx, tenant, run.ID, nil)
	done, ferr := w.Store.FindSyncRun(context.WithoutCancel(ctx), tenant, run.ID)
	if ferr != nil {
		return errors.Join(err, fmt.Errorf("read run back: %w", ferr))
	}
	*run = done
	if m, ok := w.Store.(statisticsRefresher); ok && err == nil && done.Processed >= maintainAfter {
		if err := m.RefreshStatistics(ctx, run.EntityType); err != nil {
			return fmt.Errorf("upkeep after the run: %w", err)
		}
	}
	return err
}

// statisticsRefresher is a store that needs upkeep after bulk writes (see
// jobs: postgres.DB, whose tables keep their statistics and lose their dead
// row versions that way even with autovacuum off).
type statisticsRefresher interface {
	RefreshStatistics(ctx context.Context, et mksync.EntityType) error
}

// maintainAfter is the job queue's threshold for the upkeep after a slice.
const maintainAfter = 1000

// push creates n new records for the tenant and pushes them with the
// latency on, filling the push figures.
func (b *bench) push(ctx context.Context, tenant, company string, n int, rep *Report) error {
	if err := b.seed(ctx, tenant, company, n); err != nil {
		return err
	}
	b.w.Fake.SetFaults(company, b.faults())
	b.lat.take()
	b.lat.on.Store(true)
	progress := watchProgress(b.w.Fake)
	res, err := Push(ctx, b.w, tenant, b.cfg.Entity)
	curve := progress.stop()
	b.lat.on.Store(false)
	if err != nil {
		return err
	}
	d := b.lat.take()
	r := res.Run.Result
	rep.PushSeconds = res.Elapsed.Seconds()
	rep.PushRecordsPerSec = float64(n) / res.Elapsed.Seconds()
	mean := b.cfg.Latency + b.cfg.Jitter/2
	limit := b.cfg.Concurrency
	if b.cfg.Capacity > 0 {
		limit = min(limit, b.cfg.Capacity)
	}
	rep.LimitRecordsPerSec = float64(limit) / mean.Seconds()
	rep.LimitRatio = rep.PushRecordsPerSec / rep.LimitRecordsPerSec
	rep.CallsPerRecord = float64(res.Stats.Total) / float64(n)
	for _, p := range res.Stats.PeakInFlight {
		rep.PeakInFlight = max(rep.PeakInFlight, p)
	}
	rep.P50Ms, rep.P99Ms = quantile(d, 0.50), quantile(d, 0.99)
	rep.PushFailed = r.Failed
	rep.RateLimitedShare = rateLimitedShare(res.Stats)
	rep.SecondsTo90Percent = secondsTo90(curve, float64(n)/res.Elapsed.Seconds(), res.Elapsed)
	b.logf("push: %d %s in %.2fs = %.0f records/s (%.2f of the limit %.0f/s), %.2f calls/record, peak %d in flight, p50 %.1f ms, p99 %.1f ms, created %d, failed %d",
		n, b.cfg.Entity, rep.PushSeconds, rep.PushRecordsPerSec, rep.LimitRatio, rep.LimitRecordsPerSec, rep.CallsPerRecord, rep.PeakInFlight, rep.P50Ms, rep.P99Ms, r.Created, r.Failed)
	if r.Created != n {
		return mksync.Errorf(mksync.EINTERNAL, "bench push created %d of %d records (failed %d): %v", r.Created, n, r.Failed, firstErrors(r))
	}
	return nil
}

func firstErrors(r mksync.SyncResult) []string {
	var out []string
	for _, e := range r.Errors[:min(3, len(r.Errors))] {
		out = append(out, e.Error)
	}
	return out
}

// noop resyncs the pushed records: nothing changed, so no write call.
func (b *bench) noop(ctx context.Context, tenant, company string, rep *Report) error {
	res, err := Push(ctx, b.w, tenant, b.cfg.Entity)
	if err != nil {
		return err
	}
	rep.NoopResyncSeconds = res.Elapsed.Seconds()
	rep.NoopWriteCalls = WriteCalls(res.Stats)
	rep.NoopCalls = res.Stats.Total
	b.logf("no-op resync: %d %s in %.2fs, %d write calls, %d calls, skipped %d",
		b.cfg.Records, b.cfg.Entity, rep.NoopResyncSeconds, rep.NoopWriteCalls, rep.NoopCalls, res.Run.Result.Skipped)
	if res.Run.Result.Skipped != b.cfg.Records {
		return mksync.Errorf(mksync.EINTERNAL, "bench no-op resync skipped %d of %d records: %+v", res.Run.Result.Skipped, b.cfg.Records, res.Run.Result)
	}
	return nil
}

// pull changes every pushed record in Metakocka (latency off), then pulls
// them with the latency on.
func (b *bench) pull(ctx context.Context, tenant, company string, rep *Report) error {
	b.w.Fake.SetFaults(company, mkfake.Faults{})
	err := b.w.inPhase(ctx, "change", func(ctx context.Context) error {
		return ChangeInMetakocka(ctx, b.w, tenant, company, b.cfg.Entity, "changed in Metakocka")
	})
	if err != nil {
		return err
	}
	b.w.Fake.SetFaults(company, b.faults())
	res, err := Pull(ctx, b.w, tenant, b.cfg.Entity)
	if err != nil {
		return err
	}
	n := b.cfg.Records
	rep.PullSeconds = res.Elapsed.Seconds()
	rep.PullRecordsPerSec = float64(n) / res.Elapsed.Seconds()
	rep.PullUpdated = res.Run.Result.Updated
	rep.PullCallsPerRecord = float64(res.Stats.Total) / float64(n)
	b.logf("pull: %d %s changed in Metakocka in %.2fs = %.0f records/s, updated %d, %.3f calls/record",
		n, b.cfg.Entity, rep.PullSeconds, rep.PullRecordsPerSec, rep.PullUpdated, rep.PullCallsPerRecord)
	if res.Run.Result.Updated != n {
		return mksync.Errorf(mksync.EINTERNAL, "bench pull updated %d of %d records: %+v", res.Run.Result.Updated, n, firstErrors(res.Run.Result))
	}
	return nil
}

// sequential pushes SequentialRecords new records of a second tenant at
// concurrency 1.
func (b *bench) sequential(ctx context.Context, rep *Report) error {
	n := b.cfg.SequentialRecords
	tenant, company, err := b.w.AddTenant(ctx, mksync.SyncSettings{Concurrency: 1, BatchSize: b.cfg.BatchSize})
	if err != nil {
		return err
	}
	if err := b.seed(ctx, tenant, company, n); err != nil {
		return err
	}
	b.w.Fake.SetFaults(company, b.faults())
	res, err := Push(ctx, b.w, tenant, b.cfg.Entity)
	if err != nil {
		return err
	}
	rep.SequentialRecords = n
	rep.SequentialRecordsPerSec = float64(n) / res.Elapsed.Seconds()
	rep.SpeedupVsSequential = rep.PushRecordsPerSec / rep.SequentialRecordsPerSec
	b.logf("sequential push: %d %s in %.2fs = %.1f records/s; speed-up %.1f×",
		n, b.cfg.Entity, res.Elapsed.Seconds(), rep.SequentialRecordsPerSec, rep.SpeedupVsSequential)
	if res.Run.Result.Created != n {
		return mksync.Errorf(mksync.EINTERNAL, "bench sequential push created %d of %d records: %v", res.Run.Result.Created, n, firstErrors(res.Run.Result))
	}
	return nil
}

// seed creates n new local records of the configured entity for the
// tenant; for documents, also their contacts and products, pushed without
// latency.
func (b *bench) seed(ctx context.Context, tenant, company string, n int) error {
	start := time.Now()
	err := b.w.inPhase(ctx, "seed", func(ctx context.Context) error { return Seed(ctx, b.w, tenant, company, b.cfg.Entity, n) })
	b.logf("seeded %d %s in %.2fs", n, b.cfg.Entity, time.Since(start).Seconds())
	return err
}
