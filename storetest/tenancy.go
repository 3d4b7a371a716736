package storetest

import (
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// crossTenant are the Store methods that are not scoped to one tenant's data:
// tenant management, authentication and housekeeping that name themselves
// so in store.go, plus the plumbing. Every other method needs a row in
// tenancyCases.
var crossTenant = []string{
	"CreateTenant", "FindTenantByID", "ListTenants", "DeleteTenant",
	"AuthenticateAPIToken", "AdminTokenHash", "SetAdminTokenHash",
	"FindCredentialsByWebhookID", "ReencryptSecrets", "PruneErrorRecords", "ExpiredRunLeases",
	"InTx", "Ping", "Close",
}

// tenancyFixture is tenant B with one of everything, and tenant A with a
// contact and a product of its own, in one store.
type tenancyFixture struct {
	a, b         string
	aContact     mksync.Contact
	aProduct     mksync.Product
	bContact     mksync.Contact
	bProduct     mksync.Product
	bDoc         mksync.SalesDocument
	bMapping     mksync.Mapping
	bRun         mksync.SyncRun
	bLease       mksync.RunLease // on bRun, expired
	bError       mksync.ErrorRecord
	bAlert       mksync.Alert
	bToken       mksync.APIToken
	bCredentials mksync.MetakockaCredentials
}

const (
	bCursorKey = "documents.last_change"
	bEventID   = "mk-event-b"
)

func newTenancyFixture(t *testing.T, s mksync.Store) *tenancyFixture {
	ctx := t.Context()
	df := newDocFixture(t, s, "tenant-b")
	f := &tenancyFixture{a: newTenant(t, s, "tenant-a"), b: df.tenant, bContact: df.contact, bProduct: df.p1}
	f.aContact, f.aProduct = sampleContact("A's own"), sampleProduct("A-OWN")
	require.NoError(t, s.CreateContact(ctx, f.a, &f.aContact))
	require.NoError(t, s.CreateProduct(ctx, f.a, &f.aProduct))
	require.NoError(t, s.SetWarehouseStock(ctx, f.b, f.bProduct.ID, []mksync.WarehouseStock{{WarehouseID: "W1", Mark: "b", Amount: dec("5")}}))

	f.bDoc = df.document("B-1")
	require.NoError(t, s.CreateSalesDocument(ctx, f.b, &f.bDoc))
	f.bMapping = mksync.Mapping{EntityType: mksync.EntityContact, EntityID: f.bContact.ID, MetakockaID: "MK-B", CountCode: "CC-B", State: mksync.StateSynced,
		SyncedView: `{"name":"B's synced name"}`, SyncedRemoteView: `{"name":"B's Metakocka name"}`}
	require.NoError(t, s.UpsertMapping(ctx, f.b, &f.bMapping))
	f.bRun = mksync.SyncRun{EntityType: mksync.EntityContact, Direction: mksync.ToMetakocka, Trigger: mksync.TriggerAPI, Status: mksync.RunRunning}
	require.NoError(t, s.CreateSyncRun(ctx, f.b, &f.bRun))
	var err error
	f.bLease, err = s.AcquireRunLease(ctx, f.b, f.bRun.ID, "worker-b", time.Now().Add(-time.Hour), time.Now().Add(-time.Minute))
	require.NoError(t, err)
	f.bError = mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync", EntityID: f.bContact.ID, Code: mksync.EUPSTREAM, Message: "b"}
	require.NoError(t, s.CreateErrorRecord(ctx, f.b, &f.bError))
	f.bAlert = mksync.Alert{Key: "b-alert", Severity: "warning", Message: "b"}
	_, err = s.OpenAlert(ctx, f.b, &f.bAlert)
	require.NoError(t, err)
	_, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	f.bToken = mksync.APIToken{Name: "b", Hash: hash}
	require.NoError(t, s.CreateAPIToken(ctx, f.b, &f.bToken))
	f.bCredentials = mksync.MetakockaCredentials{CompanyID: "B", SecretKey: "b-secret"}
	require.NoError(t, s.SetCredentials(ctx, f.b, &f.bCredentials))
	require.NoError(t, s.SetCursor(ctx, f.b, bCursorKey, "b-position"))
	require.NoError(t, s.RecordWebhookEvent(ctx, f.b, bEventID, time.Now(), time.Time{}))
	return f
}

// snapshotB reads everything tenant B has, through B's own eyes.
func snapshotB(t *testing.T, s mksync.Store, f *tenancyFixture) any {
	ctx := t.Context()
	snap := map[string]any{}
	snap["contacts"] = collect(t, s.AllContacts(ctx, f.b))
	snap["products"] = collect(t, s.AllProducts(ctx, f.b))
	snap["documents"] = collect(t, s.AllSalesDocuments(ctx, f.b))
	stock, err := s.WarehouseStock(ctx, f.b, f.bProduct.ID)
	require.NoError(t, err)
	snap["warehouseStock"] = stock
	for _, et := range mksync.EntityTypes {
		snap["mappings:"+string(et)] = collect(t, s.AllMappings(ctx, f.b, et))
		counts, err := s.CountMappingsByState(ctx, f.b, et)
		require.NoError(t, err)
		snap["counts:"+string(et)] = counts
		links, err := s.CountLinks(ctx, f.b, et)
		require.NoError(t, err)
		links.Tombstones = 0 // some cases add one to B on purpose
		snap["links:"+string(et)] = links
	}
	runs, _, err := s.FindSyncRuns(ctx, f.b, mksync.SyncRunFilter{Page: mksync.Page{Limit: mksync.MaxPageLimit}})
	require.NoError(t, err)
	snap["runs"] = runs
	leases, err := s.ExpiredRunLeases(ctx, time.Now().Add(time.Hour), 1000)
	require.NoError(t, err)
	for _, l := range leases {
		if l.TenantID == f.b {
			snap["lease:"+l.RunID] = l
		}
	}
	errs, _, err := s.FindErrorRecords(ctx, f.b, mksync.ErrorFilter{Page: mksync.Page{Limit: mksync.MaxPageLimit}})
	require.NoError(t, err)
	snap["errors"] = errs
	alerts, _, err := s.FindAlerts(ctx, f.b, "", mksync.Page{Limit: mksync.MaxPageLimit})
	require.NoError(t, err)
	snap["alerts"] = alerts
	toks, err := s.ListAPITokens(ctx, f.b)
	require.NoError(t, err)
	snap["tokens"] = toks
	creds, err := s.FindCredentials(ctx, f.b)
	require.NoError(t, err)
	snap["credentials"] = creds
	snap["secret"] = creds.SecretKey.Reveal()
	cur, err := s.GetCursor(ctx, f.b, bCursorKey)
	require.NoError(t, err)
	snap["cursor"] = cur
	return normalize(snap)
}

// tenancyCase acts as tenant A on tenant B's ids and asserts the outcome;
// the runner then checks that B's data is unchanged.
type tenancyCase func(t *testing.T, s mksync.Store, f *tenancyFixture)

func notFound(t *testing.T, err error) { t.Helper(); requireCode(t, err, mksync.ENOTFOUND) }

func conflictOrNotFound(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.Contains(t, []string{mksync.ECONFLICT, mksync.ENOTFOUND}, mksync.ErrorCode(err), "error: %v", err)
}

var tenancyCases = map[string]tenancyCase{
	// Tokens and credentials.
	"CreateAPIToken": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		tok := mksync.APIToken{ID: f.bToken.ID, Name: "steal", Hash: mksync.HashToken("x")}
		requireCode(t, s.CreateAPIToken(t.Context(), f.a, &tok), mksync.ECONFLICT)
		tok = mksync.APIToken{Name: "steal", Hash: f.bToken.Hash}
		requireCode(t, s.CreateAPIToken(t.Context(), f.a, &tok), mksync.ECONFLICT)
	},
	"ListAPITokens": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		toks, err := s.ListAPITokens(t.Context(), f.a)
		require.NoError(t, err)
		require.Empty(t, toks)
	},
	"RevokeAPIToken": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.RevokeAPIToken(t.Context(), f.a, f.bToken.ID, time.Now()))
	},
	"EndSessions": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.EndSessions(t.Context(), f.a, f.bToken.ID)) // B's snapshot holds its generation
	},
	"SetCredentials": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		c := mksync.MetakockaCredentials{CompanyID: "A", SecretKey: "a", WebhookID: f.bCredentials.WebhookID}
		requireCode(t, s.SetCredentials(t.Context(), f.a, &c), mksync.ECONFLICT)
	},
	"FindCredentials": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindCredentials(t.Context(), f.a)
		notFound(t, err)
	},

	// Contacts.
	"CreateContact": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		c := sampleContact("steal")
		c.ID = f.bContact.ID
		requireCode(t, s.CreateContact(t.Context(), f.a, &c), mksync.ECONFLICT)
	},
	"FindContactByID": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindContactByID(t.Context(), f.a, f.bContact.ID)
		notFound(t, err)
	},
	"FindContacts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		for _, lf := range []mksync.ListFilter{{}, {Search: f.bContact.Name}, {State: mksync.StateSynced}, {State: mksync.StateUnsynced}, {Page: mksync.Page{After: encodeLikeStores(f.aContact.ID)}}} {
			cs, _, err := s.FindContacts(t.Context(), f.a, lf)
			if err != nil {
				requireCode(t, err, mksync.EINVALID) // a cursor a store does not understand
				continue
			}
			for _, c := range cs {
				require.Equal(t, f.a, c.TenantID)
				require.NotEqual(t, f.bContact.ID, c.ID)
			}
		}
	},
	"UpdateContact": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		c := f.bContact
		c.Name = "hijacked"
		notFound(t, s.UpdateContact(t.Context(), f.a, &c))
	},
	"SetContactPartnerIDs": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.SetContactPartnerIDs(t.Context(), f.a, f.bContact.ID, mksync.PartnerIDs{BillingAddress: "1"}))
		c, err := s.FindContactByID(t.Context(), f.b, f.bContact.ID)
		require.NoError(t, err)
		require.Empty(t, c.PartnerIDs.BillingAddress)
	},
	"DeleteContact": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.DeleteContact(t.Context(), f.a, f.bContact.ID))
	},
	"AllContacts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		for _, c := range collect(t, s.AllContacts(t.Context(), f.a)) {
			require.Equal(t, f.a, c.TenantID)
			require.NotEqual(t, f.bContact.ID, c.ID)
		}
	},
	"UpsertContacts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		c := f.bContact
		c.Name = "hijacked"
		conflictOrNotFound(t, s.UpsertContacts(t.Context(), f.a, []mksync.Contact{c}))
	},

	// Products.
	"CreateProduct": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		p := sampleProduct("STEAL")
		p.ID = f.bProduct.ID
		requireCode(t, s.CreateProduct(t.Context(), f.a, &p), mksync.ECONFLICT)
		// Codes are unique per tenant, not across tenants.
		if _, err := s.FindProductByCode(t.Context(), f.a, f.bProduct.Code); mksync.ErrorCode(err) == mksync.ENOTFOUND {
			same := sampleProduct(f.bProduct.Code)
			require.NoError(t, s.CreateProduct(t.Context(), f.a, &same))
		}
	},
	"FindProductByID": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindProductByID(t.Context(), f.a, f.bProduct.ID)
		notFound(t, err)
	},
	"FindProductByCode": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		p, err := s.FindProductByCode(t.Context(), f.a, f.bProduct.Code)
		if err == nil { // A may have its own product with that code (see CreateProduct)
			require.NotEqual(t, f.bProduct.ID, p.ID)
			return
		}
		notFound(t, err)
	},
	"FindProducts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		ps, _, err := s.FindProducts(t.Context(), f.a, mksync.ListFilter{Search: f.bProduct.Name})
		require.NoError(t, err)
		for _, p := range ps {
			require.NotEqual(t, f.bProduct.ID, p.ID)
		}
	},
	"UpdateProduct": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		p := f.bProduct
		p.Name = "hijacked"
		notFound(t, s.UpdateProduct(t.Context(), f.a, &p))
	},
	"SetProductStock": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.SetProductStock(t.Context(), f.a, f.bProduct.ID, dec("999")))
	},
	"SetWarehouseStock": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.SetWarehouseStock(t.Context(), f.a, f.bProduct.ID, []mksync.WarehouseStock{{WarehouseID: "W1", Amount: dec("999")}}))
	},
	"WarehouseStock": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.WarehouseStock(t.Context(), f.a, f.bProduct.ID)
		notFound(t, err)
	},
	"DeleteProduct": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.DeleteProduct(t.Context(), f.a, f.bProduct.ID))
	},
	"AllProducts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		for _, p := range collect(t, s.AllProducts(t.Context(), f.a)) {
			require.NotEqual(t, f.bProduct.ID, p.ID)
		}
	},
	"UpsertProducts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		p := f.bProduct
		p.Code = "A-NEW-CODE"
		conflictOrNotFound(t, s.UpsertProducts(t.Context(), f.a, []mksync.Product{p}))
	},

	// Sales documents: B's contact or product cannot be used by A.
	"CreateSalesDocument": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		d := f.bDoc
		d.ID = ""
		d.ContactID = f.bContact.ID
		d.Lines = []mksync.DocumentLine{{ProductID: f.aProduct.ID, Quantity: dec("1"), UnitPrice: dec("1"), DiscountPercent: dec("0"), TaxRate: dec("22")}}
		requireCode(t, s.CreateSalesDocument(t.Context(), f.a, &d), mksync.EINVALID)
		d.ContactID = f.aContact.ID
		d.Lines[0].ProductID = f.bProduct.ID
		requireCode(t, s.CreateSalesDocument(t.Context(), f.a, &d), mksync.EINVALID)
		d.Lines[0].ProductID = f.aProduct.ID
		// Nor can A's credit note credit B's invoice.
		credit := d
		credit.Kind, credit.CreditNoteType, credit.CreditedInvoiceID = mksync.KindCreditNote, mksync.CreditNoteFinancial, f.bDoc.ID
		requireCode(t, s.CreateSalesDocument(t.Context(), f.a, &credit), mksync.EINVALID)
		d.ID = f.bDoc.ID
		requireCode(t, s.CreateSalesDocument(t.Context(), f.a, &d), mksync.ECONFLICT)
	},
	"FindSalesDocumentByID": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindSalesDocumentByID(t.Context(), f.a, f.bDoc.ID)
		notFound(t, err)
	},
	"FindSalesDocuments": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		ds, _, err := s.FindSalesDocuments(t.Context(), f.a, mksync.ListFilter{Search: f.bDoc.Number})
		require.NoError(t, err)
		require.Empty(t, ds)
	},
	"UpdateSalesDocument": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		d := f.bDoc
		d.Status = "hijacked"
		d.ContactID = f.aContact.ID
		d.Lines = []mksync.DocumentLine{{ProductID: f.aProduct.ID, Quantity: dec("1"), UnitPrice: dec("1"), DiscountPercent: dec("0"), TaxRate: dec("22")}}
		err := s.UpdateSalesDocument(t.Context(), f.a, &d)
		notFound(t, err)
	},
	"DeleteSalesDocument": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.DeleteSalesDocument(t.Context(), f.a, f.bDoc.ID))
	},
	"AllSalesDocuments": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		require.Empty(t, collect(t, s.AllSalesDocuments(t.Context(), f.a)))
	},

	// Mappings.
	"UpsertMapping": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		// Not even the synced fields of B's record are written (the
		// snapshot of B's data compares them).
		m := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: f.bContact.ID, MetakockaID: "MK-A", State: mksync.StateSynced,
			SyncedView: `{"name":"A's"}`}
		notFound(t, s.UpsertMapping(t.Context(), f.a, &m))
		// The same mk_id in another tenant (another Metakocka company) is fine.
		own := mksync.Mapping{EntityType: mksync.EntityContact, EntityID: f.aContact.ID, MetakockaID: f.bMapping.MetakockaID, State: mksync.StatePending}
		require.NoError(t, s.UpsertMapping(t.Context(), f.a, &own))
		require.NoError(t, s.DeleteMapping(t.Context(), f.a, mksync.EntityContact, f.aContact.ID))
	},
	"FindMapping": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindMapping(t.Context(), f.a, mksync.EntityContact, f.bContact.ID)
		notFound(t, err)
	},
	"FindMappingByMetakockaID": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindMappingByMetakockaID(t.Context(), f.a, mksync.EntityContact, f.bMapping.MetakockaID)
		notFound(t, err)
	},
	"FindMappings": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		ms, _, err := s.FindMappings(t.Context(), f.a, mksync.EntityContact, mksync.ListFilter{})
		require.NoError(t, err)
		require.Empty(t, ms)
	},
	"FindMappingsOf": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		ms, err := s.FindMappingsOf(t.Context(), f.a, mksync.EntityContact, []string{f.bContact.ID, f.bMapping.EntityID})
		require.NoError(t, err)
		require.Empty(t, ms)
	},
	"DeleteMapping": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.DeleteMapping(t.Context(), f.a, mksync.EntityContact, f.bContact.ID))
	},
	"FindContactsByKey": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		cs, err := s.FindContactsByKey(t.Context(), f.a, mksync.KeyEmail, []string{mksync.NormKey(mksync.KeyEmail, f.bContact.Email)})
		require.NoError(t, err)
		for _, c := range cs {
			require.NotEqual(t, f.bContact.ID, c.ID)
		}
	},
	"FindProductsByBarcode": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		ps, err := s.FindProductsByBarcode(t.Context(), f.a, f.bProduct.Barcode)
		require.NoError(t, err)
		for _, p := range ps {
			require.NotEqual(t, f.bProduct.ID, p.ID)
		}
	},
	"FindSalesDocumentIDsByNumber": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		ids, err := s.FindSalesDocumentIDsByNumber(t.Context(), f.a, f.bDoc.Number, f.bDoc.ContactID, f.bDoc.Date)
		require.NoError(t, err)
		require.Empty(t, ids)
	},
	"SavePlanItems": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		notFound(t, s.SavePlanItems(t.Context(), f.a, f.bRun.ID, []mksync.PlanItem{{Key: "k-1", Action: mksync.PlanSkip}}))
	},
	"FindPlanItems": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		planOf(t, s, f.b, f.bRun.ID)
		_, _, err := s.FindPlanItems(t.Context(), f.a, f.bRun.ID, mksync.Page{})
		notFound(t, err)
	},
	"FindPlanItem": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		key := planOf(t, s, f.b, f.bRun.ID)
		_, err := s.FindPlanItem(t.Context(), f.a, f.bRun.ID, key)
		notFound(t, err)
	},
	"CountPlanItems": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		planOf(t, s, f.b, f.bRun.ID)
		_, err := s.CountPlanItems(t.Context(), f.a, f.bRun.ID)
		notFound(t, err)
	},
	"FindTombstone": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		mkID := tombstoneOf(t, s, f.b)
		_, err := s.FindTombstone(t.Context(), f.a, mksync.EntityContact, mkID)
		notFound(t, err)
	},
	"FindTombstones": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		tombstoneOf(t, s, f.b)
		ts, _, err := s.FindTombstones(t.Context(), f.a, mksync.EntityContact, mksync.Page{})
		require.NoError(t, err)
		require.Empty(t, ts)
	},
	"DeleteTombstone": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		mkID := tombstoneOf(t, s, f.b)
		notFound(t, s.DeleteTombstone(t.Context(), f.a, mksync.EntityContact, mkID))
		_, err := s.FindTombstone(t.Context(), f.b, mksync.EntityContact, mkID)
		require.NoError(t, err, "the other tenant's tombstone is kept")
	},
	"AllMappings": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		require.Empty(t, collect(t, s.AllMappings(t.Context(), f.a, mksync.EntityContact)))
	},
	"AllMappingStates": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		require.Empty(t, collect(t, s.AllMappingStates(t.Context(), f.a, mksync.EntityContact)))
	},
	"CountMappingsByState": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		counts, err := s.CountMappingsByState(t.Context(), f.a, mksync.EntityContact)
		require.NoError(t, err)
		require.Zero(t, counts[mksync.StateSynced])
		require.Equal(t, 1, counts[mksync.StateUnsynced], "only A's own contact")
	},

	"CountLinks": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		tombstoneOf(t, s, f.b)
		c, err := s.CountLinks(t.Context(), f.a, mksync.EntityContact)
		require.NoError(t, err)
		require.Equal(t, mksync.LinkCounts{ToCreate: 1}, c, "only A's own contact; none of B's links or tombstones")
	},

	// Cursors.
	"GetCursor": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		v, err := s.GetCursor(t.Context(), f.a, bCursorKey)
		if err == nil { // A may have set its own (see SetCursor)
			require.NotEqual(t, "b-position", v)
			return
		}
		notFound(t, err)
	},
	"SetCursor": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		require.NoError(t, s.SetCursor(t.Context(), f.a, bCursorKey, "a-position"))
	},

	// Webhook events: B's event id is no replay for A, and A's retention
	// (forgetting everything up to the far future) never reaches B's.
	"RecordWebhookEvent": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		later := time.Now().Add(time.Hour)
		require.NoError(t, s.RecordWebhookEvent(t.Context(), f.a, bEventID, time.Now(), later))
		requireCode(t, s.RecordWebhookEvent(t.Context(), f.b, bEventID, time.Now(), time.Time{}), mksync.ECONFLICT, "B still remembers its event")
	},

	// Sync runs.
	"CreateSyncRun": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		r := f.bRun
		requireCode(t, s.CreateSyncRun(t.Context(), f.a, &r), mksync.ECONFLICT)
	},
	"FindSyncRun": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindSyncRun(t.Context(), f.a, f.bRun.ID)
		notFound(t, err)
	},
	"FindSyncRuns": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		rs, _, err := s.FindSyncRuns(t.Context(), f.a, mksync.SyncRunFilter{})
		require.NoError(t, err)
		require.Empty(t, rs)
	},
	"UpdateSyncRun": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		r := f.bRun
		r.Status = mksync.RunCancelled
		notFound(t, s.UpdateSyncRun(t.Context(), f.a, &r))
	},
	"AcquireRunLease": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.AcquireRunLease(t.Context(), f.a, f.bRun.ID, "worker-a", time.Now(), time.Now().Add(time.Hour))
		notFound(t, err)
	},
	"RenewRunLease": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		requireCode(t, s.RenewRunLease(t.Context(), f.a, f.bRun.ID, f.bLease.Token, time.Now().Add(time.Hour)), mksync.ECONFLICT)
	},
	"ReleaseRunLease": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		require.NoError(t, s.ReleaseRunLease(t.Context(), f.a, f.bRun.ID, f.bLease.Token))
	},
	"BreakRunLease": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		requireCode(t, s.BreakRunLease(t.Context(), f.a, f.bRun.ID, f.bLease.Token, time.Now(), time.Now().Add(time.Hour)), mksync.ECONFLICT)
	},

	// Error records and alerts.
	"CreateErrorRecord": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		e := f.bError
		requireCode(t, s.CreateErrorRecord(t.Context(), f.a, &e), mksync.ECONFLICT)
	},
	"FindErrorRecord": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.FindErrorRecord(t.Context(), f.a, f.bError.ID)
		notFound(t, err)
	},
	"FindErrorRecords": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		es, _, err := s.FindErrorRecords(t.Context(), f.a, mksync.ErrorFilter{EntityID: f.bContact.ID})
		require.NoError(t, err)
		require.Empty(t, es)
	},
	"OpenAlert": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		a := mksync.Alert{Key: f.bAlert.Key, Severity: "critical", Message: "a"}
		opened, err := s.OpenAlert(t.Context(), f.a, &a)
		require.NoError(t, err)
		if opened { // first time: A's own new alert, not B's
			require.NotEqual(t, f.bAlert.ID, a.ID)
		}
		require.NotEqual(t, f.bAlert.ID, a.ID)
	},
	"ResolveAlert": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		_, err := s.ResolveAlert(t.Context(), f.a, f.bAlert.Key, time.Now())
		require.NoError(t, err) // B's alert stays open: checked by the snapshot
	},
	"FindAlerts": func(t *testing.T, s mksync.Store, f *tenancyFixture) {
		as, _, err := s.FindAlerts(t.Context(), f.a, "", mksync.Page{})
		require.NoError(t, err)
		for _, a := range as {
			require.NotEqual(t, f.bAlert.ID, a.ID)
		}
	},
}

// encodeLikeStores is a guess at a cursor (base64 of an id); stores may
// reject it as EINVALID, but must never use it to cross tenants.
func encodeLikeStores(id string) string {
	return base64URL(id)
}

func testTenancy(t *testing.T, s mksync.Store) {
	// Every tenant-scoped method of mksync.Store has a case, so that a new
	// method cannot ship without a tenancy check.
	var methods []string
	st := reflect.TypeFor[mksync.Store]()
	for i := range st.NumMethod() {
		methods = append(methods, st.Method(i).Name)
	}
	var covered []string
	for name := range tenancyCases {
		covered = append(covered, name)
	}
	covered = append(covered, crossTenant...)
	sort.Strings(methods)
	sort.Strings(covered)
	for _, m := range methods {
		require.True(t, slices.Contains(covered, m), "mksync.Store.%s has no tenancy case in storetest (add one to tenancyCases, or to crossTenant if it is documented as cross-tenant)", m)
	}
	for _, c := range covered {
		require.True(t, slices.Contains(methods, c), "storetest has a tenancy case for %s, which mksync.Store does not have", c)
	}

	f := newTenancyFixture(t, s)
	names := make([]string, 0, len(tenancyCases))
	for name := range tenancyCases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			before := snapshotB(t, s, f)
			tenancyCases[name](t, s, f)
			// The same call inside a transaction scoped to A.
			err := s.InTx(t.Context(), f.a, func(tx mksync.Store) error {
				tenancyCases[name](t, tx, f)
				return errNope
			})
			require.ErrorIs(t, err, errNope)
			require.Equal(t, before, snapshotB(t, s, f), "%s as tenant A changed tenant B's data", name)
		})
	}
}

// tombstoneOf deletes a new mapped contact of tenant and returns the mk_id
// its tombstone keeps.
func tombstoneOf(t *testing.T, s mksync.Store, tenant string) string {
	t.Helper()
	c := sampleContact("tomb " + tenant)
	require.NoError(t, s.CreateContact(t.Context(), tenant, &c))
	mkID := "9" + c.ID[len(c.ID)-8:]
	require.NoError(t, s.UpsertMapping(t.Context(), tenant, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID,
		MetakockaID: mkID, State: mksync.StateSynced}))
	require.NoError(t, s.DeleteContact(t.Context(), tenant, c.ID))
	return mkID
}
