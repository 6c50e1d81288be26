// Package secret protects secrets at rest: OAuth tokens, payment keys and
// buyers' personal data are sealed with AES-256-GCM under a rotatable
// keyring before they reach the database, a sealed value is found by a
// blind index (HMAC-SHA256 under a key derived from the keyring; blind.go),
// and agent API keys are stored only as hashes.
//
// Every sealed value names the key that sealed it, so rotation is a config
// change: put the new key first in ENCRYPTION_KEY, keep the old one after it
// until every row has been re-sealed, then drop it.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Sentinel errors, for use with errors.Is. Returned errors wrap them with
// context but never include key material or plaintext.
var (
	// ErrMalformed means the input is not a value produced by Seal.
	ErrMalformed = errors.New("secret: malformed sealed value")
	// ErrUnknownKey means the sealed value names a key id that is not in the
	// keyring (typically an old key removed too early).
	ErrUnknownKey = errors.New("secret: unknown key id")
	// ErrDecrypt means authentication failed: wrong key, tampered value, or
	// a value being opened in a different context (aad) than it was sealed in.
	ErrDecrypt = errors.New("secret: decryption failed")
)

const (
	version = "v1"
	// binaryVersion is the version of SealBytes' form.
	binaryVersion = "b1"
	keySize       = 32 // AES-256
	maxID         = 32
)

// Keyring holds AES-256 keys by id; the first is primary and seals new values; all open.
// Build one with ParseKeyring; the zero value holds no keys. It only keeps
// the keys' cipher.AEAD instances, so formatting a Keyring with fmt does not
// print raw key bytes.
type Keyring struct {
	ids   []string // ids[0] is primary
	aeads map[string]cipher.AEAD
	// macs make a blind index's HMAC under each key (blind.go); a func,
	// so that formatting the keyring prints no key material either.
	macs map[string]func() hash.Hash
}

// ParseKeyring parses the ENCRYPTION_KEY format: a comma-separated list of entries, each either
// "ID:BASE64" or a bare "BASE64" (then the id is "k" + first 8 hex chars of sha256(key)).
// BASE64 must decode (std or URL alphabet, padded or not) to exactly 32 bytes. IDs: 1-32 chars of [A-Za-z0-9_-].
// The first entry is primary. Duplicate ids are an error. Surrounding whitespace is ignored.
// Errors are precise and never contain key material, e.g. `entry 2: key must be 32 bytes encoded in base64, got 16 bytes`.
func ParseKeyring(s string) (*Keyring, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secret: keyring is empty: need at least one key")
	}
	k := &Keyring{aeads: make(map[string]cipher.AEAD), macs: make(map[string]func() hash.Hash)}
	firstSeen := make(map[string]int)
	for i, entry := range strings.Split(s, ",") {
		n := i + 1 // 1-based, as an operator counts entries
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("secret: entry %d: empty entry", n)
		}
		// The base64 alphabets contain no ':', so the first ':' can only
		// separate an explicit id from the key.
		id, enc, hasID := strings.Cut(entry, ":")
		if !hasID {
			enc = id
		}
		key, err := decodeKey(strings.TrimSpace(enc))
		if err != nil {
			return nil, fmt.Errorf("secret: entry %d: %w", n, err)
		}
		if hasID {
			id = strings.TrimSpace(id)
			// The id is not echoed back: a misplaced ':' could make it
			// hold key material.
			if !validID(id) {
				return nil, fmt.Errorf("secret: entry %d: key id must be 1-%d characters of [A-Za-z0-9_-]", n, maxID)
			}
		} else {
			id = derivedID(key)
		}
		if prev, dup := firstSeen[id]; dup {
			return nil, fmt.Errorf("secret: entry %d: duplicate key id %q (also entry %d)", n, id, prev)
		}
		firstSeen[id] = n
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("secret: entry %d: %w", n, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: entry %d: %w", n, err)
		}
		k.ids = append(k.ids, id)
		k.aeads[id] = aead
		k.macs[id] = indexMAC(key)
	}
	return k, nil
}

// decodeKey accepts every common base64 flavour because keys are pasted
// into env vars from many tools; the length check is what matters. Decoder
// errors are dropped since they quote input offsets, not useful here.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != keySize {
			return nil, fmt.Errorf("key must be %d bytes encoded in base64, got %d bytes", keySize, len(b))
		}
		return b, nil
	}
	return nil, fmt.Errorf("key must be %d bytes encoded in base64, got invalid base64", keySize)
}

// derivedID names a bare key by a short hash of it: stable across restarts
// and hosts, and 32 bits of a hash reveal nothing useful about a 256-bit key.
func derivedID(key []byte) string {
	sum := sha256.Sum256(key)
	return "k" + hex.EncodeToString(sum[:4])
}

// validID restricts ids to a charset without ':' so the sealed format
// splits unambiguously, and keeps them short enough never to be a key.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxID {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// GenerateKey returns a new random entry in ParseKeyring's format ("ID:BASE64", std base64 padded).
// The id is the one a bare entry of the same key would get, so the entry
// may be shortened to just its key without changing what it seals under.
func GenerateKey() (string, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("secret: generate key: %w", err)
	}
	return derivedID(key) + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// PrimaryID returns the id of the key that Seal uses, or "" for an empty keyring.
func (k *Keyring) PrimaryID() string {
	if k == nil || len(k.ids) == 0 {
		return ""
	}
	return k.ids[0]
}

// IDs returns all key ids, primary first. The slice is a copy.
func (k *Keyring) IDs() []string {
	if k == nil {
		return nil
	}
	return append([]string(nil), k.ids...)
}

// Seal encrypts plaintext with the primary key. aad binds the ciphertext to its context (e.g. "shop:x.myshopify.com:access_token")
// so a ciphertext copied to another row or shop does not open. Output is a printable string:
// "v1:<keyid>:<base64url-no-padding(nonce||ciphertext)>". The key id and version are ALSO authenticated (include them in the GCM additional data together with aad).
//
// Nonces are random: 96-bit random nonces are safe for far more values than
// one key will ever seal here, and need no coordination between processes.
func (k *Keyring) Seal(plaintext, aad []byte) (string, error) {
	id, raw, err := k.seal(version, plaintext, aad)
	if err != nil {
		return "", err
	}
	return version + ":" + id + ":" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// SealBytes is Seal for a binary column: "b1:<keyid>:" followed by
// nonce||ciphertext as raw bytes, a quarter shorter than Seal's base64
// (a stored idempotency answer must stay under PostgreSQL's TOAST
// threshold). The same AES-256-GCM, the version and key id authenticated
// with aad as Seal's are; as the version differs, a value of one form
// does not open as the other.
func (k *Keyring) SealBytes(plaintext, aad []byte) ([]byte, error) {
	id, raw, err := k.seal(binaryVersion, plaintext, aad)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(binaryVersion)+len(id)+2+len(raw))
	out = append(out, binaryVersion+":"+id+":"...)
	return append(out, raw...), nil
}

// seal encrypts plaintext with the primary key, the AEAD's additional
// data naming ver and the key: it returns the key's id and nonce||ciphertext.
func (k *Keyring) seal(ver string, plaintext, aad []byte) (string, []byte, error) {
	id := k.PrimaryID()
	if id == "" {
		return "", nil, errors.New("secret: seal: keyring has no keys")
	}
	aead := k.aeads[id]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", nil, fmt.Errorf("secret: seal: %w", err)
	}
	return id, aead.Seal(buf, buf, plaintext, additionalData(ver, id, aad)), nil
}

// Open reverses Seal with whichever key the id names.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	id, payload, err := split(sealed)
	if err != nil {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	}
	return k.open(version, id, raw, aad)
}

// OpenBytes reverses SealBytes with whichever key the id names.
func (k *Keyring) OpenBytes(sealed, aad []byte) ([]byte, error) {
	ver, rest, ok := bytes.Cut(sealed, []byte(":"))
	if !ok || string(ver) != binaryVersion {
		return nil, fmt.Errorf("%w: not a binary sealed value", ErrMalformed)
	}
	// A key id holds no ':', so the first one after it ends it; the
	// payload may hold any byte.
	id, raw, ok := bytes.Cut(rest, []byte(":"))
	if !ok || !validID(string(id)) {
		return nil, fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	return k.open(binaryVersion, string(id), raw, aad)
}

// open decrypts nonce||ciphertext sealed in the form ver under key id.
func (k *Keyring) open(ver, id string, raw, aad []byte) ([]byte, error) {
	var aead cipher.AEAD
	if k != nil {
		aead = k.aeads[id]
	}
	if aead == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	if len(raw) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: payload too short", ErrMalformed)
	}
	nonce, ct := raw[:aead.NonceSize()], raw[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, additionalData(ver, id, aad))
	if err != nil {
		// GCM deliberately does not say why; neither do we.
		return nil, fmt.Errorf("%w with key %q", ErrDecrypt, id)
	}
	return pt, nil
}

// KeyID returns the key id a sealed value names (without decrypting); error if malformed.
// Useful to find rows still sealed under a key about to be retired.
func KeyID(sealed string) (string, error) {
	id, _, err := split(sealed)
	return id, err
}

// split checks the "v1:<id>:<payload>" envelope and returns its parts.
func split(sealed string) (id, payload string, err error) {
	ver, rest, ok := strings.Cut(sealed, ":")
	if !ok {
		return "", "", fmt.Errorf("%w: missing version", ErrMalformed)
	}
	if ver != version {
		return "", "", fmt.Errorf("%w: unsupported version", ErrMalformed)
	}
	id, payload, ok = strings.Cut(rest, ":")
	if !ok || !validID(id) {
		return "", "", fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	return id, payload, nil
}

// additionalData authenticates the version and key id along with the
// caller's aad, so relabelling a ciphertext with another id (even one whose
// key happens to be the same), or moving it to the other form (Seal's or
// SealBytes'), fails. Ids never contain ':', so the prefix
// "<version>:<id>:" ends unambiguously and aad cannot be shifted into it.
func additionalData(ver, id string, aad []byte) []byte {
	ad := make([]byte, 0, len(ver)+len(id)+2+len(aad))
	ad = append(ad, ver+":"+id+":"...)
	return append(ad, aad...)
}
