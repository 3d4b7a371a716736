package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/app"
)

func TestParseDB(t *testing.T) {
	for in, want := range map[string]app.DBTarget{
		"":                        {Path: "./mksync-data/mksync.db"},
		"sqlite:/var/lib/m.db":    {Path: "/var/lib/m.db"},
		"sqlite:///var/lib/m.db":  {Path: "/var/lib/m.db"},
		"data/m.db":               {Path: "data/m.db"},
		"postgres://u:p@h/db":     {URL: "postgres://u:p@h/db"},
		"postgresql://u@h/db?x=1": {URL: "postgresql://u@h/db?x=1"},
	} {
		got, err := app.ParseDB(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	_, err := app.ParseDB("sqlite:")
	require.Error(t, err)
	require.NotContains(t, app.DBTarget{URL: "postgres://u:secretpw@h/db"}.String(), "secretpw")
}
