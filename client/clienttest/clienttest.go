// Package clienttest is kept for the callers that still import it; it
// forwards to app/apptest, which starts a complete mksync deployment
// in-process through the wiring package. New tests use apptest directly;
// this package goes once its last caller has moved.
package clienttest

import (
	"testing"

	"github.com/mksync/mksync/app/apptest"
)

// Options configure Start (see apptest.Options).
type Options = apptest.Options

// Deployment is a running mksync (see apptest.Deployment).
type Deployment = apptest.Deployment

// Tenant is a tenant of a Deployment (see apptest.Tenant).
type Tenant = apptest.Tenant

// Start starts a deployment that stops when t ends (see apptest.Start).
func Start(t testing.TB, o Options) *Deployment { return apptest.Start(t, o) }
