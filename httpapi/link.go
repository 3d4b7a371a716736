package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mksync/mksync"
)

// Linker links, unlinks and creates records on purpose (docs/mapping.md,
// "Linking by hand"): mksync.Linker. The sync engine implements it; the
// link routes answer 503 while the configured Syncer does not.
type Linker = mksync.Linker

// tombstoneView is a CRM record deleted on purpose while mapped: a pull
// leaves its Metakocka record out until the tombstone is removed.
type tombstoneView = mksync.Tombstone

// registerLinkRoutes adds the routes that link, unlink and list what a
// person decides on: POST/DELETE on mappings, and tombstones.
func (s *Server) registerLinkRoutes(e entityRoutes) {
	base := "/api/integrations/metakocka/" + e.path + "/"
	s.handle("POST "+base+"mappings", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, ref, err := readLink(r, e.idField)
		if err != nil {
			return err
		}
		if err := e.exists(r.Context(), p.TenantID, id); err != nil {
			return err
		}
		l, err := s.linker()
		if err != nil {
			return err
		}
		m, err := l.Link(r.Context(), p.TenantID, e.typ, id, ref)
		if err != nil {
			return syncerError(fmt.Sprintf("link %s %s to metakocka %s", e.typ, id, ref), err)
		}
		writeJSON(w, http.StatusOK, newMappingView(m))
		return nil
	})
	s.handle("DELETE "+base+"mappings/{id}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		l, err := s.linker()
		if err != nil {
			return err
		}
		if err := l.Unlink(r.Context(), p.TenantID, e.typ, id); err != nil {
			return fmt.Errorf("unlink %s %s: %w", e.typ, id, err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.handle("POST "+base+"mappings/{id}/create-new", tenantOnly, classSync, func(w http.ResponseWriter, r *http.Request, p principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := e.exists(r.Context(), p.TenantID, id); err != nil {
			return err
		}
		l, err := s.linker()
		if err != nil {
			return err
		}
		res, err := l.CreateNew(r.Context(), p.TenantID, e.typ, id)
		if err != nil {
			return syncerError(fmt.Sprintf("create %s %s in metakocka on purpose", e.typ, id), err)
		}
		writeJSON(w, http.StatusOK, syncResultView(res))
		return nil
	})
	s.handle("GET "+base+"tombstones", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		page, err := pageParams(r)
		if err != nil {
			return err
		}
		ts, next, err := s.cfg.Store.FindTombstones(r.Context(), p.TenantID, e.typ, page)
		if err != nil {
			return fmt.Errorf("find tombstones: %w", err)
		}
		writeJSON(w, http.StatusOK, list[tombstoneView]{Items: ts, NextCursor: next})
		return nil
	})
	s.handle("DELETE "+base+"tombstones/{metakockaId}", tenantOnly, classAPI, func(w http.ResponseWriter, r *http.Request, p principal) error {
		mkID, err := pathID(r, "metakockaId")
		if err != nil {
			return err
		}
		if err := s.cfg.Store.DeleteTombstone(r.Context(), p.TenantID, e.typ, mkID); err != nil {
			return fmt.Errorf("delete tombstone %s: %w", mkID, err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// linker is the configured Syncer as a Linker.
func (s *Server) linker() (Linker, error) {
	l, ok := s.cfg.Syncer.(Linker)
	if !ok {
		return nil, errNoSyncer()
	}
	return l, nil
}

// readLink reads a body {"<idField>": "id", "metakockaId": "…"} or with
// "countCode" instead of "metakockaId" (exactly one of the two).
func readLink(r *http.Request, idField string) (id, ref string, err error) {
	obj, err := readObject(r, false)
	if err != nil {
		return "", "", err
	}
	problems := map[string]string{}
	unknownFields(obj, problems, idField, "metakockaId", "countCode")
	str := func(field string, required bool) string {
		raw, ok := obj[field]
		var v string
		switch {
		case !ok:
			if required {
				problems[field] = "is required"
			}
		case json.Unmarshal(raw, &v) != nil:
			problems[field] = "must be a string"
		default:
			if rule := checkID(v); rule != "" {
				problems[field] = rule
			}
		}
		return v
	}
	id = str(idField, true)
	mkID, cc := str("metakockaId", false), str("countCode", false)
	_, hasMk := obj["metakockaId"]
	_, hasCC := obj["countCode"]
	switch {
	case hasMk && hasCC:
		problems["countCode"] = "give metakockaId or countCode, not both"
	case !hasMk && !hasCC:
		problems["metakockaId"] = "metakockaId or countCode is required"
	}
	if len(problems) > 0 {
		return "", "", invalid(problems)
	}
	return id, mkID + cc, nil
}
