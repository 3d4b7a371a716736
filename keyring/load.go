package keyring

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mksync/mksync"
)

// The environment variables Load reads.
const (
	// EnvKey holds the current key: base64 of KeySize random bytes.
	EnvKey = "MKSYNC_ENCRYPTION_KEY"
	// EnvOldKeys holds earlier keys, comma-separated, that only open.
	EnvOldKeys = "MKSYNC_ENCRYPTION_KEYS_OLD"
)

// KeyFileName is the name of the key file kept beside an embedded database.
const KeyFileName = "mksync.key"

// KeyFileFor returns the key file path for the SQLite database at dbPath: a
// file named KeyFileName in the same directory.
func KeyFileFor(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), KeyFileName)
}

// Config says where Load finds keys.
type Config struct {
	// Getenv returns the value of EnvKey and EnvOldKeys: the wiring (app)
	// passes the values of its Config, read once at start. nil means both
	// are unset. The keyring never reads the process environment itself.
	Getenv func(string) string
	// KeyFile is used when EnvKey is unset: it is read, or generated (mode
	// 0600) when absent. Set it only for the embedded default database (see
	// KeyFileFor); "" makes EnvKey required, as it is for PostgreSQL, whose
	// servers have no shared disk.
	KeyFile string
}

// Load returns the keyring configured by the environment or, failing that,
// by c.KeyFile. generated is true when Load has just created the key file:
// the caller should log once that it did (with the path, never the key).
//
// Errors are EINVALID and name the variable or file at fault; they never
// contain key material.
func Load(c Config) (kr *Keyring, generated bool, err error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if v := getenv(EnvKey); strings.TrimSpace(v) != "" {
		kr, err := fromEnv(v, getenv(EnvOldKeys))
		return kr, false, err
	}
	if getenv(EnvOldKeys) != "" {
		return nil, false, mksync.Errorf(mksync.EINVALID, "%s is set but %s is not: set the current key too", EnvOldKeys, EnvKey)
	}
	if c.KeyFile == "" {
		return nil, false, mksync.Errorf(mksync.EINVALID, "%s is not set: set it to base64 of %d random bytes (e.g. `openssl rand -base64 32`)", EnvKey, KeySize)
	}
	return LoadOrCreateFile(c.KeyFile)
}

func fromEnv(current, old string) (*Keyring, error) {
	cur, err := ParseKey(current)
	if err != nil {
		return nil, mksync.WrapError(mksync.EINVALID, EnvKey+": "+mksync.ErrorMessage(err), err)
	}
	var olds [][]byte
	if strings.TrimSpace(old) != "" {
		for i, s := range strings.Split(old, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			k, err := ParseKey(s)
			if err != nil {
				return nil, mksync.WrapError(mksync.EINVALID, fmt.Sprintf("%s: key %d: %s", EnvOldKeys, i+1, mksync.ErrorMessage(err)), err)
			}
			olds = append(olds, k)
		}
	}
	return New(cur, olds...)
}

// LoadFile reads the key file at path. It refuses a file that group or others
// may read (like ssh does), since anyone who reads it can decrypt every
// stored secret.
func LoadFile(path string) (*Keyring, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, mksync.WrapError(mksync.EINVALID, "read key file "+path, err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, mksync.Errorf(mksync.EINVALID, "key file %s has mode %04o: make it readable by its owner only (chmod 600)", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, mksync.WrapError(mksync.EINVALID, "read key file "+path, err)
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, mksync.WrapError(mksync.EINVALID, fmt.Sprintf("key file %s line %d: %s", path, n, mksync.ErrorMessage(err)), err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, mksync.Errorf(mksync.EINVALID, "key file %s holds no key", path)
	}
	return newKeyring(keys)
}

// LoadOrCreateFile reads the key file at path, or creates it (and its
// directory) with one new random key when it does not exist. created reports
// whether it did. Two processes starting at once agree on one key: the file
// is written under a temporary name and linked into place only if absent.
func LoadOrCreateFile(path string) (kr *Keyring, created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		kr, err := LoadFile(path)
		return kr, false, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, mksync.WrapError(mksync.EINVALID, "read key file "+path, err)
	}
	key, err := GenerateKey()
	if err != nil {
		return nil, false, err
	}
	kr, err = New(key)
	if err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, mksync.WrapError(mksync.EINTERNAL, "create key file directory", err)
	}
	tmp, err := writeTemp(path, kr)
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process won the race: use its key.
			kr, err := LoadFile(path)
			return kr, false, err
		}
		return nil, false, mksync.WrapError(mksync.EINTERNAL, "create key file "+path, err)
	}
	return kr, true, nil
}

// RotateFile adds a new random key to the key file at path and makes it the
// current one; the earlier keys stay so that existing values still open. The
// file is replaced atomically. Follow it with Store.ReencryptSecrets using the
// returned keyring.
func RotateFile(path string) (*Keyring, error) {
	old, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	kr, err := old.Rotate(key)
	if err != nil {
		return nil, err
	}
	tmp, err := writeTemp(path, kr)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return nil, mksync.WrapError(mksync.EINTERNAL, "replace key file "+path, err)
	}
	return kr, nil
}

// writeTemp writes kr's keys to a new 0600 file beside path and returns its
// name.
func writeTemp(path string, kr *Keyring) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", mksync.WrapError(mksync.EINTERNAL, "write key file", err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		_ = f.Close()
		_ = os.Remove(name)
		return "", mksync.WrapError(mksync.EINTERNAL, "write key file "+path, err)
	}
	// CreateTemp already uses 0600; make it explicit whatever the umask.
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	var b strings.Builder
	b.WriteString("# mksync encryption keys. Keep secret and back up with the database:\n")
	b.WriteString("# without them stored Metakocka credentials cannot be decrypted.\n")
	b.WriteString("# One base64 key per line, oldest first; the last line seals, every line opens.\n")
	for _, id := range kr.r.order {
		b.WriteString(kr.r.raw[id].Reveal())
		b.WriteByte('\n')
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(name)
		return "", mksync.WrapError(mksync.EINTERNAL, "write key file "+path, err)
	}
	return name, nil
}
