package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func TestPreviewRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok, a := b.a.Token, b.a.ID
	base := "/api/integrations/metakocka/contacts/"
	b.decode(b.do("POST", base+"sync-all-to-metakocka?dryRun=true", tok, ""), http.StatusAccepted, nil)
	b.decode(b.do("POST", base+"sync-to-metakocka?dryRun=true", tok, `{"contactId":"`+b.a.ContactID+`"}`), http.StatusAccepted, nil)
	b.decode(b.do("POST", base+"sync-from-metakocka?dryRun=1", tok, `{"metakockaId":"1600001"}`), http.StatusAccepted, nil)
	b.decode(b.do("POST", base+"sync-all-from-metakocka?dryRun=true", tok, ""), http.StatusAccepted, nil)
	b.decode(b.do("POST", base+"sync-all-from-metakocka?dryRun=maybe", tok, ""), http.StatusBadRequest, nil)
	require.Equal(t, []string{
		"start " + a + " contact to_metakocka  dry",
		"start " + a + " contact to_metakocka " + b.a.ContactID + " dry explicit",
		"start " + a + " contact from_metakocka 1600001 dry explicit",
		"start " + a + " contact from_metakocka  dry",
	}, b.syncer.Calls())

	pv := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunSucceeded, DryRun: true,
		Result: mksync.SyncResult{Success: true, Created: 1, Linked: 1, Skipped: 3}}
	require.NoError(t, b.db.CreateSyncRun(ctx, a, &pv))
	require.NoError(t, b.db.SavePlanItems(ctx, a, pv.ID, []mksync.PlanItem{
		{Key: "c-1", LocalID: "c-1", Action: mksync.PlanLink, MetakockaID: "700", MatchedBy: "tax number",
			Changes: []mksync.FieldChange{{Field: "name", Old: "A", New: "B"}}},
		{Key: "c-2", LocalID: "c-2", Action: mksync.PlanCreateThere},
	}))
	var page struct {
		Run        mksync.SyncRun            `json:"run"`
		Totals     map[mksync.PlanAction]int `json:"totals"`
		Items      []mksync.PlanItem         `json:"items"`
		NextCursor string                    `json:"nextCursor"`
	}
	b.decode(b.do("GET", "/api/sync-runs/"+pv.ID+"/plan?limit=1", tok, ""), http.StatusOK, &page)
	require.True(t, page.Run.DryRun)
	require.Equal(t, map[mksync.PlanAction]int{mksync.PlanLink: 1, mksync.PlanCreateThere: 1, mksync.PlanSkip: 3}, page.Totals)
	require.Len(t, page.Items, 1)
	require.Equal(t, "700", page.Items[0].MetakockaID)
	require.Equal(t, []mksync.FieldChange{{Field: "name", Old: "A", New: "B"}}, page.Items[0].Changes)
	b.decode(b.do("GET", "/api/sync-runs/"+pv.ID+"/plan?limit=1&cursor="+page.NextCursor, tok, ""), http.StatusOK, &page)
	require.Equal(t, "c-2", page.Items[0].Key)
	require.Empty(t, page.NextCursor)
	b.decode(b.do("GET", "/api/sync-runs/"+pv.ID+"/plan", b.b.Token, ""), http.StatusNotFound, nil)

	b.decode(b.do("POST", "/api/sync-runs/"+pv.ID+"/apply", tok, ""), http.StatusAccepted, nil)
	require.Equal(t, "start "+a+" contact to_metakocka c-1,c-2 plan="+pv.ID, b.syncer.Calls()[4])
	b.decode(b.do("POST", "/api/sync-runs/"+pv.ID+"/apply", b.b.Token, ""), http.StatusNotFound, nil)

	real := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunSucceeded}
	require.NoError(t, b.db.CreateSyncRun(ctx, a, &real))
	b.decode(b.do("GET", "/api/sync-runs/"+real.ID+"/plan", tok, ""), http.StatusBadRequest, nil)
	b.decode(b.do("POST", "/api/sync-runs/"+real.ID+"/apply", tok, ""), http.StatusBadRequest, nil)
	running := mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunRunning, DryRun: true}
	require.NoError(t, b.db.CreateSyncRun(ctx, a, &running))
	b.decode(b.do("POST", "/api/sync-runs/"+running.ID+"/apply", tok, ""), http.StatusConflict, nil)
}
