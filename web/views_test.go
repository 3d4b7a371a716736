package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

func TestRunProgress(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name          string
		run           mksync.SyncRun
		percent       int
		indeterminate bool
		poll          bool
	}{
		{"queued, total unknown", mksync.SyncRun{Status: mksync.RunQueued}, 0, true, true},
		{"running", mksync.SyncRun{Status: mksync.RunRunning, Processed: 15, Total: 42}, 35, false, true},
		{"over an estimate", mksync.SyncRun{Status: mksync.RunRunning, Processed: 50, Total: 42}, 100, false, true},
		{"succeeded under an estimate", mksync.SyncRun{Status: mksync.RunSucceeded, Processed: 40, Total: 42, FinishedAt: &now}, 100, false, false},
		{"partial", mksync.SyncRun{Status: mksync.RunPartial, Processed: 3, Total: 3}, 100, false, false},
		{"failed half way", mksync.SyncRun{Status: mksync.RunFailed, Processed: 5, Total: 10}, 50, false, false},
		{"failed before counting", mksync.SyncRun{Status: mksync.RunFailed}, 0, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run.ID, c.run.EntityType = "run-1", mksync.EntityContact
			p := newRunProgress(c.run, nil, now, "every 1000ms")
			require.Equal(t, c.percent, p.Percent)
			require.Equal(t, c.indeterminate, p.Indeterminate)
			require.Equal(t, c.poll, p.PollURL != "", "polls only while not final")
			require.Equal(t, !c.poll, p.Final)
			if c.poll {
				require.Equal(t, "/runs/run-1/progress", p.PollURL)
				require.Equal(t, "every 1000ms", p.PollEvery)
			}
			if c.run.Status == mksync.RunSucceeded {
				require.Equal(t, p.Total, p.Processed, "a finished run shows every record done")
			}
		})
	}
}

func TestRunProgressLive(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start.Add(10 * time.Second)
	cases := []struct {
		name                 string
		run                  mksync.SyncRun
		live                 *mksync.LiveProgress
		processed, percent   int
		rate, left, duration string
	}{
		{name: "before the first batch commits the live count shows",
			run:       mksync.SyncRun{Status: mksync.RunRunning, Total: 200, StartedAt: &start},
			live:      &mksync.LiveProgress{Processed: 20, Total: 200, Since: start},
			processed: 20, percent: 10, rate: "2.0 records/s", left: "about 1 min 30 s left", duration: "10 s"},
		{name: "a resumed run's rate counts only what this execution did",
			run:       mksync.SyncRun{Status: mksync.RunRunning, Processed: 100, Total: 200, StartedAt: &start},
			live:      &mksync.LiveProgress{Processed: 150, Total: 200, Since: now.Add(-5 * time.Second), ProcessedAtSince: 100},
			processed: 150, percent: 75, rate: "10 records/s", left: "about 5 s left", duration: "10 s"},
		{name: "a pull learns its total while it runs",
			run:       mksync.SyncRun{Status: mksync.RunRunning, StartedAt: &start},
			live:      &mksync.LiveProgress{Processed: 30, Since: start},
			processed: 30, rate: "3.0 records/s", duration: "10 s"},
		{name: "without a live count, the committed progress and the run's start",
			run:       mksync.SyncRun{Status: mksync.RunRunning, Processed: 50, Total: 100, StartedAt: &start},
			processed: 50, percent: 50, rate: "5.0 records/s", left: "about 10 s left", duration: "10 s"},
		{name: "a finished run shows how long it took, no rate",
			run:       mksync.SyncRun{Status: mksync.RunSucceeded, Processed: 100, Total: 100, StartedAt: &start, FinishedAt: ptr(start.Add(65 * time.Second))},
			processed: 100, percent: 100, duration: "1 min 05 s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run.ID, c.run.EntityType = "run-1", mksync.EntityContact
			p := newRunProgress(c.run, c.live, now, "every 1000ms")
			require.Equal(t, c.processed, p.Processed)
			require.Equal(t, c.percent, p.Percent)
			require.Equal(t, c.rate, p.Rate)
			require.Equal(t, c.left, p.Left)
			require.Equal(t, c.duration, p.Duration)
			require.Equal(t, "/contacts", p.RecordsURL)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		200 * time.Millisecond: "under 1 s", 7 * time.Second: "7 s", 61 * time.Second: "1 min 01 s",
		2*time.Hour + 3*time.Minute + 9*time.Second: "2 h 03 min",
	} {
		require.Equal(t, want, formatDuration(d), d.String())
	}
}

func TestResultView(t *testing.T) {
	t.Parallel()
	res := mksync.SyncResult{Created: 2, Failed: 1, Errors: []mksync.RecordError{{ID: "c/1", Code: "invalid", Error: "bad", ErrorID: "e1"}}}
	v := newResultView(res, mksync.EntityContact, mksync.ToMetakocka)
	require.Equal(t, 2, v.Created)
	require.Equal(t, []RecordErrorRow{{RecordID: "c/1", RecordURL: "/contacts/c%2F1", Code: "invalid", Message: "bad", ErrorID: "e1"}}, v.Errors)
	// Pulled records are named by mk_id: no CRM link.
	v = newResultView(res, mksync.EntityContact, mksync.FromMetakocka)
	require.Empty(t, v.Errors[0].RecordURL)
}

func TestSettingsFormProblem(t *testing.T) {
	t.Parallel()
	f := SettingsForm{Problems: []Field{{Label: "batchSize", Value: "must be between 1 and 500"}}}
	require.Equal(t, "must be between 1 and 500", f.Problem("batchSize"))
	require.Empty(t, f.Problem("companyId"))
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "/", "/contacts?q=a": "/contacts?q=a", "//evil.example": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "contacts": "/", "/runs/1": "/runs/1",
		// Hostile forms an outside review and browsers' URL parsing suggest:
		// each must stay on this site once http.Redirect cleans it.
		"/x/../\\evil.example":         "/",
		"/x/..//evil.example":          "/evil.example",
		"/./\\evil.example":            "/",
		"/%5Cevil.example":             "/",
		"/%2F%2Fevil.example":          "/evil.example",
		"/%2f/evil.example/":           "/evil.example/",
		"/\t/evil.example":             "/",
		"/\n/evil.example":             "/",
		"/%09/evil.example":            "/",
		"/%0d%0aSet-Cookie:x=y":        "/",
		"/\x00evil":                    "/",
		"/\xff\xfe":                    "/",
		"http:/evil.example":           "/",
		"javascript:alert(1)":          "/",
		"///evil.example":              "/",
		"/@evil.example":               "/@evil.example",
		" /contacts":                   "/",
		"/contacts/../settings?tab=mk": "/settings?tab=mk",
		"/contacts/":                   "/contacts/",
	} {
		got := localPath(in)
		require.Equal(t, want, got, "%q", in)
		// http.Redirect cleans the target again: it must not change.
		w := httptest.NewRecorder()
		http.Redirect(w, httptest.NewRequest(http.MethodGet, "/login", nil), got, http.StatusSeeOther)
		require.Equal(t, got, w.Header().Get("Location"), "%q", in)
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Not synced", stateLabel("unsynced"))
	require.Equal(t, "Synced", stateLabel("synced"))
	require.Equal(t, "CRM → Metakocka", directionLabel("to_metakocka"))
	require.Equal(t, "Šifra ni znana", sentence("šifra ni znana"))
	require.Equal(t, "", sentence(""))
	require.Equal(t, "every 250ms", pollTrigger(250*time.Millisecond))
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	s := &sessions{key: make([]byte, 32), ttl: time.Hour}
	now := time.Unix(1_700_000_000, 0)
	v, err := s.encode(sessionPayload{Hash: []byte{1, 2, 3}, Nonce: "n1", Expires: now.Add(time.Hour).Unix()})
	require.NoError(t, err)
	p, err := s.decode(v, now)
	require.NoError(t, err)
	require.Equal(t, "n1", p.Nonce)

	_, err = s.decode(v, now.Add(time.Hour))
	require.ErrorContains(t, err, "expired")
	_, err = s.decode(v[:len(v)-2]+"xx", now)
	require.Error(t, err, "a changed signature")
	forged, err := (&sessions{key: []byte("another key of thirty-two bytes!!"), ttl: time.Hour}).encode(sessionPayload{Nonce: "n1", Expires: now.Add(time.Hour).Unix()})
	require.NoError(t, err)
	_, err = s.decode(forged, now)
	require.Error(t, err, "signed with another key")
	_, err = s.decode("no-dot", now)
	require.Error(t, err)

	// CSRF tokens differ per sign-in and are not the cookie's signature.
	require.NotEqual(t, s.csrfFor("n1"), s.csrfFor("n2"))
	require.False(t, equalToken("", ""))
}

func TestDocumentRecordShowsLinesAsEntered(t *testing.T) {
	d := mksync.SalesDocument{Kind: mksync.KindOrder, Number: "WEB-1", Currency: "EUR", Title: "Web order",
		DiscountValue:   decimal.RequireFromString("5"),
		DeliveryAddress: &mksync.Address{Name: "Marija", Street: "Trubarjeva 2", PostNumber: "2000", City: "Maribor"},
		Lines: []mksync.DocumentLine{
			{ProductID: "p1", Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("119.99"), PriceIncludesTax: true,
				DiscountPercent: decimal.NewFromInt(10), TaxRate: decimal.NewFromInt(22), TaxCode: "EX4"},
			{Description: "Coupon", Unit: "kos", Quantity: decimal.NewFromInt(-1), UnitPrice: decimal.NewFromInt(10), TaxRate: decimal.NewFromInt(22)},
		}}
	got := map[string]string{}
	for _, f := range documentRecord(d).Fields {
		got[f.Label] = f.Value
	}
	for label, want := range map[string]string{
		"Title":                        "Web order",
		"Delivery address":             "Marija, Trubarjeva 2, 2000 Maribor",
		"Line 1":                       "p1: 2 × 119.99 gross − 10 % · tax 22 % (EX4)",
		"Line 2":                       "Coupon: -1 kos × 10.00 net · tax 22 %",
		"Coupon (off the gross total)": "5.00 EUR",
	} {
		if got[label] != want {
			t.Errorf("%s = %q, want %q", label, got[label], want)
		}
	}
}
