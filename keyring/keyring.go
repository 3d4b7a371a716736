// Package keyring seals secrets at rest (Metakocka secret keys, webhook
// secrets) with AES-256-GCM and implements mksync.SecretSealer.
//
// A Keyring holds one or more 32-byte keys. It seals with the current key and
// opens with any key it holds, so keys can be rotated without downtime: add a
// new current key, keep the old ones, then re-seal stored secrets with
// mksync.Store.ReencryptSecrets and finally drop the old keys.
//
// # Sealed form
//
//	v2:<keyid>:<base64url(nonce | ciphertext | tag)>
//
// The key id is the first 8 bytes (16 hex digits) of HMAC-SHA256(key,
// "mksync key id"): stable for a key, so every process that holds the key
// derives the same id, and it reveals nothing about the key. The GCM
// additional data is "v2:<keyid>:" followed by the value's binding (where it
// is stored, mksync.SecretBinding), so neither the version nor the key id
// can be altered, nor the value moved to another tenant's row or another
// column, without Open failing.
//
// Values sealed by earlier versions, "v1:<keyid>:<data>" with "v1:<keyid>"
// as additional data, still open (with any binding); Seal never makes them,
// and ReencryptSecrets (`mksync credentials rotate-key`) re-seals them as v2.
//
// # Where keys come from (see Load)
//
//   - MKSYNC_ENCRYPTION_KEY: base64 (standard or URL alphabet, padded or not)
//     of 32 random bytes; the current key. Generate one with
//     `openssl rand -base64 32` (or keyring.GenerateKey + EncodeKey).
//   - MKSYNC_ENCRYPTION_KEYS_OLD: optional comma-separated list of earlier keys
//     in the same form; they only open.
//   - Otherwise, on the embedded (SQLite) default, a key file beside the
//     database (KeyFileFor), mode 0600, generated on first use. Its lines are
//     base64 keys, oldest first; the last line is the current key; lines
//     starting with '#' are comments.
//
// # Rotating keys
//
// With a key file: RotateFile appends a new key (the old ones stay), then run
// ReencryptSecrets (the CLI's `mksync credentials rotate-key` does both).
//
// With the environment: generate a new key, set MKSYNC_ENCRYPTION_KEY to it
// and move the previous key into MKSYNC_ENCRYPTION_KEYS_OLD (comma list);
// restart every process, then run ReencryptSecrets (`mksync credentials
// rotate-key` without a key file only re-seals). Once it reports success, the
// old keys may be removed from MKSYNC_ENCRYPTION_KEYS_OLD.
//
// Key material is never logged, printed or put in an error: a Keyring's
// String, GoString and slog forms show only key ids.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mksync/mksync"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// sealedVersion is the first field of the sealed form; legacyVersion that
// of values sealed without a binding, which Open still accepts.
const (
	sealedVersion = "v2"
	legacyVersion = "v1"
)

// Keyring seals with its current key and opens with any of its keys. It is
// immutable and safe for concurrent use.
type Keyring struct {
	// r is behind a pointer so that printing a Keyring value, even with
	// %+v, shows an address and never the key schedule or key bytes.
	r *ring
}

type ring struct {
	current string
	order   []string // key ids, oldest first; the last is current
	aeads   map[string]cipher.AEAD
	raw     map[string]mksync.Secret // base64 keys, kept to write key files on rotation
}

var _ mksync.SecretSealer = (*Keyring)(nil)

// New returns a Keyring that seals with current and also opens values sealed
// with any of old. Every key must be KeySize bytes. The slices are copied.
func New(current []byte, old ...[]byte) (*Keyring, error) {
	keys := make([][]byte, 0, len(old)+1)
	keys = append(keys, old...)
	keys = append(keys, current)
	return newKeyring(keys)
}

// newKeyring builds a Keyring from keys, oldest first; the last is current.
// A key listed twice is kept once, at its last position.
func newKeyring(keys [][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, mksync.Errorf(mksync.EINVALID, "keyring: no keys")
	}
	k := &ring{aeads: map[string]cipher.AEAD{}, raw: map[string]mksync.Secret{}}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, mksync.Errorf(mksync.EINVALID, "keyring: key %d is %d bytes; want %d", i+1, len(key), KeySize)
		}
		id := KeyID(key)
		if _, dup := k.aeads[id]; dup {
			k.order = removeID(k.order, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, mksync.WrapError(mksync.EINTERNAL, "keyring: create cipher", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, mksync.WrapError(mksync.EINTERNAL, "keyring: create GCM", err)
		}
		k.aeads[id] = aead
		k.raw[id] = EncodeKey(key)
		k.order = append(k.order, id)
	}
	k.current = k.order[len(k.order)-1]
	return &Keyring{r: k}, nil
}

func removeID(ids []string, id string) []string {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// KeyID returns the public id of key: 16 hex digits of HMAC-SHA256(key,
// "mksync key id"). It is safe to log.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mksync key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// GenerateKey returns KeySize random bytes from crypto/rand.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, mksync.WrapError(mksync.EINTERNAL, "keyring: generate key", err)
	}
	return key, nil
}

// EncodeKey returns key in the form MKSYNC_ENCRYPTION_KEY and key files use
// (standard base64, padded), wrapped as a Secret so that it is redacted if it
// reaches a log by mistake. Reveal it only to show it to the operator once.
func EncodeKey(key []byte) mksync.Secret {
	return mksync.Secret(base64.StdEncoding.EncodeToString(key))
}

// ParseKey decodes a base64 key (standard or URL alphabet, padding optional)
// and checks its length. Errors never contain the input.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, mksync.Errorf(mksync.EINVALID, "not valid base64 (want base64 of %d random bytes)", KeySize)
	}
	if len(key) != KeySize {
		return nil, mksync.Errorf(mksync.EINVALID, "decodes to %d bytes; want %d (e.g. `openssl rand -base64 32`)", len(key), KeySize)
	}
	return key, nil
}

// CurrentID returns the id of the key that Seal uses.
func (k *Keyring) CurrentID() string { return k.r.current }

// IDs returns the ids of every key, oldest first; the last is current.
func (k *Keyring) IDs() []string { return append([]string(nil), k.r.order...) }

// Seal encrypts plaintext with the current key and a random nonce, bound
// to binding (see the package's sealed form).
func (k *Keyring) Seal(plaintext []byte, binding string) (string, error) {
	aead := k.r.aeads[k.r.current]
	prefix := sealedVersion + ":" + k.r.current
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", mksync.WrapError(mksync.EINTERNAL, "keyring: generate nonce", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, []byte(prefix+":"+binding))
	return prefix + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal with binding, with any key of the
// ring; a legacy v1 value opens whatever the binding. A malformed value, an
// unknown key id or a failed authentication (tampering, wrong key, another
// binding: a value moved to another row or column) is an EINTERNAL error
// that names the key id but never the plaintext.
func (k *Keyring) Open(sealed, binding string) ([]byte, error) {
	version, rest, ok1 := strings.Cut(sealed, ":")
	id, body, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || (version != sealedVersion && version != legacyVersion) {
		return nil, mksync.Errorf(mksync.EINTERNAL, "keyring: sealed value is malformed (want %s:<keyid>:<data>)", sealedVersion)
	}
	aead, ok := k.r.aeads[id]
	if !ok {
		return nil, mksync.Errorf(mksync.EINTERNAL,
			"keyring: value sealed with unknown key id %q (known: %s); is an old key missing from MKSYNC_ENCRYPTION_KEYS_OLD or the key file?",
			id, strings.Join(k.r.order, ", "))
	}
	data, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, mksync.Errorf(mksync.EINTERNAL, "keyring: sealed value with key id %q is malformed", id)
	}
	nonce, ct := data[:aead.NonceSize()], data[aead.NonceSize():]
	ad := version + ":" + id
	if version == sealedVersion {
		ad += ":" + binding
	}
	plain, err := aead.Open(nil, nonce, ct, []byte(ad))
	if err != nil {
		return nil, mksync.Errorf(mksync.EINTERNAL, "keyring: sealed value with key id %q failed authentication (tampered, wrong key, or moved from another row or column)", id)
	}
	return plain, nil
}

// KeyIDOf returns the key id a sealed value names, without opening it;
// ReencryptSecrets can use it to skip values already sealed with the current
// key.
func KeyIDOf(sealed string) (string, bool) {
	version, rest, ok := strings.Cut(sealed, ":")
	if !ok || (version != sealedVersion && version != legacyVersion) {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ":")
	return id, ok
}

// Rotate returns a new Keyring whose current key is newKey and which still
// holds every key of k (for opening). k is unchanged.
func (k *Keyring) Rotate(newKey []byte) (*Keyring, error) {
	keys := k.keys()
	keys = append(keys, newKey)
	return newKeyring(keys)
}

// keys returns the raw keys, oldest first.
func (k *Keyring) keys() [][]byte {
	keys := make([][]byte, 0, len(k.r.order)+1)
	for _, id := range k.r.order {
		// Stored by EncodeKey, so decoding cannot fail.
		key, _ := base64.StdEncoding.DecodeString(k.r.raw[id].Reveal())
		keys = append(keys, key)
	}
	return keys
}

// String describes the ring by key ids only.
func (k Keyring) String() string {
	if k.r == nil {
		return "keyring(empty)"
	}
	return fmt.Sprintf("keyring(current=%s, keys=%d)", k.r.current, len(k.r.order))
}

// GoString is String, so %#v never prints key material.
func (k Keyring) GoString() string { return k.String() }

// LogValue logs key ids only.
func (k Keyring) LogValue() slog.Value {
	if k.r == nil {
		return slog.StringValue(k.String())
	}
	return slog.GroupValue(slog.String("current_key_id", k.r.current), slog.Int("keys", len(k.r.order)))
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %x…)
// prints String, never the ring's fields.
func (k Keyring) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }
