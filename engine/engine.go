package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
)

// Clock is time as the engine sees it (run times, conflict decisions,
// document pull windows). Tests inject one.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config configures an Engine. Zero fields take the documented defaults.
type Config struct {
	// Store keeps the CRM records, mappings, runs and error records. Required.
	Store mksync.Store
	// Logger receives one structured line per failed record and per
	// conflict (category SYNC); default a logger that discards.
	Logger *slog.Logger
	// Clock; default the real clock.
	Clock Clock

	// Pacer paces Metakocka requests per company; pass the process's one
	// Pacer so that every engine and API path shares a company's budget.
	// Nil creates one from Pacing.
	Pacer *metakocka.Pacer
	// Pacing configures the Pacer created when Pacer is nil.
	Pacing metakocka.PacingConfig
	// HTTPClient sends Metakocka requests; default one on
	// metakocka.NewTransport (no proxy from the environment) that keeps
	// enough idle connections for MaxConcurrency requests. Redirects are
	// never followed, whatever client is given.
	HTTPClient *http.Client
	// Retry, Timeouts, RetryClock and Observer are passed to every
	// metakocka.Client (see metakocka.Config); every Metakocka call of the
	// engine goes through them.
	Retry      metakocka.RetryConfig
	Timeouts   metakocka.Timeouts
	RetryClock metakocka.Clock
	Observer   metakocka.Observer
	// ObserverFor, when set, gives the observer of one tenant's client (so
	// that metrics and alerts know whose company answered) and replaces
	// Observer; it is called when the tenant's client is made. Default:
	// Observer for every tenant.
	ObserverFor func(tenantID string) metakocka.Observer
	// Monitor, when set, hears record outcomes and run executions (metrics
	// and alerts; alerts.Monitor implements it). Default none.
	Monitor Monitor

	// Pricelist is the count_code of the Metakocka price list that holds a
	// product's price and tax for tenants that chose none
	// (SyncSettings.Pricelist); default "MPC".
	Pricelist string
	// DefaultUnit is sent for a product without a unit (Metakocka requires
	// one); default "kos".
	DefaultUnit string
	// HomeCountries are the country names and codes (case-insensitive) of
	// the tenant's own country; a contact elsewhere is a foreign partner and
	// its invoices are sales_bill_foreign. Default Slovenia: "", "SI",
	// "SVN", "Slovenija", "Slovenia".
	HomeCountries []string
	// Location is the time zone of the dates mksync writes to Metakocka:
	// a date goes out with its offset ("2024-09-12+02:00"), as the docs'
	// examples show, never bare. Default Europe/Ljubljana (Metakocka's),
	// UTC when the time zone database is missing.
	Location *time.Location

	// MappingCacheTTL bounds how long a cached mapping lookup is used;
	// default 10 minutes. MetadataCacheTTL bounds cached Metakocka lookups
	// (partners, products by mk_id); default 5 minutes. CacheSize bounds
	// each of the three caches' entries, shared by all tenants; default
	// 20,000. An entry takes about 250 bytes, so the default holds the
	// caches near 15 MB; a miss costs an indexed store read, far less than
	// the Metakocka call beside it, so a bigger cache buys little.
	MappingCacheTTL  time.Duration
	MetadataCacheTTL time.Duration
	CacheSize        int

	// DocumentPullOverlap is how far before the end of the previous
	// incremental document pull the next one starts (search's last_change
	// bounds are inclusive and to the second, and clocks differ); default
	// 2 minutes. Documents seen twice are deduplicated by hash.
	DocumentPullOverlap time.Duration
	// CreateAttempts bounds how often one create is tried after ambiguous
	// failures (each retry preceded by a count_code lookup); default 3.
	CreateAttempts int
	// MaxRunErrors caps the per-record errors kept in a run's stored
	// result (the counts stay exact; every failure also has its error
	// record); default 1000.
	MaxRunErrors int
	// RecordObserver, when set, is told how long each record of a bulk run
	// that needed work took (see RecordObserver); default none.
	RecordObserver RecordObserver
}

// RecordObserver is told about the records of bulk runs (benchmarks,
// metrics). OnRecord is called once per record a worker processed, with
// the time from when the worker took it up until its outcome was known
// (store and Metakocka time, retries included); records decided without
// any work (unchanged ones) are not reported. Implementations must be safe
// for concurrent use and must not block.
type RecordObserver interface {
	OnRecord(et mksync.EntityType, dir mksync.Direction, d time.Duration)
}

// Monitor hears what the engine did, for metrics and alerts. Every record
// and run is reported once: a batch is reported when it is committed, so
// the records of a batch that an interruption kept from being committed are
// reported by the run that redoes them. Implementations must be safe for
// concurrent use and must not block.
type Monitor interface {
	// RecordSynced reports the record of a single-record sync.
	RecordSynced(e observe.RecordEvent)
	// ResultSynced reports the records of a committed batch of a run.
	ResultSynced(tenantID string, et mksync.EntityType, dir mksync.Direction, res mksync.SyncResult)
	// RunExecuting reports that run (status running) executes in this
	// process now: a whole run, or one slice of a run worked slice by slice.
	// The returned func is called once when this execution stops, with the
	// run as it is then: final, or still running when it stopped resumable.
	RunExecuting(run mksync.SyncRun) (stopped func(run mksync.SyncRun))
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: metakocka.NewTransport(mksync.MaxConcurrency * 2)}
	}
	if c.Pricelist == "" {
		c.Pricelist = "MPC"
	}
	if c.DefaultUnit == "" {
		c.DefaultUnit = "kos"
	}
	if c.HomeCountries == nil {
		c.HomeCountries = []string{"", "SI", "SVN", "Slovenija", "Slovenia"}
	}
	if c.Location == nil {
		c.Location = time.UTC
		if loc, err := time.LoadLocation("Europe/Ljubljana"); err == nil {
			c.Location = loc
		}
	}
	if c.MappingCacheTTL == 0 {
		c.MappingCacheTTL = 10 * time.Minute
	}
	if c.MetadataCacheTTL == 0 {
		c.MetadataCacheTTL = 5 * time.Minute
	}
	if c.CacheSize == 0 {
		c.CacheSize = 20_000
	}
	if c.DocumentPullOverlap == 0 {
		c.DocumentPullOverlap = 2 * time.Minute
	}
	if c.CreateAttempts == 0 {
		c.CreateAttempts = 3
	}
	if c.MaxRunErrors == 0 {
		c.MaxRunErrors = 1000
	}
	return c
}

// Engine syncs tenants' records with Metakocka. It is safe for concurrent
// use; one Engine serves every tenant of a process.
type Engine struct {
	cfg   Config
	store mksync.Store
	log   *slog.Logger
	clock Clock
	pacer *metakocka.Pacer
	home  map[string]bool

	cache *caches
	locks *recordLocks

	clientsMu sync.Mutex
	clients   map[string]tenantClient

	// live counts the records of the runs executing now (LiveProgress).
	live liveRuns
}

// tenantClient is a cached Metakocka client and the credentials it was
// made from (a change of credentials makes a new client).
type tenantClient struct {
	key    string
	client *metakocka.Client
}

// New returns an Engine for cfg. Errors: EINVALID for a bad Config.
func New(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil {
		return nil, mksync.Errorf(mksync.EINVALID, "engine config: Store is required")
	}
	pacer := cfg.Pacer
	if pacer == nil {
		var err error
		if pacer, err = metakocka.NewPacer(cfg.Pacing); err != nil {
			return nil, fmt.Errorf("engine config: %w", err)
		}
	}
	c, err := newCaches(cfg)
	if err != nil {
		return nil, err
	}
	home := map[string]bool{}
	for _, h := range cfg.HomeCountries {
		home[strings.ToLower(strings.TrimSpace(h))] = true
	}
	e := &Engine{
		cfg:     cfg,
		store:   cfg.Store,
		log:     observe.WithCategory(cfg.Logger, observe.CatSync),
		clock:   cfg.Clock,
		pacer:   pacer,
		home:    home,
		cache:   c,
		locks:   newRecordLocks(),
		clients: map[string]tenantClient{},
	}
	return e, nil
}

// session is one operation's view of a tenant: its settings and its
// Metakocka client. Everything a session does is scoped to tenantID.
type session struct {
	e        *Engine
	tenantID string
	settings mksync.SyncSettings
	mk       *metakocka.Client
	// group, during a bulk run, commits the run's mapping writes together
	// (see mappingGroup); nil otherwise.
	group *mappingGroup
	// preloaded holds the documents read with their mappings under their
	// records' locks (mappingPreloading), by id, until loaded or unlocked.
	preloaded sync.Map
	// runContacts, during a bulk run, remembers the countries of the
	// contacts its documents named (resolvePartner); nil otherwise.
	runContacts *contactCountries
	// createNew: a person chose to create the record in Metakocka on
	// purpose (Engine.CreateNew), so a push skips matching.
	createNew bool
	// barcodes indexes the company's catalogue by barcode, read once per
	// session when a product to create needs it (see productsByBarcode).
	barcodes *barcodeIndex
	// stock is the stock per warehouse read for the products being pulled.
	stock warehouseStock
	// claims are the Metakocka records matched and linked in this
	// session (matchPlan).
	claims *matchClaims
	// dry: decide only (a preview): every write is noted in the record's
	// plan item instead (engine/preview.go).
	dry bool
}

// session loads the tenant's credentials and returns a session. Errors:
// ENOTFOUND when the tenant has no Metakocka credentials.
func (e *Engine) session(ctx context.Context, tenantID string) (*session, error) {
	if tenantID == "" {
		return nil, mksync.Errorf(mksync.EINVALID, "tenant id is required")
	}
	creds, err := e.store.FindCredentials(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load Metakocka credentials of tenant %s: %w", tenantID, err)
	}
	client, err := e.clientFor(creds)
	if err != nil {
		return nil, err
	}
	return &session{e: e, tenantID: tenantID, settings: creds.Settings.WithDefaults(), mk: client, barcodes: &barcodeIndex{}, claims: &matchClaims{}}, nil
}

// clientFor returns the tenant's client, made anew when its credentials
// changed. Pacing is per company through the shared Pacer.
func (e *Engine) clientFor(creds mksync.MetakockaCredentials) (*metakocka.Client, error) {
	var h maphash.Hash
	h.WriteString(creds.SecretKey.Reveal())
	key := creds.CompanyID + "|" + creds.BaseURL + "|" + fmt.Sprint(h.Sum64())
	e.clientsMu.Lock()
	defer e.clientsMu.Unlock()
	if tc, ok := e.clients[creds.TenantID]; ok && tc.key == key {
		return tc.client, nil
	}
	obs := e.cfg.Observer
	if e.cfg.ObserverFor != nil {
		obs = e.cfg.ObserverFor(creds.TenantID)
	}
	client, err := metakocka.New(metakocka.Config{
		BaseURL:    creds.BaseURL,
		CompanyID:  creds.CompanyID,
		SecretKey:  creds.SecretKey,
		HTTPClient: e.cfg.HTTPClient,
		Retry:      e.cfg.Retry,
		Timeouts:   e.cfg.Timeouts,
		Pacer:      e.pacer,
		Logger:     e.cfg.Logger,
		Observer:   obs,
		Clock:      e.cfg.RetryClock,
	})
	if err != nil {
		return nil, fmt.Errorf("metakocka client for tenant %s: %w", creds.TenantID, err)
	}
	e.clients[creds.TenantID] = tenantClient{key: key, client: client}
	return client, nil
}

// TestConnection makes one cheap authenticated call with the tenant's stored
// credentials. Errors: ENOTFOUND without credentials, EUPSTREAM (or
// EUNAUTHORIZED) when Metakocka rejects them or cannot be reached.
func (e *Engine) TestConnection(ctx context.Context, tenantID string) error {
	s, err := e.session(ctx, tenantID)
	if err != nil {
		return err
	}
	if err := s.mk.Ping(ctx); err != nil {
		return fmt.Errorf("test Metakocka connection of tenant %s: %w", tenantID, err)
	}
	return nil
}

// homePrefix is the two-letter code among the home countries ("SI"): the
// prefix of a home tax number.
func (e *Engine) homePrefix() string {
	for _, h := range e.cfg.HomeCountries {
		if h = strings.TrimSpace(h); len(h) == 2 {
			return strings.ToUpper(h)
		}
	}
	return ""
}

// isHome reports whether country is the tenant's own country.
func (e *Engine) isHome(country string) bool {
	return e.home[strings.ToLower(strings.TrimSpace(country))]
}

// recordLocks serialise work on one record within this process (a bulk run
// and an API call on the same record, or two documents ensuring the same
// contact). Locks are per entity type so that a document holding its own
// lock may take its contact's and products' locks; those never take a
// document's lock, so there is no cycle.
type recordLocks struct {
	seed    maphash.Seed
	stripes map[mksync.EntityType]*[256]sync.Mutex
}

func newRecordLocks() *recordLocks {
	l := &recordLocks{seed: maphash.MakeSeed(), stripes: map[mksync.EntityType]*[256]sync.Mutex{}}
	for _, et := range mksync.EntityTypes {
		l.stripes[et] = new([256]sync.Mutex)
	}
	return l
}

// lock locks the record and returns its unlock.
func (l *recordLocks) lock(tenantID string, et mksync.EntityType, id string) func() {
	mu := &l.stripes[et][maphash.String(l.seed, tenantID+"|"+id)%256]
	mu.Lock()
	return mu.Unlock
}

// isCode reports whether err carries the mksync code.
func isCode(err error, code string) bool {
	return err != nil && mksync.ErrorCode(err) == code
}

// retryable reports whether err may succeed when tried again later: a
// Metakocka failure (timeouts, 5xx, 429, transport) or a store that lost
// its database connection (EUNAVAILABLE). A run that stops on one stays
// resumable.
func retryable(err error) bool {
	var me *metakocka.Error
	return errors.As(err, &me) && me.Retryable || isCode(err, mksync.EUNAVAILABLE)
}
