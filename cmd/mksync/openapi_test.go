package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/app/apptest"
)

func TestOpenAPICommandPrintsTheServedDocument(t *testing.T) {
	doc, err := openAPIDocument()
	require.NoError(t, err)
	var v struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(doc, &v))
	require.Equal(t, "3.1.0", v.OpenAPI)
	require.Contains(t, v.Paths, "/api/integrations/metakocka/contacts/sync-all-to-metakocka")

	// The same bytes a deployment with default limits serves.
	d := apptest.Start(t, apptest.Options{NoEngine: true})
	served := getBody(t, d.URL+"/api/openapi.json")
	require.JSONEq(t, string(served), string(doc))
}

func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}
