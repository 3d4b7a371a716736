package storetest

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// FakeSealer is a TEST-ONLY mksync.SecretSealer: it XORs with a fixed key
// and base64-encodes, behind a key id prefix. It hides plaintext from a
// byte search of the database and nothing more — never use it outside tests.
type FakeSealer struct {
	// KeyID prefixes sealed values; default "fake".
	KeyID string
}

const fakeKey = "storetest-fake-sealer-not-a-real-key"

// Seal implements mksync.SecretSealer.
func (f FakeSealer) Seal(plaintext []byte) (string, error) {
	return f.keyID() + ":" + base64.StdEncoding.EncodeToString(xor(plaintext)), nil
}

// Open implements mksync.SecretSealer; it accepts any key id.
func (f FakeSealer) Open(sealed string) ([]byte, error) {
	_, body, ok := strings.Cut(sealed, ":")
	if !ok {
		return nil, fmt.Errorf("storetest: sealed value has no key id")
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

func xor(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ fakeKey[i%len(fakeKey)]
	}
	return out
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
