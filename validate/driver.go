package validate

import (
	"context"
	"time"

	"github.com/mksync/mksync"
)

// Tenant is one tenant of the mksync under validation, as the checks drive
// it. Records are *mksync.Contact, *mksync.Product or *mksync.SalesDocument.
// A record or run of another tenant is ENOTFOUND.
type Tenant interface {
	// Create stores rec (its ID and Version are set on return).
	Create(ctx context.Context, rec any) error
	// Get reads the record id of kind et.
	Get(ctx context.Context, et mksync.EntityType, id string) (any, error)
	// Put saves a changed record (its Version names the one it changes).
	Put(ctx context.Context, rec any) error
	// Delete deletes the record id of kind et.
	Delete(ctx context.Context, et mksync.EntityType, id string) error
	// Push syncs the record id to Metakocka now.
	Push(ctx context.Context, et mksync.EntityType, id string) (mksync.SyncResult, error)
	// Pull syncs the Metakocka record mkID into the CRM now.
	Pull(ctx context.Context, et mksync.EntityType, mkID string) (mksync.SyncResult, error)
	// Run runs a sync run to Metakocka over ids and returns it finished.
	Run(ctx context.Context, et mksync.EntityType, ids []string) (mksync.SyncRun, error)
	// Mapping returns the record's mapping; found is false when it was
	// never synced.
	Mapping(ctx context.Context, et mksync.EntityType, id string) (m mksync.Mapping, found bool, err error)
	// NotInCRM lists the first page of Metakocka records not in the CRM.
	NotInCRM(ctx context.Context, et mksync.EntityType) ([]mksync.RemoteRecord, error)
	// ErrorRecord reads the error record errorID.
	ErrorRecord(ctx context.Context, errorID string) (mksync.ErrorRecord, error)
	// ErrorRecords lists the newest error records about the record entityID.
	ErrorRecords(ctx context.Context, entityID string) ([]mksync.ErrorRecord, error)
}

// Driver is a target the checks run against: its first tenant, what else
// it offers, and how to tidy up after the checks. The capability methods
// return nil when the target lacks them; the checks that need them are
// then skipped.
type Driver interface {
	Tenant
	// Connect checks that the target is reachable and the tenant connected
	// to Metakocka; it returns where (for the report).
	Connect(ctx context.Context) (string, error)
	// SecondTenant returns another tenant with its own Metakocka company,
	// or a *SkipError when the target has none.
	SecondTenant(ctx context.Context) (Second, error)
	// Simulator is the target's Metakocka simulator, nil for a real one.
	Simulator() Simulator
	// Direct is access to the store's settings and to the tenant's
	// Metakocka account beside the sync, nil when the target offers none.
	Direct() Direct
	// API is what only the REST API can show, nil in process.
	API() API
	// Cleanup deletes what the checks created, where the target allows, and
	// returns a line saying what it did ("" when nothing needs saying).
	Cleanup(ctx context.Context) string
}

// Second is another tenant of the target, for the isolation checks.
type Second struct {
	Tenant
	// Empty is true when its Metakocka company holds no record: it must
	// then see no Metakocka record at all.
	Empty bool
}

// Simulator injects faults into the Metakocka simulator and counts its calls.
type Simulator interface {
	// FailNextAdd makes the next add of a record of kind et commit and then
	// answer 503.
	FailNextAdd(et mksync.EntityType)
	// FailNextTransient makes the next two calls answer 503 and then 429.
	FailNextTransient()
	// AddMethod names the Metakocka method that adds a record of kind et.
	AddMethod(et mksync.EntityType) string
	// CountCodes counts the tenant's Metakocka records of kind et by
	// count code.
	CountCodes(et mksync.EntityType) map[string]int
	// Writes counts the calls that wrote to Metakocka so far.
	Writes() int64
	// Calls counts all calls to Metakocka so far.
	Calls() int64
}

// Direct reaches past the sync: the tenant's settings in the store and its
// Metakocka account.
type Direct interface {
	// SetConflictPolicy changes the tenant's conflict policy.
	SetConflictPolicy(ctx context.Context, p mksync.ConflictPolicy) error
	// SetRemote sets the field the checks change (see setField) on the
	// Metakocka record mkID.
	SetRemote(ctx context.Context, et mksync.EntityType, mkID, value string) error
	// Remote reads that field of the Metakocka record mkID.
	Remote(ctx context.Context, et mksync.EntityType, mkID string) (string, error)
}

// API reaches the REST API's own behaviour.
type API interface {
	// CreateInvalid sends a record of kind et that breaks the validation
	// rules and returns the API's refusal; err is for anything else
	// (accepted, unreachable).
	CreateInvalid(ctx context.Context, et mksync.EntityType) (Answer, error)
	// ProbeSync calls a sync route with an empty id, without retries, and
	// returns the API's refusal (400 until the rate limit answers 429).
	ProbeSync(ctx context.Context) (Answer, error)
}

// Answer is an error answer of the REST API.
type Answer struct {
	// Status is the HTTP status.
	Status int
	// Code, ErrorID and Details are the error envelope's.
	Code, ErrorID string
	Details       map[string]string
	// RetryAfter is the Retry-After header, 0 when absent.
	RetryAfter time.Duration
	// Limit is the RateLimit-Limit header (per minute), 0 when absent.
	Limit int
}

// Previewer runs previews (dry-run sync runs); a Tenant that can offers it.
type Previewer interface {
	// Preview runs a preview of a push of ids and returns it finished with
	// its whole plan.
	Preview(ctx context.Context, et mksync.EntityType, ids []string) (mksync.SyncRun, []mksync.PlanItem, error)
}
