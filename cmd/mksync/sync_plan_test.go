package main

import (
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

func TestSyncDryRunThenApply(t *testing.T) {
	t.Parallel()
	fake := mkfake.New(mkfake.Options{Seed: 6})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	fake.AddCompany("78", "secret-78")
	mk, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: "78", SecretKey: mksync.Secret("secret-78")})
	require.NoError(t, err)
	partner, err := mk.AddPartner(t.Context(), metakocka.Partner{Customer: "Obstoječ d.o.o.", TaxIDNumber: "SI11112222"})
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "mksync.db")
	db := "sqlite:" + path
	tenant := strings.TrimSpace(mustRun(t, "", "tenant", "create", "--name", "Preview", "--db", db))
	mustRun(t, "secret-78\n", "credentials", "set", "--tenant", tenant, "--company-id", "78", "--metakocka-url", srv.URL, "--db", db)
	direct := openDirect(t, path)
	old := mksync.Contact{Name: "Obstoječ", TaxID: "si 11112222"}
	fresh := mksync.Contact{Name: "Nov kupec", Street: "Cesta 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"}
	require.NoError(t, direct.CreateContact(t.Context(), tenant, &old))
	require.NoError(t, direct.CreateContact(t.Context(), tenant, &fresh))
	fake.ResetStats()

	out := mustRun(t, "", "sync", "contacts", "--tenant", tenant, "--to-metakocka", "--all", "--dry-run", "--db", db)
	require.Contains(t, out, "would create 1, link 1, update 0; 0 need a decision")
	require.Contains(t, out, old.ID+"  link mk_id "+partner.MkID+" by tax number")
	require.Contains(t, out, fresh.ID+"  create_in_metakocka")
	require.Contains(t, out, `name: "" → "Nov kupec"`)
	require.Zero(t, fake.Stats().Writes(), "a preview makes no write call")
	_, err = direct.FindMapping(t.Context(), tenant, mksync.EntityContact, old.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err), "a preview writes no mapping")

	runID := regexp.MustCompile(`--apply (\S+)`).FindStringSubmatch(out)[1]
	out = mustRun(t, "", "sync", "contacts", "--tenant", tenant, "--apply", runID, "--db", db)
	require.Contains(t, out, "created 1")
	m, err := direct.FindMapping(t.Context(), tenant, mksync.EntityContact, old.ID)
	require.NoError(t, err)
	require.Equal(t, partner.MkID, m.MetakockaID)
	require.Len(t, fake.Partners("78"), 2)

	for _, args := range [][]string{
		{"sync", "contacts", "--tenant", tenant, "--apply", runID, "--to-metakocka", "--db", db}, // --apply alone
		{"sync", "products", "--tenant", tenant, "--apply", runID, "--db", db},                   // another entity
		{"sync", "contacts", "--tenant", tenant, "--apply", "no-such-run", "--db", db},
	} {
		_, _, err := runCLI(t, "", args...)
		require.Error(t, err, "%v", args)
	}
}
