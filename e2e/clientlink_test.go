package e2e_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app/apptest"
	"github.com/mksync/mksync/client"
	"github.com/mksync/mksync/metakocka"
)

// TestClientLinkUnlinkCreateNew: the client links a CRM record to a
// Metakocka record by mk_id or count_code (refused while another record
// holds it), unlinks it and creates one on purpose.
func TestClientLinkUnlinkCreateNew(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{RateLimitSync: 100})
	ctx := context.Background()
	one, err := b.a.CreateContact(ctx, newContact("Prva d.o.o."))
	require.NoError(t, err)
	two, err := b.a.CreateContact(ctx, newContact("Druga d.o.o."))
	require.NoError(t, err)
	_, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, one.ID)
	require.NoError(t, err)
	m1, _, err := b.a.Mapping(ctx, mksync.EntityContact, one.ID)
	require.NoError(t, err)

	_, err = b.a.Link(ctx, mksync.EntityContact, two.ID, client.LinkRef{MetakockaID: m1.MetakockaID})
	apiError(t, err, http.StatusConflict, mksync.ECONFLICT)
	_, err = b.a.Link(ctx, mksync.EntityContact, two.ID, client.LinkRef{})
	apiError(t, err, http.StatusBadRequest, mksync.EINVALID)
	require.NoError(t, b.a.Unlink(ctx, mksync.EntityContact, one.ID))
	apiError(t, b.a.Unlink(ctx, mksync.EntityContact, one.ID), http.StatusNotFound, mksync.ENOTFOUND)
	m, err := b.a.Link(ctx, mksync.EntityContact, two.ID, client.LinkRef{CountCode: m1.CountCode})
	require.NoError(t, err)
	require.Equal(t, m1.MetakockaID, m.MetakockaID)
	require.Equal(t, mksync.StatePending, m.State)

	three, err := b.a.CreateContact(ctx, newContact("Tretja d.o.o."))
	require.NoError(t, err)
	res, err := b.a.CreateNew(ctx, mksync.EntityContact, three.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Created, "%+v", res)
	require.Len(t, b.d.Fake.Partners(b.ta.Company), 2, "one more partner, on purpose")
	_, err = b.a.CreateNew(ctx, mksync.EntityContact, two.ID)
	apiError(t, err, http.StatusConflict, mksync.ECONFLICT)
	_, err = b.b.Link(ctx, mksync.EntityContact, two.ID, client.LinkRef{MetakockaID: m1.MetakockaID})
	apiError(t, err, http.StatusNotFound, mksync.ENOTFOUND)

	// Two partners made outside mksync with one tax number: a contact
	// with it is ambiguous, listed with both candidates.
	mk, err := metakocka.New(metakocka.Config{BaseURL: b.d.FakeURL, CompanyID: b.ta.Company, SecretKey: b.ta.Secret})
	require.NoError(t, err)
	var twins []string
	for _, name := range []string{"Dvojcek A d.o.o.", "Dvojcek B d.o.o."} {
		r, err := mk.AddPartner(ctx, metakocka.Partner{Customer: name, TaxIDNumber: "SI 71234567", Street: "Cesta 1", PostNumber: "1000", Place: "Ljubljana", Country: "SI"})
		require.NoError(t, err)
		twins = append(twins, r.MkID)
	}
	in := newContact("Dvojcek")
	in.TaxID = "71234567"
	four, err := b.a.CreateContact(ctx, in)
	require.NoError(t, err)
	res, err = b.a.SyncToMetakocka(ctx, mksync.EntityContact, four.ID)
	require.NoError(t, err)
	require.Equal(t, 1, res.Ambiguous, "%+v", res)
	amb, err := b.a.Ambiguous(ctx, mksync.EntityContact, client.PageOptions{})
	require.NoError(t, err)
	require.Len(t, amb.Items, 1)
	require.Equal(t, four.ID, amb.Items[0].EntityID)
	require.Equal(t, mksync.StateAmbiguous, amb.Items[0].State)
	require.ElementsMatch(t, []client.Candidate{
		{MkID: twins[0], Title: "Dvojcek A d.o.o.", Key: "tax number"},
		{MkID: twins[1], Title: "Dvojcek B d.o.o.", Key: "tax number"},
	}, amb.Items[0].Candidates)
}

// TestClientPreviewPlanApply: single-record and bulk previews in both
// directions write nothing and keep a plan; applying it syncs exactly it.
func TestClientPreviewPlanApply(t *testing.T) {
	t.Parallel()
	b := setup(t, apptest.Options{RateLimitSync: 100})
	ctx := context.Background()
	ct, err := b.a.CreateContact(ctx, newContact("Predogled d.o.o."))
	require.NoError(t, err)

	id, err := b.a.PreviewToMetakocka(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)
	run := wait(t, b.a, id)
	require.True(t, run.DryRun)
	plan, err := b.a.SyncRunPlan(ctx, id, client.PageOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, plan.Totals[mksync.PlanCreateThere], "%v", plan.Totals)
	require.Len(t, plan.Items, 1)
	require.Equal(t, ct.ID, plan.Items[0].Key)
	require.Empty(t, b.d.Fake.Partners(b.ta.Company), "a preview writes nothing")

	applied := wait(t, b.a, must(t)(b.a.ApplySyncRunPlan(ctx, id)))
	require.Equal(t, id, applied.PlanRunID)
	require.Equal(t, 1, applied.Result.Created, "%+v", applied.Result)
	m, _, err := b.a.Mapping(ctx, mksync.EntityContact, ct.ID)
	require.NoError(t, err)

	for _, start := range []func() (string, error){
		func() (string, error) { return b.a.PreviewFromMetakocka(ctx, mksync.EntityContact, m.MetakockaID) },
		func() (string, error) { return b.a.PreviewManyFromMetakocka(ctx, mksync.EntityContact, nil) },
		func() (string, error) { return b.a.PreviewManyToMetakocka(ctx, mksync.EntityContact, []string{ct.ID}) },
	} {
		run := wait(t, b.a, must(t)(start()))
		require.True(t, run.DryRun)
		require.Equal(t, mksync.RunSucceeded, run.Status, "%+v", run.Result)
		require.Equal(t, 1, run.Result.Skipped, "in sync: %+v", run.Result)
	}
	_, err = b.a.ApplySyncRunPlan(ctx, applied.ID)
	apiError(t, err, http.StatusBadRequest, mksync.EINVALID)
	_, err = b.b.SyncRunPlan(ctx, id, client.PageOptions{})
	apiError(t, err, http.StatusNotFound, mksync.ENOTFOUND)
}

// must returns the value of a call that must not fail.
func must(t *testing.T) func(string, error) string {
	return func(v string, err error) string {
		t.Helper()
		require.NoError(t, err)
		return v
	}
}
