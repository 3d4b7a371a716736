package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The mksync binary, built once by the first test that runs processes.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		_ = os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// mksyncBinary builds this command (once per test binary) and returns its
// path.
func mksyncBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "mksync-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "mksync")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binary.err)
	return binary.path
}

// proc is an mksync process under test.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string
	errf  string
	done  chan struct{}
}

// startProc runs the binary with args and waits for a stdout line that
// starts with ready, which it returns.
func startProc(t *testing.T, name, ready string, env []string, args ...string) (*proc, string) {
	t.Helper()
	p := launchProc(t, name, env, args...)
	return p, p.waitFor(ready)
}

// launchProc starts the binary with args; stdout lines go to p.lines,
// stderr to a file shown when the test fails.
func launchProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, lines: make(chan string, 100), errf: filepath.Join(t.TempDir(), name+".stderr"), done: make(chan struct{})}
	p.cmd = exec.Command(mksyncBinary(t), args...)
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := os.Create(p.errf)
	require.NoError(t, err)
	p.cmd.Stderr = stderr
	out, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_ = p.cmd.Wait()
		_ = stderr.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(p.errf)
			t.Logf("%s stderr (last 4 kB):\n%s", name, tail(b, 4096))
		}
	})
	return p
}

// waitFor waits for a stdout line starting with prefix and returns it.
func (p *proc) waitFor(prefix string) string {
	p.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l := <-p.lines:
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-p.done:
			b, _ := os.ReadFile(p.errf)
			p.t.Fatalf("%s exited before %q: %s", p.name, prefix, tail(b, 4096))
		case <-deadline:
			p.t.Fatalf("%s did not print %q in time", p.name, prefix)
		}
	}
}

// kill ends the process at once (SIGKILL: no cleanup of any kind).
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop asks the process to stop (SIGTERM) and waits.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Errorf("%s did not stop on SIGTERM", p.name)
		p.kill()
	}
	require.Equal(p.t, 0, p.cmd.ProcessState.ExitCode(), "%s exit code", p.name)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// startFake runs `mksync fake-metakocka` with companies (ID:SECRET) and
// returns its base URL.
func startFake(t *testing.T, companies []string, extra ...string) string {
	args := []string{"fake-metakocka", "--addr", "127.0.0.1:0"}
	for _, c := range companies {
		args = append(args, "--company", c)
	}
	_, line := startProc(t, "fake-metakocka", "listening on ", nil, append(args, extra...)...)
	return strings.TrimPrefix(line, "listening on ")
}

// fakePartners returns the partners the simulator stores for a company.
func fakePartners(t *testing.T, base, company string) []struct {
	MkID      string `json:"mk_id"`
	CountCode string `json:"count_code"`
} {
	t.Helper()
	resp, err := http.Get(base + "/_fake/companies/" + company + "/partners")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out []struct {
		MkID      string `json:"mk_id"`
		CountCode string `json:"count_code"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// fakeCalls returns how many calls of method the company answered with
// outcome.
func fakeCalls(t *testing.T, base, company, method, outcome string) int64 {
	t.Helper()
	resp, err := http.Get(base + "/_fake/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Companies map[string]map[string]map[string]int64 `json:"companies"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	return st.Companies[company][method][outcome]
}
