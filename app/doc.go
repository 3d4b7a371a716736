// Package app is the one place that wires mksync together: it reads the
// configuration (Config, from the environment once), opens the store that
// MKSYNC_DB names — the only code that chooses between SQLite and
// PostgreSQL —, and builds the keyring, telemetry, sync engine, job queue,
// REST API and web UI, and closes them in order. The commands of
// cmd/mksync (serve, worker, demo, bench …) and the end-to-end tests start
// the program through it.
//
// app may import every package of the module; nothing but cmd/mksync and
// tests imports app.
package app
