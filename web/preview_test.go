package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// TestPreviewPage: a finished preview shows its totals in one sentence,
// its records a page at a time and a Confirm button that applies exactly
// its plan; a running one polls; another tenant's is not found.
func TestPreviewPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.browser().login(b.a.Token)
	pv := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerUI,
		Status: mksync.RunSucceeded, DryRun: true, Processed: 5,
		Result: mksync.SyncResult{Success: true, Created: 2, Linked: 1, Updated: 1, Ambiguous: 1}}
	require.NoError(t, b.store.CreateSyncRun(ctx, b.a.ID, &pv))
	require.NoError(t, b.store.SavePlanItems(ctx, b.a.ID, pv.ID, []mksync.PlanItem{
		{Key: "c-1", LocalID: "c-1", Action: mksync.PlanLink, MetakockaID: "700", MatchedBy: "tax number"},
		{Key: "c-2", LocalID: "c-2", Action: mksync.PlanUpdateThere, MetakockaID: "701",
			Changes: []mksync.FieldChange{{Field: "name", Old: "Old name", New: "New name"}}},
		{Key: "c-3", LocalID: "c-3", Action: mksync.PlanAmbiguous, Candidates: []string{"702", "703"}},
		{Key: "c-4", LocalID: "c-4", Action: mksync.PlanCreateThere},
		{Key: "c-5", LocalID: "c-5", Action: mksync.PlanCreateThere},
	}))
	p := br.get("/previews/" + pv.ID)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, "Will create 2 in Metakocka, link 1, update 1; 1 need a decision.")
	require.Contains(t, p.Body, "mk_id 700 (by tax number)")
	require.Contains(t, p.Body, "Old name → New name")
	require.Contains(t, p.Body, "candidates 702, 703")
	require.Contains(t, p.Body, `action="/previews/`+pv.ID+`/apply"`)
	require.NotContains(t, p.Body, "hx-trigger=\"every 1s\"", "a finished preview is not polled")

	p = br.post("/previews/"+pv.ID+"/apply", br.form())
	require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
	require.True(t, strings.HasPrefix(p.Location, "/runs/"))
	require.Equal(t, "start contact to_metakocka ui c-1,c-2,c-3,c-4,c-5 plan="+pv.ID, b.syncer.Calls()[0])

	running := mksync.SyncRun{EntityType: mksync.EntityProduct, Direction: mksync.FromMetakocka, Trigger: mksync.TriggerUI,
		Status: mksync.RunRunning, DryRun: true}
	require.NoError(t, b.store.CreateSyncRun(ctx, b.a.ID, &running))
	p = br.get("/previews/" + running.ID)
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, `hx-get="/previews/`+running.ID+`"`)
	require.NotContains(t, p.Body, "confirm-plan")
	frag := br.get("/previews/"+running.ID, "HX-Request", "true", "HX-Target", "preview")
	require.True(t, strings.HasPrefix(frag.Body, `<section id="preview"`), frag.Body)
	p = br.post("/previews/"+running.ID+"/apply", url.Values{}, "X-CSRF-Token", br.csrf)
	require.Equal(t, http.StatusConflict, p.Status, "an unfinished preview cannot be applied")

	other := b.browser().login(b.b.Token)
	require.Equal(t, http.StatusNotFound, other.get("/previews/"+pv.ID).Status)
}
