package engine

import (
	"fmt"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
	"github.com/maypok86/otter/v2/stats"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// The engine's caches. Both are hints that save store reads and Metakocka
// calls; neither decides a create or a mapping:
//
//   - mappings: (tenant, entity type, local id) → mapping and (tenant,
//     entity type, mk_id) → local id. Every mapping the engine writes
//     replaces its entries; entries expire after Config.MappingCacheTTL, so
//     mapping changes made elsewhere (another process, a record deletion)
//     are seen at the latest then. Used to resolve a document's partner and
//     products.
//   - metadata: Metakocka partners and products read by mk_id, kept for
//     Config.MetadataCacheTTL and dropped whenever that record syncs. Used
//     when a pulled document names a partner or product more than once.
//
// Creates consult only the store (the intent mapping) and a fresh count_code
// lookup in Metakocka; mapping writes go through the store's uniqueness
// (one local id ⇄ one mk_id per tenant), so a stale entry can cost at most a
// failed record, which is retried, never a duplicate or a wrong mapping.
type caches struct {
	mappings      *otter.Cache[cacheKey, mksync.Mapping]
	byMkID        *otter.Cache[cacheKey, string]
	meta          *otter.Cache[cacheKey, any]
	mapStats      *stats.Counter
	mkStats       *stats.Counter
	metaStats     *stats.Counter
	invalidations atomic.Uint64
}

// cacheKey is tenant-scoped: two tenants never share an entry.
type cacheKey struct {
	tenant string
	et     mksync.EntityType
	id     string
}

func newCaches(cfg Config) (*caches, error) {
	c := &caches{mapStats: stats.NewCounter(), mkStats: stats.NewCounter(), metaStats: stats.NewCounter()}
	var err error
	c.mappings, err = otter.New(&otter.Options[cacheKey, mksync.Mapping]{
		MaximumSize:      cfg.CacheSize,
		ExpiryCalculator: otter.ExpiryWriting[cacheKey, mksync.Mapping](cfg.MappingCacheTTL),
		StatsRecorder:    c.mapStats,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: mapping cache: %w", err)
	}
	c.byMkID, err = otter.New(&otter.Options[cacheKey, string]{
		MaximumSize:      cfg.CacheSize,
		ExpiryCalculator: otter.ExpiryWriting[cacheKey, string](cfg.MappingCacheTTL),
		StatsRecorder:    c.mkStats,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: mk_id cache: %w", err)
	}
	c.meta, err = otter.New(&otter.Options[cacheKey, any]{
		MaximumSize:      cfg.CacheSize,
		ExpiryCalculator: otter.ExpiryWriting[cacheKey, any](cfg.MetadataCacheTTL),
		StatsRecorder:    c.metaStats,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: metadata cache: %w", err)
	}
	return c, nil
}

// putMapping records m as the current mapping of its record, replacing the
// record's old mk_id entry.
func (c *caches) putMapping(tenantID string, m mksync.Mapping) {
	k := cacheKey{tenantID, m.EntityType, m.EntityID}
	if old, ok := c.mappings.GetEntryQuietly(k); ok && old.Value.MetakockaID != m.MetakockaID {
		c.byMkID.Invalidate(cacheKey{tenantID, m.EntityType, old.Value.MetakockaID})
	}
	// The synced fields are read from the store when a merge needs them;
	// the cache (a hint) keeps the mapping without them, so that its
	// memory does not grow with the records' size.
	m.SyncedView, m.SyncedRemoteView = "", ""
	c.mappings.Set(k, m)
	if m.MetakockaID != "" {
		c.byMkID.Set(cacheKey{tenantID, m.EntityType, m.MetakockaID}, m.EntityID)
		c.meta.Invalidate(cacheKey{tenantID, m.EntityType, m.MetakockaID})
	}
	c.invalidations.Add(1)
}

// dropMapping forgets the record's entries.
func (c *caches) dropMapping(tenantID string, et mksync.EntityType, entityID string) {
	if old, ok := c.mappings.Invalidate(cacheKey{tenantID, et, entityID}); ok && old.MetakockaID != "" {
		c.byMkID.Invalidate(cacheKey{tenantID, et, old.MetakockaID})
	}
	c.invalidations.Add(1)
}

// metaPartner and metaProduct are the cached Metakocka reads.
func (c *caches) metaPartner(tenantID, mkID string) (metakocka.Partner, bool) {
	v, ok := c.meta.GetIfPresent(cacheKey{tenantID, mksync.EntityContact, mkID})
	if !ok {
		return metakocka.Partner{}, false
	}
	p, ok := v.(metakocka.Partner)
	return p, ok
}

func (c *caches) metaProduct(tenantID, mkID string) (metakocka.Product, bool) {
	v, ok := c.meta.GetIfPresent(cacheKey{tenantID, mksync.EntityProduct, mkID})
	if !ok {
		return metakocka.Product{}, false
	}
	p, ok := v.(metakocka.Product)
	return p, ok
}

func (c *caches) putMeta(tenantID string, et mksync.EntityType, mkID string, v any) {
	if mkID != "" {
		c.meta.Set(cacheKey{tenantID, et, mkID}, v)
	}
}

// CacheStats are the engine's cache counters, cumulative since New; the
// metrics layer reads them (Engine.CacheStats) and exports them as counters.
type CacheStats struct {
	MappingHits, MappingMisses   uint64
	MkIDHits, MkIDMisses         uint64
	MetadataHits, MetadataMisses uint64
	// MappingEvictions, MkIDEvictions and MetadataEvictions count entries
	// each cache dropped for its size bound (Config.CacheSize); expiries
	// and invalidations are not evictions.
	MappingEvictions, MkIDEvictions, MetadataEvictions uint64
	// Invalidations counts mapping writes that replaced or dropped entries.
	Invalidations uint64
}

// CacheStats returns the cache counters. Safe for concurrent use.
func (e *Engine) CacheStats() CacheStats {
	m, k, d := e.cache.mapStats.Snapshot(), e.cache.mkStats.Snapshot(), e.cache.metaStats.Snapshot()
	return CacheStats{
		MappingHits: m.Hits, MappingMisses: m.Misses,
		MkIDHits: k.Hits, MkIDMisses: k.Misses,
		MetadataHits: d.Hits, MetadataMisses: d.Misses,
		MappingEvictions: m.Evictions, MkIDEvictions: k.Evictions, MetadataEvictions: d.Evictions,
		Invalidations: e.cache.invalidations.Load(),
	}
}
