package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func testErrorRecords(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "errors")
	other := newTenant(t, s, "errors-other")

	base := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	e := mksync.ErrorRecord{
		Category: "SYNC", Operation: "contacts.sync_to_metakocka", EntityID: "c-1", Code: mksync.EUPSTREAM,
		Message: "Metakocka did not answer", Details: map[string]any{"attempts": float64(3), "method": "add_partner", "nested": map[string]any{"ok": false}},
		CreatedAt: base.Add(123456 * time.Microsecond),
	}
	require.NoError(t, s.CreateErrorRecord(ctx, tid, &e))
	require.NotEmpty(t, e.ID)
	got, err := s.FindErrorRecord(ctx, tid, e.ID)
	require.NoError(t, err)
	requireSame(t, e, got)

	// A caller-chosen errorId (the one shown to a user) is kept.
	withID := mksync.ErrorRecord{ID: "err_0190f3c4-fixed", Category: "API", Operation: "contacts.create", Code: mksync.EINVALID, Message: "bad", CreatedAt: base.Add(time.Hour)}
	require.NoError(t, s.CreateErrorRecord(ctx, tid, &withID))
	got, err = s.FindErrorRecord(ctx, tid, "err_0190f3c4-fixed")
	require.NoError(t, err)
	require.Nil(t, got.Details)
	dup := withID
	requireCode(t, s.CreateErrorRecord(ctx, tid, &dup), mksync.ECONFLICT)
	// CreatedAt defaults to now.
	now := mksync.ErrorRecord{Category: "AUTH", Operation: "token", Code: mksync.EUNAUTHORIZED, Message: "revoked"}
	require.NoError(t, s.CreateErrorRecord(ctx, tid, &now))
	requireRecentUTC(t, now.CreatedAt)
	_, err = s.FindErrorRecord(ctx, tid, "nope")
	requireCode(t, err, mksync.ENOTFOUND)

	// Filters: category, operation, entity, time window [since, until).
	var ids []string
	for i := range 12 {
		r := mksync.ErrorRecord{Category: "METAKOCKA", Operation: fmt.Sprintf("op.%d", i%3), EntityID: fmt.Sprintf("p-%d", i%2), Code: mksync.EUPSTREAM, Message: "x", CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		require.NoError(t, s.CreateErrorRecord(ctx, tid, &r))
		ids = append(ids, r.ID)
	}
	list := func(f mksync.ErrorFilter) []mksync.ErrorRecord {
		return pageAll(t, 5, func(p mksync.Page) ([]mksync.ErrorRecord, string, error) {
			f.Page = p
			return s.FindErrorRecords(ctx, tid, f)
		})
	}
	mk := list(mksync.ErrorFilter{Category: "METAKOCKA"})
	require.Len(t, mk, 12)
	require.Equal(t, ids[11], mk[0].ID, "newest first")
	require.Equal(t, ids[0], mk[11].ID)
	require.Len(t, list(mksync.ErrorFilter{Category: "METAKOCKA", Operation: "op.1"}), 4)
	require.Len(t, list(mksync.ErrorFilter{EntityID: "p-1"}), 6)
	window := list(mksync.ErrorFilter{Category: "METAKOCKA", Since: base.Add(2 * time.Minute), Until: base.Add(5 * time.Minute)})
	require.Len(t, window, 3, "since is inclusive, until exclusive")
	require.Len(t, list(mksync.ErrorFilter{}), 15)

	// Pruning works across tenants and only on old records.
	old := mksync.ErrorRecord{Category: "SYNC", Operation: "x", Code: mksync.EINTERNAL, Message: "old", CreatedAt: base.Add(-time.Hour)}
	require.NoError(t, s.CreateErrorRecord(ctx, other, &old))
	n, err := s.PruneErrorRecords(ctx, base.Add(3*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1+1+3, n) // e, other's old one, minutes 0..2
	_, err = s.FindErrorRecord(ctx, other, old.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	_, err = s.FindErrorRecord(ctx, tid, e.ID)
	requireCode(t, err, mksync.ENOTFOUND)
	require.Len(t, list(mksync.ErrorFilter{}), 11)
}

func testAlerts(t *testing.T, s mksync.Store) {
	ctx := t.Context()
	tid := newTenant(t, s, "alerts")

	a := mksync.Alert{Key: "consecutive_failures:contact", Severity: "warning", Message: "3 failures"}
	opened, err := s.OpenAlert(ctx, tid, &a)
	require.NoError(t, err)
	require.True(t, opened)
	require.NotEmpty(t, a.ID)
	require.Equal(t, mksync.AlertOpen, a.Status)
	require.Equal(t, 1, a.Count)
	requireRecentUTC(t, a.OpenedAt)
	first := a

	// Seen again while open: same alert, count bumped, message updated.
	b := mksync.Alert{Key: "consecutive_failures:contact", Severity: "critical", Message: "10 failures"}
	opened, err = s.OpenAlert(ctx, tid, &b)
	require.NoError(t, err)
	require.False(t, opened)
	require.Equal(t, first.ID, b.ID)
	require.Equal(t, 2, b.Count)
	require.Equal(t, "10 failures", b.Message)
	require.Equal(t, "critical", b.Severity)
	require.True(t, b.OpenedAt.Equal(first.OpenedAt))

	other := mksync.Alert{Key: "secret_rejected", Severity: "critical", Message: "Metakocka rejected the secret key"}
	opened, err = s.OpenAlert(ctx, tid, &other)
	require.NoError(t, err)
	require.True(t, opened)

	open, _, err := s.FindAlerts(ctx, tid, mksync.AlertOpen, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, open, 2)
	require.Equal(t, other.ID, open[0].ID, "newest first")
	requireSame(t, b, open[1])

	// Resolve; resolving again finds nothing.
	resolvedAt := time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)
	ok, err := s.ResolveAlert(ctx, tid, "consecutive_failures:contact", resolvedAt)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.ResolveAlert(ctx, tid, "consecutive_failures:contact", resolvedAt)
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.ResolveAlert(ctx, tid, "never-opened", resolvedAt)
	require.NoError(t, err)
	require.False(t, ok)

	// The condition again: a new alert.
	c := mksync.Alert{Key: "consecutive_failures:contact", Severity: "warning", Message: "again"}
	opened, err = s.OpenAlert(ctx, tid, &c)
	require.NoError(t, err)
	require.True(t, opened)
	require.NotEqual(t, first.ID, c.ID)
	require.Equal(t, 1, c.Count)

	resolved, _, err := s.FindAlerts(ctx, tid, mksync.AlertResolved, mksync.Page{})
	require.NoError(t, err)
	require.Len(t, resolved, 1)
	require.Equal(t, first.ID, resolved[0].ID)
	require.Equal(t, 2, resolved[0].Count)
	require.NotNil(t, resolved[0].ResolvedAt)
	require.True(t, resolved[0].ResolvedAt.Equal(resolvedAt))

	all := pageAll(t, 1, func(p mksync.Page) ([]mksync.Alert, string, error) {
		return s.FindAlerts(ctx, tid, "", p)
	})
	require.Len(t, all, 3)
	require.Equal(t, []string{c.ID, other.ID, first.ID}, []string{all[0].ID, all[1].ID, all[2].ID})
}
