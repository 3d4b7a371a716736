package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// A table is analyzed once analyzeFirst rows were written, then each time
// as many again were written as at its last ANALYZE (doubling); tables are
// counted apart, and nothing runs after close.
func TestAutoAnalyzeThresholds(t *testing.T) {
	var mu sync.Mutex
	var runs []string
	a := newAutoAnalyze(func(_ context.Context, table string) error {
		mu.Lock()
		defer mu.Unlock()
		runs = append(runs, table)
		return nil
	})
	count := func() int {
		a.wg.Wait() // the ANALYZEs run in the background
		mu.Lock()
		defer mu.Unlock()
		return len(runs)
	}
	for _, step := range []struct {
		table string
		rows  int
		want  int
	}{
		{"mappings", analyzeFirst - 1, 0},
		{"contacts", 1, 0},
		{"mappings", 1, 1},                // 500: the first
		{"mappings", analyzeFirst - 1, 1}, // 999: not yet 2 × 500
		{"mappings", 1, 2},                // 1,000
		{"mappings", 999, 2},
		{"mappings", 1, 3}, // 2,000
		{"contacts", analyzeFirst, 4},
	} {
		a.wrote(step.table, step.rows)
		require.Equal(t, step.want, count(), "after %d rows of %s", step.rows, step.table)
	}
	require.Equal(t, []string{"mappings", "mappings", "mappings", "contacts"}, runs)
	a.close()
	a.wrote("products", 10*analyzeFirst)
	require.Equal(t, 4, count(), "no ANALYZE after close")
	var nilKeeper *autoAnalyze
	nilKeeper.wrote("mappings", analyzeFirst) // a DB made without Open
	nilKeeper.close()
}
