package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/module"
)

// revision is the commit the binary was built from, set at build time with
// -ldflags "-X main.revision=..." where the build has no VCS checkout to
// stamp (a container build that copies the sources without .git).
var revision = ""

func newVersionCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of mksync",
		Long: `Print the version of mksync, the Go release it was built with and the
commit it was built from. The commit comes from the VCS stamp that go build
writes into the binary (-buildvcs, on by default in a git checkout), from the
module's pseudo-version (go install ...@version), or from -ldflags
"-X main.revision=..."; "+dirty" marks a build from uncommitted changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			_, err := fmt.Fprintln(s.out, readBuildStamp(bi, version, revision).String())
			return err
		},
	}
}

// buildStamp is what `mksync version` reports about the binary.
type buildStamp struct {
	Version  string // a release tag, a pseudo-version or "dev"
	Go       string // the Go release, e.g. go1.26.0
	Revision string // the commit, 12 hex digits; "" when unknown
	Time     string // the commit's time (RFC 3339); "" when unknown
	Modified bool   // built from a checkout with uncommitted changes
}

// readBuildStamp reads the stamp from the binary's build info (bi may be
// nil: a binary built without module support). ldVersion and ldRevision are
// the values set with -ldflags; a set ldVersion wins over the module
// version, the VCS stamp over ldRevision.
func readBuildStamp(bi *debug.BuildInfo, ldVersion, ldRevision string) buildStamp {
	st := buildStamp{Version: ldVersion, Go: runtime.Version(), Revision: ldRevision}
	if bi == nil {
		return st.short()
	}
	if bi.GoVersion != "" {
		st.Go = bi.GoVersion
	}
	mainVersion := bi.Main.Version
	if mainVersion == "(devel)" {
		mainVersion = ""
	}
	if (st.Version == "" || st.Version == "dev") && mainVersion != "" {
		st.Version = mainVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			st.Revision = s.Value
		case "vcs.time":
			st.Time = s.Value
		case "vcs.modified":
			st.Modified = s.Value == "true"
		}
	}
	if st.Revision == "" && module.IsPseudoVersion(mainVersion) {
		// go install module@commit stamps no VCS settings, but the
		// pseudo-version ends in the commit.
		if rev, err := module.PseudoVersionRev(mainVersion); err == nil {
			st.Revision = rev
		}
		if t, err := module.PseudoVersionTime(mainVersion); err == nil {
			st.Time = t.UTC().Format("2006-01-02T15:04:05Z")
		}
	}
	if strings.HasSuffix(mainVersion, "+dirty") {
		st.Modified = true
	}
	return st.short()
}

// short abbreviates the revision to the 12 digits git and Go show.
func (st buildStamp) short() buildStamp {
	if st.Version == "" {
		st.Version = "dev"
	}
	if len(st.Revision) > 12 {
		st.Revision = st.Revision[:12]
	}
	return st
}

// String is the line `mksync version` prints, e.g.
// "mksync v1.2.0 (go1.26.0, 0dce5d8cc810, 2026-12-06T00:14:31Z)".
func (st buildStamp) String() string {
	rev := st.Revision
	switch {
	case rev == "":
		rev = "unknown revision: built without VCS information (go run, or go build -buildvcs=false)"
	case st.Modified:
		rev += "+dirty"
	}
	if st.Time != "" && st.Revision != "" {
		rev += ", " + st.Time
	}
	return fmt.Sprintf("mksync %s (%s, %s)", st.Version, st.Go, rev)
}
