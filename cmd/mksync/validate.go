package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/validate"
)

func newValidateCmd(s streams) *cobra.Command {
	var (
		url, company string
		remote       remoteFlags
	)
	cmd := &cobra.Command{
		Use:   "validate contacts|products|sales-documents|all",
		Short: "Check the sync end to end against a Metakocka simulator, a real account or a running deployment",
		Long: `Run end-to-end checks of the sync: create/update/pull round trips, zero
writes on an unchanged resync, bulk runs, no duplicate after a
commit-then-fail, retries of transient faults, bad input reported with an
errorId, conflicts under every policy, tenant isolation, a document with an
unresolvable product refused whole, and the API's rate limit.

By default the target is an in-process Metakocka simulator with faults
injected and a temporary SQLite store. With --metakocka-url and --company-id
(the secret key read from stdin) the checks run in process against a real
account: they create records named ` + validate.Prefix + `…, delete the products
and documents afterwards (Metakocka cannot delete partners), and skip the
checks that need injected faults or a second company.

With --server URL and --token T (or MKSYNC_TOKEN) the checks run instead
through a running deployment's REST API, as a CRM would call it; another
tenant's ids are tried with --token-b (or MKSYNC_TOKEN_B). The checks that
need the simulator or direct access to the store and to Metakocka are
skipped. The CRM records it creates are named ` + validate.Prefix + `… and
deleted afterwards; their Metakocka copies stay.

Prints one line per check (✓ passed, ✗ failed, - skipped with the reason)
and ends with "N passed, M failed, K skipped"; exit status 1 when any check
failed. Without an argument it lists the choices and exits with status 2.`,
		Example: `  mksync validate all
  echo "$MK_SECRET" | mksync validate products --metakocka-url https://main.metakocka.si --company-id 1234
  MKSYNC_TOKEN=mks_… MKSYNC_TOKEN_B=mks_… mksync validate all --server https://mksync.example.com`,
		Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
		ValidArgs: validate.ChoiceNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				printChoices(s.err)
				return exitError{code: 2}
			}
			entities, err := validate.Entities(args[0])
			if err != nil {
				return err
			}
			d, timeout, err := validateDriver(cmd.Context(), s, url, company, remote)
			if err != nil {
				return err
			}
			if c, ok := d.(io.Closer); ok {
				defer func() { _ = c.Close() }()
			}
			r := validate.Run(cmd.Context(), d, entities, s.out, validate.Options{CheckTimeout: timeout})
			fmt.Fprintln(s.out, r.String())
			if r.Failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "metakocka-url", "", "base URL of a real Metakocka (default: an in-process simulator)")
	cmd.Flags().StringVar(&company, "company-id", "", "Metakocka company_id of the real account")
	remote.register(cmd, true)
	return cmd
}

// printChoices lists what validate can check.
func printChoices(w io.Writer) {
	fmt.Fprintln(w, "mksync validate: give what to check, one of:")
	for _, c := range validate.Choices() {
		fmt.Fprintf(w, "  %-16s %s\n", c.Name, c.About)
	}
	fmt.Fprintln(w, `Run "mksync validate --help" for the targets (simulator, real account, --server).`)
}

// validateDriver returns the driver the flags choose and the time limit of
// one check.
func validateDriver(ctx context.Context, s streams, url, company string, f remoteFlags) (validate.Driver, time.Duration, error) {
	if f.enabled() {
		if url != "" || company != "" {
			return nil, 0, errors.New("give --server or --metakocka-url, not both")
		}
		token, err := tokenOr(f.token, "MKSYNC_TOKEN")
		if err != nil {
			return nil, 0, err
		}
		if token == "" {
			return nil, 0, errors.New("validate: --server needs a tenant token: --token or MKSYNC_TOKEN")
		}
		tokenB, err := tokenOr(f.tokenB, "MKSYNC_TOKEN_B")
		if err != nil {
			return nil, 0, err
		}
		d, err := validate.NewRemote(validate.RemoteConfig{BaseURL: f.server, Token: token,
			TokenB: tokenB, UserAgent: "mksync-cli/" + version})
		return d, 5 * time.Minute, err
	}
	if f.token != "" || f.tokenB != "" {
		return nil, 0, errors.New("--token and --token-b need --server")
	}
	if (url == "") != (company == "") {
		return nil, 0, errors.New("give both --metakocka-url and --company-id, or neither")
	}
	var secret string
	if url != "" {
		line, err := bufio.NewReader(s.in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("read the secret key from stdin: %w", err)
		}
		if secret = strings.TrimSpace(line); secret == "" {
			return nil, 0, errors.New("the secret key must be given on stdin")
		}
	}
	d, err := validate.NewInProcess(ctx, validate.InProcessOptions{MetakockaURL: url, CompanyID: company, SecretKey: mksync.Secret(secret)})
	return d, 2 * time.Minute, err
}
