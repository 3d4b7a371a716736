package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/postgres"
	"github.com/mksync/mksync/postgres/pgtest"
	"github.com/mksync/mksync/storetest"
)

// A store whose server connection is terminated answers the next statement
// on it with EUNAVAILABLE (not EINTERNAL), and the one after on a new
// connection.
func TestLostConnectionIsUnavailable(t *testing.T) {
	db, url, _ := pgtest.Store(t, postgres.Options{Sealer: storetest.FakeSealer{}, MaxConns: 1})
	ctx := context.Background()
	tn := mksync.Tenant{Name: "conn lost"}
	require.NoError(t, db.CreateTenant(ctx, &tn))
	var pid int
	require.NoError(t, db.Pool().QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var ok bool
	require.NoError(t, conn.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok))
	require.True(t, ok)

	var lost error
	for range 3 { // the pool may notice the dead connection itself
		if _, lost = db.FindTenantByID(ctx, tn.ID); lost != nil {
			break
		}
	}
	if lost != nil {
		require.Equal(t, mksync.EUNAVAILABLE, mksync.ErrorCode(lost), "%v", lost)
		t.Logf("after the termination: %v", lost)
	}
	_, err = db.FindTenantByID(ctx, tn.ID)
	require.NoError(t, err, "a new connection is opened")
}
