package mksync

import (
	"context"
	"time"
)

// RunLease is the right to work on a sync run, held by one worker at a time
// and kept alive by heartbeats. A worker that dies stops renewing it; once
// it has expired another worker may break it and take the run over in
// seconds, instead of waiting for the job queue's stuck-job rescue.
//
// Token is the fencing token: it changes every time the lease changes
// hands (acquired by another owner, or broken), so a former holder that
// wakes up finds its token stale on its next renewal and stops.
type RunLease struct {
	TenantID string
	RunID    string
	// Owner names the holder (e.g. a job and its attempt); "" when the
	// lease is free.
	Owner string
	Token int64
	// ExpiresAt is when the lease lapses unless renewed; zero for a run
	// nobody holds (never leased, or released).
	ExpiresAt time.Time
}

// RunLeaseStore keeps the leases of sync runs (on the run itself). Times
// are the caller's clock, so that every worker of a fleet must have its
// clock within a fraction of the lease's duration of the others (NTP).
type RunLeaseStore interface {
	// AcquireRunLease gives the lease of the tenant's run runID to owner
	// until the time until when it is free, already owner's, or expired at
	// now; Token changes unless owner already held it. It returns the lease
	// as stored. Errors: ECONFLICT when another owner holds an unexpired
	// lease (the returned lease is theirs), ENOTFOUND for an unknown run.
	AcquireRunLease(ctx context.Context, tenantID, runID, owner string, now, until time.Time) (RunLease, error)
	// RenewRunLease moves the expiry of the lease held with token to until.
	// Errors: ECONFLICT when token is no longer current or the lease is no
	// longer held (it was broken or taken over: the caller must stop).
	RenewRunLease(ctx context.Context, tenantID, runID string, token int64, until time.Time) error
	// ReleaseRunLease frees the lease held with token (no-op when token is
	// no longer current).
	ReleaseRunLease(ctx context.Context, tenantID, runID string, token int64) error
	// ExpiredRunLeases lists, across tenants and oldest first, at most limit
	// leases that expired before now on runs that are not final (queued or
	// running): runs whose worker stopped heart-beating. Housekeeping use
	// only.
	ExpiredRunLeases(ctx context.Context, now time.Time, limit int) ([]RunLease, error)
	// BreakRunLease frees the lease that expired before now with token, so
	// the next worker may acquire it, and fences its former holder (Token
	// changes). It keeps the run listed by ExpiredRunLeases again after
	// until, should nobody acquire it by then. Errors: ECONFLICT when token
	// is no longer current or the lease has not expired (another worker
	// broke it first, or its holder renewed it).
	BreakRunLease(ctx context.Context, tenantID, runID string, token int64, now, until time.Time) error
}
