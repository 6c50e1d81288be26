package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

// A blind index lets the database find the rows of a value it only holds
// sealed (a buyer's email, for a privacy request) without being able to
// read it: HMAC-SHA256, under a key derived from each keyring key, of the
// purpose and the value. Equal values give equal indexes under one key, so
// the caller normalizes the value first (lower-case email); the purpose
// keeps the indexes of two kinds of value apart.

// indexKeyLabel derives the index key from a keyring key, so that the AES
// key itself is never used for anything but sealing.
const indexKeyLabel = "acpbridge blind index v1"

// indexMAC returns the HMAC constructor of a keyring key's index key.
func indexMAC(key []byte) func() hash.Hash {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(indexKeyLabel))
	derived := m.Sum(nil)
	return func() hash.Hash { return hmac.New(sha256.New, derived) }
}

// BlindIndex returns the index of value for purpose under the primary key
// (what a new row stores), or "" for an empty keyring. It is 32 hex
// characters (128 bits of the HMAC).
func (k *Keyring) BlindIndex(purpose, value string) string {
	if k == nil || len(k.ids) == 0 {
		return ""
	}
	return k.blindIndex(k.ids[0], purpose, value)
}

// BlindIndexes returns the index of value under every key, primary first:
// what a search matches, since a row indexed before a rotation keeps the
// old key's index until it is re-sealed.
func (k *Keyring) BlindIndexes(purpose, value string) []string {
	if k == nil {
		return nil
	}
	out := make([]string, len(k.ids))
	for i, id := range k.ids {
		out[i] = k.blindIndex(id, purpose, value)
	}
	return out
}

func (k *Keyring) blindIndex(id, purpose, value string) string {
	m := k.macs[id]()
	// The purpose cannot contain a NUL, so purpose and value split
	// unambiguously.
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
