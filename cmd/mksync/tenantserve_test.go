package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka/mkfake"
)

// servedTenant is a running `mksync serve` on a temporary SQLite database
// with one tenant connected to an in-process simulator company.
type servedTenant struct {
	base    string // the server's URL
	token   string // the tenant's API token
	tenant  string // the tenant's id
	company string // the simulator company's id
	fake    *mkfake.Server
	mkURL   string
	stop    func() error
}

// serveTenant creates a tenant connected to a new simulator company and
// starts serve for it with extra serve flags.
func serveTenant(t testing.TB, company string, seed int64, flags ...string) servedTenant {
	t.Helper()
	cliEnv(t)
	t.Setenv("MKSYNC_ADMIN_TOKEN", "")
	t.Setenv("MKSYNC_ADDR", "")
	fake := mkfake.New(mkfake.Options{Seed: seed})
	secret := "secret-" + company
	fake.AddCompany(company, secret)
	mk := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); mk.Close() })
	db := "sqlite:" + filepath.Join(t.TempDir(), "mksync.db")
	tenant := strings.TrimSpace(mustRun(t, "", "tenant", "create", "--name", "Tenant "+company+" d.o.o.", "--db", db))
	mustRun(t, secret+"\n", "credentials", "set", "--tenant", tenant, "--company-id", company, "--metakocka-url", mk.URL, "--db", db)
	token := strings.TrimSpace(mustRun(t, "", "token", "create", "--tenant", tenant, "--name", "test", "--db", db))
	// The tenant may point its credentials at this simulator through the API.
	t.Setenv("MKSYNC_METAKOCKA_URLS", mk.URL)
	base, _, stop := startServe(t, append([]string{"--db", db}, flags...)...)
	return servedTenant{base: base, token: token, tenant: tenant, company: company, fake: fake, mkURL: mk.URL, stop: stop}
}

// serve reads the Metakocka URLs tenants may set from MKSYNC_METAKOCKA_URLS:
// the simulator named there is accepted through the API, another address
// is refused, and a malformed list stops serve with a clear error.
func TestServeMetakockaURLs(t *testing.T) {
	st := serveTenant(t, "61", 3)
	defer func() { _ = st.stop() }()
	put := func(u string) int {
		resp, _ := send(t, "PUT", st.base+"/api/integrations/metakocka/credentials", st.token,
			map[string]any{"companyId": "61", "metakockaUrl": u})
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, put(st.mkURL))
	require.Equal(t, http.StatusBadRequest, put("http://127.0.0.1:1"))

	t.Setenv("MKSYNC_METAKOCKA_URLS", "gopher://x")
	_, _, err := runCLI(t, "", "serve", "--db", "sqlite:"+filepath.Join(t.TempDir(), "x.db"), "--addr", "127.0.0.1:0")
	require.ErrorContains(t, err, "MKSYNC_METAKOCKA_URLS")
}
