package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
)

const stockBody = `{"opr_code":"0","opr_time_ms":"0","stock_list_count":"1","stock_list":[{"warehouse_id":"1600303267","mk_id":"1600094857","count_code":"PA-4020","amount":"5","reserved_amount":"0","free_amount":"5","unit":"kos"}]}`

// sign is what Metakocka puts in X-MetaKocka-Signature.
func sign(secret, body string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// connectWebhook stores credentials with webhook secret for the tenant and
// returns its webhook path.
func (b *bundle) connectWebhook(f tenantFixture, secret string) string {
	b.t.Helper()
	b.decode(b.do("PUT", "/api/integrations/metakocka/credentials", f.Token,
		`{"companyId":"16","secretKey":"mk-secret","webhookSecret":"`+secret+`"}`), 200, nil)
	var c struct {
		WebhookID string `json:"webhookId"`
	}
	b.decode(b.do("GET", "/api/integrations/metakocka/credentials", f.Token, ""), 200, &c)
	require.NotEmpty(b.t, c.WebhookID)
	return httpapi.StockWebhookPath(c.WebhookID)
}

func TestStockWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secretA, secretB = "hook-secret-A-0123456789", "hook-secret-B-9876543210"
	pathA, pathB := b.connectWebhook(b.a, secretA), b.connectWebhook(b.b, secretB)
	require.Equal(t, "/webhooks/metakocka/", pathA[:len("/webhooks/metakocka/")])
	beforeA, beforeB := b.snapshot(b.a.ID), b.snapshot(b.b.ID)
	huge := `{"stock_list":[],"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	longList := `{"stock_list":[` + strings.Repeat(`{},`, httpapi.MaxStockListLen) + `{}]}`

	// Steps run in order: the replay steps follow the accepted events.
	tests := []struct {
		name      string
		path      string
		body      string
		sig       string // X-MetaKocka-Signature; "-" leaves it out
		event     string // X-MetaKocka-Id; "-" leaves it out
		status    int
		code      string
		msg       string // part of the error message
		queuedFor string // the tenant whose payload is queued
	}{
		{"missing signature", pathA, stockBody, "-", "evt-1", 401, "unauthorized", "unknown webhook or invalid", ""},
		{"garbage signature", pathA, stockBody, "not base64!", "evt-1", 401, "unauthorized", "unknown webhook or invalid", ""},
		{"signature of another body", pathA, stockBody, sign(secretA, stockBody+" "), "evt-1", 401, "unauthorized", "unknown webhook or invalid", ""},
		{"other tenant's secret", pathA, stockBody, sign(secretB, stockBody), "evt-1", 401, "unauthorized", "unknown webhook or invalid", ""},
		{"unknown webhook id", httpapi.StockWebhookPath("0190f3c4-0000-7000-8000-00000000ffff"), stockBody, sign(secretA, stockBody), "evt-1", 401, "unauthorized", "unknown webhook or invalid", ""},
		{"malformed webhook id", "/webhooks/metakocka/%00x/stock", stockBody, sign(secretA, stockBody), "evt-1", 401, "unauthorized", "unknown webhook or invalid", ""},
		{"oversized body", pathA, huge, sign(secretA, huge), "evt-1", 413, "invalid", "too large", ""},
		{"not JSON", pathA, "stock=5", sign(secretA, "stock=5"), "evt-1", 400, "invalid", "not valid JSON", ""},
		{"JSON array", pathA, "[1]", sign(secretA, "[1]"), "evt-1", 400, "invalid", "JSON object", ""},
		{"no stock_list", pathA, `{"opr_code":"0"}`, sign(secretA, `{"opr_code":"0"}`), "evt-1", 400, "invalid", "stock_list", ""},
		{"stock_list not a list", pathA, `{"stock_list":{}}`, sign(secretA, `{"stock_list":{}}`), "evt-1", 400, "invalid", "stock_list", ""},
		{"missing event id", pathA, stockBody, sign(secretA, stockBody), "-", 400, "invalid", httpapi.HeaderEventID, ""},
		{"accepted", pathA, stockBody, sign(secretA, stockBody), "evt-1", 200, "", "", b.a.ID},
		{"replayed event id", pathA, stockBody, sign(secretA, stockBody), "evt-1", 401, "unauthorized", "replayed event", ""},
		{"replayed id, other body", pathA, `{"stock_list":[]}`, sign(secretA, `{"stock_list":[]}`), "evt-1", 401, "unauthorized", "replayed event", ""},
		// The id is not signed: a captured body replayed under a new id is
		// still the same signed body.
		{"replayed body, new event id", pathA, stockBody, sign(secretA, stockBody), "evt-forged", 401, "unauthorized", "replayed event", ""},
		{"stock_list too long", pathA, longList, sign(secretA, longList), "evt-long", 400, "invalid", "stock_list", ""},
		{"same event id, other tenant", pathB, stockBody, sign(secretB, stockBody), "evt-1", 200, "", "", b.b.ID},
		{"new event, unpadded signature", pathA, `{"stock_list":[]}`, strings.TrimRight(sign(secretA, `{"stock_list":[]}`), "="), "evt-2", 200, "", "", b.a.ID},
	}
	want, validated := 0, b.validated
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.sig != "-" {
				hdr = append(hdr, httpapi.HeaderSignature, tt.sig)
			}
			if tt.event != "-" {
				hdr = append(hdr, httpapi.HeaderEventID, tt.event)
			}
			rec := b.do("POST", tt.path, "", tt.body, hdr...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status == 200 {
				require.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
				want++
				calls := b.queue.Calls()
				require.Len(t, calls, want, "queued once")
				require.Equal(t, tt.queuedFor, calls[want-1].TenantID)
				require.Equal(t, tt.body, calls[want-1].Payload, "the payload as sent")
				require.True(t, calls[want-1].InTx, "queued in the transaction that remembers the event")
				return
			}
			env := envelope(t, rec)
			require.Equal(t, tt.code, env.Code)
			require.Contains(t, env.Error, tt.msg)
			require.Empty(t, rec.Header().Get("WWW-Authenticate"), "no bearer challenge")
			require.Len(t, b.queue.Calls(), want, "nothing queued")
		})
	}
	require.GreaterOrEqual(t, b.validated-validated, len(tests)-1, "answers were checked against the OpenAPI document")
	// Rejections stored nothing (no error records either); the secrets and
	// signatures never reach the log.
	require.Equal(t, beforeA, b.snapshot(b.a.ID))
	require.Equal(t, beforeB, b.snapshot(b.b.ID))
	logs := b.Logs()
	for _, s := range []string{secretA, secretB, sign(secretA, stockBody), pathA} {
		require.NotContains(t, logs, s)
	}
	require.Contains(t, logs, `"webhookEventId":"evt-1"`)
	require.Empty(t, b.syncer.Calls())

	t.Run("unknown id and bad signature answer alike", func(t *testing.T) {
		unknown := envelope(t, b.do("POST", httpapi.StockWebhookPath("nope"), "", stockBody, httpapi.HeaderSignature, sign(secretA, stockBody), httpapi.HeaderEventID, "e"))
		badSig := envelope(t, b.do("POST", pathA, "", stockBody, httpapi.HeaderSignature, sign("wrong", stockBody), httpapi.HeaderEventID, "e"))
		require.Equal(t, unknown.Error, badSig.Error)
		require.Equal(t, unknown.Details, badSig.Details)
	})
	t.Run("no bearer token needed, none used", func(t *testing.T) {
		body := `{"stock_list":[{"mk_id":"3"}]}`
		rec := b.do("POST", pathA, b.a.Token, body, httpapi.HeaderSignature, sign(secretA, body), httpapi.HeaderEventID, "evt-3")
		require.Equal(t, 200, rec.Code)
		rec = b.do("GET", pathA, "", "")
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})
}

func TestStockWebhookQueueFailureKeepsTheEventRetryable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "hook-secret-0123456789"
	path := b.connectWebhook(b.a, secret)
	hdr := []string{httpapi.HeaderSignature, sign(secret, stockBody), httpapi.HeaderEventID, "evt-retry"}

	b.queue.SetErr(mksync.WrapError(mksync.EINTERNAL, "queue stock job", errors.New("database is locked")))
	rec := b.do("POST", path, "", stockBody, hdr...)
	require.Equal(t, 500, rec.Code, rec.Body.String())
	env := envelope(t, rec)
	require.Equal(t, "internal", env.Code)
	require.NotContains(t, rec.Body.String(), "locked")
	er, err := b.db.FindErrorRecord(context.Background(), b.a.ID, env.ErrorID)
	require.NoError(t, err, "a 5xx of a verified webhook is recorded for its tenant")
	require.Equal(t, "POST /webhooks/metakocka/{webhookId}/stock", er.Operation)

	// Metakocka's retry of the same event goes through: the event id was
	// rolled back with the failed enqueue.
	b.queue.SetErr(nil)
	require.Equal(t, 200, b.do("POST", path, "", stockBody, hdr...).Code)
	require.Len(t, b.queue.Calls(), 1)
}

func TestStockWebhookWithoutQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *httpapi.Config) { c.StockQueue = nil }})
	const secret = "hook-secret-0123456789"
	path := b.connectWebhook(b.a, secret)
	hdr := []string{httpapi.HeaderSignature, sign(secret, stockBody), httpapi.HeaderEventID, "evt-1"}
	rec := b.do("POST", path, "", stockBody, hdr...)
	require.Equal(t, 503, rec.Code, rec.Body.String())
	require.Equal(t, "upstream", envelope(t, rec).Code)
	// A bad signature is still 401, not a hint that the queue is missing.
	require.Equal(t, 401, b.do("POST", path, "", stockBody, httpapi.HeaderSignature, sign("x", stockBody), httpapi.HeaderEventID, "evt-1").Code)
}

func TestStockWebhookRateLimitPerWebhookID(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *httpapi.Config) { c.RateLimitWebhook = 2 }})
	const secretA, secretB = "hook-secret-A-0123456789", "hook-secret-B-9876543210"
	pathA, pathB := b.connectWebhook(b.a, secretA), b.connectWebhook(b.b, secretB)
	// Each event its own body: a repeated body would be a replay.
	bodyOf := func(event string) string { return `{"stock_list":[{"mk_id":"` + event + `"}]}` }
	send := func(path, secret, event string) int {
		return b.do("POST", path, "", bodyOf(event), httpapi.HeaderSignature, sign(secret, bodyOf(event)), httpapi.HeaderEventID, event).Code
	}
	require.Equal(t, 200, send(pathA, secretA, "a1"))
	require.Equal(t, 200, send(pathA, secretA, "a2"))
	rec := b.do("POST", pathA, "", bodyOf("a3"), httpapi.HeaderSignature, sign(secretA, bodyOf("a3")), httpapi.HeaderEventID, "a3")
	require.Equal(t, 429, rec.Code)
	require.Equal(t, "rate_limited", envelope(t, rec).Code)
	require.NotEmpty(t, rec.Header().Get("Retry-After"))
	require.Equal(t, 200, send(pathB, secretB, "b1"), "another webhook id has its own bucket")
	require.Len(t, b.queue.Calls(), 3)
}

// Replays are keyed on the signed body as well as on the (unsigned) event
// id, for a bounded window: after it, the same body is a new event (a
// product's stock back where it was).
func TestStockWebhookReplayWindow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "hook-secret-0123456789"
	path := b.connectWebhook(b.a, secret)
	send := func(event string) int {
		return b.do("POST", path, "", stockBody, httpapi.HeaderSignature, sign(secret, stockBody), httpapi.HeaderEventID, event).Code
	}
	require.Equal(t, 200, send("evt-1"))
	b.clock.Advance(httpapi.DefaultWebhookReplayWindow - time.Second)
	require.Equal(t, 401, send("evt-2"), "the same signed body under another id, within the window")
	b.clock.Advance(2 * time.Second)
	require.Equal(t, 200, send("evt-3"), "after the window the body is a new event")
	require.Len(t, b.queue.Calls(), 2)
}

// A stock webhook secret shorter than 16 bytes is refused (the review's
// one-byte secret was accepted); empty still has one generated.
func TestStockWebhookSecretLength(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, short := range []string{"x", "fifteen-bytes!!"} {
		rec := b.do("PUT", "/api/integrations/metakocka/credentials", b.a.Token,
			`{"companyId":"16","secretKey":"mk-secret","webhookSecret":"`+short+`"}`)
		require.Equal(t, 400, rec.Code, rec.Body.String())
		require.Contains(t, envelope(t, rec).Details["webhookSecret"], "at least 16 bytes")
	}
	b.decode(b.do("PUT", "/api/integrations/metakocka/credentials", b.a.Token,
		`{"companyId":"16","secretKey":"mk-secret","webhookSecret":"sixteen-bytes!!!"}`), 200, nil)
	b.decode(b.do("PUT", "/api/integrations/metakocka/credentials", b.a.Token,
		`{"companyId":"16","secretKey":"mk-secret"}`), 200, nil)
}
