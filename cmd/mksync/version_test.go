package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionReadsBuildStamp(t *testing.T) {
	t.Parallel()
	const rev = "0dce5d8cc81083954ba81c8b3771db41721d74d0"
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name       string
		bi         *debug.BuildInfo
		ldVersion  string
		ldRevision string
		want       string
	}{
		{
			name: "go build in a git checkout",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261206001431-0dce5d8cc810"},
				Settings: vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-06T00:14:31Z", "vcs.modified", "false")},
			ldVersion: "dev",
			want:      "mksync v0.0.0-20261206001431-0dce5d8cc810 (go1.26.0, 0dce5d8cc810, 2026-12-06T00:14:31Z)",
		},
		{
			name: "uncommitted changes",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs.revision", rev, "vcs.time", "2026-12-06T00:14:31Z", "vcs.modified", "true")},
			ldVersion: "dev",
			want:      "mksync dev (go1.26.0, 0dce5d8cc810+dirty, 2026-12-06T00:14:31Z)",
		},
		{
			name:      "release tag set with -ldflags wins over the module version",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: vcs("vcs.revision", rev)},
			ldVersion: "v1.2.1",
			want:      "mksync v1.2.1 (go1.26.0, 0dce5d8cc810)",
		},
		{
			name:      "go install module@commit: the pseudo-version holds the commit",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20261206001431-0dce5d8cc810"}},
			ldVersion: "dev",
			want:      "mksync v0.0.0-20261206001431-0dce5d8cc810 (go1.26.0, 0dce5d8cc810, 2026-12-06T00:14:31Z)",
		},
		{
			name:       "container build without .git: revision from -ldflags",
			bi:         &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			ldVersion:  "v1.3.0",
			ldRevision: rev,
			want:       "mksync v1.3.0 (go1.26.0, 0dce5d8cc810)",
		},
		{
			name:      "no stamp at all says why",
			bi:        &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			ldVersion: "dev",
			want:      "mksync dev (go1.26.0, unknown revision: built without VCS information (go run, or go build -buildvcs=false))",
		},
		{
			name:      "no build info",
			ldVersion: "dev",
			want:      "mksync dev (" + runtime.Version() + ", unknown revision: built without VCS information (go run, or go build -buildvcs=false))",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, readBuildStamp(tt.bi, tt.ldVersion, tt.ldRevision).String())
		})
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	out := mustRun(t, "", "version")
	bi, ok := debug.ReadBuildInfo()
	require.True(t, ok)
	require.Equal(t, readBuildStamp(bi, version, revision).String()+"\n", out)
	require.True(t, strings.HasPrefix(out, "mksync "), out)
}
