package metakocka

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecodeResponse feeds arbitrary answers through everything that reads a
// Metakocka answer: the classifier and every answer type, and re-encodes what
// decoded. None of it may panic. The seeds are the documented examples in
// testdata/ and the corpus in testdata/fuzz/FuzzDecodeResponse.
func FuzzDecodeResponse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 200)
	}
	f.Add([]byte(`{"opr_code":"2","opr_desc":"Unknown document type : x"}`), 200)
	f.Add([]byte(`{"opr_code":1,"error_desc":"java.lang.InterruptedException"}`), 200)
	f.Add([]byte(`<html>Bad gateway</html>`), 502)
	f.Add([]byte(``), 429)

	f.Fuzz(func(t *testing.T, body []byte, status int) {
		e := classify(response{method: "search", status: status, header: http.Header{"Retry-After": {string(body)}},
			body: body, now: time.Unix(0, 0), scrub: func(s string) string { return s }})
		if e != nil {
			_ = e.Error()
			_ = e.Code()
		}
		targets := []any{
			new(partnerList), new(AddPartnerResult), new(productListAnswer), new(ProductRef),
			new(PutDocumentResult), new(Document), new(searchAnswer), new(Product),
		}
		for _, v := range targets {
			if json.Unmarshal(body, v) != nil {
				continue
			}
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("%T decoded but does not encode: %v", v, err)
			}
		}
		var d Decimal
		if json.Unmarshal(body, &d) == nil && d.Valid {
			_ = d.String()
		}
	})
}
