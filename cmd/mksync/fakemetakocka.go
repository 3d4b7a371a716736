package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func newFakeMetakockaCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "fake-metakocka",
		Short: "Run the built-in Metakocka simulator",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return errors.New("fake-metakocka: not built yet")
		},
	}
}
