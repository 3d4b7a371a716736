// Package deploy holds what an operator deploys mksync with: the container
// image build (Dockerfile), a compose file of the scaled-out layout
// (PostgreSQL, one API process, two workers, Prometheus), systemd units,
// and the Prometheus rules and Grafana dashboard. It has no code; its tests
// check those files (scripts/check-deploy runs them with the tools that
// check the rest).
package deploy
