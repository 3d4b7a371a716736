package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
)

func newTokenCmd(s streams) *cobra.Command {
	var f dbFlags
	var tenant string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke a tenant's API tokens",
	}
	f.register(cmd)
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "the tenant's id (required)")

	var name string
	create := &cobra.Command{
		Use:   "create --tenant ID [--name NAME]",
		Short: "Create an API token and print it, once",
		Long: `Create an API token for the tenant and print it on stdout. It is shown only
this once: mksync stores just its SHA-256 hash.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireTenantFlag(tenant); err != nil {
				return err
			}
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				plain, hash, err := mksync.NewTokenSecret()
				if err != nil {
					return err
				}
				t := mksync.APIToken{Name: name, Hash: hash}
				if err := st.CreateAPIToken(cmd.Context(), tenant, &t); err != nil {
					return fmt.Errorf("create token: %w", err)
				}
				fmt.Fprintf(s.err, "token %s created for tenant %s; it is shown only now\n", t.ID, tenant)
				_, err = fmt.Fprintln(s.out, plain.Reveal())
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "cli", "a label for the token")

	revoke := &cobra.Command{
		Use:   "revoke --tenant ID TOKEN_ID",
		Short: "Revoke an API token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireTenantFlag(tenant); err != nil {
				return err
			}
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				if err := st.RevokeAPIToken(cmd.Context(), tenant, args[0], time.Now()); err != nil {
					return fmt.Errorf("revoke token: %w", err)
				}
				_, err := fmt.Fprintf(s.err, "token %s revoked\n", args[0])
				return err
			})
		},
	}

	list := &cobra.Command{
		Use:   "list --tenant ID",
		Short: "List a tenant's API tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireTenantFlag(tenant); err != nil {
				return err
			}
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				if _, err := st.FindTenantByID(cmd.Context(), tenant); err != nil {
					return fmt.Errorf("list tokens: %w", err)
				}
				toks, err := st.ListAPITokens(cmd.Context(), tenant)
				if err != nil {
					return fmt.Errorf("list tokens: %w", err)
				}
				w := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED\tREVOKED")
				for _, t := range toks {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, fmtTimeOrDash(&t.CreatedAt), fmtTimeOrDash(t.LastUsedAt), fmtTimeOrDash(t.RevokedAt))
				}
				return w.Flush()
			})
		},
	}
	cmd.AddCommand(create, revoke, list)
	return cmd
}
