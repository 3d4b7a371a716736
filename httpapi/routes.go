package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// entities are the three CRM record types and their URL names.
func (s *Server) entities() []entityRoutes {
	st := s.cfg.Store
	return []entityRoutes{
		{path: "contacts", typ: mksync.EntityContact, idField: "contactId", idsField: "contactIds",
			exists: func(ctx context.Context, tenantID, id string) error {
				_, err := st.FindContactByID(ctx, tenantID, id)
				return wrapFind("contact", err)
			}},
		{path: "products", typ: mksync.EntityProduct, idField: "productId", idsField: "productIds",
			exists: func(ctx context.Context, tenantID, id string) error {
				_, err := st.FindProductByID(ctx, tenantID, id)
				return wrapFind("product", err)
			}},
		{path: "sales-documents", typ: mksync.EntitySalesDocument, idField: "documentId", idsField: "documentIds",
			exists: func(ctx context.Context, tenantID, id string) error {
				_, err := st.FindSalesDocumentByID(ctx, tenantID, id)
				return wrapFind("sales document", err)
			}},
	}
}

func wrapFind(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("find %s: %w", what, err)
}

// registerRoutes adds every route. The OpenAPI document must describe each
// one (a test checks).
func (s *Server) registerRoutes() {
	s.handle("GET /healthz", public, classNone, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		writeJSON(w, http.StatusOK, status{Status: "ok"})
		return nil
	})
	s.handle("GET /readyz", public, classNone, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Store.Ping(ctx); err != nil {
			return &httperr.Unavailable{Err: mksync.WrapError(mksync.EINTERNAL, "database not reachable", err)}
		}
		writeJSON(w, http.StatusOK, status{Status: "ok"})
		return nil
	})
	s.handle("GET /api/openapi.json", public, classAPI, func(w http.ResponseWriter, r *http.Request, _ principal) error {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(s.openapi)
		return nil
	})
	for _, e := range s.entities() {
		s.registerCRUD(e)
	}
	for _, e := range s.entities() {
		s.registerSyncRoutes(e)
		s.registerLinkRoutes(e)
	}
	s.registerRunRoutes()
	s.registerPlanRoutes()
	s.registerErrorRoutes()
	s.registerCredentialRoutes()
	s.registerWebhookRoutes()
	s.registerAdminRoutes()
}

// status is the answer of health checks and of actions without a result.
type status struct {
	Status string `json:"status"`
}
