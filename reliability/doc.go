// Package reliability holds mksync's long-running reliability tests (issue
// 9): two-way sync under heavy simulated Metakocka faults, and a bulk run
// that loses its PostgreSQL connections several times. The package has no
// code of its own; the tests work on bench.World (an engine, a store and
// the simulator over loopback HTTP) so that the benchmark and these tests
// exercise the same paths.
//
// Sizes: MKSYNC_RELIABILITY_N records per entity (the figure is
// 5,000); by default a CI size that keeps each test well under two minutes
// on two loaded cores with -race (see each test), smaller with -short.
// The crash test (a `mksync worker` subprocess SIGKILLed mid-run) lives
// with the worker, in cmd/mksync.
package reliability
