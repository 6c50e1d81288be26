package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// NewAPIKey returns a new random API key for agents: prefix + "_" + base64url-no-padding of 32 random bytes (e.g. prefix "acpb_live" -> "acpb_live_Xyz...").
// The prefix makes leaked keys recognisable (secret scanners, support
// tickets); it must be non-empty and made of [A-Za-z0-9_] so the key stays
// safe to paste into headers and shells.
func NewAPIKey(prefix string) (string, error) {
	if prefix == "" {
		return "", fmt.Errorf("secret: api key prefix must not be empty")
	}
	for _, c := range []byte(prefix) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return "", fmt.Errorf("secret: api key prefix must be made of [A-Za-z0-9_]")
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("secret: new api key: %w", err)
	}
	return prefix + "_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashAPIKey returns the hex SHA-256 of the key, which is what gets stored.
//
// A fast unsalted hash is the right tool here, unlike for passwords: keys
// from NewAPIKey carry 256 bits of entropy, so brute force is hopeless at any
// hash speed and a slow KDF would only add latency to every request. Salting
// defends against precomputed tables, which cannot cover a 2^256 space, and
// would prevent what we need: finding a key's row by its hash in one
// indexed lookup.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Equal compares two strings in constant time (crypto/subtle), for HMACs and tokens.
// The time taken depends on the lengths but not on the contents, so an
// attacker cannot learn a secret byte by byte from response timing.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Fingerprint returns a short non-secret identifier of a secret for logs/UI: first 8 hex chars of sha256, e.g. "sha256:1a2b3c4d".
// 32 bits are enough to tell secrets apart by eye yet reveal nothing useful
// about a high-entropy secret. Do not fingerprint low-entropy values such
// as passwords: 32 bits of hash would help guess them.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:4])
}
