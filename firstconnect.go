package mksync

import (
	"context"
	"fmt"
)

// The first connect of a tenant that already has records (in the CRM, in
// Metakocka or both) is a guided path in the web UI: preview the match,
// resolve the ambiguous records, apply, and only then let scheduled syncs
// start, so that no schedule creates duplicates before a person has looked.
// The flag is a per-tenant value of the SyncStateStore (a cursor): absent
// means no guided path is open (tenants connected before it existed, or
// with nothing to match).
const (
	// FirstConnectCursor is the SyncStateStore key of the flag.
	FirstConnectCursor = "first_connect"
	// FirstConnectOpen: credentials were set for the first time; the
	// guided path is not done and schedules wait.
	FirstConnectOpen = "open"
	// FirstConnectDone: a person marked the first connect done.
	FirstConnectDone = "done"
)

// FirstConnectPending reports whether the tenant's first connect is open
// (schedules wait until a person marks it done).
func FirstConnectPending(ctx context.Context, st SyncStateStore, tenantID string) (bool, error) {
	v, err := st.GetCursor(ctx, tenantID, FirstConnectCursor)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read first-connect flag: %w", err)
	}
	return v == FirstConnectOpen, nil
}
