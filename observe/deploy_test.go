package observe_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/observe/observetest"
)

var metricRef = regexp.MustCompile(`\bmksync_[a-zA-Z0-9_]+`)

// knownMetric reports whether ref is a declared metric or one of the series
// a histogram exposes (_bucket, _sum, _count).
func knownMetric(names []string, ref string) bool {
	if slices.Contains(names, ref) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(ref, suffix); ok && slices.Contains(names, base) && strings.HasSuffix(base, "_seconds") {
			return true
		}
	}
	return false
}

// collectExprs returns every "expr" string anywhere in a decoded JSON value.
func collectExprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				*out = append(*out, s)
				continue
			}
			collectExprs(x, out)
		}
	case []any:
		for _, x := range v {
			collectExprs(x, out)
		}
	}
}

// TestGrafanaDashboard: deploy/grafana/mksync.json is valid JSON whose
// queries name only metrics that exist.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	m, _ := observetest.NewMetrics(t, observe.MetricsOptions{})
	names := m.Names()
	b, err := os.ReadFile("../deploy/grafana/mksync.json")
	require.NoError(t, err)
	var dash map[string]any
	require.NoError(t, json.Unmarshal(b, &dash), "the dashboard is not valid JSON")
	require.Equal(t, "mksync", dash["uid"])

	var exprs []string
	collectExprs(dash, &exprs)
	require.NotEmpty(t, exprs)
	used := map[string]bool{}
	for _, e := range exprs {
		refs := metricRef.FindAllString(e, -1)
		require.NotEmpty(t, refs, "query without an mksync metric: %s", e)
		for _, r := range refs {
			require.True(t, knownMetric(names, r), "the dashboard queries %s, which mksync does not export", r)
			used[strings.TrimSuffix(r, "_bucket")] = true
		}
	}
	// Every metric is on the dashboard somewhere.
	for _, n := range names {
		require.True(t, used[n], "%s is on no dashboard panel", n)
	}

	ids := map[float64]bool{}
	for _, p := range dash["panels"].([]any) {
		id := p.(map[string]any)["id"].(float64)
		require.False(t, ids[id], "duplicate panel id %v", id)
		ids[id] = true
	}
}

// TestPrometheusRulesNameKnownMetrics: the alerting rules and their unit
// tests name only metrics that exist (promtool checks the syntax).
func TestPrometheusRulesNameKnownMetrics(t *testing.T) {
	t.Parallel()
	m, _ := observetest.NewMetrics(t, observe.MetricsOptions{})
	for _, f := range []string{"../deploy/prometheus/alerts.yml", "../deploy/prometheus/alerts_test.yml"} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		refs := metricRef.FindAllString(string(b), -1)
		require.NotEmpty(t, refs, f)
		for _, r := range refs {
			require.True(t, knownMetric(m.Names(), r), "%s names %s, which mksync does not export", f, r)
		}
	}
}
