package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// The OpenAPI 3.1 document is built from the Go types the handlers encode
// and decode (by reflection over their JSON tags), so that it cannot drift
// from them, plus one table of operations below. A test fails when a
// registered route is missing from it, and the end-to-end tests validate real
// answers against it.

// schemaSet builds JSON Schemas for Go types and collects named components.
type schemaSet struct {
	components map[string]any
	names      map[reflect.Type]string
}

// enums lists the allowed values of the domain's string types.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[mksync.EntityType]():     strs(mksync.EntityTypes),
	reflect.TypeFor[mksync.SyncState]():      append(strs(mksync.SyncStates), string(mksync.StateUnsynced)),
	reflect.TypeFor[mksync.Direction]():      {string(mksync.ToMetakocka), string(mksync.FromMetakocka)},
	reflect.TypeFor[mksync.Trigger]():        {"api", "ui", "cli", "schedule", "webhook", "auto_push"},
	reflect.TypeFor[mksync.RunStatus]():      {"queued", "running", "succeeded", "partial", "failed", "cancelled"},
	reflect.TypeFor[mksync.DocumentKind]():   strs(mksync.DocumentKinds),
	reflect.TypeFor[mksync.ConflictPolicy](): {string(mksync.NewestWins), string(mksync.CRMWins), string(mksync.MetakockaWins)},
	reflect.TypeFor[mksync.DeletePolicy]():   {string(mksync.DeleteKeep), string(mksync.DeleteInMetakocka)},
	reflect.TypeFor[mksync.AlertStatus]():    {string(mksync.AlertOpen), string(mksync.AlertResolved)},
	reflect.TypeFor[mksync.PricelistSource](): {"", string(mksync.PricelistChosen), string(mksync.PricelistDiscovered),
		string(mksync.PricelistUndecided)},
	reflect.TypeFor[mksync.PlanAction](): {string(mksync.PlanLink), string(mksync.PlanCreateThere), string(mksync.PlanCreateHere),
		string(mksync.PlanUpdateThere), string(mksync.PlanUpdateHere), string(mksync.PlanDeleteThere), string(mksync.PlanConflict), string(mksync.PlanAmbiguous),
		string(mksync.PlanSkip), string(mksync.PlanFail)},
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// add registers t as the component name. Output components require every
// field that is not omitempty; input components (input set) require none,
// since the handlers' validation says what is missing, field by field.
func (ss *schemaSet) add(name string, t reflect.Type, input bool) {
	ss.names[t] = name
	ss.components[name] = ss.structSchema(t, input)
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func (ss *schemaSet) schema(t reflect.Type, input bool) map[string]any {
	if name, ok := ss.names[t]; ok && !input {
		return ref(name)
	}
	switch t {
	case decimalType:
		return map[string]any{"type": "string", "pattern": `^-?[0-9]+(\.[0-9]+)?$`, "description": "decimal number as a string"}
	case dateType:
		return map[string]any{"type": "string", "format": "date"}
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case durationType:
		return map[string]any{"type": "string", "description": `Go duration text, e.g. "15m0s"; "0s" is off`}
	}
	if vs, ok := enums[t]; ok {
		return map[string]any{"type": "string", "enum": vs}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := ss.schema(t.Elem(), input)
		if typ, ok := inner["type"].(string); ok {
			out := map[string]any{}
			for k, v := range inner {
				out[k] = v
			}
			out["type"] = []string{typ, "null"}
			if e, ok := out["enum"].([]string); ok {
				out["enum"] = append(append([]any{}, toAny(e)...), nil)
			}
			return out
		}
		return map[string]any{"anyOf": []any{inner, map[string]any{"type": "null"}}}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": ss.schema(t.Elem(), input)}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return map[string]any{"type": "object"}
		}
		return map[string]any{"type": "object", "additionalProperties": ss.schema(t.Elem(), input)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		return ss.structSchema(t, input)
	}
	panic("openapi: no schema for " + t.String())
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (ss *schemaSet) structSchema(t reflect.Type, input bool) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = ss.schema(f.Type, input)
		if !input && !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

// operation is one documented route.
type operation struct {
	method, path, id, summary, tag string
	auth                           access
	query                          []param
	body                           string // request component, "" for none
	bodyOptional                   bool
	status                         int    // success status
	result                         string // success component, "" for no content
	headers                        []param
	// alt documents further success statuses and their components.
	alt map[int]string
	// errs documents further error statuses (or rewords default ones).
	errs map[int]string
}

type param struct {
	name, typ, desc string
	enum            []string
	required        bool
}

var (
	pCursor = param{name: "cursor", typ: "string", desc: "nextCursor of the previous page"}
	pLimit  = param{name: "limit", typ: "integer", desc: "page size, 1–1000 (default 50)"}
	pState  = param{name: "state", typ: "string", desc: "keep records in this sync state", enum: stateNames()}
	pDryRun = param{name: "dryRun", typ: "boolean", desc: "a preview: decide every record, write nothing, keep the plan (202 {runId}; GET /api/sync-runs/{id}/plan)"}
	pQ      = param{name: "q", typ: "string", desc: "case-insensitive substring of name, code, e-mail or number"}
)

// operations lists every route of the API.
func (s *Server) operations() []operation {
	ops := []operation{
		{method: "GET", path: "/healthz", id: "healthz", summary: "The process is up", tag: "health", auth: public, status: 200, result: "Status"},
		{method: "GET", path: "/readyz", id: "readyz", summary: "The database is reachable", tag: "health", auth: public, status: 200, result: "Status"},
		{method: "GET", path: "/api/openapi.json", id: "openapi", summary: "This document", tag: "health", auth: public, status: 200, result: "OpenAPIDocument"},
	}
	for _, e := range s.entities() {
		name := map[mksync.EntityType]string{mksync.EntityContact: "Contact", mksync.EntityProduct: "Product", mksync.EntitySalesDocument: "SalesDocument"}[e.typ]
		base := "/api/" + e.path
		ops = append(ops,
			operation{method: "GET", path: base, id: "list" + name + "s", summary: "List " + e.path + " with their mappings", tag: e.path, auth: tenantOnly,
				query: []param{pCursor, pLimit, pState, pQ}, status: 200, result: name + "List"},
			operation{method: "POST", path: base, id: "create" + name, summary: "Create a " + string(e.typ) + " (id, version and times are set by the server)", tag: e.path, auth: tenantOnly,
				body: name + "Input", status: 201, result: name},
			operation{method: "GET", path: base + "/{id}", id: "get" + name, summary: "One " + string(e.typ) + " with its mapping", tag: e.path, auth: tenantOnly, status: 200, result: name},
			operation{method: "PUT", path: base + "/{id}", id: "update" + name, summary: "Replace a " + string(e.typ) + "; version must be the one read (409 otherwise)", tag: e.path, auth: tenantOnly,
				body: name + "Input", status: 200, result: name},
			operation{method: "DELETE", path: base + "/{id}", id: "delete" + name, summary: "Delete a " + string(e.typ) + " and its mapping", tag: e.path, auth: tenantOnly, status: 204},
		)
	}
	for _, e := range s.entities() {
		name := map[mksync.EntityType]string{mksync.EntityContact: "Contacts", mksync.EntityProduct: "Products", mksync.EntitySalesDocument: "SalesDocuments"}[e.typ]
		base := "/api/integrations/metakocka/" + e.path + "/"
		tag := "sync"
		ops = append(ops,
			operation{method: "POST", path: base + "sync-to-metakocka", id: "sync" + name + "ToMetakocka",
				summary: "Push one record now (body {" + e.idField + "}: 200 SyncResult), or with ?bulk=true many in the background (body {" + e.idsField + "}: 202 {runId})",
				tag:     tag, auth: tenantOnly, query: []param{{name: "bulk", typ: "boolean", desc: "queue a background run over " + e.idsField}, pDryRun},
				body: name + "SyncToBody", status: 200, result: "SyncResult"},
			operation{method: "POST", path: base + "sync-from-metakocka", id: "sync" + name + "FromMetakocka", summary: "Pull one Metakocka record (by mk_id) into the CRM now (with ?dryRun=true: 202 {runId}, a preview)",
				tag: tag, auth: tenantOnly, query: []param{pDryRun}, body: "MetakockaIDBody", status: 200, result: "SyncResult", alt: map[int]string{202: "RunAccepted"}},
			operation{method: "GET", path: base + "sync-from-metakocka", id: "list" + name + "NotInCRM", summary: "Metakocka records not yet in the CRM",
				tag: tag, auth: tenantOnly, query: []param{pCursor, pLimit}, status: 200, result: "RemoteRecordList"},
			operation{method: "POST", path: base + "sync-all-to-metakocka", id: "syncAll" + name + "ToMetakocka", summary: "Queue a background push of every record (or of " + e.idsField + ")",
				tag: tag, auth: tenantOnly, query: []param{pDryRun}, body: name + "IDsBody", bodyOptional: true, status: 202, result: "RunAccepted"},
			operation{method: "POST", path: base + "sync-all-from-metakocka", id: "syncAll" + name + "FromMetakocka", summary: "Queue a background pull of every Metakocka record (or of metakockaIds)",
				tag: tag, auth: tenantOnly, query: []param{pDryRun}, body: "MetakockaIDsBody", bodyOptional: true, status: 202, result: "RunAccepted"},
			operation{method: "GET", path: base + "mappings", id: "list" + name + "Mappings", summary: "Mappings to Metakocka; ?id= gives the one of a record (empty items when unmapped, 404 when no such record)",
				tag: tag, auth: tenantOnly, query: []param{{name: "id", typ: "string", desc: "a CRM record id"}, pCursor, pLimit, pState, {name: "q", typ: "string", desc: "substring of mk_id or count_code"}},
				status: 200, result: "MappingList"},
			operation{method: "POST", path: base + "mappings", id: "link" + name, summary: "Link a CRM record to a Metakocka record (by metakockaId or countCode) by hand; writes to neither record, the next sync compares them",
				tag: tag, auth: tenantOnly, body: name + "LinkBody", status: 200, result: "Mapping",
				errs: map[int]string{409: "the Metakocka record is linked to another CRM record"}},
			operation{method: "DELETE", path: base + "mappings/{id}", id: "unlink" + name, summary: "Unlink a CRM record; the next push matches it again, or creates it when nothing matches",
				tag: tag, auth: tenantOnly, status: 204},
			operation{method: "POST", path: base + "mappings/{id}/create-new", id: "createNew" + name,
				summary: "Create a CRM record in Metakocka now on purpose, without matching (a person's answer to an ambiguous match)",
				tag:     tag, auth: tenantOnly, status: 200, result: "SyncResult",
				errs: map[int]string{409: "the record is linked to a Metakocka record; unlink it first"}},
			operation{method: "GET", path: base + "tombstones", id: "list" + name + "Tombstones", summary: "Records deleted in the CRM on purpose while linked: a pull does not bring their Metakocka records back",
				tag: tag, auth: tenantOnly, query: []param{pCursor, pLimit}, status: 200, result: "TombstoneList"},
			operation{method: "DELETE", path: base + "tombstones/{metakockaId}", id: "forget" + name + "Tombstone", summary: "Forget a tombstone: the next pull may create the record in the CRM again",
				tag: tag, auth: tenantOnly, status: 204},
		)
	}
	ops = append(ops,
		operation{method: "GET", path: "/api/sync-runs", id: "listSyncRuns", summary: "Sync runs, newest first", tag: "runs", auth: tenantOnly,
			query: []param{pCursor, pLimit, {name: "entityType", typ: "string", enum: strs(mksync.EntityTypes)},
				{name: "direction", typ: "string", enum: []string{"to_metakocka", "from_metakocka"}},
				{name: "status", typ: "string", enum: enums[reflect.TypeFor[mksync.RunStatus]()]}},
			status: 200, result: "SyncRunList"},
		operation{method: "GET", path: "/api/sync-runs/{id}", id: "getSyncRun", summary: "A sync run's progress and result", tag: "runs", auth: tenantOnly, status: 200, result: "SyncRun"},
		operation{method: "POST", path: "/api/sync-runs/{id}/cancel", id: "cancelSyncRun",
			summary: "Cancel a queued or running sync run: 200 with the run when it is cancelled now (or was already), 202 when it was running (its current batch finishes first)",
			tag:     "runs", auth: tenantOnly, status: 200, result: "SyncRun", alt: map[int]string{202: "SyncRun"},
			errs: map[int]string{409: "the run already finished (succeeded, partial or failed)"}},
		operation{method: "GET", path: "/api/sync-runs/{id}/plan", id: "getSyncRunPlan",
			summary: "A preview's plan (a run started with ?dryRun=true), a page of records in key order with the totals by action (skipped records are counted, not listed)",
			tag:     "runs", auth: tenantOnly, query: []param{pCursor, pLimit}, status: 200, result: "Plan"},
		operation{method: "POST", path: "/api/sync-runs/{id}/apply", id: "applySyncRunPlan",
			summary: "Apply a finished preview's plan: a run over exactly its records; one whose state moved since the preview is not written and fails with code conflict",
			tag:     "runs", auth: tenantOnly, status: 202, result: "RunAccepted",
			errs: map[int]string{409: "the preview has not finished (or was cancelled or failed)"}},
		operation{method: "GET", path: "/api/errors", id: "listErrors", summary: "Error records, newest first", tag: "errors", auth: tenantOnly,
			query: []param{pCursor, pLimit, {name: "category", typ: "string", desc: "SYNC, API, METAKOCKA, CLIENT, …"}, {name: "operation", typ: "string"},
				{name: "entityId", typ: "string"}, {name: "since", typ: "date-time"}, {name: "until", typ: "date-time"}},
			status: 200, result: "ErrorRecordList"},
		operation{method: "GET", path: "/api/errors/{errorId}", id: "getError", summary: "The error record of an errorId", tag: "errors", auth: tenantOnly, status: 200, result: "ErrorRecord"},
		operation{method: "GET", path: "/api/alerts", id: "listAlerts", summary: "Alerts, newest first", tag: "errors", auth: tenantOnly,
			query: []param{pCursor, pLimit, {name: "status", typ: "string", enum: []string{"open", "resolved"}}}, status: 200, result: "AlertList"},
		operation{method: "POST", path: "/api/client-errors", id: "reportClientError", summary: "A browser's structured error report (≤ 16 KiB, rate limited)", tag: "errors", auth: tenantOnly,
			body: "ClientError", status: 202, result: "ClientErrorAccepted"},
		operation{method: "GET", path: "/api/integrations/metakocka/credentials", id: "getCredentials", summary: "The Metakocka connection, secrets masked", tag: "credentials", auth: tenantOnly, status: 200, result: "Credentials"},
		operation{method: "PUT", path: "/api/integrations/metakocka/credentials", id: "setCredentials", summary: "Set the Metakocka connection and the tenant's alert webhook; secrets are write-only (omit secretKey or alertWebhookSecret to keep it)", tag: "credentials", auth: tenantOnly,
			body: "CredentialsInput", status: 200, result: "Credentials"},
		operation{method: "POST", path: "/api/integrations/metakocka/credentials/test", id: "testCredentials", summary: "Make one real call to Metakocka with the stored credentials", tag: "credentials", auth: tenantOnly, status: 200, result: "Status"},
		operation{method: "POST", path: "/webhooks/metakocka/{webhookId}/stock", id: "receiveStockWebhook",
			summary: "Metakocka's stock webhook (warehouse_product_stock_update): the tenant is named by its webhookId (GET credentials), the body signed with its webhook secret; " +
				"the payload (stock_list of at most 10,000 entries) is queued and {\"status\":\"ok\"} answered at once. Rate limited per webhook id.",
			tag: "webhooks", auth: public, body: "StockWebhook", status: 200, result: "Status",
			headers: []param{
				{name: HeaderSignature, typ: "string", required: true, desc: "base64(HMAC-SHA1(body, webhook secret))"},
				{name: HeaderEventID, typ: "string", required: true, desc: "Metakocka's unique event id; an id, or a signed body, already accepted is refused (401) for " + s.cfg.WebhookReplayWindow.String()},
				{name: "X-MetaKocka-Event", typ: "string", desc: "warehouse_product_stock_update"},
			},
			errs: map[int]string{
				401: "unknown webhook id, missing or invalid signature (the answer does not tell which), or a replayed event id",
				503: "stock webhooks are not queued by this server (Metakocka retries)",
			}},
		operation{method: "POST", path: "/api/admin/tenants", id: "createTenant", summary: "Create a tenant", tag: "admin", auth: adminOnly, body: "TenantInput", status: 201, result: "Tenant"},
		operation{method: "GET", path: "/api/admin/tenants", id: "listTenants", summary: "Every tenant", tag: "admin", auth: adminOnly, query: []param{pCursor, pLimit}, status: 200, result: "TenantList"},
		operation{method: "GET", path: "/api/admin/tenants/{id}", id: "getTenant", summary: "One tenant", tag: "admin", auth: adminOnly, status: 200, result: "Tenant"},
		operation{method: "POST", path: "/api/admin/tenants/{id}/tokens", id: "createToken", summary: "Create an API token; its plaintext is answered this once", tag: "admin", auth: adminOnly,
			body: "TokenInput", status: 201, result: "NewToken"},
		operation{method: "GET", path: "/api/admin/tenants/{id}/tokens", id: "listTokens", summary: "A tenant's tokens (never their plaintext)", tag: "admin", auth: adminOnly, status: 200, result: "TokenList"},
		operation{method: "DELETE", path: "/api/admin/tenants/{id}/tokens/{tokenId}", id: "revokeToken", summary: "Revoke a token", tag: "admin", auth: adminOnly, status: 204},
	)
	return ops
}

// idsBody documents a body of one or many ids under per-entity names.
func idsBody(one, many string, bothOptional bool) map[string]any {
	props := map[string]any{}
	if one != "" {
		props[one] = map[string]any{"type": "string", "minLength": 1, "maxLength": 128}
	}
	if many != "" {
		props[many] = map[string]any{"type": "array", "items": map[string]any{"type": "string", "minLength": 1, "maxLength": 128}}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if !bothOptional && one != "" && many == "" {
		out["required"] = []string{one}
	}
	return out
}

func (s *Server) buildOpenAPI() ([]byte, error) {
	ss := &schemaSet{components: map[string]any{}, names: map[reflect.Type]string{}}
	// Shared output types first, so that the records refer to them.
	ss.add("MappingCandidate", reflect.TypeFor[candidateView](), false)
	ss.add("Mapping", reflect.TypeFor[mappingView](), false)
	ss.add("DocumentLine", reflect.TypeFor[mksync.DocumentLine](), false)
	ss.add("RecordError", reflect.TypeFor[mksync.RecordError](), false)
	ss.add("SyncResult", reflect.TypeFor[mksync.SyncResult](), false)
	ss.add("Settings", reflect.TypeFor[settingsInput](), false)
	outputs := []struct {
		name string
		t    reflect.Type
	}{
		{"Contact", reflect.TypeFor[contactView]()},
		{"Product", reflect.TypeFor[productView]()},
		{"SalesDocument", reflect.TypeFor[salesDocumentView]()},
		{"RemoteRecord", reflect.TypeFor[mksync.RemoteRecord]()},
		{"SyncRun", reflect.TypeFor[mksync.SyncRun]()},
		{"ErrorRecord", reflect.TypeFor[mksync.ErrorRecord]()},
		{"Alert", reflect.TypeFor[mksync.Alert]()},
		{"Credentials", reflect.TypeFor[credentialsView]()},
		{"Tenant", reflect.TypeFor[mksync.Tenant]()},
		{"Token", reflect.TypeFor[mksync.APIToken]()},
		{"NewToken", reflect.TypeFor[newToken]()},
		{"RunAccepted", reflect.TypeFor[runAccepted]()},
		{"ClientErrorAccepted", reflect.TypeFor[clientErrorAccepted]()},
		{"Status", reflect.TypeFor[status]()},
		{"Error", reflect.TypeFor[httperr.Body]()},
		{"Tombstone", reflect.TypeFor[tombstoneView]()},
		{"Plan", reflect.TypeFor[planPage]()},
	}
	for _, o := range outputs {
		ss.add(o.name, o.t, false)
	}
	for name, item := range map[string]string{
		"ContactList": "Contact", "ProductList": "Product", "SalesDocumentList": "SalesDocument",
		"MappingList": "Mapping", "RemoteRecordList": "RemoteRecord", "SyncRunList": "SyncRun",
		"ErrorRecordList": "ErrorRecord", "AlertList": "Alert", "TenantList": "Tenant", "TokenList": "Token",
		"TombstoneList": "Tombstone",
	} {
		ss.components[name] = map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"items", "nextCursor"},
			"properties": map[string]any{
				"items":      map[string]any{"type": "array", "items": ref(item)},
				"nextCursor": map[string]any{"type": "string", "description": `opaque; "" on the last page`},
			},
		}
	}
	inputs := []struct {
		name string
		t    reflect.Type
	}{
		{"ContactInput", reflect.TypeFor[mksync.Contact]()},
		{"ProductInput", reflect.TypeFor[mksync.Product]()},
		{"SalesDocumentInput", reflect.TypeFor[mksync.SalesDocument]()},
		{"CredentialsInput", reflect.TypeFor[credentialsInput]()},
		{"ClientError", reflect.TypeFor[httperr.ClientReport]()},
		{"TenantInput", reflect.TypeFor[tenantInput]()},
		{"TokenInput", reflect.TypeFor[tokenInput]()},
	}
	for _, in := range inputs {
		sch := ss.structSchema(in.t, true)
		ss.components[in.name] = sch
	}
	ss.components["OpenAPIDocument"] = map[string]any{"type": "object"}
	ss.components["StockWebhook"] = map[string]any{
		"type": "object", "required": []string{"stock_list"},
		"description": "Metakocka's stock event, kept as sent: stock of one product per warehouse (numbers as strings)",
		"properties": map[string]any{
			"stock_list": map[string]any{"type": "array", "items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"warehouse_id": map[string]any{"type": "string"}, "mk_id": map[string]any{"type": "string"},
					"count_code": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"},
					"title": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string"},
					"amount": map[string]any{"type": "string"}, "reserved_amount": map[string]any{"type": "string"},
					"free_amount": map[string]any{"type": "string"},
				},
			}},
		},
	}
	ss.components["MetakockaIDBody"] = idsBody("metakockaId", "", false)
	ss.components["MetakockaIDsBody"] = idsBody("", "metakockaIds", true)
	for _, e := range s.entities() {
		name := map[mksync.EntityType]string{mksync.EntityContact: "Contacts", mksync.EntityProduct: "Products", mksync.EntitySalesDocument: "SalesDocuments"}[e.typ]
		ss.components[name+"SyncToBody"] = idsBody(e.idField, e.idsField, true)
		ss.components[name+"IDsBody"] = idsBody("", e.idsField, true)
		link := idsBody(e.idField, "", false)
		link["properties"].(map[string]any)["metakockaId"] = map[string]any{"type": "string", "minLength": 1, "maxLength": 128}
		link["properties"].(map[string]any)["countCode"] = map[string]any{"type": "string", "minLength": 1, "maxLength": 128}
		link["description"] = "exactly one of metakockaId and countCode"
		ss.components[name+"LinkBody"] = link
	}

	paths := map[string]map[string]any{}
	for _, op := range s.operations() {
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][strings.ToLower(op.method)] = s.operationObject(op)
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "mksync API",
			"version": "1",
			"description": "Two-way sync of a CRM's contacts, products and sales documents with the Metakocka ERP. " +
				"Every non-2xx answer is the Error envelope. Tenant routes take `Authorization: Bearer mks_…`; " +
				"/api/admin routes take the admin token; Metakocka's stock webhook is authenticated by its signature. " +
				"Rate limits per tenant (per client IP before authentication): " +
				fmt.Sprintf("sync routes %d/min, other routes %d/min.", s.cfg.RateLimitSync, s.cfg.RateLimitAPI),
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": ss.components,
			"securitySchemes": map[string]any{
				"tenantToken": map[string]any{"type": "http", "scheme": "bearer", "description": "a tenant's API token, mks_…"},
				"adminToken":  map[string]any{"type": "http", "scheme": "bearer", "description": "the admin token"},
			},
			"headers": map[string]any{
				"RateLimit-Limit":     header("requests allowed per minute"),
				"RateLimit-Remaining": header("requests left now"),
				"RateLimit-Reset":     header("seconds until the bucket is full again"),
				"Retry-After":         header("seconds to wait before retrying"),
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

func header(desc string) map[string]any {
	return map[string]any{"description": desc, "schema": map[string]any{"type": "integer"}}
}

func errorResponse(desc string, headers ...string) map[string]any {
	out := map[string]any{
		"description": desc,
		"content":     map[string]any{"application/json": map[string]any{"schema": ref("Error")}},
	}
	if len(headers) > 0 {
		hs := map[string]any{}
		for _, h := range headers {
			hs[h] = map[string]any{"$ref": "#/components/headers/" + h}
		}
		out["headers"] = hs
	}
	return out
}

func (s *Server) operationObject(op operation) map[string]any {
	o := map[string]any{"operationId": op.id, "summary": op.summary, "tags": []string{op.tag}}
	var params []any
	for _, name := range pathParams(op.path) {
		params = append(params, map[string]any{"name": name, "in": "path", "required": true,
			"schema": map[string]any{"type": "string", "minLength": 1, "maxLength": 128}})
	}
	for _, p := range op.query {
		sch := map[string]any{"type": p.typ}
		switch p.typ {
		case "date-time":
			sch = map[string]any{"type": "string", "format": "date-time"}
		case "integer":
			if p.name == "limit" {
				sch["minimum"], sch["maximum"] = 1, mksync.MaxPageLimit
			}
		}
		if len(p.enum) > 0 {
			sch["enum"] = p.enum
		}
		params = append(params, map[string]any{"name": p.name, "in": "query", "required": p.required, "description": p.desc, "schema": sch})
	}
	for _, h := range op.headers {
		params = append(params, map[string]any{"name": h.name, "in": "header", "required": h.required, "description": h.desc,
			"schema": map[string]any{"type": h.typ}})
	}
	if params != nil {
		o["parameters"] = params
	}
	switch op.auth {
	case tenantOnly:
		o["security"] = []any{map[string]any{"tenantToken": []string{}}}
	case adminOnly:
		o["security"] = []any{map[string]any{"adminToken": []string{}}}
	default:
		o["security"] = []any{}
	}
	if op.body != "" {
		o["requestBody"] = map[string]any{"required": !op.bodyOptional,
			"content": map[string]any{"application/json": map[string]any{"schema": ref(op.body)}}}
	}
	rl := []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
	success := map[string]any{"description": http.StatusText(op.status)}
	if op.result != "" {
		success["content"] = map[string]any{"application/json": map[string]any{"schema": ref(op.result)}}
	}
	responses := map[string]any{fmt.Sprint(op.status): success}
	if strings.HasSuffix(op.path, "sync-to-metakocka") {
		responses["202"] = map[string]any{"description": "queued (?bulk=true)",
			"content": map[string]any{"application/json": map[string]any{"schema": ref("RunAccepted")}}}
	}
	responses["400"] = errorResponse("invalid input; details name every bad field")
	responses["404"] = errorResponse("no such record for this tenant, or no such route")
	responses["429"] = errorResponse("rate limited", append(rl, "Retry-After")...)
	responses["500"] = errorResponse("internal error; errorId names the stored error record")
	if op.auth != public {
		responses["401"] = errorResponse("missing, invalid or revoked token")
		responses["403"] = errorResponse("the token may not use this route")
	}
	for code, result := range op.alt {
		responses[fmt.Sprint(code)] = map[string]any{"description": http.StatusText(code),
			"content": map[string]any{"application/json": map[string]any{"schema": ref(result)}}}
	}
	if op.body != "" {
		if op.tag != "webhooks" {
			responses["409"] = errorResponse("conflict: stale version, duplicate, or a record still in use")
		}
		responses["413"] = errorResponse("request body too large")
	}
	if op.tag == "sync" || strings.HasSuffix(op.path, "/test") {
		responses["502"] = errorResponse("Metakocka failed or rejected the tenant's stored credentials (code upstream)")
		responses["503"] = errorResponse("Metakocka unreachable or sync engine not configured (code upstream)")
	}
	if op.path == "/readyz" {
		responses["503"] = errorResponse("the database is not reachable")
	}
	for code, desc := range op.errs {
		responses[fmt.Sprint(code)] = errorResponse(desc)
	}
	responses["default"] = errorResponse("any other failure, always the Error envelope")
	o["responses"] = responses
	return o
}

// pathParams returns the {names} of a path template.
func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}"))
		}
	}
	return out
}
