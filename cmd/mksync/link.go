package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/engine"
	"github.com/mksync/mksync/observe"
)

// newLinkCmds are `mksync link` and `mksync unlink`: a person's decision on
// an ambiguous match, a record deleted in Metakocka or a tombstone
// (docs/mapping.md, "Linking by hand").
func newLinkCmds(s streams) []*cobra.Command {
	var (
		f                 dbFlags
		tenantID, id      string
		mkID, countCode   string
		uf                dbFlags
		uTenantID, unlink string
	)
	withEngine := func(cmd *cobra.Command, f *dbFlags, fn func(*engine.Engine) error) error {
		return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
			e, err := engine.New(engine.Config{Store: st, Logger: observe.WithCategory(cliLogger(s), observe.CatSync)})
			if err != nil {
				return err
			}
			return fn(e)
		})
	}
	link := &cobra.Command{
		Use:   "link contacts|products|sales-documents --tenant ID --id CRM_ID (--mk-id M | --count-code C)",
		Short: "Link a CRM record to a Metakocka record by hand",
		Long: `Link one CRM record to an existing Metakocka record, chosen by its mk_id or
count_code, and print the mapping. Neither record is written: the next sync
compares them and follows the tenant's conflict policy. A Metakocka record
linked to another CRM record is refused; linking a tombstoned Metakocka record
forgets its tombstone.`,
		Example:   `  mksync link contacts --tenant 0195... --id 0195... --mk-id 1600000042`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"contacts", "products", "sales-documents"},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case tenantID == "" || id == "":
				return errors.New("--tenant and --id are required")
			case (mkID == "") == (countCode == ""):
				return errors.New("give exactly one of --mk-id and --count-code")
			}
			return withEngine(cmd, &f, func(e *engine.Engine) error {
				m, err := e.Link(cmd.Context(), tenantID, entityArgs[args[0]], id, mkID+countCode)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(s.out, "%s %s linked to mk_id %s (count_code %s), %s\n", m.EntityType, m.EntityID, m.MetakockaID, m.CountCode, m.State)
				return err
			})
		},
	}
	f.register(link)
	fl := link.Flags()
	fl.StringVar(&tenantID, "tenant", "", "tenant id (required)")
	fl.StringVar(&id, "id", "", "the CRM record's id (required)")
	fl.StringVar(&mkID, "mk-id", "", "the Metakocka record's mk_id")
	fl.StringVar(&countCode, "count-code", "", "the Metakocka record's count_code")

	un := &cobra.Command{
		Use:   "unlink contacts|products|sales-documents --tenant ID --id CRM_ID",
		Short: "Remove a CRM record's link to Metakocka",
		Long: `Remove the mapping of one CRM record. Nothing is written to Metakocka; the next
push matches the record again by its strong keys and creates it there only
when nothing matches.`,
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"contacts", "products", "sales-documents"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if uTenantID == "" || unlink == "" {
				return errors.New("--tenant and --id are required")
			}
			return withEngine(cmd, &uf, func(e *engine.Engine) error {
				if err := e.Unlink(cmd.Context(), uTenantID, entityArgs[args[0]], unlink); err != nil {
					return err
				}
				_, err := fmt.Fprintf(s.out, "%s %s unlinked\n", entityArgs[args[0]], unlink)
				return err
			})
		},
	}
	uf.register(un)
	un.Flags().StringVar(&uTenantID, "tenant", "", "tenant id (required)")
	un.Flags().StringVar(&unlink, "id", "", "the CRM record's id (required)")
	return []*cobra.Command{link, un}
}
