package main

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
)

func TestLinkAndUnlinkCommands(t *testing.T) {
	t.Parallel()
	fake := mkfake.New(mkfake.Options{Seed: 5})
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	fake.AddCompany("77", "secret-77")
	mk, err := metakocka.New(metakocka.Config{BaseURL: srv.URL, CompanyID: "77", SecretKey: mksync.Secret("secret-77")})
	require.NoError(t, err)
	partner, err := mk.AddPartner(t.Context(), metakocka.Partner{Customer: "Obstoječ d.o.o.", TaxIDNumber: "SI11112222"})
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "mksync.db")
	db := "sqlite:" + path
	tenant := strings.TrimSpace(mustRun(t, "", "tenant", "create", "--name", "Link", "--db", db))
	mustRun(t, "secret-77\n", "credentials", "set", "--tenant", tenant, "--company-id", "77", "--metakocka-url", srv.URL, "--db", db)
	direct := openDirect(t, path)
	c := mksync.Contact{Name: "Obstoječ"}
	require.NoError(t, direct.CreateContact(t.Context(), tenant, &c))

	out := mustRun(t, "", "link", "contacts", "--tenant", tenant, "--id", c.ID, "--mk-id", partner.MkID, "--db", db)
	require.Contains(t, out, "linked to mk_id "+partner.MkID)
	m, err := direct.FindMapping(t.Context(), tenant, mksync.EntityContact, c.ID)
	require.NoError(t, err)
	require.Equal(t, partner.MkID, m.MetakockaID)
	require.Equal(t, mksync.StatePending, m.State)

	out = mustRun(t, "", "unlink", "contacts", "--tenant", tenant, "--id", c.ID, "--db", db)
	require.Contains(t, out, "unlinked")
	_, err = direct.FindMapping(t.Context(), tenant, mksync.EntityContact, c.ID)
	require.Equal(t, mksync.ENOTFOUND, mksync.ErrorCode(err))

	for _, args := range [][]string{
		{"link", "contacts", "--tenant", tenant, "--id", c.ID},                                      // no Metakocka record
		{"link", "contacts", "--tenant", tenant, "--id", c.ID, "--mk-id", "1", "--count-code", "x"}, // both
		{"link", "widgets", "--tenant", tenant, "--id", c.ID, "--mk-id", "1"},                       // unknown entity
		{"link", "contacts", "--tenant", tenant, "--id", c.ID, "--mk-id", "404404", "--db", db},     // no such partner
		{"unlink", "contacts", "--tenant", tenant, "--id", c.ID, "--db", db},                        // not linked
		{"unlink", "contacts", "--id", c.ID},                                                        // no tenant
	} {
		_, _, err := runCLI(t, "", args...)
		require.Error(t, err, "%v", args)
	}
}
