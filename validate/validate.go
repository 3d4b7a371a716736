package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mksync/mksync"
)

// Prefix starts the name of every record the checks create, so that what
// they leave in a real Metakocka account can be recognised.
const Prefix = "MKSYNC-VALIDATE-"

// Choice is one target the validation can be asked to check.
type Choice struct {
	// Name is how the CLI names it: contacts, products, sales-documents, all.
	Name string
	// About says what it covers, for the list of choices.
	About string
	// Entities are the record kinds it checks.
	Entities []mksync.EntityType
}

// Choices lists the targets, in the order the CLI shows them.
func Choices() []Choice {
	return []Choice{
		{Name: "contacts", About: "contacts ↔ Metakocka partners", Entities: []mksync.EntityType{mksync.EntityContact}},
		{Name: "products", About: "products ↔ Metakocka products", Entities: []mksync.EntityType{mksync.EntityProduct}},
		{Name: "sales-documents", About: "sales documents ↔ Metakocka sales orders (with their contact and products)", Entities: []mksync.EntityType{mksync.EntitySalesDocument}},
		{Name: "all", About: "all three, one after the other", Entities: []mksync.EntityType{mksync.EntityContact, mksync.EntityProduct, mksync.EntitySalesDocument}},
	}
}

// ChoiceNames returns the names of the Choices, for the CLI's completion.
func ChoiceNames() []string {
	cs := Choices()
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

// Entities returns the record kinds of the choice named name.
func Entities(name string) ([]mksync.EntityType, error) {
	for _, c := range Choices() {
		if c.Name == name {
			return c.Entities, nil
		}
	}
	return nil, fmt.Errorf("validate: unknown target %q (want contacts, products, sales-documents or all)", name)
}

// label is how a report line names the record kind et.
func label(et mksync.EntityType) string {
	for _, c := range Choices() {
		if len(c.Entities) == 1 && c.Entities[0] == et {
			return c.Name
		}
	}
	return string(et)
}

// Report counts the checks of one Run.
type Report struct {
	Passed, Failed, Skipped int
}

// String is the final line: "N passed, M failed, K skipped".
func (r Report) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
}

// SkipError says why a check cannot run against a driver: the check is
// reported as skipped with Reason, not as passed or failed.
type SkipError struct{ Reason string }

// Error says the check was skipped and why.
func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// skip returns a *SkipError with reason.
func skip(reason string) error { return &SkipError{Reason: reason} }

// Options tune a Run.
type Options struct {
	// CheckTimeout bounds one check (default 2 minutes).
	CheckTimeout time.Duration
}

// Run runs the checks of entities through d and writes one line per check
// to out: "✓ target: check (evidence)", "✗ target: check: error" or
// "- target: check (skipped: reason)", then d's cleanup line. It does not
// print the final line: the caller prints Report.String(). The connection
// check runs first; unless it passes nothing else runs.
func Run(ctx context.Context, d Driver, entities []mksync.EntityType, out io.Writer, o Options) Report {
	r := &runner{e: &env{Driver: d, names: newNamer()}, out: out, timeout: o.CheckTimeout}
	if r.timeout <= 0 {
		r.timeout = 2 * time.Minute
	}
	r.run(ctx, "deployment", connectionCheck())
	if r.report.Passed == 1 {
		for _, et := range entities {
			for _, c := range entityChecks(et) {
				r.run(ctx, label(et), c)
			}
		}
		// Last: it uses up the tenant's sync budget for a while.
		r.run(ctx, "api", rateLimitCheck())
	}
	if line := d.Cleanup(ctx); line != "" {
		fmt.Fprintln(out, "- cleanup: "+line)
	}
	return r.report
}

// runner runs checks and counts them.
type runner struct {
	e       *env
	out     io.Writer
	timeout time.Duration
	report  Report
}

func (r *runner) run(ctx context.Context, target string, c check) {
	evidence, err := r.guard(ctx, c)
	var s *SkipError
	switch {
	case errors.As(err, &s):
		r.report.Skipped++
		fmt.Fprintf(r.out, "- %s: %s (skipped: %s)\n", target, c.name, s.Reason)
	case err != nil:
		r.report.Failed++
		fmt.Fprintf(r.out, "✗ %s: %s: %v\n", target, c.name, err)
	default:
		r.report.Passed++
		fmt.Fprintf(r.out, "✓ %s: %s (%s)\n", target, c.name, evidence)
	}
}

// guard runs one check with a time limit, turning a panic into a failure.
func (r *runner) guard(ctx context.Context, c check) (evidence string, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return c.run(ctx, r.e)
}
