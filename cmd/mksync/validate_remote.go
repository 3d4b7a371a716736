package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
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

// withRemoteValidate adds the --server mode to the validate command: with
// --server it runs runValidateRemote, otherwise the command's own checks.
// main wires it as withRemoteValidate(newValidateCmd(s), s).
func withRemoteValidate(cmd *cobra.Command, s streams) *cobra.Command {
	var f remoteFlags
	f.register(cmd, true)
	cmd.Long += `

With --server URL and --token T (or MKSYNC_TOKEN) the checks run instead
through a running deployment's REST API, as a CRM would call it: create →
sync → mapping visible, update → resync, unchanged resync skipped, pull from
Metakocka, a bulk run by id, bad input answered 400 with an errorId, another
tenant's ids answered 404 (with --token-b or MKSYNC_TOKEN_B), and the sync
rate limit answered 429 with Retry-After. The CRM records it creates are
named ` + remoteValidatePrefix + `… and deleted afterwards; their Metakocka
copies stay.`
	cmd.Example += `
  MKSYNC_TOKEN=mks_… MKSYNC_TOKEN_B=mks_… mksync validate all --server https://mksync.example.com`
	local := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if !f.enabled() {
			if f.token != "" || f.tokenB != "" {
				return errors.New("--token and --token-b need --server")
			}
			return local(c, args)
		}
		if len(args) != 1 {
			return errors.New("validate --server: give one of contacts, products, sales-documents, all")
		}
		return runValidateRemote(c.Context(), s, f, args[0])
	}
	return cmd
}

// enabled reports whether --server was given.
func (f remoteFlags) enabled() bool { return f.server != "" }

// newClient returns the client for token (or, when "", the env variable).
func (f remoteFlags) newClient(token, env string, retry client.Retry) (*client.Client, error) {
	if token == "" {
		token = os.Getenv(env)
	}
	if token == "" {
		return nil, fmt.Errorf("--server needs a tenant token: --token or %s", env)
	}
	return client.New(client.Config{BaseURL: f.server, Token: mksync.Secret(token), UserAgent: "mksync-cli/" + version, Retry: retry})
}

// remoteEntities maps the CLI's entity names to entity types.
func remoteEntity(name string) (mksync.EntityType, bool) {
	switch name {
	case "contacts":
		return mksync.EntityContact, true
	case "products":
		return mksync.EntityProduct, true
	case "sales-documents":
		return mksync.EntitySalesDocument, true
	}
	return "", false
}

// remoteValidatePrefix starts the name of every record validate creates.
const remoteValidatePrefix = "MKSYNC-VALIDATE-"

// remoteCallRetry lets the validation wait out the sync routes' rate limit
// (10 a minute by default), which its own calls reach.
func remoteCallRetry() client.Retry { return client.Retry{MaxElapsed: 3 * time.Minute} }

// runValidateRemote runs the validation checks of target ("contacts",
// "products", "sales-documents" or "all") through a running deployment's
// API, prints one line per check and "N passed, M failed", and returns
// exitError{1} when a check failed. Records it creates are named
// MKSYNC-VALIDATE-… and deleted from the CRM afterwards; their Metakocka
// copies stay (the API deletes nothing in Metakocka) and are recognisable
// by that prefix.
func runValidateRemote(ctx context.Context, s streams, f remoteFlags, target string) error {
	targets := []string{target}
	if target == "all" {
		targets = []string{"contacts", "products", "sales-documents"}
	}
	for _, t := range targets {
		if _, ok := remoteEntity(t); !ok {
			return fmt.Errorf("validate: unknown target %q (want contacts, products, sales-documents or all)", t)
		}
	}
	a, err := f.newClient(f.token, "MKSYNC_TOKEN", remoteCallRetry())
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	v := &remoteValidation{s: s, a: a, suffix: randomSuffix()}
	if f.tokenB != "" || os.Getenv("MKSYNC_TOKEN_B") != "" {
		if v.b, err = f.newClient(f.tokenB, "MKSYNC_TOKEN_B", remoteCallRetry()); err != nil {
			return fmt.Errorf("validate: %w", err)
		}
	}
	if v.bare, err = f.newClient(f.token, "MKSYNC_TOKEN", client.Retry{MaxRetries: -1, NoRateLimitedPOST: true}); err != nil {
		return fmt.Errorf("validate: %w", err)
	}

	v.check(ctx, "deployment", "reachable, token accepted, Metakocka connected", v.checkConnection)
	if v.failed == 0 {
		for _, t := range targets {
			et, _ := remoteEntity(t)
			v.entityChecks(ctx, t, v.subject(et))
		}
		// Last: it uses up the tenant's sync budget for a while.
		v.check(ctx, "api", "rate limit → 429 with Retry-After", v.checkRateLimit)
	}
	v.cleanup(ctx)
	fmt.Fprintf(s.out, "%d passed, %d failed\n", v.passed, v.failed)
	if v.failed > 0 {
		return exitError{code: 1}
	}
	return nil
}

// remoteValidation is the state of one validate --server run.
type remoteValidation struct {
	s streams
	// a is tenant A's client (retries rate limits); b tenant B's, nil
	// without --token-b; bare is A's without any retry, to see 429s.
	a, b, bare     *client.Client
	suffix         string
	n              int
	passed, failed int
	// created lists the CRM records to delete, in creation order.
	created []createdRecord
}

type createdRecord struct {
	et mksync.EntityType
	id string
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// name returns a new record name: MKSYNC-VALIDATE-<what>-<run>-<n>.
func (v *remoteValidation) name(what string) string {
	v.n++
	return fmt.Sprintf("%s%s-%s-%d", remoteValidatePrefix, what, v.suffix, v.n)
}

// check runs one check with a time limit and prints its line.
func (v *remoteValidation) check(ctx context.Context, target, name string, run func(ctx context.Context) (string, error)) {
	evidence, err := runRemoteCheck(ctx, run)
	if err != nil {
		v.failed++
		fmt.Fprintf(v.s.out, "✗ %s: %s: %v\n", target, name, err)
		return
	}
	v.passed++
	fmt.Fprintf(v.s.out, "✓ %s: %s (%s)\n", target, name, evidence)
}

func runRemoteCheck(ctx context.Context, run func(ctx context.Context) (string, error)) (evidence string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return run(ctx)
}

func (v *remoteValidation) skip(target, name, why string) {
	fmt.Fprintf(v.s.out, "- %s: %s (skipped: %s)\n", target, name, why)
}

func (v *remoteValidation) checkConnection(ctx context.Context) (string, error) {
	if err := v.a.Healthz(ctx); err != nil {
		return "", err
	}
	if _, err := v.a.ListContacts(ctx, client.ListOptions{PageOptions: client.PageOptions{Limit: 1}}); err != nil {
		return "", err
	}
	creds, err := v.a.Credentials(ctx)
	if err != nil {
		return "", fmt.Errorf("read Metakocka credentials: %w", err)
	}
	if err := v.a.TestCredentials(ctx); err != nil {
		return "", fmt.Errorf("test Metakocka connection: %w", err)
	}
	return fmt.Sprintf("%s, company %s", v.a.BaseURL(), creds.CompanyID), nil
}

// remoteSubject is one record kind as the checks handle it through the API.
type remoteSubject struct {
	et mksync.EntityType
	// create makes a new valid record and returns its id.
	create func(ctx context.Context) (string, error)
	// change reads the record with c, changes a synced field and saves it.
	change func(ctx context.Context, c *client.Client, id string) error
	// version reads the record's version with c.
	version func(ctx context.Context, c *client.Client, id string) (int64, error)
	// createInvalid sends a record that breaks the validation rules.
	createInvalid func(ctx context.Context) error
	// put sends an update of id with c (for the isolation check).
	put func(ctx context.Context, c *client.Client, id string) error
	// del deletes id with c.
	del func(ctx context.Context, c *client.Client, id string) error
}

func (v *remoteValidation) track(et mksync.EntityType, id string, err error) (string, error) {
	if err == nil {
		v.created = append(v.created, createdRecord{et: et, id: id})
	}
	return id, err
}

func (v *remoteValidation) newContact(ctx context.Context) (string, error) {
	c, err := v.a.CreateContact(ctx, mksync.Contact{Name: v.name("contact"), Email: "validate@example.com",
		Street: "Validation street 1", PostNumber: "1000", City: "Ljubljana", Country: "SI"})
	return v.track(mksync.EntityContact, c.ID, err)
}

func (v *remoteValidation) newProduct(ctx context.Context) (string, error) {
	code := v.name("P")
	p, err := v.a.CreateProduct(ctx, mksync.Product{Code: code, Name: code, Unit: "kos",
		Price: decimal.RequireFromString("9.99"), TaxRate: decimal.NewFromInt(22), Sales: true})
	return v.track(mksync.EntityProduct, p.ID, err)
}

func (v *remoteValidation) newDocument(ctx context.Context) (string, error) {
	cid, err := v.newContact(ctx)
	if err != nil {
		return "", err
	}
	pid, err := v.newProduct(ctx)
	if err != nil {
		return "", err
	}
	d, err := v.a.CreateSalesDocument(ctx, mksync.SalesDocument{Kind: mksync.KindOrder, Date: mksync.NewDate(2025, 6, 1),
		ContactID: cid, Currency: "EUR", Notes: v.name("document"),
		Lines: []mksync.DocumentLine{{ProductID: pid, Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("9.99"), TaxRate: decimal.NewFromInt(22)}}})
	return v.track(mksync.EntitySalesDocument, d.ID, err)
}

func (v *remoteValidation) subject(et mksync.EntityType) remoteSubject {
	switch et {
	case mksync.EntityContact:
		return remoteSubject{et: et, create: v.newContact,
			change: func(ctx context.Context, c *client.Client, id string) error {
				r, err := c.Contact(ctx, id)
				if err != nil {
					return err
				}
				r.Phone = fmt.Sprintf("+386 1 %03d %04d", v.n%1000, time.Now().Second())
				_, err = c.UpdateContact(ctx, r.Contact)
				return err
			},
			version: func(ctx context.Context, c *client.Client, id string) (int64, error) {
				r, err := c.Contact(ctx, id)
				return r.Version, err
			},
			createInvalid: func(ctx context.Context) error {
				_, err := v.a.CreateContact(ctx, mksync.Contact{Email: "not an e-mail address"})
				return err
			},
			put: func(ctx context.Context, c *client.Client, id string) error {
				_, err := c.UpdateContact(ctx, mksync.Contact{ID: id, Name: v.name("intruder"), Version: 1})
				return err
			},
			del: func(ctx context.Context, c *client.Client, id string) error { return c.DeleteContact(ctx, id) },
		}
	case mksync.EntityProduct:
		return remoteSubject{et: et, create: v.newProduct,
			change: func(ctx context.Context, c *client.Client, id string) error {
				r, err := c.Product(ctx, id)
				if err != nil {
					return err
				}
				r.Description = "changed by mksync validate " + v.name("change")
				_, err = c.UpdateProduct(ctx, r.Product)
				return err
			},
			version: func(ctx context.Context, c *client.Client, id string) (int64, error) {
				r, err := c.Product(ctx, id)
				return r.Version, err
			},
			createInvalid: func(ctx context.Context) error {
				_, err := v.a.CreateProduct(ctx, mksync.Product{Price: decimal.NewFromInt(-1)})
				return err
			},
			put: func(ctx context.Context, c *client.Client, id string) error {
				n := v.name("intruder")
				_, err := c.UpdateProduct(ctx, mksync.Product{ID: id, Code: n, Name: n, Version: 1})
				return err
			},
			del: func(ctx context.Context, c *client.Client, id string) error { return c.DeleteProduct(ctx, id) },
		}
	default:
		return remoteSubject{et: et, create: v.newDocument,
			change: func(ctx context.Context, c *client.Client, id string) error {
				r, err := c.SalesDocument(ctx, id)
				if err != nil {
					return err
				}
				r.Notes = v.name("document-changed")
				_, err = c.UpdateSalesDocument(ctx, r.SalesDocument)
				return err
			},
			version: func(ctx context.Context, c *client.Client, id string) (int64, error) {
				r, err := c.SalesDocument(ctx, id)
				return r.Version, err
			},
			createInvalid: func(ctx context.Context) error {
				_, err := v.a.CreateSalesDocument(ctx, mksync.SalesDocument{Kind: "receipt", Currency: "EURO"})
				return err
			},
			put: func(ctx context.Context, c *client.Client, id string) error {
				r, err := v.a.SalesDocument(ctx, id) // a valid body, so only ownership can refuse it
				if err != nil {
					return err
				}
				_, err = c.UpdateSalesDocument(ctx, r.SalesDocument)
				return err
			},
			del: func(ctx context.Context, c *client.Client, id string) error { return c.DeleteSalesDocument(ctx, id) },
		}
	}
}

// entityChecks runs the checks of one record kind.
func (v *remoteValidation) entityChecks(ctx context.Context, target string, sub remoteSubject) {
	var id, mkID string
	needRecord := func() error {
		if id == "" || mkID == "" {
			return errors.New("no synced record: the create check failed")
		}
		return nil
	}
	et := sub.et
	v.check(ctx, target, "create → sync → mapping visible", func(ctx context.Context) (string, error) {
		var err error
		if id, err = sub.create(ctx); err != nil {
			return "", fmt.Errorf("create: %w", err)
		}
		res, err := v.a.SyncToMetakocka(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("sync: %w", err)
		}
		if !res.Success || res.Created != 1 {
			return "", fmt.Errorf("sync result %s, want created 1", describeResult(res))
		}
		m, found, err := v.a.Mapping(ctx, et, id)
		switch {
		case err != nil:
			return "", fmt.Errorf("read mapping: %w", err)
		case !found || m.MetakockaID == "":
			return "", errors.New("no mapping with a Metakocka id after the sync")
		case m.State != mksync.StateSynced:
			return "", fmt.Errorf("mapping state %s, want synced", m.State)
		}
		mkID = m.MetakockaID
		return fmt.Sprintf("id %s → mk_id %s, count_code %s", id, m.MetakockaID, m.CountCode), nil
	})
	v.check(ctx, target, "update → resync", func(ctx context.Context) (string, error) {
		if err := needRecord(); err != nil {
			return "", err
		}
		if err := sub.change(ctx, v.a, id); err != nil {
			return "", fmt.Errorf("update: %w", err)
		}
		res, err := v.a.SyncToMetakocka(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("sync: %w", err)
		}
		if !res.Success || res.Updated != 1 {
			return "", fmt.Errorf("sync result %s, want updated 1", describeResult(res))
		}
		return describeResult(res), nil
	})
	v.check(ctx, target, "unchanged resync reports skipped", func(ctx context.Context) (string, error) {
		if err := needRecord(); err != nil {
			return "", err
		}
		res, err := v.a.SyncToMetakocka(ctx, et, id)
		if err != nil {
			return "", fmt.Errorf("sync: %w", err)
		}
		if !res.Success || res.Skipped != 1 {
			return "", fmt.Errorf("sync result %s, want skipped 1", describeResult(res))
		}
		return describeResult(res), nil
	})
	v.check(ctx, target, "pull from Metakocka", func(ctx context.Context) (string, error) {
		if err := needRecord(); err != nil {
			return "", err
		}
		res, err := v.a.SyncFromMetakocka(ctx, et, mkID)
		if err != nil {
			return "", fmt.Errorf("pull mk_id %s: %w", mkID, err)
		}
		if !res.Success || res.Failed+res.Conflicts+res.Created != 0 {
			return "", fmt.Errorf("pull result %s, want the mapped record refreshed", describeResult(res))
		}
		m, found, err := v.a.Mapping(ctx, et, id)
		if err != nil || !found || m.MetakockaID != mkID || m.State != mksync.StateSynced {
			return "", fmt.Errorf("mapping after the pull: %+v, found %t, err %v", m, found, err)
		}
		return "mk_id " + mkID + ": " + describeResult(res), nil
	})
	v.check(ctx, target, "bulk run by id finishes", func(ctx context.Context) (string, error) {
		if err := needRecord(); err != nil {
			return "", err
		}
		runID, err := v.a.SyncManyToMetakocka(ctx, et, []string{id})
		if err != nil {
			return "", fmt.Errorf("queue: %w", err)
		}
		run, err := v.a.WaitSyncRun(ctx, runID, client.WaitOptions{Interval: 250 * time.Millisecond})
		if err != nil {
			return "", err
		}
		if run.Status != mksync.RunSucceeded || run.Processed != 1 {
			return "", fmt.Errorf("run %s %s, processed %d: %s", run.ID, run.Status, run.Processed, describeResult(run.Result))
		}
		return fmt.Sprintf("run %s %s: %s", run.ID, run.Status, describeResult(run.Result)), nil
	})
	v.check(ctx, target, "bad input → 400 envelope with errorId", func(ctx context.Context) (string, error) {
		err := sub.createInvalid(ctx)
		var e *client.Error
		switch {
		case err == nil:
			return "", errors.New("an invalid record was accepted")
		case !errors.As(err, &e):
			return "", err
		case e.Status != http.StatusBadRequest || e.Code != mksync.EINVALID:
			return "", fmt.Errorf("got %d %s, want 400 invalid", e.Status, e.Code)
		case e.ErrorID == "":
			return "", errors.New("400 without errorId")
		case len(e.Details) == 0:
			return "", errors.New("400 without details naming the bad fields")
		}
		return fmt.Sprintf("400 invalid, errorId %s, %d bad fields", e.ErrorID, len(e.Details)), nil
	})
	if v.b == nil {
		v.skip(target, "another tenant's ids → 404", "no --token-b")
		return
	}
	v.check(ctx, target, "another tenant's ids → 404", func(ctx context.Context) (string, error) {
		if id == "" {
			return "", errors.New("no record: the create check failed")
		}
		before, err := sub.version(ctx, v.a, id)
		if err != nil {
			return "", err
		}
		attempts := []struct {
			what string
			call func() error
		}{
			{"GET", func() error { _, err := sub.version(ctx, v.b, id); return err }},
			{"PUT", func() error { return sub.put(ctx, v.b, id) }},
			{"DELETE", func() error { return sub.del(ctx, v.b, id) }},
			{"mapping", func() error { _, _, err := v.b.Mapping(ctx, et, id); return err }},
			{"sync", func() error { _, err := v.b.SyncToMetakocka(ctx, et, id); return err }},
		}
		for _, a := range attempts {
			err := a.call()
			var e *client.Error
			if !errors.As(err, &e) || e.Status != http.StatusNotFound {
				return "", fmt.Errorf("%s with tenant B's token: %v, want 404", a.what, err)
			}
		}
		after, err := sub.version(ctx, v.a, id)
		if err != nil {
			return "", fmt.Errorf("tenant A's record after tenant B's attempts: %w", err)
		}
		if after != before {
			return "", fmt.Errorf("tenant A's record changed: version %d → %d", before, after)
		}
		return fmt.Sprintf("%d calls answered 404, record unchanged", len(attempts)), nil
	})
}

// checkRateLimit sends requests to a sync route that the handler would
// refuse (an empty id) until the rate limiter answers 429: nothing is
// synced, and the limiter runs before the handler.
func (v *remoteValidation) checkRateLimit(ctx context.Context) (string, error) {
	const maxCalls = 2000
	for i := 1; i <= maxCalls; i++ {
		_, err := v.bare.SyncToMetakocka(ctx, mksync.EntityContact, "")
		var e *client.Error
		if !errors.As(err, &e) {
			return "", fmt.Errorf("call %d: %v, want an API error", i, err)
		}
		switch e.Status {
		case http.StatusBadRequest:
			if i == 1 && e.RateLimit.Limit == 0 {
				return "", errors.New("no RateLimit-Limit header on a sync route")
			}
			continue
		case http.StatusTooManyRequests:
			if e.RetryAfter <= 0 {
				return "", errors.New("429 without Retry-After")
			}
			if e.Code != mksync.ERATELIMITED || e.ErrorID == "" {
				return "", fmt.Errorf("429 envelope code %q errorId %q", e.Code, e.ErrorID)
			}
			return fmt.Sprintf("429 after %d calls, Retry-After %s, limit %d/min", i, e.RetryAfter, e.RateLimit.Limit), nil
		default:
			return "", fmt.Errorf("call %d: %v", i, err)
		}
	}
	return "", fmt.Errorf("no 429 after %d calls", maxCalls)
}

// cleanup deletes the CRM records the checks made, newest first (documents
// before the contacts and products they use).
func (v *remoteValidation) cleanup(ctx context.Context) {
	if len(v.created) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	deleted, failed := 0, 0
	for i := len(v.created) - 1; i >= 0; i-- {
		r := v.created[i]
		var err error
		switch r.et {
		case mksync.EntityContact:
			err = v.a.DeleteContact(ctx, r.id)
		case mksync.EntityProduct:
			err = v.a.DeleteProduct(ctx, r.id)
		default:
			err = v.a.DeleteSalesDocument(ctx, r.id)
		}
		if err != nil && mksync.ErrorCode(err) != mksync.ENOTFOUND {
			failed++
			fmt.Fprintf(v.s.err, "cleanup: delete %s %s: %v\n", r.et, r.id, err)
			continue
		}
		deleted++
	}
	fmt.Fprintf(v.s.out, "- cleanup: deleted %d CRM records, %d left; their Metakocka copies stay, named %s…-%s-…\n",
		deleted, failed, remoteValidatePrefix, v.suffix)
}

// describeResult is a SyncResult in a few words.
func describeResult(r mksync.SyncResult) string {
	s := fmt.Sprintf("created %d, updated %d, skipped %d, conflicts %d, failed %d", r.Created, r.Updated, r.Skipped, r.Conflicts, r.Failed)
	for _, e := range r.Errors {
		s += fmt.Sprintf("; %s: %s %s (errorId %s)", e.ID, e.Code, e.Error, e.ErrorID)
	}
	return s
}
