package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// Link, Unlink and CreateNew make the fake syncer a Linker: they record
// the call.
func (f *fakeSyncer) Link(_ context.Context, tenantID string, et mksync.EntityType, entityID, ref string) (mksync.Mapping, error) {
	if err := f.record("link " + tenantID + " " + string(et) + " " + entityID + " " + ref); err != nil {
		return mksync.Mapping{}, err
	}
	return mksync.Mapping{EntityType: et, EntityID: entityID, MetakockaID: ref, State: mksync.StatePending}, nil
}

func (f *fakeSyncer) Unlink(_ context.Context, tenantID string, et mksync.EntityType, entityID string) error {
	return f.record("unlink " + tenantID + " " + string(et) + " " + entityID)
}

func TestLinkRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, base := b.a.Token, "/api/integrations/metakocka/contacts/mappings"
	var m map[string]any
	b.decode(b.do("POST", base, tok, `{"contactId":"`+b.a.ContactID+`","metakockaId":"1600001"}`), http.StatusOK, &m)
	require.Equal(t, "1600001", m["metakockaId"])
	require.Equal(t, "pending", m["state"])
	b.decode(b.do("POST", base, tok, `{"contactId":"`+b.a.ContactID+`","countCode":"P-7"}`), http.StatusOK, nil)
	b.decode(b.do("DELETE", base+"/"+b.a.ContactID, tok, ""), http.StatusNoContent, nil)
	require.Equal(t, []string{
		"link " + b.a.ID + " contact " + b.a.ContactID + " 1600001",
		"link " + b.a.ID + " contact " + b.a.ContactID + " P-7",
		"unlink " + b.a.ID + " contact " + b.a.ContactID,
	}, b.syncer.Calls())

	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"no ref", `{"contactId":"` + b.a.ContactID + `"}`, 400, "metakockaId"},
		{"both refs", `{"contactId":"` + b.a.ContactID + `","metakockaId":"1","countCode":"C"}`, 400, "countCode"},
		{"no id", `{"metakockaId":"1"}`, 400, "contactId"},
		{"not a string", `{"contactId":"` + b.a.ContactID + `","metakockaId":1}`, 400, "metakockaId"},
		{"unknown field", `{"contactId":"` + b.a.ContactID + `","metakockaId":"1","x":1}`, 400, "x"},
		{"other tenant's record", `{"contactId":"` + b.b.ContactID + `","metakockaId":"1"}`, 404, ""},
	}
	for _, tt := range tests {
		var e struct {
			Code    string            `json:"code"`
			Details map[string]string `json:"details"`
		}
		b.decode(b.do("POST", base, tok, tt.body), tt.status, &e)
		if tt.field != "" {
			require.Contains(t, e.Details, tt.field, tt.name)
		}
	}
	b.syncer.SetErr(mksync.Errorf(mksync.ENOTFOUND, "no mapping"))
	b.decode(b.do("DELETE", base+"/"+b.a.ContactID, tok, ""), http.StatusNotFound, nil)
	b.syncer.SetErr(mksync.Errorf(mksync.ECONFLICT, "taken"))
	b.decode(b.do("POST", base, tok, `{"contactId":"`+b.a.ContactID+`","metakockaId":"1"}`), http.StatusConflict, nil)
}

func (f *fakeSyncer) CreateNew(_ context.Context, tenantID string, et mksync.EntityType, entityID string) (mksync.SyncResult, error) {
	if err := f.record("create-new " + tenantID + " " + string(et) + " " + entityID); err != nil {
		return mksync.SyncResult{}, err
	}
	return mksync.SyncResult{Success: true, Created: 1}, nil
}

func TestCreateNewRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	base := "/api/integrations/metakocka/contacts/mappings/"
	var res mksync.SyncResult
	b.decode(b.do("POST", base+b.a.ContactID+"/create-new", b.a.Token, ""), http.StatusOK, &res)
	require.Equal(t, 1, res.Created)
	require.Equal(t, []string{"create-new " + b.a.ID + " contact " + b.a.ContactID}, b.syncer.Calls())
	b.decode(b.do("POST", base+b.b.ContactID+"/create-new", b.a.Token, ""), http.StatusNotFound, nil)
	require.Len(t, b.syncer.Calls(), 1, "another tenant's record reaches no engine")
	b.syncer.SetErr(mksync.Errorf(mksync.ECONFLICT, "linked"))
	var e struct {
		Code    string `json:"code"`
		ErrorID string `json:"errorId"`
	}
	b.decode(b.do("POST", base+b.a.ContactID+"/create-new", b.a.Token, ""), http.StatusConflict, &e)
	require.Equal(t, "conflict", e.Code)
}

func TestLinkRoutesWithoutEngine(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noSyncer: true})
	b.decode(b.do("POST", "/api/integrations/metakocka/products/mappings", b.a.Token, `{"productId":"`+b.a.ProductID+`","metakockaId":"1"}`), http.StatusServiceUnavailable, nil)
}

func TestTombstoneRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tok, base := b.a.Token, "/api/integrations/metakocka/products/tombstones"
	p := mksync.Product{Code: "GONE-1", Name: "gone"}
	require.NoError(t, b.db.CreateProduct(ctx, b.a.ID, &p))
	require.NoError(t, b.db.UpsertMapping(ctx, b.a.ID, &mksync.Mapping{EntityType: mksync.EntityProduct, EntityID: p.ID, MetakockaID: "1700001", State: mksync.StateSynced}))
	b.decode(b.do("DELETE", "/api/products/"+p.ID, tok, ""), http.StatusNoContent, nil)

	var lst struct {
		Items []mksync.Tombstone `json:"items"`
	}
	b.decode(b.do("GET", base, tok, ""), http.StatusOK, &lst)
	require.Len(t, lst.Items, 1)
	require.Equal(t, p.ID, lst.Items[0].EntityID)
	require.Equal(t, "1700001", lst.Items[0].MetakockaID)
	b.decode(b.do("GET", base, b.b.Token, ""), http.StatusOK, &lst)
	require.Empty(t, lst.Items, "another tenant sees none")
	b.decode(b.do("DELETE", base+"/1700001", b.b.Token, ""), http.StatusNotFound, nil)

	b.decode(b.do("DELETE", base+"/1700001", tok, ""), http.StatusNoContent, nil)
	b.decode(b.do("DELETE", base+"/1700001", tok, ""), http.StatusNotFound, nil)
	b.decode(b.do("GET", base, tok, ""), http.StatusOK, &lst)
	require.Empty(t, lst.Items)
	b.decode(b.do("GET", base+"?limit=0", tok, ""), http.StatusBadRequest, nil)
}

// TestAmbiguousListNamesCandidates: the ambiguous list (and a record's
// mapping) carries the candidates of its error record inline: mk_id,
// title and the key that matched; other states carry none.
func TestAmbiguousListNamesCandidates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	er := mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka", EntityID: b.a.ContactID, Code: mksync.ECONFLICT,
		Message: "matches 2 records", Details: map[string]any{"candidates": []string{"701", "702"},
			"keys": []string{"tax number", "e-mail"}, "titles": []string{"Twin d.o.o.", "Twin 2 d.o.o."}}}
	require.NoError(t, b.db.CreateErrorRecord(ctx, b.a.ID, &er))
	m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: b.a.ContactID, State: mksync.StateAmbiguous, LastError: er.ID}
	require.NoError(t, b.db.UpsertMapping(ctx, b.a.ID, &m))
	want := []map[string]any{
		{"mkId": "701", "title": "Twin d.o.o.", "key": "tax number"},
		{"mkId": "702", "title": "Twin 2 d.o.o.", "key": "e-mail"},
	}
	base := "/api/integrations/metakocka/contacts/mappings"
	var page struct {
		Items []struct {
			EntityID   string           `json:"entityId"`
			State      string           `json:"state"`
			Candidates []map[string]any `json:"candidates"`
		} `json:"items"`
	}
	for _, q := range []string{"?state=ambiguous", "?id=" + b.a.ContactID} {
		b.decode(b.do("GET", base+q, b.a.Token, ""), http.StatusOK, &page)
		require.Len(t, page.Items, 1, q)
		require.Equal(t, want, page.Items[0].Candidates, q)
	}
	b.decode(b.do("GET", base+"?state=ambiguous", b.b.Token, ""), http.StatusOK, &page)
	require.Empty(t, page.Items, "another tenant's")

	m.State, m.MetakockaID = mksync.StateSynced, "701"
	require.NoError(t, b.db.UpsertMapping(ctx, b.a.ID, &m))
	page.Items = nil
	b.decode(b.do("GET", base+"?id="+b.a.ContactID, b.a.Token, ""), http.StatusOK, &page)
	require.Nil(t, page.Items[0].Candidates, "a linked record has none")
	var e struct {
		Details map[string]string `json:"details"`
	}
	b.decode(b.do("GET", base+"?state=nope", b.a.Token, ""), http.StatusBadRequest, &e)
	require.Contains(t, e.Details["state"], "ambiguous")
}
