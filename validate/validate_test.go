package validate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
)

// brokenDriver fails, panics or is skipped in Connect; nothing else of it
// may be called.
type brokenDriver struct {
	Driver
	connect func() (string, error)
}

func (d brokenDriver) Connect(context.Context) (string, error) { return d.connect() }
func (d brokenDriver) Cleanup(context.Context) string          { return "" }

func TestRunCountsEveryOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		connect func() (string, error)
		want    Report
		line    string
	}{
		{"failure", func() (string, error) { return "", errors.New("refused") }, Report{Failed: 1},
			"✗ deployment: reachable, token accepted, Metakocka connected: refused"},
		{"panic", func() (string, error) { panic("boom") }, Report{Failed: 1},
			"✗ deployment: reachable, token accepted, Metakocka connected: panic: boom"},
		{"skip", func() (string, error) { return "", skip("offline") }, Report{Skipped: 1},
			"- deployment: reachable, token accepted, Metakocka connected (skipped: offline)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			r := Run(context.Background(), brokenDriver{connect: tc.connect}, []mksync.EntityType{mksync.EntityContact}, &out, Options{})
			require.Equal(t, tc.want, r)
			require.Equal(t, tc.line+"\n", out.String(), "nothing else runs")
		})
	}
}

func TestEntities(t *testing.T) {
	t.Parallel()
	for name, want := range map[string][]mksync.EntityType{
		"contacts":        {mksync.EntityContact},
		"products":        {mksync.EntityProduct},
		"sales-documents": {mksync.EntitySalesDocument},
		"all":             {mksync.EntityContact, mksync.EntityProduct, mksync.EntitySalesDocument},
	} {
		got, err := Entities(name)
		require.NoError(t, err)
		require.Equal(t, want, got, name)
	}
	require.Equal(t, []string{"contacts", "products", "sales-documents", "all"}, ChoiceNames())
	require.Equal(t, "1 passed, 2 failed, 3 skipped", Report{Passed: 1, Failed: 2, Skipped: 3}.String())
}
