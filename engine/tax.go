package engine

import (
	"strings"

	"github.com/shopspring/decimal"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/metakocka"
)

var (
	ten     = decimal.NewFromInt(10)
	hundred = decimal.NewFromInt(100)
)

// taxCode converts a VAT rate in percent (22, 9.5, 0) to Metakocka's tax code:
// three digits in tenths of a percent ("220", "095", "000"). A rate that is
// not a whole number of tenths of a percent, or not below 100 %, has no code
// (EINVALID: retrying cannot help).
func taxCode(ratePercent decimal.Decimal) (string, error) {
	tenths := ratePercent.Mul(ten)
	if ratePercent.IsNegative() || !tenths.Equal(tenths.Truncate(0)) || tenths.GreaterThan(decimal.NewFromInt(999)) {
		return "", mksync.Errorf(mksync.EINVALID, "tax rate %s%% has no Metakocka tax code (codes carry tenths of a percent, below 100%%)", ratePercent)
	}
	s := "00" + tenths.Truncate(0).String()
	return s[len(s)-3:], nil
}

// taxRatePercent converts a Metakocka tax code to a VAT rate in percent:
// "220" → 22, "095" → 9.5, "000" → 0. The codes of the company's tax table
// ("EX1"…"EX4") are real rates, not exemptions: factor (tax_factor "0.22",
// which Metakocka gives with show_tax_factor) is the company's rate; without
// it, EX1, EX3 and EX4 take the rates the documentation shows (25 %, 9.5 %,
// 22 %). EX2, whose rate the documentation never shows, is still read as 0 %
// without a factor. Without a code, factor is used. Anything else is
// EINVALID.
func taxRatePercent(code string, factor metakocka.Decimal) (decimal.Decimal, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code != "" {
		if r, ok := metakocka.TaxRate(code); ok {
			return r.Mul(hundred), nil
		}
		switch code {
		case "EX1", "EX2", "EX3", "EX4":
			if factor.Valid {
				return factor.Value.Mul(hundred), nil
			}
			r, _ := metakocka.ExTaxRate(code)
			return r.Mul(hundred), nil
		}
		return decimal.Zero, mksync.Errorf(mksync.EINVALID, "unknown Metakocka tax code %q", code)
	}
	if factor.Valid {
		return factor.Value.Mul(hundred), nil
	}
	return decimal.Zero, nil
}
