package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/alerts"
	"github.com/mksync/mksync/metakocka/mkfake"
)

// A tenant whose Metakocka company starts refusing every call: a running
// serve opens the record-failures alert, sends exactly one signed notice to
// the configured receiver, and resolves it (with one more notice) once the
// company answers again; /metrics and the error records tell the same story.
func TestServeAlertLifecycle(t *testing.T) {
	const noticeSecret = "alert-notice-secret-0123456789"
	var mu sync.Mutex
	var notices []alerts.NoticeBody
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alerts.VerifySignature([]byte(noticeSecret), r.Header.Get(alerts.HeaderTimestamp),
			r.Header.Get(alerts.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var n alerts.NoticeBody
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		notices = append(notices, n)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	t.Setenv("MKSYNC_ALERT_WEBHOOK_URL", receiver.URL)
	t.Setenv("MKSYNC_ALERT_WEBHOOK_SECRET", noticeSecret)
	noticesOf := func(rule, event string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, no := range notices {
			if no.Rule == rule && no.Event == event {
				n++
			}
		}
		return n
	}

	st := serveTenant(t, "91", 11)
	base, token, fake, stop := st.base, st.token, st.fake, st.stop

	for i := range 12 {
		resp, c := post(t, base+"/api/contacts", token, map[string]any{"name": fmt.Sprintf("Alert contact %02d", i)})
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%v", c)
	}
	syncAll := func() map[string]any {
		resp, acc := post(t, base+"/api/integrations/metakocka/contacts/sync-all-to-metakocka", token, map[string]any{})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, "%v", acc)
		var run map[string]any
		require.Eventually(t, func() bool {
			req, _ := http.NewRequest("GET", base+"/api/sync-runs/"+acc["runId"].(string), nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			run = nil
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&run))
			s, _ := run["status"].(string)
			return s == "succeeded" || s == "partial" || s == "failed"
		}, 60*time.Second, 50*time.Millisecond)
		return run
	}

	// Metakocka refuses every call (an opr_code error: not retried).
	fake.SetFaults("91", mkfake.Faults{OprErrorRate: 1})
	run := syncAll()
	require.NotEqual(t, "succeeded", run["status"], "%v", run)
	require.Eventually(t, func() bool { return noticesOf(alerts.RuleRecordFailures, alerts.EventAlertOpened) >= 1 },
		30*time.Second, 50*time.Millisecond, "the alert's notice reaches the receiver")
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	require.Equal(t, 1, noticesOf(alerts.RuleRecordFailures, alerts.EventAlertOpened), "one notice per opened alert")
	require.Equal(t, 1.0, scrape(t, base, "mksync_alerts_opened_total", `rule="record_failures"`))
	require.GreaterOrEqual(t, scrape(t, base, "mksync_sync_records_total", `outcome="failed"`), 10.0)

	req, _ := http.NewRequest("GET", base+"/api/alerts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var listed struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&listed))
	resp.Body.Close()
	require.NotEmpty(t, listed.Items, "the alert is listed by the API")

	req, _ = http.NewRequest("GET", base+"/api/errors?category=SYNC", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var errs struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&errs))
	resp.Body.Close()
	require.GreaterOrEqual(t, len(errs.Items), 10, "every failed record left an error record")

	// Metakocka recovers: the next run succeeds and the alert resolves.
	fake.ClearFaults("91")
	run = syncAll()
	require.Equal(t, "succeeded", run["status"], "%v", run)
	require.Eventually(t, func() bool { return noticesOf(alerts.RuleRecordFailures, alerts.EventAlertResolved) == 1 },
		30*time.Second, 50*time.Millisecond, "the resolution's notice reaches the receiver")
	require.Equal(t, 1.0, scrape(t, base, "mksync_alerts_resolved_total", `rule="record_failures"`))
	require.Len(t, fake.Partners("91"), 12)
	require.NoError(t, stop())
}
