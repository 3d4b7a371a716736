package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSyncArguments(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sync", "contacts", "--to-metakocka", "--all"},                                      // no tenant
		{"sync", "contacts", "--tenant", "x", "--all"},                                       // no direction
		{"sync", "contacts", "--tenant", "x", "--to-metakocka", "--from-metakocka", "--all"}, // both
		{"sync", "contacts", "--tenant", "x", "--to-metakocka"},                              // neither --all nor --id
		{"sync", "contacts", "--tenant", "x", "--to-metakocka", "--all", "--id", "a"},        // both
		{"sync", "widgets", "--tenant", "x", "--to-metakocka", "--all"},                      // unknown entity
	} {
		_, _, err := runCLI(t, "", args...)
		require.Error(t, err, "%v", args)
	}
}
