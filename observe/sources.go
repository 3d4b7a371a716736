package observe

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CacheCounts are one cache's counters, cumulative since the cache was made.
type CacheCounts struct {
	// Cache names the cache (a bounded label: "mapping", "mk_id", …).
	Cache     string
	Hits      uint64
	Misses    uint64
	Evictions uint64
}

// CacheStatsFunc returns the current counts of a set of caches. It is
// called at every scrape, so it must be cheap and safe for concurrent use.
type CacheStatsFunc func() []CacheCounts

// JobCounts are the jobs of one kind in each state, now.
type JobCounts struct {
	// Kind is the job kind (a bounded label).
	Kind string
	// Queued jobs wait for a worker (available or scheduled).
	Queued int
	// Running jobs are being worked now.
	Running int
	// Failed jobs had an attempt fail and wait for their next retry.
	Failed int
	// Discarded jobs gave up after their last retry and are still kept.
	Discarded int
}

// JobCounter is what the job layer implements so that /metrics shows its
// queue. CountJobs is called at every scrape with a context bounded by
// jobCountTimeout; it must be safe for concurrent use.
type JobCounter interface {
	CountJobs(ctx context.Context) ([]JobCounts, error)
}

// jobCountTimeout bounds one CountJobs call during a scrape.
const jobCountTimeout = 5 * time.Second

// WatchCaches makes /metrics export f's counts as mksync_cache_*_total.
// Call it once per set of caches (e.g. with the engine's counters).
func (m *Metrics) WatchCaches(f CacheStatsFunc) {
	m.sources.mu.Lock()
	defer m.sources.mu.Unlock()
	m.sources.caches = append(m.sources.caches, f)
}

// WatchJobs makes /metrics export jc's counts as mksync_jobs{kind,state}.
func (m *Metrics) WatchJobs(jc JobCounter) {
	m.sources.mu.Lock()
	defer m.sources.mu.Unlock()
	m.sources.jobs = append(m.sources.jobs, jc)
}

// sourceCollector reads cache and job counts from their owners at scrape
// time, so the owners keep plain counters and need not import Prometheus.
type sourceCollector struct {
	m *Metrics

	mu     sync.Mutex
	caches []CacheStatsFunc
	jobs   []JobCounter
}

// Describe implements prometheus.Collector.
func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.m.cacheHits
	ch <- c.m.cacheMisses
	ch <- c.m.cacheEvictions
	ch <- c.m.jobs
}

// Collect implements prometheus.Collector. A failing JobCounter yields an
// invalid metric, which the /metrics handler reports while serving the rest.
func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	caches := append([]CacheStatsFunc(nil), c.caches...)
	jobs := append([]JobCounter(nil), c.jobs...)
	c.mu.Unlock()

	for _, f := range caches {
		for _, cc := range f() {
			ch <- prometheus.MustNewConstMetric(c.m.cacheHits, prometheus.CounterValue, float64(cc.Hits), cc.Cache)
			ch <- prometheus.MustNewConstMetric(c.m.cacheMisses, prometheus.CounterValue, float64(cc.Misses), cc.Cache)
			ch <- prometheus.MustNewConstMetric(c.m.cacheEvictions, prometheus.CounterValue, float64(cc.Evictions), cc.Cache)
		}
	}
	for _, jc := range jobs {
		ctx, cancel := context.WithTimeout(context.Background(), jobCountTimeout)
		counts, err := jc.CountJobs(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.m.jobs, fmt.Errorf("count jobs: %w", err))
			continue
		}
		for _, j := range counts {
			for _, s := range []struct {
				state string
				n     int
			}{{"queued", j.Queued}, {"running", j.Running}, {"failed", j.Failed}, {"discarded", j.Discarded}} {
				ch <- prometheus.MustNewConstMetric(c.m.jobs, prometheus.GaugeValue, float64(s.n), j.Kind, s.state)
			}
		}
	}
}
