package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/httperr"
)

// FuzzJSONHandlers throws arbitrary bodies at every route that reads JSON:
// the answer is never a 5xx, and every non-2xx is the error envelope. The
// seed corpus runs in the normal suite; `go test -fuzz FuzzJSONHandlers
// ./httpapi/` explores further.
func FuzzJSONHandlers(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"name":"a"}`, `{"name":"a","version":1}`,
		`{"name":5}`, `{"name":"a","x":1}`, `{"name":"a"}{}`, `{"code":"A","name":"B","price":"1.5","taxRate":"22"}`,
		`{"price":"1e100000"}`, `{"price":1e400}`, `{"kind":"order","date":"2026-01-01","lines":[{"quantity":"1"}]}`,
		`{"date":"2026-13-45"}`, `{"lines":[null,{},{"productId":[]}]}`, `{"contactId":"x"}`, `{"contactIds":["a","b"]}`,
		`{"contactIds":[1,2]}`, `{"metakockaId":"\u0000"}`, `{"metakockaIds":null}`, `{"companyId":"1","secretKey":"s"}`,
		`{"settings":{"scheduleInterval":"-5m"}}`, `{"message":"m","operation":"o","context":{"a":"b"}}`,
		`{"deliveryDate":null,"dueDate":"x"}`, "\xff\xfe", `{"name":"\ud800"}`,
	} {
		f.Add(seed)
	}
	// One server and database per process; each input gets the bundle with
	// its own *testing.T. Limits are lifted so that inputs reach the handlers.
	b := setup(f, setupOpts{cfg: func(c *httpapi.Config) {
		c.RateLimitAPI, c.RateLimitSync, c.RateLimitClientErrors = 1<<30, 1<<30, 1<<30
	}})
	f.Fuzz(func(t *testing.T, body string) {
		fb := *b
		fb.t = t
		mi := "/api/integrations/metakocka/"
		for _, r := range []struct{ method, path string }{
			{"POST", "/api/contacts"},
			{"PUT", "/api/contacts/" + fb.a.ContactID},
			{"POST", "/api/products"},
			{"POST", "/api/sales-documents"},
			{"PUT", "/api/sales-documents/" + fb.a.DocumentID},
			{"POST", mi + "contacts/sync-to-metakocka"},
			{"POST", mi + "products/sync-to-metakocka?bulk=true"},
			{"POST", mi + "sales-documents/sync-all-to-metakocka"},
			{"POST", mi + "contacts/sync-from-metakocka"},
			{"PUT", mi + "credentials"},
			{"POST", "/api/client-errors"},
			{"POST", "/api/admin/tenants"},
		} {
			tok := fb.a.Token
			if r.path == "/api/admin/tenants" {
				tok = fb.adminToken
			}
			rec := fb.do(r.method, r.path, tok, body)
			if rec.Code >= 500 {
				t.Fatalf("%s %s with %q: %d %s", r.method, r.path, body, rec.Code, rec.Body.String())
			}
			if rec.Code >= 300 {
				var env httperr.Body
				if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.ErrorID == "" {
					t.Fatalf("%s %s: not an envelope: %s", r.method, r.path, rec.Body.String())
				}
			}
		}
	})
}
