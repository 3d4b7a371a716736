package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
)

// storeCanceller cancels runs in the store with the semantics of
// jobs.Jobs.Cancel, and records the calls.
type storeCanceller struct {
	st    mksync.Store
	mu    sync.Mutex
	calls []string
}

func (c *storeCanceller) Cancel(ctx context.Context, tenantID, runID string) error {
	c.mu.Lock()
	c.calls = append(c.calls, tenantID+" "+runID)
	c.mu.Unlock()
	return c.st.InTx(ctx, tenantID, func(tx mksync.Store) error {
		r, err := tx.FindSyncRun(ctx, tenantID, runID)
		switch {
		case err != nil:
			return err
		case r.Status == mksync.RunCancelled:
			return nil
		case r.Status.Final():
			return mksync.Errorf(mksync.ECONFLICT, "sync run %s already %s", runID, r.Status)
		}
		r.Status = mksync.RunCancelled
		return tx.UpdateSyncRun(ctx, tenantID, &r)
	})
}

func (c *storeCanceller) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func TestCancelSyncRun(t *testing.T) {
	t.Parallel()
	for _, withCanceller := range []bool{true, false} {
		name := "store fallback"
		if withCanceller {
			name = "canceller"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var canceller *storeCanceller
			b := setup(t, setupOpts{cfg: func(c *httpapi.Config) {
				if withCanceller {
					canceller = &storeCanceller{st: c.Store}
					c.Canceller = canceller
				}
			}})
			ctx := context.Background()
			newRun := func(tenantID string, st mksync.RunStatus) string {
				r := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: st}
				require.NoError(t, b.db.CreateSyncRun(ctx, tenantID, &r))
				return r.ID
			}
			queued, running := newRun(b.a.ID, mksync.RunQueued), newRun(b.a.ID, mksync.RunRunning)
			partial, failed := newRun(b.a.ID, mksync.RunPartial), newRun(b.a.ID, mksync.RunFailed)
			theirs := newRun(b.b.ID, mksync.RunRunning)

			tests := []struct {
				name   string
				runID  string
				status int
				code   string
				after  mksync.RunStatus // the run's status afterwards
				calls  bool             // the canceller is asked
			}{
				{"queued", queued, 200, "", mksync.RunCancelled, true},
				{"running stops at its next batch", running, 202, "", mksync.RunCancelled, true},
				{"already cancelled is no error", queued, 200, "", mksync.RunCancelled, false},
				{"succeeded", b.a.RunID, 409, "conflict", mksync.RunSucceeded, true},
				{"partial", partial, 409, "conflict", mksync.RunPartial, true},
				{"failed", failed, 409, "conflict", mksync.RunFailed, true},
				{"another tenant's run", theirs, 404, "not_found", "", false},
				{"no such run", "0190f3c4-0000-7000-8000-00000000ffff", 404, "not_found", "", false},
			}
			for _, tt := range tests {
				var before []string
				if canceller != nil {
					before = canceller.Calls()
				}
				rec := b.do("POST", "/api/sync-runs/"+tt.runID+"/cancel", b.a.Token, "")
				require.Equal(t, tt.status, rec.Code, "%s: %s", tt.name, rec.Body.String())
				if tt.code != "" {
					require.Equal(t, tt.code, envelope(t, rec).Code, tt.name)
				} else {
					var run mksync.SyncRun
					b.decode(rec, tt.status, &run)
					require.Equal(t, tt.runID, run.ID, tt.name)
					require.Equal(t, tt.after, run.Status, tt.name)
				}
				if tt.after != "" {
					r, err := b.db.FindSyncRun(ctx, b.a.ID, tt.runID)
					require.NoError(t, err)
					require.Equal(t, tt.after, r.Status, tt.name)
				}
				if canceller != nil {
					require.Equal(t, tt.calls, len(canceller.Calls()) > len(before), tt.name)
				}
			}
			r, err := b.db.FindSyncRun(ctx, b.b.ID, theirs)
			require.NoError(t, err)
			require.Equal(t, mksync.RunRunning, r.Status, "B's run untouched")
			if canceller != nil {
				for _, c := range canceller.Calls() {
					require.True(t, strings.HasPrefix(c, b.a.ID+" "), c)
				}
			}
			require.Equal(t, 401, b.do("POST", "/api/sync-runs/"+queued+"/cancel", "", "").Code)
		})
	}
}

// TestRejectedMetakockaCredentialsAreUpstream: when Metakocka refuses the
// tenant's stored secret, the API answers 502 upstream, never 401/403,
// which a CRM would take for its own bad API token.
func TestRejectedMetakockaCredentialsAreUpstream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.a
	b.decode(b.do("PUT", "/api/integrations/metakocka/credentials", a.Token, `{"companyId":"16","secretKey":"wrong-secret"}`), 200, nil)
	mi := "/api/integrations/metakocka/"
	rejected := mksync.Errorf(mksync.EUNAUTHORIZED, "Metakocka rejected the company id or secret key")
	tests := []struct {
		name, method, path, body string
		err                      error
	}{
		{"credentials test", "POST", mi + "credentials/test", "", rejected},
		{"sync one to", "POST", mi + "contacts/sync-to-metakocka", `{"contactId":"` + a.ContactID + `"}`, rejected},
		{"sync one from", "POST", mi + "products/sync-from-metakocka", `{"metakockaId":"1"}`, rejected},
		{"list not in crm", "GET", mi + "products/sync-from-metakocka", "", rejected},
		{"start a run", "POST", mi + "sales-documents/sync-all-to-metakocka", "", rejected},
		{"forbidden upstream", "POST", mi + "credentials/test", "", mksync.Errorf(mksync.EFORBIDDEN, "company not allowed")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.syncer.SetErr(tt.err)
			rec := b.do(tt.method, tt.path, a.Token, tt.body)
			require.Equal(t, 502, rec.Code, rec.Body.String())
			require.Empty(t, rec.Header().Get("WWW-Authenticate"))
			env := envelope(t, rec)
			require.Equal(t, "upstream", env.Code)
			require.Contains(t, env.Error, "Metakocka rejected the credentials")
			require.Equal(t, "credentials_rejected", env.Details["reason"])
			er, err := b.db.FindErrorRecord(context.Background(), a.ID, env.ErrorID)
			require.NoError(t, err, "upstream failures are recorded")
			require.Equal(t, "upstream", er.Code)
		})
	}
	b.syncer.SetErr(nil)
	require.NotContains(t, b.Logs(), "wrong-secret")
	// The caller's own bad token is still 401.
	require.Equal(t, 401, b.do("POST", mi+"credentials/test", "mks_bad", "").Code)
}

func TestErrorIDsAreTimeOrderedUUIDv7(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for range 3 {
		ids = append(ids, envelope(t, b.do("GET", "/api/contacts/nope", b.a.Token, "")).ErrorID)
		var acc struct {
			ErrorID string `json:"errorId"`
		}
		b.decode(b.do("POST", "/api/client-errors", b.a.Token, `{"message":"m","operation":"o"}`), 202, &acc)
		ids = append(ids, acc.ErrorID)
	}
	ids = append(ids, envelope(t, b.do("PATCH", "/api/contacts", b.a.Token, "")).ErrorID) // 405
	for i, id := range ids {
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		require.EqualValues(t, 7, u.Version(), id)
		if i > 0 {
			require.LessOrEqual(t, ids[i-1][:13], id[:13], "ids sort by time")
		}
	}
}
