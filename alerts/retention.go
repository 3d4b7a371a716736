package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mksync/mksync/observe"
)

// DefaultErrorRetentionDays is how long error records are kept by default.
const DefaultErrorRetentionDays = 30

// ErrorRecordPruner is the part of mksync.Store that retention uses.
type ErrorRecordPruner interface {
	PruneErrorRecords(ctx context.Context, before time.Time) (int, error)
}

// RetentionConfig configures a Pruner. Zero fields take the defaults.
type RetentionConfig struct {
	// Store deletes the records; required.
	Store ErrorRecordPruner
	// Days error records are kept; default 30. Records created more than
	// Days×24h before a prune are deleted.
	Days int
	// Interval between prunes; default 1h. The first prune runs at Start.
	Interval time.Duration
	// Logger gets one line per prune that deleted something or failed;
	// default discard.
	Logger *slog.Logger
	// Clock gives the cut-off; default the real clock.
	Clock Clock
	// Metrics, when set, counts the deleted records.
	Metrics *observe.Metrics
}

// Pruner deletes error records older than the retention period, across
// tenants, at Start and then every Interval.
type Pruner struct {
	cfg RetentionConfig
	log *slog.Logger

	life lifecycle
}

// NewPruner returns a Pruner for cfg. Errors name the bad field.
func NewPruner(cfg RetentionConfig) (*Pruner, error) {
	if cfg.Store == nil {
		return nil, errors.New("retention config: Store is required")
	}
	if cfg.Days == 0 {
		cfg.Days = DefaultErrorRetentionDays
	}
	if cfg.Days < 0 {
		return nil, fmt.Errorf("retention config: Days must be positive, got %d", cfg.Days)
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Interval < 0 {
		return nil, fmt.Errorf("retention config: Interval must be positive, got %s", cfg.Interval)
	}
	if cfg.Logger == nil {
		cfg.Logger = observe.Discard()
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	return &Pruner{cfg: cfg, log: observe.WithCategory(cfg.Logger, observe.CatDatabase)}, nil
}

// Prune deletes the records older than the retention period now and
// returns how many it deleted.
func (p *Pruner) Prune(ctx context.Context) (int, error) {
	before := p.cfg.Clock.Now().Add(-time.Duration(p.cfg.Days) * 24 * time.Hour)
	n, err := p.cfg.Store.PruneErrorRecords(ctx, before)
	if err != nil {
		return 0, fmt.Errorf("prune error records before %s: %w", before.Format(time.RFC3339), err)
	}
	p.cfg.Metrics.ErrorRecordsPruned(n)
	return n, nil
}

// Start prunes once and then every Interval until ctx ends or Stop is
// called. It returns at once (the first prune runs in the background);
// calling it again is a no-op.
func (p *Pruner) Start(ctx context.Context) error {
	p.life.start(ctx, p.run)
	return nil
}

// Stop stops pruning and waits for a prune in progress. Safe to call twice
// and before Start.
func (p *Pruner) Stop() { p.life.stop() }

func (p *Pruner) run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		n, err := p.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.LogAttrs(ctx, slog.LevelError, "error record retention failed", slog.String("error", err.Error()))
		case n > 0:
			p.log.LogAttrs(ctx, slog.LevelInfo, "error records pruned",
				slog.Int("deleted", n), slog.Int("retention_days", p.cfg.Days))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
