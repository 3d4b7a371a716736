package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// composeFile reads compose.yaml as JSON-shaped data (merge keys resolved).
func composeFile(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("compose.yaml")
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// The compose file is valid against the Compose Specification's schema
// (vendored in testdata: no network, no docker needed).
func TestComposeFileMatchesSchema(t *testing.T) {
	t.Parallel()
	schemaJSON, err := os.ReadFile("testdata/compose-spec.json")
	require.NoError(t, err)
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("compose_spec.json", schemaDoc))
	schema, err := c.Compile("compose_spec.json")
	require.NoError(t, err)
	require.NoError(t, schema.Validate(composeFile(t)))

	// The schema is strict enough to catch a typo.
	bad := composeFile(t)
	bad["services"].(map[string]any)["serve"].(map[string]any)["comand"] = []any{"serve"}
	require.Error(t, schema.Validate(bad))
}

// The compose file has the scale-out layout: PostgreSQL, one serve without
// workers, two workers and Prometheus, the mksync processes on PostgreSQL.
func TestComposeLayout(t *testing.T) {
	t.Parallel()
	services := composeFile(t)["services"].(map[string]any)
	command := func(name string) []string {
		var out []string
		for _, a := range services[name].(map[string]any)["command"].([]any) {
			out = append(out, a.(string))
		}
		return out
	}
	var serves, workers []string
	for name, s := range services {
		svc := s.(map[string]any)
		cmd, ok := svc["command"].([]any)
		if !ok || svc["image"] != "mksync:latest" {
			continue
		}
		switch cmd[0] {
		case "serve":
			serves = append(serves, name)
			require.Contains(t, command(name), "--no-workers")
		case "worker":
			workers = append(workers, name)
		}
		env := svc["environment"].(map[string]any)
		require.True(t, strings.HasPrefix(env["MKSYNC_DB"].(string), "postgres://"), name)
		require.NotEmpty(t, env["MKSYNC_ENCRYPTION_KEY"], name)
		require.Equal(t, true, svc["read_only"], name)
	}
	require.Len(t, serves, 1)
	require.Len(t, workers, 2)
	require.Contains(t, services, "postgres")
	require.Contains(t, services, "prometheus")

	// Prometheus scrapes every mksync process.
	raw, err := os.ReadFile("prometheus/prometheus.yml")
	require.NoError(t, err)
	for _, name := range append(serves, workers...) {
		require.Contains(t, string(raw), `"`+name+`:`, name)
	}
}

// The image is built in stages into a static binary that runs as a
// non-root user.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	df := string(raw)
	froms := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(df, -1)
	require.GreaterOrEqual(t, len(froms), 2, "multi-stage")
	require.Contains(t, df, "CGO_ENABLED=0", "a static binary")
	final := df[froms[len(froms)-1][0]:]
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(final, -1)
	require.NotEmpty(t, users, "the final stage sets a user")
	user := strings.Split(users[len(users)-1][1], ":")[0]
	require.NotContains(t, []string{"root", "0"}, user)
	require.Contains(t, final, "COPY --from=build")
}

// The systemd units run mksync with the sandboxing options it can bear.
func TestSystemdUnitsAreHardened(t *testing.T) {
	t.Parallel()
	for _, unit := range []string{"systemd/mksync.service", "systemd/mksync-worker@.service"} {
		raw, err := os.ReadFile(unit)
		require.NoError(t, err)
		lines := strings.Split(string(raw), "\n")
		for _, opt := range []string{"NoNewPrivileges=yes", "DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes",
			"PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
			"SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "UMask=0077"} {
			require.True(t, slices.Contains(lines, opt), "%s: %s", unit, opt)
		}
	}
}
