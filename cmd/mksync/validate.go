package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/keyring"
	"github.com/mksync/mksync/metakocka"
	"github.com/mksync/mksync/metakocka/mkfake"
	"github.com/mksync/mksync/observe"
	"github.com/mksync/mksync/sqlite"
)

// validatePrefix starts the name of every record validate creates.
const validatePrefix = "MKSYNC-VALIDATE-"

func newValidateCmd(s streams) *cobra.Command {
	var (
		url, company string
	)
	cmd := &cobra.Command{
		Use:   "validate contacts|products|sales-documents|all",
		Short: "Check the sync end to end against a Metakocka simulator or a real account",
		Long: `Run end-to-end checks of the sync engine: create/update/pull round trips,
zero writes on an unchanged resync, no duplicate after a commit-then-fail,
retries of transient faults, bad input reported with an errorId, conflicts
under every policy, tenant isolation, and a document with an unresolvable
product refused whole.

By default the target is an in-process Metakocka simulator with faults
injected and a temporary SQLite store. With --metakocka-url and --company-id
(the secret key read from stdin) the checks run against a real account: they
create records named ` + validatePrefix + `…, delete the products and documents
afterwards (Metakocka cannot delete partners), and skip the checks that need
injected faults or a second company.

Prints one line per check and ends with "N passed, M failed"; exit status 1
when any check failed.`,
		Example: `  mksync validate all
  echo "$MK_SECRET" | mksync validate products --metakocka-url https://main.metakocka.si --company-id 1234`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"contacts", "products", "sales-documents", "all"},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if (url == "") != (company == "") {
				return errors.New("give both --metakocka-url and --company-id, or neither")
			}
			var secret string
			if url != "" {
				line, err := bufio.NewReader(s.in).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read the secret key from stdin: %w", err)
				}
				if secret = strings.TrimSpace(line); secret == "" {
					return errors.New("the secret key must be given on stdin")
				}
			}
			v, err := newValidation(ctx, url, company, secret)
			if err != nil {
				return err
			}
			defer v.close()
			targets := []string{args[0]}
			if args[0] == "all" {
				targets = []string{"contacts", "products", "sales-documents"}
			}
			passed, failed := 0, 0
			for _, t := range targets {
				for _, c := range v.checks(entityArgs[t]) {
					if c.skip != "" || c.fakeOnly && v.fake == nil {
						why := c.skip
						if why == "" {
							why = "needs the simulator"
						}
						fmt.Fprintf(s.out, "- %s: %s (skipped: %s)\n", t, c.name, why)
						continue
					}
					evidence, err := runCheck(ctx, c.run)
					if err != nil {
						failed++
						fmt.Fprintf(s.out, "✗ %s: %s: %v\n", t, c.name, err)
						continue
					}
					passed++
					fmt.Fprintf(s.out, "✓ %s: %s (%s)\n", t, c.name, evidence)
				}
			}
			v.cleanup(ctx)
			fmt.Fprintf(s.out, "%d passed, %d failed\n", passed, failed)
			if failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "metakocka-url", "", "base URL of a real Metakocka (default: an in-process simulator)")
	cmd.Flags().StringVar(&company, "company-id", "", "Metakocka company_id of the real account")
	return cmd
}

// runCheck runs one check with a time limit, turning a panic into a failure.
func runCheck(ctx context.Context, f func(ctx context.Context) (string, error)) (evidence string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f(ctx)
}

// validation is the world the checks run in.
type validation struct {
	dir     string
	store   *sqlite.DB
	e       *engine.Engine
	fake    *mkfake.Server
	srv     *httptest.Server
	mk      *metakocka.Client
	tenant  string
	company string
	url     string
	secret  string
	n       int
	// created remembers what to delete from a real account.
	createdProducts []string
	createdDocs     [][2]string
}

func newValidation(ctx context.Context, url, company, secret string) (*validation, error) {
	dir, err := os.MkdirTemp("", "mksync-validate-")
	if err != nil {
		return nil, err
	}
	v := &validation{dir: dir, url: url, company: company, secret: secret}
	key, err := keyring.GenerateKey()
	if err != nil {
		v.close()
		return nil, err
	}
	kr, err := keyring.New(key)
	if err != nil {
		v.close()
		return nil, err
	}
	if v.store, err = sqlite.Open(ctx, filepath.Join(dir, "validate.db"), sqlite.Options{Sealer: kr, Logger: observe.Discard()}); err != nil {
		v.close()
		return nil, err
	}
	if err := v.store.Migrate(ctx); err != nil {
		v.close()
		return nil, err
	}
	retry := metakocka.RetryConfig{}
	timeouts := metakocka.Timeouts{}
	if url == "" {
		v.fake = mkfake.New(mkfake.Options{})
		v.srv = httptest.NewServer(v.fake)
		v.url, v.company, v.secret = v.srv.URL, "16", "validate-secret"
		v.fake.AddCompany(v.company, v.secret)
		v.fake.AddCompany("17", "other-secret")
		retry = metakocka.RetryConfig{InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}
		timeouts = metakocka.Timeouts{Default: 500 * time.Millisecond, List: 2 * time.Second, Search: 2 * time.Second}
	}
	if v.e, err = engine.New(engine.Config{Store: v.store, Logger: observe.Discard(), Retry: retry, Timeouts: timeouts,
		Pacing: metakocka.PacingConfig{RequestsPerSecond: -1, MaxInFlight: 8}}); err != nil {
		v.close()
		return nil, err
	}
	if v.tenant, err = v.addTenant(ctx, v.company, v.secret); err != nil {
		v.close()
		return nil, err
	}
	if v.mk, err = metakocka.New(metakocka.Config{BaseURL: v.url, CompanyID: v.company, SecretKey: mksync.Secret(v.secret), Retry: retry, Timeouts: timeouts}); err != nil {
		v.close()
		return nil, err
	}
	return v, nil
}

func (v *validation) addTenant(ctx context.Context, company, secret string) (string, error) {
	t := mksync.Tenant{Name: validatePrefix + company}
	if err := v.store.CreateTenant(ctx, &t); err != nil {
		return "", err
	}
	return t.ID, v.store.SetCredentials(ctx, t.ID, &mksync.MetakockaCredentials{CompanyID: company, SecretKey: mksync.Secret(secret), BaseURL: v.url})
}

func (v *validation) close() {
	if v.store != nil {
		_ = v.store.Close()
	}
	if v.fake != nil {
		v.fake.Close()
		v.srv.Close()
	}
	_ = os.RemoveAll(v.dir)
}

// cleanup deletes what the API allows from a real account.
func (v *validation) cleanup(ctx context.Context) {
	if v.fake != nil {
		return
	}
	for _, d := range v.createdDocs {
		_ = v.mk.DeleteDocument(ctx, metakocka.DocType(d[0]), d[1])
	}
	for _, id := range v.createdProducts {
		_, _ = v.mk.ProductDelete(ctx, metakocka.ProductKey{MkID: id})
	}
}

func (v *validation) name(what string) string {
	v.n++
	return fmt.Sprintf("%s%s-%d-%d", validatePrefix, what, time.Now().Unix()%100000, v.n)
}

func (v *validation) setPolicy(ctx context.Context, p mksync.ConflictPolicy) error {
	c, err := v.store.FindCredentials(ctx, v.tenant)
	if err != nil {
		return err
	}
	c.Settings.ConflictPolicy = p
	return v.store.SetCredentials(ctx, v.tenant, &c)
}

func (v *validation) writes() int64 {
	st := v.fake.Stats()
	var n int64
	for _, m := range []string{"add_partner", "update_partner", "product_add", "product_update", "put_document", "update_document"} {
		n += st.Calls(m, mkfake.OutcomeOK) + st.Calls(m, mkfake.OutcomeCommitThenFail)
	}
	return n
}
