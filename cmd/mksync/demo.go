package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newDemoCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run mksync against the built-in Metakocka simulator with demo data",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("demo: not built yet")
		},
	}
}
