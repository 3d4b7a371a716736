package bench

import (
	"context"
	"sync"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// faults is the simulator's shape for the measured phases.
func (b *bench) faults() mkfake.Faults {
	return mkfake.Faults{Latency: b.cfg.Latency, Jitter: b.cfg.Jitter, Capacity: b.cfg.Capacity, LatencyProfile: b.cfg.LatencyProfile}
}

// rateLimitedShare is the 429 answers over all requests of st.
func rateLimitedShare(st mkfake.Stats) float64 {
	if st.Total == 0 {
		return 0
	}
	var n int64
	for _, outcomes := range st.Methods {
		n += outcomes[mkfake.OutcomeRateLimited]
	}
	return float64(n) / float64(st.Total)
}

// progressPoint is the simulator's write calls answered OK at a moment.
type progressPoint struct {
	at     time.Duration
	writes int64
}

// progressWatch samples the simulator's OK write calls every 100 ms.
type progressWatch struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	curve []progressPoint
}

func watchProgress(fake *mkfake.Server) *progressWatch {
	p := &progressWatch{stopc: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case <-t.C:
				w := WriteCalls(fake.Stats())
				p.mu.Lock()
				p.curve = append(p.curve, progressPoint{at: time.Since(start), writes: w})
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *progressWatch) stop() []progressPoint {
	close(p.stopc)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.curve
}

// secondsTo90 is when the rate over the last second of curve first
// reached 90 % of overall (records per second); elapsed when never.
func secondsTo90(curve []progressPoint, overall float64, elapsed time.Duration) float64 {
	for i, p := range curve {
		base := progressPoint{} // the last point a second or more before p
		for _, q := range curve[:i] {
			if p.at-q.at >= time.Second {
				base = q
			}
		}
		window := (p.at - base.at).Seconds()
		if window >= 0.5 && float64(p.writes-base.writes)/window >= 0.9*overall {
			return p.at.Seconds()
		}
	}
	return elapsed.Seconds()
}

// sweep pushes Records at each fixed concurrency of Config.Sweep in a
// world of its own (a fixed pacer) against the same simulator shape, and
// fills the best and the adaptive push's ratio to it.
func (b *bench) sweep(ctx context.Context, rep *Report) error {
	if len(b.cfg.Sweep) == 0 {
		return nil
	}
	w, err := NewWorld(WorldConfig{Store: b.w.Store, Seed: 2})
	if err != nil {
		return err
	}
	defer w.Close()
	sb := &bench{cfg: b.cfg, w: w, lat: &latencies{}}
	rep.SweepRecordsPerSec = map[int]float64{}
	for _, c := range b.cfg.Sweep {
		tenant, company, err := w.AddTenant(ctx, mksync.SyncSettings{Concurrency: c, BatchSize: b.cfg.BatchSize})
		if err != nil {
			return err
		}
		if err := Seed(ctx, w, tenant, company, b.cfg.Entity, b.cfg.Records); err != nil {
			return err
		}
		w.Fake.SetFaults(company, sb.faults())
		res, err := Push(ctx, w, tenant, b.cfg.Entity)
		if err != nil {
			return err
		}
		// A concurrency that overloads the company may fail records (429s
		// past the retries): its rate counts only the records created.
		rate := float64(res.Run.Result.Created) / res.Elapsed.Seconds()
		rep.SweepRecordsPerSec[c] = rate
		b.logf("sweep: concurrency %d: %.0f records/s, %.2f%% 429s, %d failed", c, rate, 100*rateLimitedShare(res.Stats), res.Run.Result.Failed)
		if rate > rep.BestFixedRecordsPerSec {
			rep.BestFixedRecordsPerSec, rep.BestFixedConcurrency = rate, c
		}
	}
	if rep.BestFixedRecordsPerSec > 0 {
		rep.AdaptiveRatio = rep.PushRecordsPerSec / rep.BestFixedRecordsPerSec
	}
	b.logf("sweep: best fixed %.0f records/s at concurrency %d; this push %.0f records/s = %.2f of it",
		rep.BestFixedRecordsPerSec, rep.BestFixedConcurrency, rep.PushRecordsPerSec, rep.AdaptiveRatio)
	return nil
}
