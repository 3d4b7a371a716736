package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/mksync/mksync"
)

// The sync routes call the engine through Config.Syncer (mksync.Syncer),
// which returns domain errors: ENOTFOUND for a record (or mk_id) the tenant
// does not have, EUPSTREAM for a Metakocka failure (wrapped in
// *httperr.Unavailable when Metakocka cannot be reached, which answers 503
// instead of 502), EINVALID for a record Metakocka rejects as wrong.
// EUNAUTHORIZED or EFORBIDDEN (the tenant's stored Metakocka credentials
// were refused) are answered as upstream (502), never 401/403, which would
// blame the caller's API token.

// runAccepted is the answer of a sync queued in the background.
type runAccepted struct {
	RunID string `json:"runId"`
}

// registerSyncRoutes adds the Metakocka sync routes of one entity.
func (s *Server) registerSyncRoutes(e entityRoutes) {
	base := "/api/integrations/metakocka/" + e.path + "/"
	s.handle("POST "+base+"sync-to-metakocka", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		bulk, err := boolParam(r, "bulk")
		if err != nil {
			return err
		}
		if bulk {
			ids, err := s.readIDs(r, e.idsField, true)
			if err != nil {
				return err
			}
			return s.startRun(w, r, p, e, mksync.ToMetakocka, ids, false)
		}
		id, err := readOneID(r, e.idField)
		if err != nil {
			return err
		}
		if err := e.exists(r.Context(), p.TenantID, id); err != nil {
			return err
		}
		if dry, err := boolParam(r, "dryRun"); err != nil {
			return err
		} else if dry {
			return s.startRun(w, r, p, e, mksync.ToMetakocka, []string{id}, true)
		}
		if s.cfg.Syncer == nil {
			return errNoSyncer()
		}
		res, err := s.cfg.Syncer.SyncToMetakocka(r.Context(), p.TenantID, e.typ, id)
		if err != nil {
			return syncerError(fmt.Sprintf("sync %s %s to metakocka", e.typ, id), err)
		}
		writeJSON(w, http.StatusOK, syncResultView(res))
		return nil
	})
	s.handle("POST "+base+"sync-from-metakocka", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		mkID, err := readOneID(r, "metakockaId")
		if err != nil {
			return err
		}
		if dry, err := boolParam(r, "dryRun"); err != nil {
			return err
		} else if dry {
			return s.startRun(w, r, p, e, mksync.FromMetakocka, []string{mkID}, true)
		}
		if s.cfg.Syncer == nil {
			return errNoSyncer()
		}
		res, err := s.cfg.Syncer.SyncFromMetakocka(r.Context(), p.TenantID, e.typ, mkID)
		if err != nil {
			return syncerError(fmt.Sprintf("sync %s %s from metakocka", e.typ, mkID), err)
		}
		writeJSON(w, http.StatusOK, syncResultView(res))
		return nil
	})
	s.handle("GET "+base+"sync-from-metakocka", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		page, err := pageParams(r)
		if err != nil {
			return err
		}
		if s.cfg.Syncer == nil {
			return errNoSyncer()
		}
		items, next, err := s.cfg.Syncer.ListNotInCRM(r.Context(), p.TenantID, e.typ, page)
		if err != nil {
			return syncerError(fmt.Sprintf("list %s not in crm", e.typ), err)
		}
		if items == nil {
			items = []mksync.RemoteRecord{}
		}
		writeJSON(w, http.StatusOK, list[mksync.RemoteRecord]{Items: items, NextCursor: next})
		return nil
	})
	s.handle("POST "+base+"sync-all-to-metakocka", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		ids, err := s.readIDs(r, e.idsField, false)
		if err != nil {
			return err
		}
		return s.startRun(w, r, p, e, mksync.ToMetakocka, ids, false)
	})
	s.handle("POST "+base+"sync-all-from-metakocka", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		ids, err := s.readIDs(r, "metakockaIds", false)
		if err != nil {
			return err
		}
		return s.startRun(w, r, p, e, mksync.FromMetakocka, ids, false)
	})
	s.handle("GET "+base+"mappings", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		ctx := r.Context()
		if id := r.URL.Query().Get("id"); r.URL.Query().Has("id") {
			if err := e.exists(ctx, p.TenantID, id); err != nil {
				return err
			}
			items := []mappingView{}
			if m := s.mappingOf(ctx, p.TenantID, e.typ, id); m != nil {
				items = append(items, *m)
			}
			writeJSON(w, http.StatusOK, list[mappingView]{Items: items})
			return nil
		}
		f, err := listFilter(r)
		if err != nil {
			return err
		}
		ms, next, err := s.cfg.Store.FindMappings(ctx, p.TenantID, e.typ, f)
		if err != nil {
			return fmt.Errorf("find mappings: %w", err)
		}
		items := make([]mappingView, len(ms))
		for i, m := range ms {
			items[i] = newMappingView(m)
			s.withCandidates(ctx, p.TenantID, &items[i])
		}
		writeJSON(w, http.StatusOK, list[mappingView]{Items: items, NextCursor: next})
		return nil
	})
}

// startRun checks that every CRM id exists for the tenant (mk_ids are the
// engine's to check), then queues the run and answers 202 {"runId"}. With
// ?dryRun=true the run is a preview: it decides every record, writes
// nothing and keeps its plan (GET /api/sync-runs/{id}/plan). explicit
// marks the run over one record that stands for an explicit sync of it (a
// single-record preview).
func (s *Server) startRun(w http.ResponseWriter, r *http.Request, p principal, e entityRoutes, dir mksync.Direction, ids []string, explicit bool) error {
	ctx := r.Context()
	dry, err := boolParam(r, "dryRun")
	if err != nil {
		return err
	}
	if dir == mksync.ToMetakocka {
		var missing []string
		for _, id := range ids {
			err := e.exists(ctx, p.TenantID, id)
			switch {
			case mksync.ErrorCode(err) == mksync.ENOTFOUND:
				missing = append(missing, id)
			case err != nil:
				return err
			}
		}
		if len(missing) > 0 {
			details := map[string]string{"count": strconv.Itoa(len(missing))}
			for i, id := range missing[:min(len(missing), 20)] {
				details[fmt.Sprintf("%s[%d]", e.idsField, i)] = id
			}
			return &mksync.Error{Code: mksync.ENOTFOUND, Message: fmt.Sprintf("%d %s not found", len(missing), e.path), Details: details}
		}
	}
	if s.cfg.Runs == nil {
		return errNoSyncer()
	}
	run := mksync.SyncRun{EntityType: e.typ, Direction: dir, Trigger: mksync.TriggerAPI, DryRun: dry, Explicit: explicit}
	if err := s.cfg.Runs.StartSync(ctx, p.TenantID, &run, ids); err != nil {
		return syncerError(fmt.Sprintf("start %s sync %s", e.typ, dir), err)
	}
	w.Header().Set("Location", "/api/sync-runs/"+run.ID)
	writeJSON(w, http.StatusAccepted, runAccepted{RunID: run.ID})
	return nil
}

// readOneID reads a body {"<field>": "id"} and nothing else.
func readOneID(r *http.Request, field string) (string, error) {
	obj, err := readObject(r, false)
	if err != nil {
		return "", err
	}
	problems := map[string]string{}
	unknownFields(obj, problems, field)
	raw, ok := obj[field]
	var id string
	switch {
	case !ok:
		problems[field] = "is required"
	case json.Unmarshal(raw, &id) != nil:
		problems[field] = "must be a string"
	default:
		if rule := checkID(id); rule != "" {
			problems[field] = rule
		}
	}
	if len(problems) > 0 {
		return "", invalid(problems)
	}
	return id, nil
}

// readIDs reads a body {"<field>": ["id", …]}: required (and non-empty)
// when required is set, else the body may be empty or {} (meaning "all").
// Ids are checked one by one, de-duplicated in order, and capped at
// Config.MaxBulkIDs.
func (s *Server) readIDs(r *http.Request, field string, required bool) ([]string, error) {
	obj, err := readObject(r, !required)
	if err != nil {
		return nil, err
	}
	problems := map[string]string{}
	unknownFields(obj, problems, field)
	raw, ok := obj[field]
	var ids []string
	switch {
	case !ok || string(raw) == "null":
		if required {
			problems[field] = "is required"
		}
	case json.Unmarshal(raw, &ids) != nil:
		problems[field] = "must be an array of strings"
	case required && len(ids) == 0:
		problems[field] = "must not be empty"
	case len(ids) > s.cfg.MaxBulkIDs:
		problems[field] = fmt.Sprintf("must have at most %d ids", s.cfg.MaxBulkIDs)
	default:
		for i, id := range ids {
			if rule := checkID(id); rule != "" {
				problems[fmt.Sprintf("%s[%d]", field, i)] = rule
				if len(problems) >= 20 {
					break
				}
			}
		}
	}
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	return dedupe(ids), nil
}

func dedupe(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// readObject reads a JSON object body into its raw fields. An empty body is
// an empty object when optional is set.
func readObject(r *http.Request, optional bool) (map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONContentType(ct) {
		return nil, invalid(map[string]string{"Content-Type": "must be application/json"})
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyReadError(err)
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var obj map[string]json.RawMessage
	if err := unmarshalStrict(body, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, invalid(map[string]string{"body": "must be a JSON object"})
	}
	return obj, nil
}

func unknownFields(obj map[string]json.RawMessage, problems map[string]string, allowed ...string) {
	for k := range obj {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			problems[k] = "is not a known field"
		}
	}
}

// invalid returns an EINVALID error listing problems.
func invalid(problems map[string]string) error {
	return &mksync.Error{Code: mksync.EINVALID, Message: "invalid request: " + describe(problems), Details: problems}
}

// checkID returns what is wrong with a record id or mk_id taken from a
// request ("" when nothing): ids are short printable text without path or
// control characters.
func checkID(id string) string {
	switch {
	case strings.TrimSpace(id) == "":
		return "must not be empty"
	case len(id) > 128:
		return "must be at most 128 characters"
	}
	for _, c := range id {
		if c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return "must not contain control characters or slashes"
		}
	}
	return ""
}

// syncResultView makes Errors a JSON array even when empty.
func syncResultView(r mksync.SyncResult) mksync.SyncResult {
	if r.Errors == nil {
		r.Errors = []mksync.RecordError{}
	}
	return r
}

// boolParam reads an optional boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalid(map[string]string{name: "must be true or false"})
	}
	return b, nil
}
