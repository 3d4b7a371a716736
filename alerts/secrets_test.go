package alerts_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/observe"
)

// TestNoSecretReachesOutputs runs failing Metakocka calls that carry a known
// secret through the client, the logger, error record creation, the alert
// evaluator, the webhook notice and /metrics, and an API call with a known
// token through the HTTP middleware; then it greps every output, and the
// database files themselves, for the secret and the token.
func TestNoSecretReachesOutputs(t *testing.T) {
	t.Parallel()
	const wrongSecret = "wrong-secret-QQ77-leak-check"
	w := newWorld(t, wrongSecret, nil)

	// 1. Metakocka rejects the secret: an auth failure, its error record,
	// its log line, the auth alert and its notice.
	err := w.pushContact(t, "Leak Check d.o.o.")
	require.Error(t, err)
	require.Equal(t, mksync.EUNAUTHORIZED, mksync.ErrorCode(err))

	// 2. A hostile or broken endpoint echoes the request (with the secret)
	// in its error description and in a 5xx body.
	echo := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.HasSuffix(r.URL.Path, "/add_partner") {
			rw.WriteHeader(http.StatusServiceUnavailable)
			_, _ = rw.Write(body)
			return
		}
		desc, _ := json.Marshal("cannot parse request " + string(body))
		_, _ = rw.Write([]byte(`{"opr_code":"2","opr_desc":` + string(desc) + `}`))
	}))
	defer echo.Close()
	m := w.mon.Metrics
	echoClient, err := metakocka.New(metakocka.Config{
		BaseURL: echo.URL, CompanyID: e2eCompany, SecretKey: wrongSecret,
		HTTPClient: &http.Client{Transport: m.MetakockaTransport(echo.Client().Transport)},
		Logger:     w.log, Observer: w.mon.MetakockaObserver(w.tenant), Clock: w.clk,
		Retry: metakocka.RetryConfig{MaxRetries: 1, InitialInterval: time.Second},
	})
	require.NoError(t, err)
	saved := w.client
	w.client = echoClient
	require.Error(t, w.pushContact(t, "Echo d.o.o."))
	_, err = echoClient.AddPartner(w.ctx, metakocka.Partner{Customer: "Echo 2"})
	require.Error(t, err)
	w.log.Error("add partner failed", "error", err, "cause", err.Error())
	w.client = saved

	// 3. An API call with a token in the header and, carelessly, the query.
	tok, hash, err := mksync.NewTokenSecret()
	require.NoError(t, err)
	require.NoError(t, w.db.CreateAPIToken(w.ctx, w.tenant, &mksync.APIToken{Name: "leak-check", Hash: hash}))
	api, err := httpapi.New(httpapi.Config{Store: w.db, Logger: w.log, Now: w.clk.Now})
	require.NoError(t, err)
	defer api.Close()
	h, err := m.HTTPMiddleware(api, api.Patterns()...)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/contacts/nope?token="+tok.Reveal(), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	w.flush(t)
	require.NotEmpty(t, w.recv.notices(), "the auth failure was notified")

	// Collect every output.
	recs, _, err := w.db.FindErrorRecords(w.ctx, w.tenant, mksync.ErrorFilter{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(recs), 2)
	stored, _, err := w.db.FindAlerts(w.ctx, w.tenant, "", mksync.Page{})
	require.NoError(t, err)
	require.NotEmpty(t, stored)
	recJSON, err := json.Marshal(recs)
	require.NoError(t, err)
	alertJSON, err := json.Marshal(stored)
	require.NoError(t, err)
	mresp, err := http.Get(w.metrics.URL)
	require.NoError(t, err)
	metricsText, err := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	require.NoError(t, err)
	var dbFiles []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(w.db.Path() + suffix)
		if err == nil {
			dbFiles = append(dbFiles, b...)
		}
	}
	require.NotEmpty(t, dbFiles)

	outputs := map[string]string{
		"logs":          w.logs.String(),
		"error records": string(recJSON),
		"alerts":        string(alertJSON),
		"notices":       w.recv.rawBodies(),
		"metrics":       string(metricsText),
		"database":      string(dbFiles),
	}
	for name, out := range outputs {
		require.NotEmpty(t, out, name)
		for _, secret := range []string{wrongSecret, e2eSecret, tok.Reveal(), webhookSecret} {
			require.NotContains(t, out, secret, "%s leak a secret", name)
		}
	}
	// The failures are still there to read, with the secret redacted.
	require.Contains(t, outputs["logs"], observe.Redacted)
	require.Contains(t, outputs["logs"], `"msg":"record sync failed"`)
	require.Contains(t, outputs["logs"], `\"secret_key\":\"[REDACTED]\"`, "the echoed request is scrubbed")
	require.Contains(t, outputs["error records"], mksync.EUNAUTHORIZED)
	require.Contains(t, outputs["alerts"], alerts.RuleMetakockaAuth)
}
