package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
)

func newCredentialsCmd(s streams) *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Set a tenant's Metakocka credentials; rotate the encryption key",
	}
	f.register(cmd)

	var tenant, companyID, baseURL string
	set := &cobra.Command{
		Use:   "set --tenant ID --company-id C [--metakocka-url U] < secret",
		Short: "Connect a tenant to its Metakocka company (secret key read from stdin)",
		Long: `Store the tenant's Metakocka company id and secret key. The secret key is read
from stdin (its first line), never from the command line, where it would show
in the shell history and the process list. It is stored encrypted.

Sync settings and the stock webhook of an existing connection are kept.`,
		Example: `  printf '%s' "$MK_SECRET" | mksync credentials set --tenant "$TENANT" --company-id 6371
  mksync credentials set --tenant "$TENANT" --company-id 6371 < secret.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireTenantFlag(tenant); err != nil {
				return err
			}
			secret, err := readSecret(s.in)
			if err != nil {
				return err
			}
			return f.withStore(cmd.Context(), s, func(st mksync.Store) error {
				c := mksync.MetakockaCredentials{CompanyID: companyID, SecretKey: secret, BaseURL: baseURL}
				old, err := st.FindCredentials(cmd.Context(), tenant)
				switch {
				case err == nil:
					c.Settings = old.Settings
					if c.BaseURL == "" {
						c.BaseURL = old.BaseURL
					}
				case mksync.ErrorCode(err) != mksync.ENOTFOUND:
					return fmt.Errorf("read credentials: %w", err)
				}
				if err := st.SetCredentials(cmd.Context(), tenant, &c); err != nil {
					return fmt.Errorf("set credentials: %w", err)
				}
				_, err = fmt.Fprintf(s.err, "credentials saved for tenant %s (company %s, %s); stock webhook id %s\n",
					tenant, c.CompanyID, c.BaseURL, c.WebhookID)
				return err
			})
		},
	}
	set.Flags().StringVar(&tenant, "tenant", "", "the tenant's id (required)")
	set.Flags().StringVar(&companyID, "company-id", "", "the Metakocka company_id (required)")
	set.Flags().StringVar(&baseURL, "metakocka-url", "", "Metakocka API base URL (default "+mksync.DefaultMetakockaURL+", or the one already set)")
	_ = set.MarkFlagRequired("company-id")

	rotate := &cobra.Command{
		Use:   "rotate-key",
		Short: "Rotate the encryption key and re-encrypt every stored secret",
		Long: `With the key file of the embedded database (MKSYNC_ENCRYPTION_KEY unset): add
a new current key to the key file (earlier keys stay, so running processes and
old values keep working) and re-encrypt every tenant's secrets with it.

With MKSYNC_ENCRYPTION_KEY: set it to the new key and move the old one into
MKSYNC_ENCRYPTION_KEYS_OLD first; this command then re-encrypts every secret
with the new key, after which the old key can be removed.

Prints the number of credentials re-encrypted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			t, err := parseDB(f.dsn())
			if err != nil {
				return err
			}
			var kr *keyring.Keyring
			if os.Getenv(keyring.EnvKey) == "" && t.path != "" {
				keyFile := keyring.KeyFileFor(t.path)
				if _, err := os.Stat(keyFile); err != nil {
					return fmt.Errorf("rotate key: no key file at %s (nothing to rotate): %w", keyFile, err)
				}
				if kr, err = keyring.RotateFile(keyFile); err != nil {
					return fmt.Errorf("rotate key: %w", err)
				}
				fmt.Fprintf(s.err, "key file %s: new current key %s\n", keyFile, kr.CurrentID())
			} else if kr, err = loadSealer(s, t); err != nil {
				return err
			}
			st, err := openStoreWith(ctx, s, t, kr, 0)
			if err != nil {
				return err
			}
			defer st.Close()
			if !f.noMigrate {
				if err := migrateStore(ctx, st); err != nil {
					return err
				}
			}
			n, err := st.ReencryptSecrets(ctx)
			if err != nil {
				return fmt.Errorf("re-encrypt secrets: %w", err)
			}
			fmt.Fprintf(s.err, "re-encrypted %d tenants' credentials with key %s\n", n, kr.CurrentID())
			_, err = fmt.Fprintln(s.out, n)
			return err
		},
	}
	cmd.AddCommand(set, rotate)
	return cmd
}

// readSecret reads a secret's first line from r (stdin).
func readSecret(r io.Reader) (mksync.Secret, error) {
	if r == nil {
		return "", errors.New("no secret on stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read secret from stdin: %w", err)
	}
	secret := strings.TrimSpace(line)
	if secret == "" {
		return "", errors.New("no secret on stdin: pipe the Metakocka secret key into this command")
	}
	return mksync.Secret(secret), nil
}
