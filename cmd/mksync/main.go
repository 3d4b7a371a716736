// Command mksync keeps a CRM's contacts, products and sales documents in
// two-way sync with the Metakocka ERP. Run `mksync --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "mksync:", err)
		os.Exit(1)
	}
}

// exitError ends the process with a given code after the command has printed
// its own report (e.g. `validate` exits 1 when a check failed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// streams are the process's standard streams, passed down so commands can be
// tested in-process.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

func newRootCmd(in io.Reader, out, errOut io.Writer) *cobra.Command {
	s := streams{in: in, out: out, err: errOut}
	root := &cobra.Command{
		Use:   "mksync",
		Short: "Two-way sync between a CRM and the Metakocka ERP",
		Long: `mksync keeps a multi-tenant CRM's contacts, products and sales documents in
two-way sync with the Metakocka ERP: an HTTP API, a web UI, durable job workers
and this CLI in one binary.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(
		newVersionCmd(s),
		newFakeMetakockaCmd(s),
		newDemoCmd(s),
		newMigrateCmd(s),
		newTenantCmd(s),
		newTokenCmd(s),
		newCredentialsCmd(s),
		newServeCmd(s),
		newWorkerCmd(s),
		withRemoteSync(newSyncCmd(s), s),
		newValidateCmd(s),
		newOpenAPICmd(s),
		newBenchCmd(s),
	)
	root.AddCommand(newLinkCmds(s)...)
	return root
}
