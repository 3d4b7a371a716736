package web_test

import (
	"context"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// TestContactPartnerFields: the contact page shows the partner fields
// Metakocka keeps (contact person, buyer, taxpayer, payment due days, the
// delivery address) and saves them as one versioned update; the mapping
// of a synced contact becomes pending so the next push sends them.
func TestContactPartnerFields(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.browser().login(b.a.Token)
	no := false
	c := mksync.Contact{Name: "Partner d.o.o.", BusinessEntity: true, ContactPerson: "Ana Novak", Buyer: &no, Taxpayer: true,
		PaymentDueDays: 30, DeliveryStreet: "Skladiščna 5", DeliveryPostNumber: "2000", DeliveryCity: "Maribor", DeliveryCountry: "SI"}
	require.NoError(t, b.store.CreateContact(ctx, b.a.ID, &c))
	require.NoError(t, b.store.UpsertMapping(ctx, b.a.ID, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID,
		MetakockaID: "800", State: mksync.StateSynced}))

	p := br.get("/contacts/" + c.ID)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	body := html.UnescapeString(p.Body)
	for _, want := range []string{"<dt>Contact person</dt><dd>Ana Novak</dd>", "<dt>Buyer</dt><dd>No</dd>", "<dt>Taxpayer</dt><dd>Yes</dd>",
		"<dt>Payment due</dt><dd>30 days</dd>", "<dt>Delivery address</dt><dd>Skladiščna 5, 2000 Maribor, SI</dd>",
		`id="contactPerson" name="contactPerson" value="Ana Novak"`, `<option value="no" selected>`, `id="taxpayer" name="taxpayer" checked`,
		`name="paymentDueDays" value="30"`, `name="deliveryCity" value="Maribor"`, `name="version" value="1"`} {
		require.Contains(t, body, want)
	}

	t.Run("a plain form saves and goes back to the page", func(t *testing.T) {
		p := br.post("/contacts/"+c.ID+"/partner", br.form("version", "1", "contactPerson", "Marko Kovač", "buyer", "yes",
			"paymentDueDays", "45", "deliveryStreet", "Nova 1", "deliveryPostNumber", "1000", "deliveryCity", "Ljubljana", "deliveryCountry", "SI"))
		require.Equal(t, http.StatusSeeOther, p.Status, p.Body)
		require.Equal(t, "/contacts/"+c.ID, p.Location)
		got, err := b.store.FindContactByID(ctx, b.a.ID, c.ID)
		require.NoError(t, err)
		require.Equal(t, "Marko Kovač", got.ContactPerson)
		require.NotNil(t, got.Buyer)
		require.True(t, *got.Buyer)
		require.False(t, got.Taxpayer, "an unchecked box is no")
		require.Equal(t, 45, got.PaymentDueDays)
		require.Equal(t, [4]string{"Nova 1", "1000", "Ljubljana", "SI"}, [4]string{got.DeliveryStreet, got.DeliveryPostNumber, got.DeliveryCity, got.DeliveryCountry})
		require.Equal(t, "Partner d.o.o.", got.Name, "the contact's other fields are kept")
		require.Equal(t, int64(2), got.Version)
		m, err := b.store.FindMapping(ctx, b.a.ID, mksync.EntityContact, c.ID)
		require.NoError(t, err)
		require.Equal(t, mksync.StatePending, m.State, "the next push sends the change")
	})

	t.Run("htmx gets the saved form and the record's fields as they are now", func(t *testing.T) {
		p := br.post("/contacts/"+c.ID+"/partner", br.form("version", "2", "contactPerson", "Marko Kovač", "buyer", "",
			"taxpayer", "on", "paymentDueDays", ""), "HX-Request", "true")
		require.Equal(t, http.StatusOK, p.Status, p.Body)
		body := html.UnescapeString(p.Body)
		require.True(t, strings.HasPrefix(body, `<form id="partner"`), body)
		require.Contains(t, body, "Partner details saved.")
		require.Contains(t, body, `name="version" value="3"`, "the next save names the new version")
		require.Contains(t, body, `<dl class="fields" id="record-fields" hx-swap-oob="outerHTML">`)
		require.Contains(t, body, "<dt>Buyer</dt><dd>not said</dd>")
		require.Contains(t, body, "<dt>Payment due</dt><dd>Metakocka's default</dd>")
		require.NotContains(t, body, "<dt>Delivery address</dt>", "an emptied delivery address is gone")
		got, err := b.store.FindContactByID(ctx, b.a.ID, c.ID)
		require.NoError(t, err)
		require.Nil(t, got.Buyer, "not said")
		require.True(t, got.Taxpayer)
		require.Zero(t, got.PaymentDueDays)
		require.False(t, got.HasDelivery())
	})
}

// TestContactPartnerFieldsRefused: a bad value is shown on its field with
// what was typed, and nothing of the form is written (not even its good
// fields); a save over a newer version, another tenant's contact and a
// form without its CSRF token are refused too.
func TestContactPartnerFieldsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.browser().login(b.a.Token)
	id := b.a.ContactID
	path := "/contacts/" + id + "/partner"
	before, err := b.store.FindContactByID(ctx, b.a.ID, id)
	require.NoError(t, err)
	unchanged := func(t *testing.T) {
		t.Helper()
		got, err := b.store.FindContactByID(ctx, b.a.ID, id)
		require.NoError(t, err)
		require.Equal(t, before.Version, got.Version, "nothing was written")
		require.Empty(t, got.ContactPerson)
		require.Zero(t, got.PaymentDueDays)
		require.False(t, got.HasDelivery())
	}
	version := strconv.FormatInt(before.Version, 10)
	for _, tc := range []struct {
		name, field, value, problem string
	}{
		{"days not a number", "paymentDueDays", "thirty", "Payment due must be a whole number of days"},
		{"days out of range", "paymentDueDays", "5000", "Payment due must be between 0 and 3650"},
		{"days negative", "paymentDueDays", "-1", "Payment due must be between 0 and 3650"},
		{"buyer not a choice", "buyer", "maybe", "Buyer must be yes, no or not said"},
		{"contact person too long", "contactPerson", strings.Repeat("a", 256), "Contact person must be at most 255 characters"},
		{"delivery city too long", "deliveryCity", strings.Repeat("č", 101), "City must be at most 100 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := br.form("version", version, "contactPerson", "Ana Novak", "deliveryStreet", "Nova 1", "paymentDueDays", "30")
			form.Set(tc.field, tc.value)
			for _, htmx := range []bool{false, true} {
				hdr := []string{}
				if htmx {
					hdr = []string{"HX-Request", "true"}
				}
				p := br.post(path, form, hdr...)
				require.Equal(t, http.StatusBadRequest, p.Status, p.Body)
				body := html.UnescapeString(p.Body)
				require.Contains(t, body, `<p class="field-error" id="`+tc.field+`-err">`+tc.problem)
				require.Regexp(t, `id="`+tc.field+`" [^>]*aria-invalid="true"`, body, "the field is marked")
				require.Regexp(t, `id="`+tc.field+`" [^>]*aria-describedby="[^"]*`+tc.field+`-err"`, body, "and points at its problem")
				require.Contains(t, body, `value="Nova 1"`, "what was typed is shown again")
				require.Equal(t, htmx, strings.HasPrefix(body, `<form id="partner"`), "htmx gets the form alone")
				unchanged(t)
			}
		})
	}

	t.Run("a newer version is not overwritten", func(t *testing.T) {
		p := br.post(path, br.form("version", "0", "contactPerson", "Ana Novak"), "HX-Request", "true")
		require.Equal(t, http.StatusConflict, p.Status, p.Body)
		require.Contains(t, html.UnescapeString(p.Body), "This contact was changed since you opened the page")
		require.Contains(t, p.Body, `name="version" value="0"`, "sending the form again is refused again, until a reload")
		unchanged(t)
	})
	t.Run("another tenant's contact is not found", func(t *testing.T) {
		p := br.post("/contacts/"+b.b.ContactID+"/partner", br.form("version", "1", "contactPerson", "Ana Novak"))
		require.Equal(t, http.StatusNotFound, p.Status)
		got, err := b.store.FindContactByID(ctx, b.b.ID, b.b.ContactID)
		require.NoError(t, err)
		require.Empty(t, got.ContactPerson)
	})
	t.Run("without the CSRF token", func(t *testing.T) {
		form := br.form("version", version, "contactPerson", "Ana Novak")
		form.Del("csrf")
		require.Equal(t, http.StatusForbidden, br.post(path, form).Status)
		unchanged(t)
	})
	t.Run("products have no partner form", func(t *testing.T) {
		pr := mksync.Product{Code: "P1", Name: "Product"}
		require.NoError(t, b.store.CreateProduct(ctx, b.a.ID, &pr))
		require.NotContains(t, br.get("/products/"+pr.ID).Body, `id="partner"`)
		require.Equal(t, http.StatusNotFound, br.post("/products/"+pr.ID+"/partner", br.form("version", "1")).Status)
	})
}

// TestProductStockPerWarehouse: a product's page lists its stock in each
// Metakocka warehouse beside the total; a product without per-warehouse
// stock shows the total only.
func TestProductStockPerWarehouse(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.browser().login(b.a.Token)
	p := mksync.Product{Code: "W-1", Name: "Stocked", StockAmount: decimal.RequireFromString("12.5")}
	require.NoError(t, b.store.CreateProduct(ctx, b.a.ID, &p))
	require.NoError(t, b.store.SetWarehouseStock(ctx, b.a.ID, p.ID, []mksync.WarehouseStock{
		{WarehouseID: "91", Mark: "GL", Name: "Glavno skladišče", Amount: decimal.RequireFromString("10")},
		{WarehouseID: "92", Mark: "", Name: "", Amount: decimal.RequireFromString("2.5")},
	}))
	page := br.get("/products/" + p.ID)
	require.Equal(t, http.StatusOK, page.Status, page.Body)
	body := html.UnescapeString(page.Body)
	require.Contains(t, body, "<dt>Stock (from Metakocka)</dt><dd>12.5</dd>")
	require.Contains(t, body, `<h3 id="stock-h">Stock per warehouse</h3>`)
	require.Contains(t, body, `<tr><td>Glavno skladišče</td><td><code>GL</code></td><td class="num">10</td></tr>`)
	require.Contains(t, body, `<tr><td>Warehouse 92</td><td>—</td><td class="num">2.5</td></tr>`, "a warehouse not in the list is named by its id")
	require.Contains(t, body, `<td class="num stock-total">12.5</td>`)

	plain := mksync.Product{Code: "W-2", Name: "Unstocked", StockAmount: decimal.RequireFromString("3")}
	require.NoError(t, b.store.CreateProduct(ctx, b.a.ID, &plain))
	body = br.get("/products/" + plain.ID).Body
	require.Contains(t, body, "<dt>Stock (from Metakocka)</dt><dd>3</dd>")
	require.NotContains(t, body, "stock-h")

	other := b.browser().login(b.b.Token)
	require.Equal(t, http.StatusNotFound, other.get("/products/"+p.ID).Status)
}

// TestRecordConflict: the page of a record whose last sync recorded a
// conflict lists the fields changed on both sides with both values and
// the side kept, as the engine's conflict record says; an open conflict
// (the mapping's last error) shows even behind a newer error; a record
// whose last problem is not a conflict shows none.
func TestRecordConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.browser().login(b.a.Token)
	now := time.Now().UTC()
	conflictRec := func(entityID, winner string, at time.Time) mksync.ErrorRecord {
		e := mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka", EntityID: entityID, Code: mksync.ECONFLICT,
			Message: "email, paymentDueDays changed in the CRM and in Metakocka since the last sync", CreatedAt: at,
			Details: map[string]any{"entityType": "contact", "metakockaId": "800", "policy": "newest_wins", "winner": winner,
				"fields": []map[string]any{
					{"field": "email", "crm": "crm@example.com", "metakocka": "mk@example.com"},
					{"field": "paymentDueDays", "crm": 30, "metakocka": nil},
				}}}
		require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &e))
		return e
	}

	t.Run("decided", func(t *testing.T) {
		e := conflictRec(b.a.ContactID, "metakocka", now)
		body := html.UnescapeString(br.get("/contacts/" + b.a.ContactID).Body)
		require.Contains(t, body, `<section class="card conflict" id="conflict" aria-labelledby="conflict-h" data-open="false">`)
		require.Contains(t, body, "Last conflict")
		require.Contains(t, body, `Kept: <strong class="conflict-kept">Metakocka's values</strong> (policy: newest change wins)`)
		require.Contains(t, body, `<tr data-field="email">
<th scope="row"><code>email</code></th>
<td class="crm">crm@example.com</td>
<td class="metakocka kept">mk@example.com <span class="badge badge-synced">kept</span></td>`)
		require.Contains(t, body, `<td class="crm">30</td>`)
		require.Contains(t, body, `<td class="metakocka kept">(empty) <span class="badge badge-synced">kept</span></td>`)
		require.Contains(t, body, `href="/errors/`+e.ID+`"`)
	})

	t.Run("a newer error that is not a conflict hides a decided one", func(t *testing.T) {
		require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka",
			EntityID: b.a.ContactID, Code: mksync.EUPSTREAM, Message: "Metakocka unreachable", CreatedAt: now.Add(time.Minute)}))
		require.NotContains(t, br.get("/contacts/"+b.a.ContactID).Body, `id="conflict"`)
	})

	t.Run("open: the mapping's conflict, behind newer errors", func(t *testing.T) {
		c := mksync.Contact{Name: "Open Conflict"}
		require.NoError(t, b.store.CreateContact(ctx, b.a.ID, &c))
		e := conflictRec(c.ID, "none", now.Add(-time.Hour))
		for i := range 11 { // more than the page lists
			require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka",
				EntityID: c.ID, Code: mksync.EUPSTREAM, Message: "boom", CreatedAt: now.Add(time.Duration(i) * time.Second)}))
		}
		require.NoError(t, b.store.UpsertMapping(ctx, b.a.ID, &mksync.Mapping{EntityType: mksync.EntityContact, EntityID: c.ID,
			MetakockaID: "801", State: mksync.StateConflict, LastError: e.ID}))
		body := html.UnescapeString(br.get("/contacts/" + c.ID).Body)
		require.Contains(t, body, `data-open="true"`)
		require.Contains(t, body, "Conflict: needs a decision")
		require.Contains(t, body, "neither yet: it needs a decision")
		require.Contains(t, body, `<td class="crm">crm@example.com</td>`)
		require.NotContains(t, body, `class="crm kept"`)
		require.NotContains(t, body, `class="metakocka kept"`)
	})

	t.Run("a conflict without fields (a stale version) shows no table", func(t *testing.T) {
		c := mksync.Contact{Name: "Stale"}
		require.NoError(t, b.store.CreateContact(ctx, b.a.ID, &c))
		require.NoError(t, b.store.CreateErrorRecord(ctx, b.a.ID, &mksync.ErrorRecord{Category: "SYNC", Operation: "contacts.sync_to_metakocka",
			EntityID: c.ID, Code: mksync.ECONFLICT, Message: "version 1 is stale", CreatedAt: now}))
		require.NotContains(t, br.get("/contacts/"+c.ID).Body, `id="conflict"`)
	})
}
