package validate

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// runInProcess runs the checks of entities against the simulator.
func runInProcess(t *testing.T, entities ...mksync.EntityType) (string, Report) {
	t.Helper()
	ctx := context.Background()
	d, err := NewInProcess(ctx, InProcessOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	var out strings.Builder
	r := Run(ctx, d, entities, &out, Options{})
	return out.String(), r
}

func TestValidateInProcessAgainstSimulator(t *testing.T) {
	t.Parallel()
	out, r := runInProcess(t, mksync.EntityContact, mksync.EntityProduct, mksync.EntitySalesDocument)
	require.Zero(t, r.Failed, out)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		require.True(t, strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "- "), l)
	}
	for _, want := range []string{
		"✓ deployment: reachable, token accepted, Metakocka connected (in process, simulator at",
		"✓ products: no duplicate after commit-then-fail (1 record after a committed product_add answered 503)",
		"✓ sales-documents: transient faults retried",
		"✓ contacts: update → push → changed in Metakocka (Metakocka now has MKSYNC-VALIDATE-upd-",
		"✓ products: change in Metakocka → pull → local updated",
		"✓ products: unchanged resync skipped, zero writes (1 skipped, 0 write calls)",
		"✓ sales-documents: bad input not retried, reported with errorId (errorId ",
		"✓ contacts: conflict recorded under crm_wins",
		"✓ products: conflict recorded under metakocka_wins",
		"✓ sales-documents: another tenant's ids → not found (5 calls not found",
		"✓ sales-documents: document with missing product refused whole",
		"✓ products: bulk run by id finishes",
		"- contacts: bad input not retried, reported with errorId (skipped: the CRM refuses any contact Metakocka would refuse)",
		"- products: bad input → 400 envelope with errorId (skipped: " + needsAPI + ")",
		"- api: rate limit → 429 with Retry-After (skipped: " + needsAPI + ")",
	} {
		require.Contains(t, out, want)
	}
	// 16 checks per kind (17 for documents) and the connection and rate
	// limit checks; skipped are only the 4 that need the REST API (400
	// envelope ×3, rate limit) and the contacts' bad-record check.
	require.Equal(t, Report{Passed: 1 + 16 + 16 + 17 + 1 - 5, Failed: 0, Skipped: 5}, r, out)
}

// TestValidateInProcessRealAccount runs the in-process driver against a
// Metakocka it does not control (the simulator, served apart): the checks
// that need injected faults or a second company are skipped, never
// passed, and what the checks made is deleted where Metakocka allows.
func TestValidateInProcessRealAccount(t *testing.T) {
	t.Parallel()
	fake := mkfake.New(mkfake.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	fake.AddCompany("900", "real-secret")
	ctx := context.Background()

	_, err := NewInProcess(ctx, InProcessOptions{MetakockaURL: srv.URL, CompanyID: "900"})
	require.ErrorContains(t, err, "together")
	d, err := NewInProcess(ctx, InProcessOptions{MetakockaURL: srv.URL, CompanyID: "900", SecretKey: "real-secret"})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	var out strings.Builder
	r := Run(ctx, d, []mksync.EntityType{mksync.EntityProduct}, &out, Options{})
	require.Equal(t, Report{Passed: 13, Failed: 0, Skipped: 5}, r, out.String())
	for _, want := range []string{
		"- products: no duplicate after commit-then-fail (skipped: needs the simulator)",
		"- products: transient faults retried (skipped: needs the simulator)",
		"- products: another tenant's ids → not found (skipped: needs the simulator (a second company))",
		"✓ products: unchanged resync skipped, zero writes (1 skipped (write calls not counted outside the simulator))",
		"- cleanup: deleted 11 Metakocka documents and products, 0 left",
	} {
		require.Contains(t, out.String(), want)
	}
	require.Empty(t, fake.Products("900"), "the products the checks made are deleted")
}
