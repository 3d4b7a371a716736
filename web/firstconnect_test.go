package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/web"
)

func firstConnectFlag(t *testing.T, st mksync.Store, tenantID string) string {
	t.Helper()
	v, err := st.GetCursor(context.Background(), tenantID, mksync.FirstConnectCursor)
	if mksync.ErrorCode(err) == mksync.ENOTFOUND {
		return ""
	}
	require.NoError(t, err)
	return v
}

// TestFirstConnect: the first credentials of a tenant with records open the
// guided path (settings result, dashboard banner, the page), which stays
// open until a person marks it done; later saves do not reopen it.
func TestFirstConnect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	require.NotContains(t, br.get("/").Body, "first-connect-banner", "not connected yet: nothing to guide")

	p := br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, `<a href="/first-connect">match them first</a>`)
	require.Equal(t, mksync.FirstConnectOpen, firstConnectFlag(t, b.store, b.a.ID))
	require.Empty(t, firstConnectFlag(t, b.store, b.b.ID), "per tenant")
	require.Contains(t, br.get("/").Body, "first-connect-banner")

	p = br.get("/first-connect")
	require.Equal(t, http.StatusOK, p.Status)
	for _, want := range []string{"1. Preview the match", `href="/contacts"`, "Sync all to Metakocka", `href="/contacts/decisions"`, "first-connect-done"} {
		require.Contains(t, p.Body, want)
	}

	p = br.post("/first-connect/done", br.form())
	require.Equal(t, http.StatusSeeOther, p.Status)
	require.Equal(t, mksync.FirstConnectDone, firstConnectFlag(t, b.store, b.a.ID))
	require.NotContains(t, br.get("/").Body, "first-connect-banner")
	require.Contains(t, br.get("/first-connect").Body, "first-connect-closed")

	// A later save is not a first connect.
	p = br.post("/settings", br.form("companyId", "16"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.NotContains(t, p.Body, "match them first")
	require.Equal(t, mksync.FirstConnectDone, firstConnectFlag(t, b.store, b.a.ID))
	// No CSRF token: refused.
	require.Equal(t, http.StatusForbidden, br.post("/first-connect/done", nil).Status)
}

// TestFirstConnectNothingToMatch: a tenant with no records (and no engine
// to ask Metakocka) gets no guided path.
func TestFirstConnectNothingToMatch(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *web.Config) { c.Syncer = nil })
	require.NoError(t, b.store.DeleteContact(context.Background(), b.a.ID, b.a.ContactID))
	br := b.browser().login(b.a.Token)
	p := br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.NotContains(t, p.Body, "match them first")
	require.Empty(t, firstConnectFlag(t, b.store, b.a.ID))
}
