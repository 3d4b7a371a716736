package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// demoTenant returns the demo tenant, connected to the simulator at mkURL,
// and a new sign-in token of it. Unless keep, an earlier demo tenant is
// deleted with its data and a new one made with the demo's own CRM
// records, so that the store matches the freshly seeded simulator.
func demoTenant(ctx context.Context, st mksync.Store, keep bool, mkURL string, secret mksync.Secret) (string, mksync.Secret, error) {
	var old string
	for after := ""; ; {
		ts, next, err := st.ListTenants(ctx, mksync.Page{After: after, Limit: mksync.MaxPageLimit})
		if err != nil {
			return "", "", fmt.Errorf("list tenants: %w", err)
		}
		for _, t := range ts {
			if t.Name == demoTenantName {
				old = t.ID
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	tenantID := old
	if old != "" && !keep {
		if err := st.DeleteTenant(ctx, old); err != nil {
			return "", "", fmt.Errorf("delete the previous demo tenant: %w", err)
		}
		tenantID = ""
	}
	fresh := tenantID == ""
	if fresh {
		t := mksync.Tenant{Name: demoTenantName}
		if err := st.CreateTenant(ctx, &t); err != nil {
			return "", "", fmt.Errorf("create the demo tenant: %w", err)
		}
		tenantID = t.ID
	}
	creds := mksync.MetakockaCredentials{CompanyID: demoCompanyID, SecretKey: secret, BaseURL: mkURL}
	if cur, err := st.FindCredentials(ctx, tenantID); err == nil {
		creds.Settings = cur.Settings
	}
	// No price list is set: the first sync discovers the one the demo
	// company's products carry (mkfake.DemoPricelist) and Settings shows it
	// as discovered.
	if err := st.SetCredentials(ctx, tenantID, &creds); err != nil {
		return "", "", fmt.Errorf("connect the demo tenant: %w", err)
	}
	plain, hash, err := mksync.NewTokenSecret()
	if err != nil {
		return "", "", err
	}
	tok := mksync.APIToken{Name: "demo " + time.Now().UTC().Format(time.DateTime), Hash: hash}
	if err := st.CreateAPIToken(ctx, tenantID, &tok); err != nil {
		return "", "", fmt.Errorf("create a sign-in token: %w", err)
	}
	if fresh {
		if err := seedDemoCRM(ctx, st, tenantID); err != nil {
			return "", "", err
		}
	}
	return tenantID, plain, nil
}

// forgetMissing deletes the kept demo tenant's mappings to Metakocka
// records that the freshly seeded simulator does not have (those the
// previous demo pushed): the initial sync then pushes those records again,
// instead of taking them for unchanged. Mappings to the seeded records stay
// (the seed makes the same mk_ids every time).
func forgetMissing(ctx context.Context, st mksync.Store, tenantID string, fake *mkfake.Server) error {
	have := map[mksync.EntityType]map[string]bool{}
	for _, et := range mksync.EntityTypes {
		have[et] = map[string]bool{}
	}
	for _, p := range fake.Partners(demoCompanyID) {
		have[mksync.EntityContact][p.MkID] = true
	}
	for _, p := range fake.Products(demoCompanyID) {
		have[mksync.EntityProduct][p.MkID] = true
	}
	for _, d := range fake.Documents(demoCompanyID) {
		have[mksync.EntitySalesDocument][d.MkID] = true
	}
	for _, et := range mksync.EntityTypes {
		var gone []string
		for m, err := range st.AllMappings(ctx, tenantID, et) {
			if err != nil {
				return fmt.Errorf("read %s mappings: %w", et, err)
			}
			if m.MetakockaID != "" && !have[et][m.MetakockaID] {
				gone = append(gone, m.EntityID)
			}
		}
		for _, id := range gone {
			if err := st.DeleteMapping(ctx, tenantID, et, id); err != nil {
				return fmt.Errorf("forget %s mapping %s: %w", et, id, err)
			}
		}
	}
	return nil
}

// seedDemoCRM makes the demo's own CRM records, which Metakocka does not
// have yet: the initial sync pushes them.
func seedDemoCRM(ctx context.Context, st mksync.Store, tenantID string) error {
	contacts := []mksync.Contact{
		{Name: "Kovač in partnerji d.o.o.", BusinessEntity: true, TaxID: "SI51234567", Email: "info@kovac.example",
			Phone: "01 234 56 78", Street: "Dunajska cesta 101", PostNumber: "1000", City: "Ljubljana", Country: "SI"},
		{Name: "Mlinar Špela s.p.", BusinessEntity: true, TaxID: "SI62345678", Email: "spela@mlinar.example",
			Phone: "02 345 67 89", Street: "Gosposka ulica 5", PostNumber: "2000", City: "Maribor", Country: "SI"},
		{Name: "Janez Novak", Email: "janez.novak@example.com", Mobile: "041 123 456",
			Street: "Prešernova 12", PostNumber: "4000", City: "Kranj", Country: "SI"},
		{Name: "Alpenhof GmbH", BusinessEntity: true, TaxID: "ATU12345678", Email: "office@alpenhof.example",
			Street: "Hauptplatz 3", PostNumber: "9020", City: "Klagenfurt", Country: "AT"},
	}
	for i := range contacts {
		if err := st.CreateContact(ctx, tenantID, &contacts[i]); err != nil {
			return fmt.Errorf("demo contact %s: %w", contacts[i].Name, err)
		}
	}
	products := []mksync.Product{
		{Code: "CRM-001", Name: "Svetovanje (ura)", Unit: "h", Price: decimal.RequireFromString("65.00"), TaxRate: decimal.NewFromInt(22), Sales: true, Service: true},
		{Code: "CRM-002", Name: "Namestitev sistema", Unit: "kos", Price: decimal.RequireFromString("450.00"), TaxRate: decimal.NewFromInt(22), Sales: true, Service: true},
		{Code: "CRM-003", Name: "Tiskana navodila", Unit: "kos", Price: decimal.RequireFromString("12.50"), TaxRate: decimal.RequireFromString("9.5"), Sales: true},
	}
	for i := range products {
		if err := st.CreateProduct(ctx, tenantID, &products[i]); err != nil {
			return fmt.Errorf("demo product %s: %w", products[i].Code, err)
		}
	}
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2026, time.March, 2), ContactID: contacts[0].ID, Currency: "EUR",
		Lines: []mksync.DocumentLine{
			{ProductID: products[0].ID, Quantity: decimal.NewFromInt(6), UnitPrice: products[0].Price, TaxRate: products[0].TaxRate},
			{ProductID: products[2].ID, Quantity: decimal.NewFromInt(2), UnitPrice: products[2].Price, TaxRate: products[2].TaxRate},
		}}
	if err := st.CreateSalesDocument(ctx, tenantID, &d); err != nil {
		return fmt.Errorf("demo sales document: %w", err)
	}
	return nil
}
