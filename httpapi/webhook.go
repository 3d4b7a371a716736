package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" // Metakocka signs with HMAC-SHA1; HMAC does not rest on SHA-1's collision resistance
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httperr"
)

// StockQueue queues the work of verified stock webhooks, so that the
// webhook answers Metakocka at once; jobs.Jobs implements it.
type StockQueue interface {
	// EnqueueStock queues payload, the verified webhook body as Metakocka
	// sent it, for the tenant. The server calls it inside Store.InTx with
	// the transaction's Store as st, together with remembering the event's
	// id: the job must be inserted through st (so both commit or roll back
	// together, and a failed enqueue lets Metakocka's retry through).
	EnqueueStock(ctx context.Context, st mksync.Store, tenantID string, payload []byte) error
}

// The stock webhook's wire names.
const (
	// StockWebhookPattern is the route of Metakocka's stock webhook.
	StockWebhookPattern = "POST /webhooks/metakocka/{webhookId}/stock"
	// HeaderSignature carries base64(HMAC-SHA1(body, webhook secret)).
	HeaderSignature = "X-MetaKocka-Signature"
	// HeaderEventID carries Metakocka's unique id of the event.
	HeaderEventID = "X-MetaKocka-Id"
	// MaxWebhookBodyBytes caps a webhook body (413 beyond).
	MaxWebhookBodyBytes = 1 << 20
	// MaxStockListLen caps the entries of one stock event (400 beyond).
	// Metakocka sends one per warehouse and lot of one product.
	MaxStockListLen = 10_000
)

// StockWebhookPath returns the path at which the tenant with webhookID
// receives Metakocka's stock webhook, the URL path to enter in Metakocka.
func StockWebhookPath(webhookID string) string {
	return "/webhooks/metakocka/" + url.PathEscape(webhookID) + "/stock"
}

// errWebhookRejected answers an unknown webhook id and a missing or wrong
// signature alike, so that the answer never tells whether an id exists.
func errWebhookRejected() error {
	return mksync.Errorf(mksync.EUNAUTHORIZED, "webhook rejected: unknown webhook or invalid %s", HeaderSignature)
}

// replayError is a signed event whose id was already accepted.
type replayError struct{}

func (replayError) Error() string { return "replayed webhook event" }

// registerWebhookRoutes adds Metakocka's stock webhook. It takes no bearer
// token (Metakocka cannot send one): the unguessable webhook id in the path
// names the tenant, and the HMAC signature of the body with the tenant's
// webhook secret proves the sender.
func (s *Server) registerWebhookRoutes() {
	s.handleRoute(route{pattern: StockWebhookPattern, access: public, class: classNone, bodyLimit: MaxWebhookBodyBytes}, s.stockWebhook)
}

// stockWebhook checks, in order: the webhook id's rate limit; the body's
// size; the tenant and the signature (401 for either, failures drawing from
// the client IP's bucket like bad tokens); the event id; the body's shape
// (at most MaxStockListLen entries). Then, in one transaction, it remembers
// the event id and the body's hash (either seen within
// Config.WebhookReplayWindow is a replay: 401) and queues the payload, and
// answers {"status":"ok"}. Nothing is stored or
// queued for a request it rejects.
func (s *Server) stockWebhook(w http.ResponseWriter, r *http.Request, _ principal) error {
	ctx := r.Context()
	webhookID := r.PathValue("webhookId")
	if !s.allow(w, r, classWebhook, "webhook:"+webhookID) {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyReadError(err)
	}

	var creds mksync.MetakockaCredentials
	found := false
	if checkID(webhookID) == "" {
		creds, err = s.cfg.Store.FindCredentialsByWebhookID(ctx, webhookID)
		switch {
		case err == nil:
			found = true
		case mksync.ErrorCode(err) != mksync.ENOTFOUND:
			return fmt.Errorf("find webhook: %w", err)
		}
	}
	// The signature is computed even for an unknown id, so that timing
	// does not tell ids apart either. A secret shorter than
	// mksync.MinWebhookSecret (stored before the rule) verifies nothing.
	valid := validSignature(creds.WebhookSecret, body, r.Header.Get(HeaderSignature))
	if !found || len(creds.WebhookSecret.Reveal()) < mksync.MinWebhookSecret || !valid {
		if !s.allow(w, r, classAPI, "ip:"+clientIP(r)) {
			return nil
		}
		return errWebhookRejected()
	}
	info := requestInfoFrom(ctx)
	info.tenantID = creds.TenantID

	eventID := strings.TrimSpace(r.Header.Get(HeaderEventID))
	switch {
	case eventID == "":
		// Metakocka always sends it; the signature does not cover headers,
		// so without an id a replayed body could not be told apart.
		return invalid(map[string]string{HeaderEventID: "is required"})
	case len(eventID) > mksync.MaxWebhookEventIDLen || !printable(eventID):
		return invalid(map[string]string{HeaderEventID: fmt.Sprintf("must be printable text of at most %d bytes", mksync.MaxWebhookEventIDLen)})
	}
	info.eventID = eventID
	if err := checkStockPayload(body); err != nil {
		return err
	}
	if s.cfg.StockQueue == nil {
		return &httperr.Unavailable{Err: mksync.Errorf(mksync.EUPSTREAM, "stock webhook queue not configured")}
	}

	now := s.cfg.Now().UTC()
	err = s.cfg.Store.InTx(ctx, creds.TenantID, func(tx mksync.Store) error {
		// The event id is not signed (anyone replaying a captured body can
		// change it), the body is: both are remembered, and either seen
		// again within the window is a replay.
		for _, key := range []string{eventID, bodyReplayKey(body)} {
			err := tx.RecordWebhookEvent(ctx, creds.TenantID, key, now, now.Add(-s.cfg.WebhookReplayWindow))
			switch {
			case mksync.ErrorCode(err) == mksync.ECONFLICT:
				return replayError{}
			case err != nil:
				return fmt.Errorf("remember webhook event: %w", err)
			}
		}
		if err := s.cfg.StockQueue.EnqueueStock(ctx, tx, creds.TenantID, body); err != nil {
			return fmt.Errorf("queue stock webhook: %w", err)
		}
		return nil
	})
	switch {
	case errors.As(err, new(replayError)):
		s.log.LogAttrs(ctx, slog.LevelWarn, "stock webhook replayed",
			slog.String("requestId", info.requestID), slog.String("tenantId", creds.TenantID), slog.String("webhookEventId", eventID))
		return mksync.Errorf(mksync.EUNAUTHORIZED, "replayed event: %s %s or the same signed body was already accepted", HeaderEventID, eventID)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, status{Status: "ok"})
	return nil
}

// bodyReplayKey is the replay key of a signed body: "body:" and its
// SHA-256, base64url (48 bytes, within mksync.MaxWebhookEventIDLen).
func bodyReplayKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "body:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// validSignature reports whether header is base64(HMAC-SHA1(body, secret)),
// comparing in constant time. Padded and unpadded base64 are accepted.
func validSignature(secret mksync.Secret, body []byte, header string) bool {
	mac := hmac.New(sha1.New, []byte(secret.Reveal()))
	mac.Write(body)
	want := mac.Sum(nil)
	header = strings.TrimSpace(header)
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(header)
	}
	if err != nil {
		got = nil
	}
	return hmac.Equal(want, got) && header != ""
}

// checkStockPayload checks that body is Metakocka's stock event: a JSON
// object whose stock_list is an array. Other fields are Metakocka's
// (opr_code, stock_list_count…) and are kept as sent.
func checkStockPayload(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidBody("webhook body is empty", "body", "must be a JSON object with a stock_list")
	}
	if !json.Valid(body) {
		return invalidBody("webhook body is not valid JSON", "body", syntaxProblem(body))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return invalidBody("webhook body must be a JSON object", "body", "must be a JSON object with a stock_list")
	}
	raw, ok := obj["stock_list"]
	if !ok {
		return invalidBody("webhook body has no stock_list", "stock_list", "is required")
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return invalidBody("webhook stock_list must be an array", "stock_list", "must be an array")
	}
	if len(list) > MaxStockListLen {
		return invalidBody(fmt.Sprintf("webhook stock_list has %d entries", len(list)), "stock_list", fmt.Sprintf("must have at most %d entries", MaxStockListLen))
	}
	return nil
}

// printable reports whether v has no control characters.
func printable(v string) bool {
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
