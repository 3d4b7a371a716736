package metakocka

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGoldenDocumentsRoundTrip decodes every document and partner of the
// golden corpus (testdata/golden: the documentation's examples) into
// the client's types, encodes it again and checks that nothing was lost or
// invented beyond the request envelope (credentials, answer status), so a
// document read with get_document is written back by put_document as
// Metakocka had it.
func TestGoldenDocumentsRoundTrip(t *testing.T) {
	t.Parallel()
	metas, err := filepath.Glob(filepath.Join("testdata", "golden", "*", "*.meta.json"))
	require.NoError(t, err)
	require.NotEmpty(t, metas)
	envelope := map[string]bool{"secret_key": true, "company_id": true, "opr_code": true, "opr_desc": true, "opr_time_ms": true, "opr_time": true, "opr_time_no_lock_ms": true}
	checked := 0
	for _, m := range metas {
		base := strings.TrimSuffix(m, ".meta.json")
		var meta struct{ Method string }
		raw, err := os.ReadFile(m)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &meta))
		var files []struct {
			path  string
			value func() any
		}
		add := func(suffix string, v func() any) {
			if _, err := os.Stat(base + suffix); err == nil {
				files = append(files, struct {
					path  string
					value func() any
				}{base + suffix, v})
			}
		}
		switch meta.Method {
		case "put_document":
			add(".request.json", func() any { return new(Document) })
		case "get_document":
			add(".response.json", func() any { return new(Document) })
		case "get_partner", "update_partner":
			add(".response.json", func() any { return new(partnerList) })
		}
		for _, f := range files {
			name := strings.TrimPrefix(f.path, filepath.Join("testdata", "golden")+string(filepath.Separator))
			t.Run(name, func(t *testing.T) {
				raw, err := os.ReadFile(f.path)
				require.NoError(t, err)
				var lost []string
				for _, path := range roundTrip(t, raw, f.value()) {
					if !envelope[strings.SplitN(path, ".", 2)[0]] {
						lost = append(lost, path)
					}
				}
				require.Empty(t, lost, "keys lost in decoding")
			})
			checked++
		}
	}
	require.Greater(t, checked, 30, "documents and partners checked")
}
