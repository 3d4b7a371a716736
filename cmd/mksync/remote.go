package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
	"github.com/mksync/mksync/client"
)

// remoteFlags point a command at a running deployment: it then drives that
// deployment through its REST API with the Go client instead of opening a
// database and syncing in this process.
type remoteFlags struct {
	server string
	token  string
	tokenB string
}

// register adds --server, --token and (withTokenB) --token-b to cmd.
func (f *remoteFlags) register(cmd *cobra.Command, withTokenB bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "base URL of a running mksync: drive it through its REST API")
	fl.StringVar(&f.token, "token", "", "tenant API token for --server (or env MKSYNC_TOKEN, which keeps it out of the process list)")
	if withTokenB {
		fl.StringVar(&f.tokenB, "token-b", "", "a second tenant's token for --server: check that it cannot reach the first tenant's records (or env MKSYNC_TOKEN_B)")
	}
}

// enabled reports whether --server was given.
func (f remoteFlags) enabled() bool { return f.server != "" }

// tokenOr returns token, or when it is "" the tenant token of the
// configuration (app.Config.Token for MKSYNC_TOKEN, TokenB for
// MKSYNC_TOKEN_B), which keeps tokens out of the process list.
func tokenOr(token, env string) (mksync.Secret, error) {
	if token != "" {
		return mksync.Secret(token), nil
	}
	cfg, err := app.LoadEnv()
	if err != nil {
		return "", err
	}
	if env == "MKSYNC_TOKEN_B" {
		return cfg.TokenB, nil
	}
	return cfg.Token, nil
}

// newClient returns the client for token (or, when "", the env variable).
func (f remoteFlags) newClient(token, env string, retry client.Retry) (*client.Client, error) {
	t, err := tokenOr(token, env)
	if err != nil {
		return nil, err
	}
	if t == "" {
		return nil, fmt.Errorf("--server needs a tenant token: --token or %s", env)
	}
	return client.New(client.Config{BaseURL: f.server, Token: t, UserAgent: "mksync-cli/" + version, Retry: retry})
}

// remoteEntity maps the CLI's entity names to entity types.
func remoteEntity(name string) (mksync.EntityType, bool) {
	et, ok := entityArgs[name]
	return et, ok
}

// remoteCallRetry lets a command wait out the sync routes' rate limit (10 a
// minute by default), which its own calls reach.
func remoteCallRetry() client.Retry { return client.Retry{MaxElapsed: 3 * time.Minute} }
