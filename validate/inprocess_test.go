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
		"✓ contacts: three-way merge (both changes kept, 0 conflicts)",
		"✓ products: three-way merge (both changes kept, 0 conflicts)",
		"✓ sales-documents: three-way merge (both changes kept, 0 conflicts)",
		"✓ contacts: newest_wins decides (one-side changes: 0 conflicts; both sides: decided, kept Metakocka's)",
		"✓ products: newest_wins decides (one-side changes: 0 conflicts; both sides: decided, kept Metakocka's)",
		"✓ sales-documents: newest_wins decides (one-side changes: 0 conflicts; both sides: decided, kept Metakocka's)",
		"✓ sales-documents: another tenant's ids → not found (5 calls not found",
		"✓ sales-documents: document with missing product refused whole",
		"✓ sales-documents: gross prices (sum_all ",
		"✓ sales-documents: coupon line (sum_all 90 = CRM 90, sum_basic 73.77 = CRM 73.77, push back 0 writes)",
		"✓ sales-documents: document discount (sum_all ",
		"✓ products: bulk run by id finishes",
		"✓ contacts: address update → billing and delivery address changed by mk_id (billing ",
		"✓ contacts: matching: made in Metakocka, same key in the CRM → a push links, not creates",
		"✓ products: matching: same key in the CRM, made in Metakocka → a pull links, not creates",
		"✓ sales-documents: matching: same number + partner + date → a push links, not creates",
		"✓ sales-documents: deletes stay deleted: a pull does not re-create",
		"- contacts: bad input not retried, reported with errorId (skipped: the CRM refuses any contact Metakocka would refuse)",
		"- products: bad input → 400 envelope with errorId (skipped: " + needsAPI + ")",
		"- api: rate limit → 429 with Retry-After (skipped: " + needsAPI + ")",
	} {
		require.Contains(t, out, want)
	}
	// 15 checks per kind, plus the preview (1 per kind), three-way merge and newest_wins (2 per
	// kind), matching and deletes stay deleted (3 per kind; 2 for
	// documents), the contacts' address update and the documents' missing
	// product, gross prices, coupon line and document discount, and the
	// connection and rate limit checks; skipped are only the 4 that need
	// the REST API (400 envelope ×3, rate limit) and the contacts'
	// bad-record check.
	require.Equal(t, Report{Passed: 1 + 22 + 22 + 24 + 1 - 5, Failed: 0, Skipped: 5}, r, out)
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
	require.Equal(t, Report{Passed: 19, Failed: 0, Skipped: 5}, r, out.String())
	for _, want := range []string{
		"- products: no duplicate after commit-then-fail (skipped: needs the simulator)",
		"- products: transient faults retried (skipped: needs the simulator)",
		"- products: another tenant's ids → not found (skipped: needs the simulator (a second company))",
		"✓ products: unchanged resync skipped, zero writes (1 skipped (write calls not counted outside the simulator))",
		"✓ products: matching: made in Metakocka, same key in the CRM → a push links, not creates",
		"✓ products: deletes stay deleted: a pull does not re-create",
		"- cleanup: deleted 15 Metakocka documents and products, 0 left",
	} {
		require.Contains(t, out.String(), want)
	}
	require.Empty(t, fake.Products("900"), "the products the checks made are deleted")
}

// TestValidateDocumentFormsRealAccount runs the document checks against a
// Metakocka the driver does not control: the documented forms (gross
// prices, a coupon line, a document discount) are put, pulled, compared
// and pushed back, and everything they put is deleted afterwards.
func TestValidateDocumentFormsRealAccount(t *testing.T) {
	t.Parallel()
	fake := mkfake.New(mkfake.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	fake.AddCompany("901", "real-secret")
	ctx := context.Background()
	d, err := NewInProcess(ctx, InProcessOptions{MetakockaURL: srv.URL, CompanyID: "901", SecretKey: "real-secret"})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	var out strings.Builder
	r := Run(ctx, d, []mksync.EntityType{mksync.EntitySalesDocument}, &out, Options{})
	require.Zero(t, r.Failed, out.String())
	for _, want := range []string{"✓ sales-documents: gross prices (", "✓ sales-documents: coupon line (", "✓ sales-documents: document discount ("} {
		require.Contains(t, out.String(), want)
	}
	require.Empty(t, fake.Documents("901"), "the documents the checks put are deleted")
	require.Empty(t, fake.Products("901"), "and the products their rows made")
}
