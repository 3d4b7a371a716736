package keyring_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyring"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k, err := keyring.GenerateKey()
	require.NoError(t, err)
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	kr, err := keyring.New(newKey(t))
	require.NoError(t, err)
	for _, plain := range []string{"", "s3cret-key", strings.Repeat("x", 10_000), "čšž ünïcode"} {
		sealed, err := kr.Seal([]byte(plain), testBinding)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(sealed, "v2:"+kr.CurrentID()+":"), sealed)
		if plain != "" {
			require.NotContains(t, sealed, plain)
		}
		got, err := kr.Open(sealed, testBinding)
		require.NoError(t, err)
		require.Equal(t, plain, string(got))
		id, ok := keyring.KeyIDOf(sealed)
		require.True(t, ok)
		require.Equal(t, kr.CurrentID(), id)
	}
	// Random nonces: sealing twice gives different values.
	a, _ := kr.Seal([]byte("same"), testBinding)
	b, _ := kr.Seal([]byte("same"), testBinding)
	require.NotEqual(t, a, b)
}

func TestOpenDetectsTampering(t *testing.T) {
	t.Parallel()
	kr, err := keyring.New(newKey(t))
	require.NoError(t, err)
	other, err := keyring.New(newKey(t))
	require.NoError(t, err)
	sealed, err := kr.Seal([]byte("secret"), testBinding)
	require.NoError(t, err)
	parts := strings.SplitN(sealed, ":", 3)
	data, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)

	flipped := append([]byte(nil), data...)
	flipped[len(flipped)-1] ^= 1
	truncated := data[:10]

	cases := map[string]string{
		"flipped bit":     parts[0] + ":" + parts[1] + ":" + base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":       parts[0] + ":" + parts[1] + ":" + base64.RawURLEncoding.EncodeToString(truncated),
		"other version":   "v3:" + parts[1] + ":" + parts[2],
		"as legacy v1":    "v1:" + parts[1] + ":" + parts[2],
		"unknown key id":  parts[0] + ":0000000000000000:" + parts[2],
		"not base64":      parts[0] + ":" + parts[1] + ":!!!",
		"no fields":       "garbage",
		"empty":           "",
		"other key's box": mustSeal(t, other, "secret"),
	}
	for name, v := range cases {
		_, err := kr.Open(v, testBinding)
		require.Error(t, err, name)
		require.Equal(t, mksync.EINTERNAL, mksync.ErrorCode(err), name)
		require.NotContains(t, err.Error(), "secret", name)
	}
}

func mustSeal(t *testing.T, kr *keyring.Keyring, s string) string {
	t.Helper()
	v, err := kr.Seal([]byte(s), testBinding)
	require.NoError(t, err)
	return v
}

// testBinding is where the tests' values are "stored".
const testBinding = "credentials/tenant-a/secret_key"

// A sealed value is bound to its row and column: moved to another tenant's
// row or another column, it does not open.
func TestSealedValueIsBoundToItsPlace(t *testing.T) {
	t.Parallel()
	kr, err := keyring.New(newKey(t))
	require.NoError(t, err)
	sealed, err := kr.Seal([]byte("secret"), mksync.SecretBinding("tenant-a", "secret_key"))
	require.NoError(t, err)
	got, err := kr.Open(sealed, mksync.SecretBinding("tenant-a", "secret_key"))
	require.NoError(t, err)
	require.Equal(t, "secret", string(got))
	for _, elsewhere := range []string{
		mksync.SecretBinding("tenant-b", "secret_key"),
		mksync.SecretBinding("tenant-a", "webhook_secret"),
		"",
	} {
		_, err := kr.Open(sealed, elsewhere)
		require.ErrorContains(t, err, "failed authentication", elsewhere)
		require.Equal(t, mksync.EINTERNAL, mksync.ErrorCode(err))
	}
}

// Values sealed before bindings (v1) still open, wherever they are read;
// sealing again binds them.
func TestLegacyValuesOpen(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	kr, err := keyring.New(key)
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	nonce := make([]byte, aead.NonceSize())
	prefix := "v1:" + kr.CurrentID()
	legacy := prefix + ":" + base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte("old secret"), []byte(prefix)))
	for _, b := range []string{testBinding, mksync.SecretBinding("tenant-b", "webhook_secret")} {
		got, err := kr.Open(legacy, b)
		require.NoError(t, err)
		require.Equal(t, "old secret", string(got))
	}
	id, ok := keyring.KeyIDOf(legacy)
	require.True(t, ok)
	require.Equal(t, kr.CurrentID(), id)
	resealed, err := kr.Seal([]byte("old secret"), testBinding)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(resealed, "v2:"))
	_, err = kr.Open(resealed, mksync.SecretBinding("tenant-b", "webhook_secret"))
	require.Error(t, err)
}

func TestWrongKeyWithSameIDCannotOpen(t *testing.T) {
	t.Parallel()
	// Forge the key id of another ring into a value: authentication of the
	// prefix and of the data still fails.
	a, _ := keyring.New(newKey(t))
	b, _ := keyring.New(newKey(t))
	sealedB := mustSeal(t, b, "secret")
	forged := "v2:" + a.CurrentID() + ":" + strings.SplitN(sealedB, ":", 3)[2]
	_, err := a.Open(forged, testBinding)
	require.ErrorContains(t, err, "failed authentication")
}

func TestRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	old, err := keyring.New(k1)
	require.NoError(t, err)
	sealedOld := mustSeal(t, old, "before rotation")

	rotated, err := old.Rotate(k2)
	require.NoError(t, err)
	require.Equal(t, keyring.KeyID(k2), rotated.CurrentID())
	require.NotEqual(t, old.CurrentID(), rotated.CurrentID())
	require.Equal(t, []string{keyring.KeyID(k1), keyring.KeyID(k2)}, rotated.IDs())
	require.Equal(t, keyring.KeyID(k1), old.CurrentID(), "Rotate leaves the original ring unchanged")

	got, err := rotated.Open(sealedOld, testBinding)
	require.NoError(t, err)
	require.Equal(t, "before rotation", string(got))

	sealedNew := mustSeal(t, rotated, "after rotation")
	id, _ := keyring.KeyIDOf(sealedNew)
	require.Equal(t, rotated.CurrentID(), id)
	_, err = old.Open(sealedNew, testBinding)
	require.ErrorContains(t, err, "unknown key id")

	// New(current, old...) is the same ring.
	same, err := keyring.New(k2, k1)
	require.NoError(t, err)
	require.Equal(t, rotated.IDs(), same.IDs())
}

func TestNewRejectsBadKeys(t *testing.T) {
	t.Parallel()
	_, err := keyring.New(make([]byte, 16))
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
	_, err = keyring.New(newKey(t), make([]byte, 31))
	require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err))
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadFromEnv(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	enc := func(k []byte) string { return keyring.EncodeKey(k).Reveal() }

	kr, generated, err := keyring.Load(keyring.Config{Getenv: env(map[string]string{keyring.EnvKey: enc(k2)})})
	require.NoError(t, err)
	require.False(t, generated)
	require.Equal(t, keyring.KeyID(k2), kr.CurrentID())

	// URL alphabet without padding is accepted too.
	kr, _, err = keyring.Load(keyring.Config{Getenv: env(map[string]string{
		keyring.EnvKey:     base64.RawURLEncoding.EncodeToString(k2),
		keyring.EnvOldKeys: enc(k1) + ", ",
	})})
	require.NoError(t, err)
	require.Equal(t, []string{keyring.KeyID(k1), keyring.KeyID(k2)}, kr.IDs())

	// The environment wins over the key file, which is not created.
	dir := t.TempDir()
	_, generated, err = keyring.Load(keyring.Config{
		Getenv:  env(map[string]string{keyring.EnvKey: enc(k1)}),
		KeyFile: filepath.Join(dir, keyring.KeyFileName),
	})
	require.NoError(t, err)
	require.False(t, generated)
	require.NoFileExists(t, filepath.Join(dir, keyring.KeyFileName))
}

func TestLoadFromEnvErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	good := keyring.EncodeKey(newKey(t)).Reveal()
	short := base64.StdEncoding.EncodeToString([]byte("only-sixteen-byt"))
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad encoding", map[string]string{keyring.EnvKey: "not*base64*at*all"}, keyring.EnvKey + ": not valid base64"},
		{"bad length", map[string]string{keyring.EnvKey: short}, keyring.EnvKey + ": decodes to 16 bytes; want 32"},
		{"bad old key", map[string]string{keyring.EnvKey: good, keyring.EnvOldKeys: good + "," + short}, keyring.EnvOldKeys + ": key 2: decodes to 16 bytes"},
		{"old without current", map[string]string{keyring.EnvOldKeys: good}, keyring.EnvKey + " is not"},
		{"unset without key file", map[string]string{}, keyring.EnvKey + " is not set"},
	}
	for _, c := range cases {
		_, _, err := keyring.Load(keyring.Config{Getenv: env(c.env)})
		require.Error(t, err, c.name)
		require.Equal(t, mksync.EINVALID, mksync.ErrorCode(err), c.name)
		require.Contains(t, err.Error(), c.want, c.name)
		for _, v := range c.env {
			require.NotContains(t, err.Error(), v, "%s: error must not echo key material", c.name)
		}
	}
}

func TestKeyFileGeneratedOnceWithMode0600(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	path := keyring.KeyFileFor(filepath.Join(dir, "mksync.db"))
	require.Equal(t, filepath.Join(dir, keyring.KeyFileName), path)
	cfg := keyring.Config{Getenv: env(nil), KeyFile: path}

	kr, generated, err := keyring.Load(cfg)
	require.NoError(t, err)
	require.True(t, generated)
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}
	sealed := mustSeal(t, kr, "secret")

	again, generated, err := keyring.Load(cfg)
	require.NoError(t, err)
	require.False(t, generated, "the second load reads the file")
	require.Equal(t, kr.CurrentID(), again.CurrentID())
	got, err := again.Open(sealed, testBinding)
	require.NoError(t, err)
	require.Equal(t, "secret", string(got))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
}

func TestKeyFileConcurrentCreateAgrees(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), keyring.KeyFileName)
	const n = 8
	ids := make([]string, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kr, c, err := keyring.LoadOrCreateFile(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], created[i] = kr.CurrentID(), c
		})
	}
	wg.Wait()
	nCreated := 0
	for i := range n {
		require.Equal(t, ids[0], ids[i])
		if created[i] {
			nCreated++
		}
	}
	require.Equal(t, 1, nCreated)
}

func TestKeyFileRefusesLoosePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are not enforced on Windows")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), keyring.KeyFileName)
	_, _, err := keyring.LoadOrCreateFile(path)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = keyring.LoadFile(path)
	require.ErrorContains(t, err, "chmod 600")
}

func TestKeyFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	_, err := keyring.LoadFile(write("empty", "# nothing\n\n"))
	require.ErrorContains(t, err, "holds no key")
	bad := write("bad", "# c\n"+keyring.EncodeKey(newKey(t)).Reveal()+"\nAAAA\n")
	_, err = keyring.LoadFile(bad)
	require.ErrorContains(t, err, "line 3: decodes to 3 bytes")
}

func TestRotateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), keyring.KeyFileName)
	first, _, err := keyring.LoadOrCreateFile(path)
	require.NoError(t, err)
	sealedOld := mustSeal(t, first, "old secret")

	rotated, err := keyring.RotateFile(path)
	require.NoError(t, err)
	require.NotEqual(t, first.CurrentID(), rotated.CurrentID())
	require.Equal(t, []string{first.CurrentID(), rotated.CurrentID()}, rotated.IDs())

	loaded, err := keyring.LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, rotated.IDs(), loaded.IDs(), "the rotation is persisted")
	got, err := loaded.Open(sealedOld, testBinding)
	require.NoError(t, err)
	require.Equal(t, "old secret", string(got))
	id, _ := keyring.KeyIDOf(mustSeal(t, loaded, "new"))
	require.Equal(t, rotated.CurrentID(), id)
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}
}

func TestNeverPrintsKeyMaterial(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	kr, err := keyring.New(key, newKey(t))
	require.NoError(t, err)
	secrets := []string{
		base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		fmt.Sprintf("%x", key),
		fmt.Sprint(key),
	}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", kr)
		fmt.Fprintf(&out, verb+"\n", *kr)
	}
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	logger.Info("loaded", "keyring", kr, "value", *kr, "key", keyring.EncodeKey(key))
	slog.New(slog.NewTextHandler(&out, nil)).Info("loaded", "keyring", kr)
	require.Contains(t, out.String(), kr.CurrentID())
	for _, s := range secrets {
		require.NotContains(t, out.String(), s)
	}
}
