// Package storetest is the conformance suite of mksync.Store: every store
// (sqlite, postgres) runs Run against fresh databases and must pass all of it.
// It is the executable form of the contract documented in store.go.
//
// The suite covers CRUD with optimistic versioning, validation, keyset
// pagination and filters, streaming, bulk upserts, sales documents with
// computed totals, mappings, cursors, sync runs and their leases, error
// records, alerts, tokens, encrypted credentials, webhook events (replays),
// transactions and, for every tenant-scoped method, tenant isolation.
package storetest

import (
	"errors"
	"iter"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// Opener returns a fresh, empty, migrated store for one test; the store is
// closed by the opener's own t.Cleanup. It must be safe to call from parallel
// tests.
type Opener func(t *testing.T) mksync.Store

// Run runs the whole conformance suite against stores made by open.
func Run(t *testing.T, open Opener) {
	t.Run("Tenants", func(t *testing.T) { t.Parallel(); testTenants(t, open(t)) })
	t.Run("Contacts", func(t *testing.T) { t.Parallel(); testContacts(t, open(t)) })
	t.Run("ContactLists", func(t *testing.T) { t.Parallel(); testContactLists(t, open(t)) })
	t.Run("ContactUpsertAndStream", func(t *testing.T) { t.Parallel(); testContactUpsertAndStream(t, open(t)) })
	t.Run("ContactPartnerFields", func(t *testing.T) { t.Parallel(); testContactPartnerFields(t, open(t)) })
	t.Run("Products", func(t *testing.T) { t.Parallel(); testProducts(t, open(t)) })
	t.Run("ProductUpsertAndStream", func(t *testing.T) { t.Parallel(); testProductUpsertAndStream(t, open(t)) })
	t.Run("WarehouseStock", func(t *testing.T) { t.Parallel(); testWarehouseStock(t, open(t)) })
	t.Run("SalesDocuments", func(t *testing.T) { t.Parallel(); testSalesDocuments(t, open(t)) })
	t.Run("SalesDocumentsAsMetakocka", func(t *testing.T) { t.Parallel(); testSalesDocumentsAsMetakocka(t, open(t)) })
	t.Run("SalesDocumentKindFields", func(t *testing.T) { t.Parallel(); testSalesDocumentKindFields(t, open(t)) })
	t.Run("SalesDocumentLists", func(t *testing.T) { t.Parallel(); testSalesDocumentLists(t, open(t)) })
	t.Run("Mappings", func(t *testing.T) { t.Parallel(); testMappings(t, open(t)) })
	t.Run("MappingLists", func(t *testing.T) { t.Parallel(); testMappingLists(t, open(t)) })
	t.Run("Tombstones", func(t *testing.T) { t.Parallel(); testTombstones(t, open(t)) })
	t.Run("LinkCounts", func(t *testing.T) { t.Parallel(); testLinkCounts(t, open(t)) })
	t.Run("ContactKeys", func(t *testing.T) { t.Parallel(); testContactKeys(t, open(t)) })
	t.Run("RecordKeys", func(t *testing.T) { t.Parallel(); testRecordKeys(t, open(t)) })
	t.Run("EmailKeyUnicode", func(t *testing.T) { t.Parallel(); testEmailKeyUnicode(t, open(t)) })
	t.Run("DocumentTombstoneKind", func(t *testing.T) { t.Parallel(); testDocumentTombstoneKind(t, open(t)) })
	t.Run("Cursors", func(t *testing.T) { t.Parallel(); testCursors(t, open(t)) })
	t.Run("SyncRuns", func(t *testing.T) { t.Parallel(); testSyncRuns(t, open(t)) })
	t.Run("Plans", func(t *testing.T) { t.Parallel(); testPlans(t, open(t)) })
	t.Run("RunLeases", func(t *testing.T) { t.Parallel(); testRunLeases(t, open(t)) })
	t.Run("ErrorRecords", func(t *testing.T) { t.Parallel(); testErrorRecords(t, open(t)) })
	t.Run("Alerts", func(t *testing.T) { t.Parallel(); testAlerts(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { t.Parallel(); testTokens(t, open(t)) })
	t.Run("Credentials", func(t *testing.T) { t.Parallel(); testCredentials(t, open(t)) })
	t.Run("WebhookEvents", func(t *testing.T) { t.Parallel(); testWebhookEvents(t, open(t)) })
	t.Run("InTx", func(t *testing.T) { t.Parallel(); testInTx(t, open(t)) })
	t.Run("Tenancy", func(t *testing.T) { t.Parallel(); testTenancy(t, open(t)) })
	t.Run("Ping", func(t *testing.T) { t.Parallel(); require.NoError(t, open(t).Ping(t.Context())) })
}

// requireCode asserts that err carries the domain error code.
func requireCode(t testing.TB, err error, code string, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, code, mksync.ErrorCode(err), append([]any{"error: %v", err}, msgAndArgs...)...)
}

// newTenant creates a tenant and returns its id.
func newTenant(t testing.TB, s mksync.Store, name string) string {
	t.Helper()
	tn := mksync.Tenant{Name: name}
	require.NoError(t, s.CreateTenant(t.Context(), &tn))
	require.NotEmpty(t, tn.ID)
	return tn.ID
}

// collect drains a streaming iterator.
func collect[T any](t testing.TB, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// pageAll walks a keyset-paginated list to its end, checking page sizes and
// cursors on the way.
func pageAll[T any](t testing.TB, limit int, list func(p mksync.Page) ([]T, string, error)) []T {
	t.Helper()
	var out []T
	after := ""
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "pagination does not end")
		page, next, err := list(mksync.Page{After: after, Limit: limit})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), limit)
		out = append(out, page...)
		if next == "" {
			return out
		}
		require.Len(t, page, limit, "a page before the last must be full")
		require.NotEqual(t, after, next)
		after = next
	}
}

// requireSame compares two records after normalising the representations
// that stores may legitimately differ in: decimals compare by value, times
// by instant (UTC, microseconds).
func requireSame(t testing.TB, want, got any, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, normalize(want), normalize(got), msgAndArgs...)
}

var (
	decimalType = reflect.TypeFor[decimal.Decimal]()
	timeType    = reflect.TypeFor[time.Time]()
)

// normalize returns a deep copy of v with decimals and times canonical.
func normalize(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return v
	}
	out := reflect.New(rv.Type()).Elem()
	normalizeInto(out, rv)
	return out.Interface()
}

func normalizeInto(dst, src reflect.Value) {
	switch {
	case src.Type() == decimalType:
		d := src.Interface().(decimal.Decimal)
		dst.Set(reflect.ValueOf(decimal.RequireFromString(d.String())))
		return
	case src.Type() == timeType:
		tm := src.Interface().(time.Time)
		if tm.IsZero() {
			dst.Set(reflect.ValueOf(time.Time{}))
		} else {
			dst.Set(reflect.ValueOf(tm.UTC().Truncate(time.Microsecond)))
		}
		return
	}
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		normalizeInto(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Struct:
		for i := range src.NumField() {
			if !dst.Field(i).CanSet() {
				dst.Set(src) // unexported fields: compare as they are
				return
			}
			normalizeInto(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if src.Len() == 0 {
			return // nil and empty slices are the same to a caller
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			normalizeInto(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() || src.Len() == 0 {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		iter := src.MapRange()
		for iter.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			normalizeInto(v, iter.Value())
			m.SetMapIndex(iter.Key(), v)
		}
		dst.Set(m)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		normalizeInto(v, src.Elem())
		dst.Set(v)
	default:
		dst.Set(src)
	}
}

// requireRecentUTC asserts a store-set time is set, in UTC.
func requireRecentUTC(t testing.TB, tm time.Time) {
	t.Helper()
	require.False(t, tm.IsZero(), "time not set")
	require.Equal(t, time.UTC, tm.Location(), "time not in UTC")
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// errNope is returned by InTx callbacks to force a rollback.
var errNope = errors.New("storetest: roll back")
