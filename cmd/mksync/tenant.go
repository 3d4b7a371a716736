package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
)

func newTenantCmd(s streams) *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create and list tenants (CRM accounts)",
	}
	f.register(cmd)

	var name string
	create := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create a tenant and print its id",
		Long:  "Create a tenant. Only the new tenant's id is printed on stdout, so scripts can capture it.",
		Example: `  TENANT=$(mksync tenant create --name "Acme d.o.o.")
  mksync token create --tenant "$TENANT"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				t := mksync.Tenant{Name: name}
				if err := st.CreateTenant(cmd.Context(), &t); err != nil {
					return fmt.Errorf("create tenant: %w", err)
				}
				_, err := fmt.Fprintln(s.out, t.ID)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "the tenant's name (required)")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List every tenant",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				w := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tCREATED")
				p := mksync.Page{Limit: mksync.MaxPageLimit}
				for {
					ts, next, err := st.ListTenants(cmd.Context(), p)
					if err != nil {
						return fmt.Errorf("list tenants: %w", err)
					}
					for _, t := range ts {
						fmt.Fprintf(w, "%s\t%s\t%s\n", t.ID, t.Name, fmtTimeOrDash(&t.CreatedAt))
					}
					if next == "" {
						break
					}
					p.After = next
				}
				return w.Flush()
			})
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

// requireTenantFlag checks --tenant was given.
func requireTenantFlag(id string) error {
	if id == "" {
		return errors.New("--tenant is required")
	}
	return nil
}
