package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/app"
)

func newMigrateCmd(s streams) *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "migrate [up|status]",
		Short: "Apply database migrations, or show their status",
		Long: `Apply every pending migration of the database (up, the default), or list the
migrations and whether each is applied (status). Migrations are embedded in
the binary: mksync's own, versioned with goose (SQLite and PostgreSQL share
version numbers), and those of the River job queue's tables (set "river" in
the status). Safe to run again: applied migrations are skipped.`,
		Example: `  mksync migrate
  mksync migrate status --db postgres://mksync@localhost/mksync`,
		Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"up", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			action := "up"
			if len(args) == 1 {
				action = args[0]
			}
			f.noMigrate = true // this command decides itself
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				if action == "up" {
					if err := app.Migrate(cmd.Context(), st); err != nil {
						return err
					}
				}
				rows, err := app.MigrationStatus(cmd.Context(), st)
				if err != nil {
					return fmt.Errorf("migration status: %w", err)
				}
				if action == "up" {
					var last int64
					for _, r := range rows {
						if r.Set == app.MigrationSetApp && r.Applied {
							last = r.Version
						}
					}
					_, err := fmt.Fprintf(s.out, "database is at version %d\n", last)
					return err
				}
				w := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "SET\tVERSION\tNAME\tSTATE\tAPPLIED AT")
				for _, r := range rows {
					state, at := "pending", "-"
					if r.Applied {
						state, at = "applied", fmtTimeOrDash(&r.AppliedAt)
					}
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", r.Set, r.Version, r.Name, state, at)
				}
				return w.Flush()
			})
		},
	}
	f.register(cmd)
	cmd.PersistentFlags().Lookup("no-migrate").Hidden = true
	return cmd
}
