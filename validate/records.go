package validate

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
)

// namer makes record names unique within a run and across runs:
// MKSYNC-VALIDATE-<what>-<run>-<n>.
type namer struct {
	run string
	n   atomic.Int64
}

func newNamer() *namer {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &namer{run: hex.EncodeToString(b)}
}

func (n *namer) name(what string) string {
	return fmt.Sprintf("%s%s-%s-%d", Prefix, what, n.run, n.n.Add(1))
}

// newContact is a valid contact named name, with an e-mail of its own: a
// shared one would match the partners of earlier runs left in a real
// account (contacts are matched by e-mail before a create).
func newContact(name string) *mksync.Contact {
	return &mksync.Contact{Name: name, Email: strings.ToLower(name) + "@example.com",
		Street: "Validation street 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
}

// newProduct is a valid product whose code and name are name.
func newProduct(name string) *mksync.Product {
	return &mksync.Product{Code: name, Name: name, Unit: "kos",
		Price: decimal.RequireFromString("9.99"), TaxRate: decimal.NewFromInt(22), Sales: true}
}

// newDocument is a valid sales order of two of product p for contactID.
func newDocument(contactID string, p *mksync.Product, notes string) *mksync.SalesDocument {
	return &mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2025, 6, 1), ContactID: contactID,
		Currency: "EUR", Notes: notes,
		Lines: []mksync.DocumentLine{{ProductID: p.ID, Quantity: decimal.NewFromInt(2), UnitPrice: p.Price, TaxRate: p.TaxRate}}}
}

// field reads the field the checks change: a contact's or product's name, a
// document's status code (update_document cannot change the notes of every
// document type).
func field(rec any) string {
	switch r := rec.(type) {
	case *mksync.Contact:
		return r.Name
	case *mksync.Product:
		return r.Name
	case *mksync.SalesDocument:
		return r.Status
	}
	return ""
}

// setField sets the field that field reads.
func setField(rec any, value string) {
	switch r := rec.(type) {
	case *mksync.Contact:
		r.Name = value
	case *mksync.Product:
		r.Name = value
	case *mksync.SalesDocument:
		r.Status = value
	}
}

// meta returns a record's kind, id and version.
func meta(rec any) (et mksync.EntityType, id string, version int64) {
	switch r := rec.(type) {
	case *mksync.Contact:
		return mksync.EntityContact, r.ID, r.Version
	case *mksync.Product:
		return mksync.EntityProduct, r.ID, r.Version
	case *mksync.SalesDocument:
		return mksync.EntitySalesDocument, r.ID, r.Version
	}
	return "", "", 0
}

// idOf returns a record's id.
func idOf(rec any) string { _, id, _ := meta(rec); return id }

// badTaxRate is a tax rate with no Metakocka tax code: the store takes it,
// Metakocka cannot.
var badTaxRate = decimal.RequireFromString("12.34")

// describeResult is a SyncResult in a few words.
func describeResult(r mksync.SyncResult) string {
	s := fmt.Sprintf("created %d, updated %d, skipped %d, conflicts %d, failed %d", r.Created, r.Updated, r.Skipped, r.Conflicts, r.Failed)
	for _, e := range r.Errors {
		s += fmt.Sprintf("; %s: %s %s (errorId %s)", e.ID, e.Code, e.Error, e.ErrorID)
	}
	return s
}
