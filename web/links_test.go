package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// Link, Unlink and CreateNew make the handler tests' fake syncer a Linker:
// they record the call and write the mapping the engine would.
func (f *fakeSyncer) Link(ctx context.Context, tenantID string, et mksync.EntityType, entityID, ref string) (mksync.Mapping, error) {
	if err := f.record("link " + string(et) + " " + entityID + " " + ref); err != nil {
		return mksync.Mapping{}, err
	}
	m := mksync.Mapping{EntityType: et, EntityID: entityID, MetakockaID: ref, State: mksync.StatePending}
	return m, f.store.UpsertMapping(ctx, tenantID, &m)
}

func (f *fakeSyncer) Unlink(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) error {
	if err := f.record("unlink " + string(et) + " " + entityID); err != nil {
		return err
	}
	return f.store.DeleteMapping(ctx, tenantID, et, entityID)
}

func (f *fakeSyncer) CreateNew(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) (mksync.SyncResult, error) {
	if err := f.record("create-new " + string(et) + " " + entityID); err != nil {
		return mksync.SyncResult{}, err
	}
	m := mksync.Mapping{EntityType: et, EntityID: entityID, MetakockaID: "new-1", State: mksync.StateSynced}
	return mksync.SyncResult{Success: true, Created: 1}, f.store.UpsertMapping(ctx, tenantID, &m)
}

func TestLinkOnRecordPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	ctx := context.Background()
	page := "/contacts/" + b.a.ContactID

	p := br.get(page)
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, `id="link-box"`)
	require.Contains(t, p.Body, "Not linked to a Metakocka record yet")
	require.NotContains(t, p.Body, "unlink-btn", "nothing to unlink")

	// htmx: the box comes back with the mapping and the outcome.
	p = br.post(page+"/link", br.form("ref", " 1600042 "), "HX-Request", "true")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, `<code class="mk-id">1600042</code>`)
	require.Contains(t, p.Body, "is linked to Metakocka record 1600042")
	require.Contains(t, p.Body, "Re-link")
	require.Contains(t, p.Body, "unlink-btn")
	m, err := b.store.FindMapping(ctx, b.a.ID, mksync.EntityContact, b.a.ContactID)
	require.NoError(t, err)
	require.Equal(t, "1600042", m.MetakockaID)

	// The engine's refusal shows in the box, in the error style, with what
	// was typed kept.
	b.syncer.SetErr(mksync.Errorf(mksync.ECONFLICT, "Metakocka partner 7 is linked to contact X; unlink that first"))
	p = br.post(page+"/link", br.form("ref", "7"), "HX-Request", "true")
	require.Equal(t, http.StatusConflict, p.Status)
	require.Contains(t, p.Body, `flash flash-error`)
	require.Contains(t, p.Body, "is linked to contact X; unlink that first")
	require.Contains(t, p.Body, "Code <code>conflict</code>")
	require.Contains(t, p.Body, `value="7"`)
	// Without htmx: the record page with the problem, same status.
	p = br.post(page+"/link", br.form("ref", "7"))
	require.Equal(t, http.StatusConflict, p.Status)
	require.Contains(t, p.Body, "<h1>Tenant A Customer</h1>")
	require.Contains(t, p.Body, "unlink that first")
	b.syncer.SetErr(nil)

	// Bad input never reaches the engine.
	calls := len(b.syncer.Calls())
	for _, ref := range []string{"", "   ", strings.Repeat("9", 129), "1\n2"} {
		p = br.post(page+"/link", br.form("ref", ref), "HX-Request", "true")
		require.Equal(t, http.StatusBadRequest, p.Status, "%q", ref)
		require.Contains(t, p.Body, "field-error")
	}
	require.Len(t, b.syncer.Calls(), calls)

	// Unlink, plain form: back to the record page, mapping gone.
	p = br.post(page+"/unlink", br.form())
	require.Equal(t, http.StatusSeeOther, p.Status)
	require.Equal(t, page, p.Location)
	_, err = b.store.FindMapping(ctx, b.a.ID, mksync.EntityContact, b.a.ContactID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	require.Equal(t, []string{
		"link contact " + b.a.ContactID + " 1600042",
		"link contact " + b.a.ContactID + " 7",
		"link contact " + b.a.ContactID + " 7",
		"unlink contact " + b.a.ContactID,
	}, b.syncer.Calls())

	// Another tenant's record is not found, and nothing is called.
	p = br.post("/contacts/"+b.b.ContactID+"/link", br.form("ref", "1"))
	require.Equal(t, http.StatusNotFound, p.Status)
	p = br.post("/contacts/"+b.b.ContactID+"/create-new", br.form())
	require.Equal(t, http.StatusNotFound, p.Status)
	require.Len(t, b.syncer.Calls(), 4)
	// No CSRF token: refused.
	p = br.post(page+"/unlink", nil)
	require.Equal(t, http.StatusForbidden, p.Status)
}

func TestDecisionsPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	ctx := context.Background()

	amb := mksync.Contact{Name: "Twin CRM d.o.o."}
	gone := mksync.Contact{Name: "Gone Partner d.o.o."}
	deleted := mksync.Contact{Name: "Deleted Here d.o.o."}
	for _, c := range []*mksync.Contact{&amb, &gone, &deleted} {
		require.NoError(t, b.store.CreateContact(ctx, b.a.ID, c))
	}
	er := mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka", EntityID: amb.ID, Code: mksync.ECONFLICT, Message: "ambiguous",
		Details: map[string]any{"candidates": []string{"1601", "1602"}, "keys": []string{"tax_number", "email"}, "titles": []string{"Twin d.o.o.", "Twin 2 d.o.o."}}}
	require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &er))
	for _, m := range []mksync.Mapping{
		{EntityType: mksync.EntityContact, EntityID: amb.ID, State: mksync.StateAmbiguous, LastError: er.ID},
		{EntityType: mksync.EntityContact, EntityID: gone.ID, MetakockaID: "1700", State: mksync.StateDeletedInMetakocka},
		{EntityType: mksync.EntityContact, EntityID: deleted.ID, MetakockaID: "1800", CountCode: "P-1800", State: mksync.StateSynced},
	} {
		require.NoError(t, b.store.UpsertMapping(ctx, b.a.ID, &m))
	}
	require.NoError(t, b.store.DeleteContact(ctx, b.a.ID, deleted.ID))

	p := br.get("/contacts/decisions")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	for _, want := range []string{
		// The ambiguous record with its candidates inline: mk_id, name, key.
		"Twin CRM d.o.o.", `<code class="cand-mk-id">1601</code>`, "Twin d.o.o.", "by tax number",
		`<code class="cand-mk-id">1602</code>`, "Twin 2 d.o.o.", "by e-mail", "None of these: create a new one",
		// Deleted in Metakocka, and the tombstone.
		"Gone Partner d.o.o.", "<code>1700</code>", "Restore the link", "Recreate in Metakocka",
		`id="row-tomb-1800"`, "<code>P-1800</code>", "Recreate in the CRM", "Forget tombstone",
	} {
		require.Contains(t, p.Body, want)
	}
	require.NotContains(t, br.get("/products/decisions").Body, "Twin CRM", "per record type")

	// Picking a candidate links it (htmx: the row says so).
	p = br.post("/contacts/"+amb.ID+"/link", br.form("ref", "1602", "from", "decisions"), "HX-Request", "true")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, `id="row-`+amb.ID+`"`)
	require.Contains(t, p.Body, "is linked to Metakocka record 1602")
	// "Recreate in Metakocka" unlinks and creates on purpose; plain form
	// goes back to the page.
	p = br.post("/contacts/"+gone.ID+"/recreate", br.form("from", "decisions"))
	require.Equal(t, http.StatusSeeOther, p.Status)
	require.Equal(t, "/contacts/decisions", p.Location)
	// Forget the tombstone.
	p = br.post("/contacts/tombstones/1800/forget", br.form(), "HX-Request", "true")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, "Forgotten")
	_, err := b.store.FindTombstone(ctx, b.a.ID, mksync.EntityContact, "1800")
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))
	p = br.post("/contacts/tombstones/1800/forget", br.form(), "HX-Request", "true")
	require.Equal(t, http.StatusNotFound, p.Status, "already forgotten")
	require.Equal(t, []string{
		"link contact " + amb.ID + " 1602",
		"unlink contact " + gone.ID,
		"create-new contact " + gone.ID,
	}, b.syncer.Calls())

	p = br.get("/contacts/decisions")
	require.Contains(t, p.Body, "Nothing to decide.")
	require.NotContains(t, p.Body, "row-tomb-1800")

	// Another tenant sees none of it and cannot act on it.
	other := b.browser().login(b.b.Token)
	p = other.get("/contacts/decisions")
	require.NotContains(t, p.Body, "Twin CRM")
	require.NotContains(t, p.Body, "Gone Partner")
	p = other.post("/contacts/"+amb.ID+"/create-new", other.form("from", "decisions"))
	require.Equal(t, http.StatusNotFound, p.Status)
	p = br.get("/contacts/decisions?amb=" + strings.Repeat("x", 600))
	require.Equal(t, http.StatusBadRequest, p.Status)
}

func TestSettingsDeletePolicy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser().login(b.a.Token)
	ctx := context.Background()
	p := br.get("/settings")
	require.Contains(t, p.Body, `<option value="keep" selected>`, "the default shows")

	p = br.post("/settings", br.form("companyId", "16", "secretKey", "top-secret-key", "deletePolicy", "delete_in_metakocka"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err := b.store.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.DeleteInMetakocka, c.Settings.DeletePolicy)
	require.Contains(t, br.get("/settings").Body, `<option value="delete_in_metakocka" selected>`)

	// A form without the field keeps it; a bad value is refused per field.
	p = br.post("/settings", br.form("companyId", "16"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	p = br.post("/settings", br.form("companyId", "16", "deletePolicy", "shred"))
	require.Equal(t, http.StatusBadRequest, p.Status)
	require.Contains(t, p.Body, "Deletion policy must be keep")
	c, err = b.store.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.DeleteInMetakocka, c.Settings.DeletePolicy)

	p = br.post("/settings", br.form("companyId", "16", "deletePolicy", "keep"))
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	c, err = b.store.FindCredentials(ctx, b.a.ID)
	require.NoError(t, err)
	require.Equal(t, mksync.DeleteKeep, c.Settings.DeletePolicy)
}
