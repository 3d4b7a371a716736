package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/httpapi"
	"github.com/mksync/mksync/observe"
)

func newOpenAPICmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the REST API's OpenAPI 3.1 document",
		Long: `Print the OpenAPI 3.1 document that mksync serve answers at /api/openapi.json
(with the default rate limits in its description), without a database or a
server. Client generators read it; clients/typescript/openapi.json is this
output, and clients/typescript/scripts/check-generated.sh fails when it or the
TypeScript types generated from it are out of date.`,
		Example: `  mksync openapi > openapi.json`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			doc, err := openAPIDocument()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(s.out, "%s\n", doc)
			return err
		},
	}
}

// openAPIDocument builds the API's document as a server with the default
// configuration serves it.
func openAPIDocument() ([]byte, error) {
	api, err := httpapi.New(httpapi.Config{Store: specOnlyStore{}, Logger: observe.Discard()})
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	defer api.Close()
	return api.OpenAPI(), nil
}

// specOnlyStore stands in for the Store while only the document is built:
// building it registers routes but runs no handler, so no method is called
// (each would panic on the nil interface it embeds).
type specOnlyStore struct{ mksync.Store }
