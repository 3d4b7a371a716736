package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
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

func TestPrintResultCountsLinkedAndAmbiguous(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	run := mksync.SyncRun{ID: "r1", Status: mksync.RunSucceeded, Processed: 9,
		Result: mksync.SyncResult{Created: 2, Updated: 1, Skipped: 1, Linked: 4, Ambiguous: 1}}
	require.NoError(t, printResult(streams{in: strings.NewReader(""), out: &out, err: io.Discard}, run, false))
	require.Contains(t, out.String(), "created 2, updated 1, skipped 1, conflicts 0, failed 0, linked 4, ambiguous 1\n")
}
