package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

// mergeEntity is one entity as the merge tests change it: three mapped
// fields, by their role. Field "both" is the one a conflict changes on
// both sides, "mk" one only Metakocka changes, "crm" one only the CRM
// changes; view names the view's field (what a conflict lists).
type mergeEntity struct {
	et   mksync.EntityType
	view map[string]string
	// create makes a CRM record and pushes it; it returns its id.
	create func(t *testing.T, b *bundle) string
	// setCRM and setMK change a field on one side; crm and mk read it.
	setCRM func(t *testing.T, b *bundle, id, role, v string)
	setMK  func(t *testing.T, b *bundle, mkID, role, v string)
	crm    func(t *testing.T, b *bundle, id, role string) string
	mk     func(t *testing.T, b *bundle, mkID, role string) string
}

func mergeEntities() []mergeEntity {
	ctx := context.Background()
	return []mergeEntity{{
		et:   mksync.EntityContact,
		view: map[string]string{"both": "name", "mk": "taxId", "crm": "registrationNumber"},
		create: func(t *testing.T, b *bundle) string {
			c := newContact(t, b)
			c.RegistrationNumber = "1111111000"
			require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
			return pushed(t, b, mksync.EntityContact, c.ID)
		},
		setCRM: func(t *testing.T, b *bundle, id, role, v string) {
			c, err := b.store.FindContactByID(ctx, b.tenant, id)
			require.NoError(t, err)
			*map[string]*string{"both": &c.Name, "crm": &c.RegistrationNumber, "mk": &c.TaxID}[role] = v
			require.NoError(t, b.store.UpdateContact(ctx, b.tenant, &c))
		},
		setMK: func(t *testing.T, b *bundle, mkID, role, v string) {
			p := metakocka.Partner{MkID: mkID}
			*map[string]*string{"both": &p.Customer, "crm": &p.RegistrationNumber, "mk": &p.TaxIDNumber}[role] = v
			_, err := b.mk(t).UpdatePartner(ctx, p)
			require.NoError(t, err)
		},
		crm: func(t *testing.T, b *bundle, id, role string) string {
			c, err := b.store.FindContactByID(ctx, b.tenant, id)
			require.NoError(t, err)
			return map[string]string{"both": c.Name, "crm": c.RegistrationNumber, "mk": c.TaxID}[role]
		},
		mk: func(t *testing.T, b *bundle, mkID, role string) string {
			for _, p := range b.fake.Partners(b.company) {
				if p.MkID == mkID {
					return map[string]string{"both": p.Customer, "crm": p.RegistrationNumber, "mk": p.TaxIDNumber}[role]
				}
			}
			t.Fatalf("no partner %s", mkID)
			return ""
		},
	}, {
		et:   mksync.EntityProduct,
		view: map[string]string{"both": "name", "mk": "description", "crm": "barcode"},
		create: func(t *testing.T, b *bundle) string {
			return pushed(t, b, mksync.EntityProduct, newProduct(t, b).ID)
		},
		setCRM: func(t *testing.T, b *bundle, id, role, v string) {
			p, err := b.store.FindProductByID(ctx, b.tenant, id)
			require.NoError(t, err)
			*map[string]*string{"both": &p.Name, "crm": &p.Barcode, "mk": &p.Description}[role] = v
			require.NoError(t, b.store.UpdateProduct(ctx, b.tenant, &p))
		},
		setMK: func(t *testing.T, b *bundle, mkID, role string, v string) {
			p := metakocka.Product{MkID: mkID}
			*map[string]*string{"both": &p.Name, "crm": &p.Barcode, "mk": &p.NameDesc}[role] = v
			_, err := b.mk(t).ProductUpdate(ctx, p)
			require.NoError(t, err)
		},
		crm: func(t *testing.T, b *bundle, id, role string) string {
			p, err := b.store.FindProductByID(ctx, b.tenant, id)
			require.NoError(t, err)
			return map[string]string{"both": p.Name, "crm": p.Barcode, "mk": p.Description}[role]
		},
		mk: func(t *testing.T, b *bundle, mkID, role string) string {
			for _, p := range b.fake.Products(b.company) {
				if p.MkID == mkID {
					return map[string]string{"both": p.Name, "crm": p.Barcode, "mk": p.NameDesc}[role]
				}
			}
			t.Fatalf("no product %s", mkID)
			return ""
		},
	}, {
		et:   mksync.EntitySalesDocument,
		view: map[string]string{"both": "notes", "mk": "status", "crm": "buyerOrder"},
		create: func(t *testing.T, b *bundle) string {
			d := newDocument(t, b, mksync.KindOrder, newContact(t, b), newProduct(t, b))
			return pushed(t, b, mksync.EntitySalesDocument, d.ID)
		},
		setCRM: func(t *testing.T, b *bundle, id, role, v string) {
			d, err := b.store.FindSalesDocumentByID(ctx, b.tenant, id)
			require.NoError(t, err)
			*map[string]*string{"both": &d.Notes, "crm": &d.BuyerOrder, "mk": &d.Status}[role] = v
			require.NoError(t, b.store.UpdateSalesDocument(ctx, b.tenant, &d))
		},
		setMK: func(t *testing.T, b *bundle, mkID, role, v string) {
			u := metakocka.DocumentUpdate{DocType: metakocka.DocSalesOrder, MkID: mkID}
			*map[string]*string{"both": &u.Notes, "mk": &u.StatusCode}[role] = v
			require.NoError(t, b.mk(t).UpdateDocument(ctx, u))
		},
		crm: func(t *testing.T, b *bundle, id, role string) string {
			d, err := b.store.FindSalesDocumentByID(ctx, b.tenant, id)
			require.NoError(t, err)
			return map[string]string{"both": d.Notes, "crm": d.BuyerOrder, "mk": d.Status}[role]
		},
		mk: func(t *testing.T, b *bundle, mkID, role string) string {
			for _, d := range b.fake.Documents(b.company) {
				if d.MkID == mkID {
					v, _ := d.Fields[map[string]string{"both": "notes", "crm": "buyer_order", "mk": "status_code"}[role]].(string)
					return v
				}
			}
			t.Fatalf("no document %s", mkID)
			return ""
		},
	}}
}

// pushed pushes the record id of et and returns id.
func pushed(t *testing.T, b *bundle, et mksync.EntityType, id string) string {
	t.Helper()
	_, err := b.e.SyncToMetakocka(context.Background(), b.tenant, et, id)
	require.NoError(t, err)
	require.NotEmpty(t, b.mapping(t, et, id).SyncedView, "a synced mapping keeps the synced fields")
	return id
}

// syncRun runs one bulk run of et in dir.
func syncRun(t *testing.T, b *bundle, et mksync.EntityType, dir mksync.Direction) mksync.SyncResult {
	t.Helper()
	run := mksync.SyncRun{EntityType: et, Direction: dir}
	require.NoError(t, runToEnd(context.Background(), b.e, b.tenant, &run, nil))
	return run.Result
}

func conflictRecords(t *testing.T, b *bundle) []mksync.ErrorRecord {
	t.Helper()
	ers, _, err := b.store.FindErrorRecords(context.Background(), b.tenant, mksync.ErrorFilter{Category: "SYNC"})
	require.NoError(t, err)
	return ers
}

// Different fields changed on the two sides: both changes are kept on
// both sides, with no conflict, one Metakocka write, and the next run
// writes nothing.
func TestMergeKeepsChangesToDifferentFields(t *testing.T) {
	t.Parallel()
	for _, x := range mergeEntities() {
		for _, dir := range []mksync.Direction{mksync.ToMetakocka, mksync.FromMetakocka} {
			t.Run(string(x.et)+"/"+string(dir), func(t *testing.T) {
				t.Parallel()
				b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins}})
				id := x.create(t, b)
				mkID := b.mapping(t, x.et, id).MetakockaID
				x.setCRM(t, b, id, "crm", "crm-only")
				x.setMK(t, b, mkID, "mk", "mk-only")

				before := writes(b.fake.Stats())
				res := syncRun(t, b, x.et, dir)
				require.Zero(t, res.Conflicts, "%+v", res)
				require.Zero(t, res.Failed, "%+v", res)
				require.Equal(t, int64(1), writes(b.fake.Stats())-before, "the merged record goes to Metakocka in one write")
				for _, role := range []string{"crm", "mk"} {
					want := role + "-only"
					require.Equal(t, want, x.crm(t, b, id, role), "CRM %s", x.view[role])
					require.Equal(t, want, x.mk(t, b, mkID, role), "Metakocka %s", x.view[role])
				}
				m := b.mapping(t, x.et, id)
				require.Equal(t, mksync.StateSynced, m.State)
				require.Contains(t, m.SyncedView, "mk-only")
				require.Contains(t, m.SyncedView, "crm-only")
				require.Empty(t, conflictRecords(t, b))

				// Converged: neither direction writes again.
				before = writes(b.fake.Stats())
				for _, d := range []mksync.Direction{mksync.ToMetakocka, mksync.FromMetakocka} {
					res := syncRun(t, b, x.et, d)
					require.Zero(t, res.Updated+res.Conflicts+res.Failed, "%s: %+v", d, res)
				}
				require.Equal(t, before, writes(b.fake.Stats()))
			})
		}
	}
}

// The same field changed on both sides to different values is a conflict
// the policy settles; a field only one side changed is kept either way,
// and the conflict record lists the field with both values.
func TestMergeConflictOnSameFieldByPolicy(t *testing.T) {
	t.Parallel()
	for _, x := range mergeEntities() {
		for _, tc := range []struct {
			policy mksync.ConflictPolicy
			want   string // the conflicting field's value afterwards
		}{
			{mksync.CRMWins, "crm"},
			{mksync.MetakockaWins, "mk"},
			// Metakocka changed after the CRM: a document's document_info
			// says so; partners and products count from when mksync saw it.
			{mksync.NewestWins, "mk"},
		} {
			t.Run(string(x.et)+"/"+string(tc.policy), func(t *testing.T) {
				t.Parallel()
				b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: tc.policy}})
				id := x.create(t, b)
				mkID := b.mapping(t, x.et, id).MetakockaID
				x.setCRM(t, b, id, "both", "crm")
				x.setCRM(t, b, id, "crm", "crm-only")
				waitNextSecond() // Metakocka's times are to the second
				x.setMK(t, b, mkID, "both", "mk")
				x.setMK(t, b, mkID, "mk", "mk-only")

				res := syncRun(t, b, x.et, mksync.ToMetakocka)
				require.Equal(t, 1, res.Conflicts, "%+v", res)
				for _, side := range []func(*testing.T, *bundle, string, string) string{x.crm, func(t *testing.T, b *bundle, _, role string) string { return x.mk(t, b, mkID, role) }} {
					require.Equal(t, tc.want, side(t, b, id, "both"))
					require.Equal(t, "crm-only", side(t, b, id, "crm"))
					require.Equal(t, "mk-only", side(t, b, id, "mk"))
				}
				require.Equal(t, mksync.StateSynced, b.mapping(t, x.et, id).State)
				ers := conflictRecords(t, b)
				require.Len(t, ers, 1)
				require.Equal(t, mksync.ECONFLICT, ers[0].Code)
				require.Equal(t, []any{map[string]any{"field": x.view["both"], "crm": "crm", "metakocka": "mk"}},
					jsonRoundTrip(t, ers[0].Details["fields"]), "only the field changed on both sides is listed")
				require.Contains(t, ers[0].Message, x.view["both"]+" changed in the CRM and in Metakocka")
			})
		}
	}
}

// waitNextSecond waits until the wall clock enters a new second, so that a
// change after it is later to the second than one before it.
func waitNextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now) + 10*time.Millisecond)
}

// A change on one side only is never a conflict under newest_wins, in
// either direction.
func TestNewestWinsOneSideChangeIsNoConflict(t *testing.T) {
	t.Parallel()
	for _, x := range mergeEntities() {
		for _, side := range []string{"crm", "mk"} {
			t.Run(string(x.et)+"/"+side, func(t *testing.T) {
				t.Parallel()
				b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins}})
				id := x.create(t, b)
				mkID := b.mapping(t, x.et, id).MetakockaID
				if side == "crm" {
					x.setCRM(t, b, id, "both", "changed")
				} else {
					x.setMK(t, b, mkID, "both", "changed")
				}
				for _, dir := range []mksync.Direction{mksync.FromMetakocka, mksync.ToMetakocka} {
					res := syncRun(t, b, x.et, dir)
					require.Zero(t, res.Conflicts+res.Failed, "%s: %+v", dir, res)
				}
				require.Equal(t, "changed", x.crm(t, b, id, "both"))
				require.Equal(t, "changed", x.mk(t, b, mkID, "both"))
				require.Empty(t, conflictRecords(t, b))
			})
		}
	}
}

// newest_wins reads a document's change time from Metakocka: a CRM edit
// made after Metakocka's wins (by the fallback rule Metakocka's would).
func TestNewestWinsReadsDocumentTimes(t *testing.T) {
	t.Parallel()
	x := mergeEntities()[2]
	for _, dir := range []mksync.Direction{mksync.ToMetakocka, mksync.FromMetakocka} {
		t.Run(string(dir), func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.NewestWins}})
			id := x.create(t, b)
			mkID := b.mapping(t, x.et, id).MetakockaID
			x.setMK(t, b, mkID, "both", "mk")
			waitNextSecond()
			x.setCRM(t, b, id, "both", "crm")
			res := syncRun(t, b, x.et, dir)
			require.Equal(t, 1, res.Conflicts, "%+v", res)
			require.Equal(t, "crm", x.crm(t, b, id, "both"))
			require.Equal(t, "crm", x.mk(t, b, mkID, "both"))
		})
	}
}

// A mapping without synced fields (saved before they were kept) is
// settled as before: the whole record by the policy, every differing
// field listed.
func TestMergeWithoutBaseKeepsOldBehaviour(t *testing.T) {
	t.Parallel()
	x := mergeEntities()[0]
	b := setup(t, setupOpts{settings: mksync.SyncSettings{ConflictPolicy: mksync.CRMWins}})
	id := x.create(t, b)
	m := b.mapping(t, x.et, id)
	m.SyncedView, m.SyncedRemoteView = "", ""
	require.NoError(t, b.store.UpsertMapping(context.Background(), b.tenant, &m))
	b.e.cache.dropMapping(b.tenant, x.et, id)
	x.setCRM(t, b, id, "crm", "crm-only")
	x.setMK(t, b, m.MetakockaID, "mk", "mk-only")

	res := syncRun(t, b, x.et, mksync.ToMetakocka)
	require.Equal(t, 1, res.Conflicts, "%+v", res)
	require.Equal(t, "crm-only", x.mk(t, b, m.MetakockaID, "crm"))
	require.NotEqual(t, "mk-only", x.crm(t, b, id, "mk"), "no base: the CRM's record wins whole")
	ers := conflictRecords(t, b)
	require.Len(t, ers, 1)
	require.Len(t, ers[0].Details["fields"], 2)
	require.NotEmpty(t, b.mapping(t, x.et, id).SyncedView, "the sync keeps the fields from now on")
}
