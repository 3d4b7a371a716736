package engine

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka"
)

// TestTaxRatePercentEX checks that the codes of the company's tax table are
// read as real rates: the tax_factor Metakocka gives, else the documented
// rate (EX4 22 %, EX3 9.5 %, EX1 25 %), never 0 %.
func TestTaxRatePercentEX(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   string
		factor metakocka.Decimal
		want   string
	}{
		{"EX4", metakocka.Decimal{}, "22"},
		{"ex4", metakocka.Decimal{}, "22"},
		{"EX3", metakocka.Decimal{}, "9.5"},
		{"EX1", metakocka.Decimal{}, "25"},
		{"EX4", metakocka.MustDecimal("0,25"), "25"},
		{"EX2", metakocka.MustDecimal("0.05"), "5"},
	} {
		r, err := taxRatePercent(tc.code, tc.factor)
		require.NoError(t, err, tc.code)
		require.Equal(t, tc.want, dec(r), "%s %v", tc.code, tc.factor)
	}
}
