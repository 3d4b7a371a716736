package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// testRunLeases checks the lease of a sync run: one holder at a time,
// renewals by the current token only, takeover of an expired lease (which
// fences the former holder), the cross-tenant scan of expired leases on
// runs that are not final, and tenant isolation.
func testRunLeases(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "leases")
	other := newTenant(t, s, "leases-other")
	newRun := func(tenantID string, st mksync.RunStatus) string {
		r := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: st}
		require.NoError(t, s.CreateSyncRun(ctx, tenantID, &r))
		return r.ID
	}
	run := newRun(tid, mksync.RunRunning)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	// A never-leased run is free; acquiring fills the lease.
	a, err := s.AcquireRunLease(ctx, tid, run, "worker-a", at(0), at(15*time.Second))
	require.NoError(t, err)
	require.Equal(t, mksync.RunLease{TenantID: tid, RunID: run, Owner: "worker-a", Token: a.Token, ExpiresAt: at(15 * time.Second)}, a)

	// Held: another owner is refused and told who holds it until when; the
	// holder itself may acquire again without a new token.
	held, err := s.AcquireRunLease(ctx, tid, run, "worker-b", at(time.Second), at(16*time.Second))
	requireCode(t, err, mksync.ECONFLICT)
	require.Equal(t, "worker-a", held.Owner)
	require.Equal(t, at(15*time.Second), held.ExpiresAt)
	again, err := s.AcquireRunLease(ctx, tid, run, "worker-a", at(time.Second), at(16*time.Second))
	require.NoError(t, err)
	require.Equal(t, a.Token, again.Token)

	// Renewal with the current token moves the expiry; nothing expired yet.
	require.NoError(t, s.RenewRunLease(ctx, tid, run, a.Token, at(20*time.Second)))
	exp, err := s.ExpiredRunLeases(ctx, at(19*time.Second), 10)
	require.NoError(t, err)
	require.Empty(t, exp)
	requireCode(t, s.BreakRunLease(ctx, tid, run, a.Token, at(19*time.Second), at(34*time.Second)), mksync.ECONFLICT, "an unexpired lease cannot be broken")

	// Expired: listed (with the other tenant's expired run, oldest first;
	// final runs and released leases are not).
	otherRun := newRun(other, mksync.RunQueued)
	_, err = s.AcquireRunLease(ctx, other, otherRun, "worker-c", at(0), at(10*time.Second))
	require.NoError(t, err)
	done := newRun(tid, mksync.RunRunning)
	_, err = s.AcquireRunLease(ctx, tid, done, "worker-d", at(0), at(5*time.Second))
	require.NoError(t, err)
	fin, err := s.FindSyncRun(ctx, tid, done)
	require.NoError(t, err)
	fin.Status = mksync.RunSucceeded
	require.NoError(t, s.UpdateSyncRun(ctx, tid, &fin))
	released := newRun(tid, mksync.RunRunning)
	r, err := s.AcquireRunLease(ctx, tid, released, "worker-e", at(0), at(5*time.Second))
	require.NoError(t, err)
	require.NoError(t, s.ReleaseRunLease(ctx, tid, released, r.Token))
	exp, err = s.ExpiredRunLeases(ctx, at(21*time.Second), 10)
	require.NoError(t, err)
	require.Len(t, exp, 2, "%+v", exp)
	require.Equal(t, []string{otherRun, run}, []string{exp[0].RunID, exp[1].RunID})
	require.Equal(t, other, exp[0].TenantID)
	require.Equal(t, mksync.RunLease{TenantID: tid, RunID: run, Owner: "worker-a", Token: a.Token, ExpiresAt: at(20 * time.Second)}, exp[1])
	limited, err := s.ExpiredRunLeases(ctx, at(21*time.Second), 1)
	require.NoError(t, err)
	require.Len(t, limited, 1)

	// Breaking fences the former holder: its renewal fails, its release does
	// nothing, a second break with the old token is refused.
	require.NoError(t, s.BreakRunLease(ctx, tid, run, a.Token, at(21*time.Second), at(36*time.Second)))
	requireCode(t, s.BreakRunLease(ctx, tid, run, a.Token, at(21*time.Second), at(36*time.Second)), mksync.ECONFLICT)
	requireCode(t, s.RenewRunLease(ctx, tid, run, a.Token, at(40*time.Second)), mksync.ECONFLICT)
	require.NoError(t, s.ReleaseRunLease(ctx, tid, run, a.Token))
	exp, err = s.ExpiredRunLeases(ctx, at(22*time.Second), 10)
	require.NoError(t, err)
	require.Len(t, exp, 1, "a broken lease is not listed before its grace ends")
	require.Equal(t, otherRun, exp[0].RunID)

	// The broken lease is free at once for the next worker, with a new token.
	b, err := s.AcquireRunLease(ctx, tid, run, "worker-b", at(22*time.Second), at(37*time.Second))
	require.NoError(t, err)
	require.NotEqual(t, a.Token, b.Token)
	require.Equal(t, "worker-b", b.Owner)
	// An expired lease may also be acquired directly by another owner.
	c, err := s.AcquireRunLease(ctx, tid, run, "worker-c", at(38*time.Second), at(53*time.Second))
	require.NoError(t, err)
	require.NotEqual(t, b.Token, c.Token)
	requireCode(t, s.RenewRunLease(ctx, tid, run, b.Token, at(60*time.Second)), mksync.ECONFLICT)
	// Released: free for anyone, no longer listed.
	require.NoError(t, s.ReleaseRunLease(ctx, tid, run, c.Token))
	e, err := s.AcquireRunLease(ctx, tid, run, "worker-e", at(39*time.Second), at(54*time.Second))
	require.NoError(t, err)
	require.NoError(t, s.ReleaseRunLease(ctx, tid, run, e.Token))

	// Tenant isolation and unknown runs.
	_, err = s.AcquireRunLease(ctx, other, run, "worker-x", at(40*time.Second), at(55*time.Second))
	requireCode(t, err, mksync.ENOTFOUND)
	requireCode(t, s.RenewRunLease(ctx, other, otherRun, 999, at(60*time.Second)), mksync.ECONFLICT)
	_, err = s.AcquireRunLease(ctx, tid, otherRun, "worker-x", at(40*time.Second), at(55*time.Second))
	requireCode(t, err, mksync.ENOTFOUND, "another tenant's run")
	requireCode(t, s.BreakRunLease(ctx, tid, otherRun, exp[0].Token, at(40*time.Second), at(55*time.Second)), mksync.ECONFLICT, "another tenant's run")
	_, err = s.AcquireRunLease(ctx, tid, run, "", at(40*time.Second), at(55*time.Second))
	requireCode(t, err, mksync.EINVALID)
}
