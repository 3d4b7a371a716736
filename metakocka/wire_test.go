package metakocka_test

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync/metakocka"
)

func TestDecimalUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // "" = unset
		wantErr bool
	}{
		{in: `"10.5"`, want: "10.5"},
		{in: `"19,99"`, want: "19.99"},
		{in: `"0,8"`, want: "0.8"},
		{in: `"863,75"`, want: "863.75"},
		{in: `10.5`, want: "10.5"},
		{in: `-3`, want: "-3"},
		{in: `" 7 "`, want: "7"},
		{in: `"1.234,56"`, want: "1234.56"},
		{in: `"1,234.56"`, want: "1234.56"},
		{in: `"4.0000000000"`, want: "4"},
		{in: `"0,2824859"`, want: "0.2824859"},
		{in: `""`},
		{in: `null`},
		{in: `"abc"`, wantErr: true},
		{in: `"1,2,3"`, wantErr: true},
		{in: `"1.2.3"`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
		{in: `[1]`, wantErr: true},
		{in: `"NaN"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d metakocka.Decimal
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			if tt.want == "" {
				require.False(t, d.Valid)
				return
			}
			require.True(t, d.Valid)
			require.True(t, d.Value.Equal(decimal.RequireFromString(tt.want)), "got %s want %s", d.Value, tt.want)
		})
	}
}

func TestWireMarshal(t *testing.T) {
	t.Parallel()
	type row struct {
		D metakocka.Decimal      `json:"d,omitzero"`
		B metakocka.Bool         `json:"b,omitzero"`
		I metakocka.Int          `json:"i,omitzero"`
		L metakocka.List[string] `json:"l,omitempty"`
	}
	tests := []struct {
		name string
		in   row
		want string
	}{
		{"unset fields are omitted", row{}, `{}`},
		{"zero values are sent", row{D: metakocka.NewDecimal(decimal.Zero), B: metakocka.NewBool(false), I: metakocka.NewInt(0)},
			`{"d":"0","b":"false","i":"0"}`},
		{"strings with a dot", row{D: metakocka.MustDecimal("19,99"), B: metakocka.NewBool(true), I: metakocka.NewInt(42), L: metakocka.List[string]{"a"}},
			`{"d":"19.99","b":"true","i":"42","l":["a"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(b))
		})
	}
}

func TestBoolAndIntUnmarshal(t *testing.T) {
	t.Parallel()
	bools := []struct {
		in      string
		valid   bool
		val     bool
		wantErr bool
	}{
		{`"true"`, true, true, false},
		{`"false"`, true, false, false},
		{`"TRUE"`, true, true, false},
		{`true`, true, true, false},
		{`false`, true, false, false},
		{`"1"`, true, true, false},
		{`"0"`, true, false, false},
		{`""`, false, false, false},
		{`null`, false, false, false},
		{`"yes"`, false, false, true},
		{`[]`, false, false, true},
	}
	for _, tt := range bools {
		var b metakocka.Bool
		err := json.Unmarshal([]byte(tt.in), &b)
		if tt.wantErr {
			require.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, metakocka.Bool{Value: tt.val, Valid: tt.valid}, b, tt.in)
	}
	ints := []struct {
		in      string
		want    metakocka.Int
		wantErr bool
	}{
		{`"10"`, metakocka.NewInt(10), false},
		{`10`, metakocka.NewInt(10), false},
		{`"-2"`, metakocka.NewInt(-2), false},
		{`""`, metakocka.Int{}, false},
		{`null`, metakocka.Int{}, false},
		{`"1.5"`, metakocka.Int{}, true},
		{`"x"`, metakocka.Int{}, true},
		{`{}`, metakocka.Int{}, true},
	}
	for _, tt := range ints {
		var i metakocka.Int
		err := json.Unmarshal([]byte(tt.in), &i)
		if tt.wantErr {
			require.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, i, tt.in)
	}
}

func TestListAcceptsOneOrMany(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want metakocka.List[string]
	}{
		{`["a","b"]`, metakocka.List[string]{"a", "b"}},
		{`"a"`, metakocka.List[string]{"a"}},
		{`null`, nil},
		{`[]`, metakocka.List[string]{}},
	}
	for _, tt := range tests {
		var l metakocka.List[string]
		require.NoError(t, json.Unmarshal([]byte(tt.in), &l), tt.in)
		require.Equal(t, tt.want, l, tt.in)
	}
	var objs metakocka.List[metakocka.Localization]
	require.NoError(t, json.Unmarshal([]byte(`{"language":"en","name":"x"}`), &objs))
	require.Equal(t, metakocka.List[metakocka.Localization]{{Language: "en", Name: "x"}}, objs)
}

func TestTaxRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		rate string
		ok   bool
	}{
		{"220", "0.22", true},
		{"085", "0.085", true},
		{"095", "0.095", true},
		{"000", "0", true},
		{"EX4", "", false},
		{"ex1", "", false},
		{"22", "", false},
		{"+22", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		rate, ok := metakocka.TaxRate(tt.code)
		require.Equal(t, tt.ok, ok, tt.code)
		if ok {
			require.True(t, rate.Equal(decimal.RequireFromString(tt.rate)), "%s: got %s", tt.code, rate)
		}
	}
}

func TestExTaxRate(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"EX1": "0.25", "ex3": "0.095", "EX4": "0.22"} {
		rate, ok := metakocka.ExTaxRate(code)
		require.True(t, ok, code)
		require.True(t, rate.Equal(decimal.RequireFromString(want)), "%s: got %s", code, rate)
	}
	for _, code := range []string{"EX2", "220", ""} {
		_, ok := metakocka.ExTaxRate(code)
		require.False(t, ok, code)
	}
}

func TestDocumentLineDiscounts(t *testing.T) {
	t.Parallel()
	var l metakocka.DocumentLine
	require.NoError(t, json.Unmarshal([]byte(`{"code":"a","discount":"22;23,5"}`), &l))
	ds, err := l.Discounts()
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.True(t, ds[1].Equal(decimal.RequireFromString("23.5")))
	// A numeric discount decodes too.
	require.NoError(t, json.Unmarshal([]byte(`{"code":"a","discount":5}`), &l))
	require.Equal(t, "5", l.Discount)
}

// TestDecimalWritesTheFormItWasRead: a number decoded from "5,50" is
// written back as "5,50" while its value is unchanged, and in the
// canonical dot form once it changed or when it was made in code.
func TestDecimalWritesTheFormItWasRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, change, want string
	}{
		{`"5,50"`, "", `"5,50"`},
		{`"119,99"`, "", `"119,99"`},
		{`10.50`, "", `"10.50"`},
		{`"5,50"`, "6", `"6"`},
		{`"5,50"`, "5.5", `"5,50"`},
	} {
		var d metakocka.Decimal
		require.NoError(t, json.Unmarshal([]byte(tc.in), &d))
		if tc.change != "" {
			d.Value = decimal.RequireFromString(tc.change)
		}
		out, err := json.Marshal(d)
		require.NoError(t, err)
		require.Equal(t, tc.want, string(out), tc.in)
	}
	out, err := json.Marshal(metakocka.NewDecimal(decimal.RequireFromString("5.50")))
	require.NoError(t, err)
	require.Equal(t, `"5.5"`, string(out))
}
