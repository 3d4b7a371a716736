package storetest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// FakeSealer is a TEST-ONLY mksync.SecretSealer: it XORs with a fixed key
// and base64-encodes, behind a key id prefix, and appends the binding's
// hash, which Open checks. It hides plaintext from a byte search of the
// database and nothing more — never use it outside tests.
type FakeSealer struct {
	// KeyID prefixes sealed values; default "fake".
	KeyID string
}

const fakeKey = "storetest-fake-sealer-not-a-real-key"

// Seal implements mksync.SecretSealer.
func (f FakeSealer) Seal(plaintext []byte, binding string) (string, error) {
	return f.keyID() + ":" + base64.StdEncoding.EncodeToString(xor(plaintext)) + ":" + bindingTag(binding), nil
}

// Open implements mksync.SecretSealer; it accepts any key id.
func (f FakeSealer) Open(sealed, binding string) ([]byte, error) {
	_, rest, ok := strings.Cut(sealed, ":")
	if !ok {
		return nil, fmt.Errorf("storetest: sealed value has no key id")
	}
	body, tag, ok := strings.Cut(rest, ":")
	if !ok || tag != bindingTag(binding) {
		return nil, fmt.Errorf("storetest: sealed value is bound elsewhere")
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("storetest: sealed value: %w", err)
	}
	return xor(b), nil
}

func (f FakeSealer) keyID() string {
	if f.KeyID == "" {
		return "fake"
	}
	return f.KeyID
}

// bindingTag is a short hash of binding.
func bindingTag(binding string) string {
	sum := sha256.Sum256([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

func xor(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ fakeKey[i%len(fakeKey)]
	}
	return out
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
