package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mksync/mksync/web"
)

// Mount must send the REST API's paths — including Metakocka's stock
// webhook, which Metakocka posts without any UI session — to the API, and
// everything else to the UI.
func TestMountRoutesAPIPaths(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Handler", "api") })
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Handler", "ui") })
	h := web.Mount(api, ui)
	for path, want := range map[string]string{
		"/api/contacts":                    "api",
		"/api":                             "api",
		"/healthz":                         "api",
		"/readyz":                          "api",
		"/webhooks/metakocka/abc123/stock": "api",
		"/":                                "ui",
		"/contacts":                        "ui",
		"/apixyz":                          "ui",
		"/webhooksx":                       "ui",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
		if got := rec.Header().Get("X-Handler"); got != want {
			t.Errorf("%s went to %q, want %q", path, got, want)
		}
	}
}
