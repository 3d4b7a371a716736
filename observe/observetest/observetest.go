// Package observetest helps tests read mksync's metrics: a Metrics on a
// fresh registry, and the value of a series as a scrape would show it. It
// is imported by tests only (of observe and of the packages that feed
// metrics) and imports only observe and libraries.
package observetest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/observe"
)

// NewMetrics returns metrics on a fresh pedantic registry, and the
// registry to gather them from.
func NewMetrics(t testing.TB, opts observe.MetricsOptions) (*observe.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := observe.NewMetrics(reg, opts)
	require.NoError(t, err)
	return m, reg
}

// Value returns the value of the series of family name whose labels include
// all of want (a counter's or gauge's value, a histogram's sample count),
// summed over matching series; 0 when none matches.
func Value(t testing.TB, reg prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !LabelsMatch(m, want) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// LabelsMatch reports whether m carries every label of want with its value.
func LabelsMatch(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, lp := range m.GetLabel() {
		got[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// Families returns the names of the gathered mksync_ families.
func Families(t testing.TB, reg prometheus.Gatherer) []string {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var out []string
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "mksync_") {
			out = append(out, f.GetName())
		}
	}
	return out
}

// Scrape GETs a /metrics URL and parses the text format, as Prometheus
// would read it.
func Scrape(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(&buf)
	require.NoError(t, err)
	return fams
}
