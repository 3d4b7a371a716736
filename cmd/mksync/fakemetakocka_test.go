package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFakeMetakockaCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var errOut strings.Builder
	root := newRootCmd(strings.NewReader(""), outW, &errOut)
	root.SetArgs([]string{"fake-metakocka", "--addr", "127.0.0.1:0", "--company", "16:8899", "--company", "17:other", "--seed-demo", "--latency", "1ms", "--capacity", "3"})
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		outW.Close()
	}()

	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err)
	require.Regexp(t, `^listening on http://127\.0\.0\.1:\d+\n$`, line)
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	resp, err := http.Post(base+"/rest/eshop/v1/json/product_list", "application/json",
		strings.NewReader(`{"secret_key":"8899","company_id":"16","limit":"5"}`))
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, "0", out["opr_code"])
	require.Equal(t, "5", out["product_list_count"], "the demo data is seeded")

	resp, err = http.Post(base+"/rest/eshop/v1/get_partner", "application/json",
		strings.NewReader(`{"secret_key":"8899","company_id":"17","partner_name":"d.o.o."}`))
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, "1", out["opr_code"], "each company has its own secret")

	resp, err = http.Get(base + "/_fake/companies/16/faults")
	require.NoError(t, err)
	var faults map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&faults))
	resp.Body.Close()
	require.Equal(t, float64(3), faults["capacity"], "--capacity reaches the simulator: %v", faults)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("fake-metakocka did not stop after its context was cancelled")
	}
	_, err = http.Post(base+"/rest/eshop/v1/json/product_list", "application/json", strings.NewReader(`{}`))
	require.Error(t, err, "the listener is closed")
}

func TestFakeMetakockaCommandRejectsBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--company", "16"}, "COMPANY_ID:SECRET_KEY"},
		{[]string{"--fail-rate", "1.5"}, "probability"},
		{[]string{"--rate-limit-rps", "-1"}, "negative"},
		{[]string{"--capacity", "-2"}, "--capacity -2: must not be negative"},
		{[]string{"--latency-profile", "slow"}, `--latency-profile "slow"`},
		{[]string{"--addr", "127.0.0.1:99999"}, "listen"},
	}
	for _, tc := range tests {
		var out, errOut strings.Builder
		root := newRootCmd(strings.NewReader(""), &out, &errOut)
		root.SetArgs(append([]string{"fake-metakocka", "--addr", "127.0.0.1:0"}, tc.args...))
		err := root.ExecuteContext(context.Background())
		require.ErrorContains(t, err, tc.want, "%v", tc.args)
		require.Empty(t, out.String())
	}
}
