package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
)

// fakeMetakockaFlags are the options of `mksync fake-metakocka`.
type fakeMetakockaFlags struct {
	addr               string
	companies          []string
	latency, jitter    time.Duration
	failRate           float64
	timeoutRate        float64
	hangFor            time.Duration
	commitThenFailRate float64
	rateLimitRPS       float64
	capacity           int
	latencyProfile     string
	seedDemo           bool
	seedProducts       int
	seed               int64
}

func newFakeMetakockaCmd(s streams) *cobra.Command {
	var f fakeMetakockaFlags
	cmd := &cobra.Command{
		Use:   "fake-metakocka",
		Short: "Run the built-in Metakocka simulator",
		Long: `Run the Metakocka simulator (same paths and JSON as the real API, at
http://ADDR/rest/eshop/v1/...) for tests, demos and benchmarks. It prints
"listening on http://ADDR" once it accepts connections and stops cleanly on
SIGINT/SIGTERM. Stats are at /_fake/stats, stored records at
/_fake/companies/{id}/{partners|products|documents}.`,
		Example: `  mksync fake-metakocka --addr 127.0.0.1:8090 --company 16:8899 --seed-demo
  mksync fake-metakocka --addr 127.0.0.1:0 --company 16:8899 --latency 50ms --jitter 10ms --fail-rate 0.1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFakeMetakocka(cmd.Context(), s, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8090", "address to listen on (port 0 picks a free port)")
	fl.StringArrayVar(&f.companies, "company", []string{"16:8899"}, "a company as COMPANY_ID:SECRET_KEY (repeatable)")
	fl.DurationVar(&f.latency, "latency", 0, "latency added to every request")
	fl.DurationVar(&f.jitter, "jitter", 0, "random extra latency, uniform in [0, jitter)")
	fl.Float64Var(&f.failRate, "fail-rate", 0, "probability of an HTTP 500/503 answer")
	fl.Float64Var(&f.timeoutRate, "timeout-rate", 0, "probability that a request hangs (see --hang-for)")
	fl.DurationVar(&f.hangFor, "hang-for", time.Minute, "how long a hanging request hangs before HTTP 504")
	fl.Float64Var(&f.commitThenFailRate, "commit-then-fail-rate", 0, "probability that a request is carried out but answered with 503 or a hang")
	fl.Float64Var(&f.rateLimitRPS, "rate-limit-rps", 0, "per-company token bucket in requests per second; over it HTTP 429 (0 = off)")
	fl.IntVar(&f.capacity, "capacity", 0, "requests per company served at full speed at once: above it latency grows in proportion, above twice it HTTP 429 with Retry-After (0 = unbounded)")
	fl.StringVar(&f.latencyProfile, "latency-profile", "", `"metakocka": add a latency drawn from the documented opr_time_ms values (median ~120 ms, tail to 47.8 s)`)
	fl.BoolVar(&f.seedDemo, "seed-demo", false, "fill every company with the demo data set")
	fl.IntVar(&f.seedProducts, "seed-products", 0, "add this many bulk products to every company")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the random faults and demo data")
	return cmd
}

// parseCompany splits "ID:SECRET".
func parseCompany(v string) (id, secret string, err error) {
	id, secret, ok := strings.Cut(v, ":")
	if !ok || id == "" || secret == "" {
		return "", "", fmt.Errorf("--company %q: want COMPANY_ID:SECRET_KEY", v)
	}
	return id, secret, nil
}

func validateRate(name string, v float64) error {
	if v < 0 || v > 1 {
		return fmt.Errorf("--%s %v: want a probability between 0 and 1", name, v)
	}
	return nil
}

func runFakeMetakocka(ctx context.Context, s streams, f fakeMetakockaFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	for name, v := range map[string]float64{"fail-rate": f.failRate, "timeout-rate": f.timeoutRate, "commit-then-fail-rate": f.commitThenFailRate} {
		if err := validateRate(name, v); err != nil {
			return err
		}
	}
	if f.rateLimitRPS < 0 {
		return fmt.Errorf("--rate-limit-rps %v: must not be negative", f.rateLimitRPS)
	}
	if err := checkSimShape(f.capacity, f.latencyProfile); err != nil {
		return err
	}
	log := observe.NewLogger(s.err, observe.Options{}).With("category", observe.CatMetakocka)
	srv := mkfake.New(mkfake.Options{Seed: f.seed, Logger: log})
	faults := mkfake.Faults{
		Latency: f.latency, Jitter: f.jitter, ErrorRate: f.failRate,
		HangRate: f.timeoutRate, HangFor: f.hangFor,
		CommitThenFailRate: f.commitThenFailRate, RateLimitRPS: f.rateLimitRPS,
		Capacity: f.capacity, LatencyProfile: f.latencyProfile,
	}
	for _, c := range f.companies {
		id, secret, err := parseCompany(c)
		if err != nil {
			return err
		}
		srv.AddCompany(id, secret)
		srv.SetFaults(id, faults)
		if f.seedDemo {
			srv.SeedDemo(id)
			srv.SeedDemoCoupons(id)
		}
		if f.seedProducts > 0 {
			srv.SeedProducts(id, f.seedProducts)
		}
	}

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("fake-metakocka: listen on %s: %w", f.addr, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(s.out, "listening on http://%s\n", ln.Addr())

	select {
	case err := <-served:
		return fmt.Errorf("fake-metakocka: serve: %w", err)
	case <-ctx.Done():
	}
	// Release hanging requests, then give open requests a moment to finish.
	srv.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("fake-metakocka: shutdown: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("fake-metakocka: serve: %w", err)
	}
	return nil
}

// checkSimShape validates --capacity and --latency-profile (fake-metakocka
// and bench).
func checkSimShape(capacity int, profile string) error {
	if capacity < 0 {
		return fmt.Errorf("--capacity %d: must not be negative", capacity)
	}
	if profile != "" && profile != mkfake.LatencyProfileMetakocka {
		return fmt.Errorf("--latency-profile %q: want %q or nothing", profile, mkfake.LatencyProfileMetakocka)
	}
	return nil
}
