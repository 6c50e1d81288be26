package secret

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testKey returns a deterministic 32-byte key encoded with enc.
func testKey(fill byte, enc *base64.Encoding) string {
	return enc.EncodeToString(bytes.Repeat([]byte{fill}, 32))
}

var (
	keyOld = testKey(0x01, base64.StdEncoding)
	keyNew = testKey(0x02, base64.StdEncoding)
)

func mustKeyring(t *testing.T, s string) *Keyring {
	t.Helper()
	k, err := ParseKeyring(s)
	if err != nil {
		t.Fatalf("ParseKeyring() error = %v", err)
	}
	return k
}

func mustSeal(t *testing.T, k *Keyring, plaintext, aad []byte) string {
	t.Helper()
	sealed, err := k.Seal(plaintext, aad)
	if err != nil {
		t.Fatalf("Seal() error = %v", err)
	}
	return sealed
}

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	big := make([]byte, 1<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	k := mustKeyring(t, "primary:"+keyNew+", old:"+keyOld)
	tests := []struct {
		name      string
		plaintext []byte
		aad       []byte
	}{
		{"empty plaintext", []byte{}, []byte("shop:x.myshopify.com:access_token")},
		{"nil plaintext and aad", nil, nil},
		{"token", []byte("shpat_0123456789abcdef"), []byte("shop:x.myshopify.com:access_token")},
		{"binary", []byte{0, 1, 2, 0xff, ':', 0}, []byte{0, ':'}},
		{"1 MiB", big, []byte("blob")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed := mustSeal(t, k, tt.plaintext, tt.aad)
			if want := "v1:primary:"; !strings.HasPrefix(sealed, want) {
				t.Fatalf("Seal()=%.20q..., want prefix %q", sealed, want)
			}
			got, err := k.Open(sealed, tt.aad)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("Open()=%.40q, want %.40q", got, tt.plaintext)
			}
		})
	}
}

// flipPayloadBit flips one bit of the decoded nonce||ciphertext; i < 0
// counts from the end.
func flipPayloadBit(t *testing.T, sealed string, i int) string {
	t.Helper()
	cut := strings.LastIndexByte(sealed, ':') + 1
	raw, err := base64.RawURLEncoding.DecodeString(sealed[cut:])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	if i < 0 {
		i += len(raw)
	}
	raw[i] ^= 0x01
	return sealed[:cut] + base64.RawURLEncoding.EncodeToString(raw)
}

// flipByte flips the given bits of sealed[i].
func flipByte(sealed string, i int, mask byte) string {
	b := []byte(sealed)
	b[i] ^= mask
	return string(b)
}

func TestOpenTampered(t *testing.T) {
	t.Parallel()
	aad := []byte("shop:a.myshopify.com:access_token")
	// "a" and "c" share one key, so relabelling only fails because the key
	// id is authenticated.
	k := mustKeyring(t, "a:"+keyOld+",c:"+keyOld)
	sealed := mustSeal(t, k, []byte("shpat_secret_token"), aad)
	if want := "v1:a:"; !strings.HasPrefix(sealed, want) {
		t.Fatalf("Seal()=%q, want prefix %q", sealed, want)
	}
	tests := []struct {
		name    string
		sealed  string
		aad     []byte
		wantErr error
	}{
		{"untouched", sealed, aad, nil},
		{"nonce bit", flipPayloadBit(t, sealed, 0), aad, ErrDecrypt},
		{"ciphertext bit", flipPayloadBit(t, sealed, 12), aad, ErrDecrypt},
		{"tag bit", flipPayloadBit(t, sealed, -1), aad, ErrDecrypt},
		{"key id relabelled to same key", flipByte(sealed, 3, 0x02), aad, ErrDecrypt}, // a -> c
		{"key id unknown", flipByte(sealed, 3, 0x04), aad, ErrUnknownKey},             // a -> e
		{"key id invalid char", flipByte(sealed, 3, 0x01), aad, ErrMalformed},         // a -> `
		{"version letter", flipByte(sealed, 0, 0x01), aad, ErrMalformed},              // v -> w
		{"version digit", flipByte(sealed, 1, 0x01), aad, ErrMalformed},               // 1 -> 0
		{"aad other shop", sealed, []byte("shop:b.myshopify.com:access_token"), ErrDecrypt},
		{"aad other field", sealed, []byte("shop:a.myshopify.com:refresh_token"), ErrDecrypt},
		{"aad bit", sealed, []byte(flipByte(string(aad), 0, 0x01)), ErrDecrypt},
		{"aad missing", sealed, nil, ErrDecrypt},
		{"truncated payload", sealed[:len("v1:a:")+10], aad, ErrMalformed},
		{"payload not base64url", sealed + "*", aad, ErrMalformed},
		{"payload padded", sealed + "=", aad, ErrMalformed},
		{"no payload separator", "v1:a", aad, ErrMalformed},
		{"empty", "", aad, ErrMalformed},
		{"plain token", "shpat_0123456789abcdef", aad, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := k.Open(tt.sealed, tt.aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil && got != nil {
				t.Fatalf("Open()=%q on error, want nil", got)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	aad := []byte("shop:x.myshopify.com:access_token")
	plaintext := []byte("shpat_old")
	before := mustKeyring(t, "old:"+keyOld)
	during := mustKeyring(t, "new:"+keyNew+",old:"+keyOld)
	after := mustKeyring(t, "new:"+keyNew)
	oldSealed := mustSeal(t, before, plaintext, aad)
	newSealed := mustSeal(t, during, plaintext, aad)

	tests := []struct {
		name    string
		k       *Keyring
		sealed  string
		wantID  string
		wantErr error
	}{
		{"new keyring opens old ciphertext", during, oldSealed, "old", nil},
		{"new keyring seals with new id", during, newSealed, "new", nil},
		{"new key alone opens new ciphertext", after, newSealed, "new", nil},
		{"new key alone rejects old ciphertext", after, oldSealed, "old", ErrUnknownKey},
		{"old key alone rejects new ciphertext", before, newSealed, "new", ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, err := KeyID(tt.sealed)
			if err != nil || id != tt.wantID {
				t.Fatalf("KeyID()=%q, %v, want %q, nil", id, err, tt.wantID)
			}
			got, err := tt.k.Open(tt.sealed, aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open() error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(got, plaintext) {
				t.Fatalf("Open()=%q, want %q", got, plaintext)
			}
		})
	}
}

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{0x07}, 32)
	sum := sha256.Sum256(raw)
	derived := "k" + hex.EncodeToString(sum[:])[:8]
	tests := []struct {
		name    string
		in      string
		wantIDs []string
	}{
		{"single with id", "main:" + base64.StdEncoding.EncodeToString(raw), []string{"main"}},
		{"bare key gets derived id", base64.StdEncoding.EncodeToString(raw), []string{derived}},
		{"std unpadded", "a:" + base64.RawStdEncoding.EncodeToString(raw), []string{"a"}},
		{"url padded", "a:" + base64.URLEncoding.EncodeToString(raw), []string{"a"}},
		{"url unpadded", "a:" + base64.RawURLEncoding.EncodeToString(raw), []string{"a"}},
		{"whitespace", "  new : " + keyNew + " ,\n\told:" + keyOld + "\n", []string{"new", "old"}},
		{"mixed bare and named", "x-1_Y:" + keyNew + "," + base64.StdEncoding.EncodeToString(raw), []string{"x-1_Y", derived}},
		{"32 char id", strings.Repeat("z", 32) + ":" + keyNew, []string{strings.Repeat("z", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeyring(tt.in)
			if err != nil {
				t.Fatalf("ParseKeyring() error = %v", err)
			}
			if got := k.IDs(); fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) {
				t.Fatalf("IDs()=%q, want %q", got, tt.wantIDs)
			}
			if got, want := k.PrimaryID(), tt.wantIDs[0]; got != want {
				t.Fatalf("PrimaryID()=%q, want %q", got, want)
			}
		})
	}
}

func TestParseKeyringErrors(t *testing.T) {
	t.Parallel()
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xAB}, n)) }
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty", "", "keyring is empty"},
		{"only whitespace", " \t\n", "keyring is empty"},
		{"bad base64", "a:not*base64*at*all", "entry 1: key must be 32 bytes encoded in base64, got invalid base64"},
		{"16 bytes", "a:" + keyOld + ",b:" + b64(16), "entry 2: key must be 32 bytes encoded in base64, got 16 bytes"},
		{"31 bytes", "a:" + b64(31), "entry 1: key must be 32 bytes encoded in base64, got 31 bytes"},
		{"33 bytes", b64(33), "entry 1: key must be 32 bytes encoded in base64, got 33 bytes"},
		{"id with space", "my key:" + keyOld, "entry 1: key id must be 1-32 characters of [A-Za-z0-9_-]"},
		{"id with dot", "a.b:" + keyOld, "entry 1: key id must be"},
		{"id non-ascii", "clé:" + keyOld, "entry 1: key id must be"},
		{"id too long", strings.Repeat("z", 33) + ":" + keyOld, "entry 1: key id must be"},
		{"empty id", ":" + keyOld, "entry 1: key id must be"},
		{"key pasted as id", keyNew + ":" + keyOld, "entry 1: key id must be"},
		{"duplicate id", "a:" + keyOld + ",a:" + keyNew, `entry 2: duplicate key id "a" (also entry 1)`},
		{"duplicate bare key", keyOld + "," + keyOld, "entry 2: duplicate key id"},
		{"empty entry", "a:" + keyOld + ",,b:" + keyNew, "entry 2: empty entry"},
		{"trailing comma", "a:" + keyOld + ",", "entry 2: empty entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeyring(tt.in)
			if err == nil {
				t.Fatalf("ParseKeyring()=%v, want error containing %q", k.IDs(), tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) {
				t.Fatalf("ParseKeyring() error = %q, want it to contain %q", msg, tt.wantErr)
			}
			// No piece of the input that could be key material may leak.
			for _, piece := range strings.FieldsFunc(tt.in, func(r rune) bool { return r == ',' || r == ':' }) {
				if piece = strings.TrimSpace(piece); len(piece) >= 8 && strings.Contains(msg, piece) {
					t.Fatalf("ParseKeyring() error = %q, leaks input %q", msg, piece)
				}
			}
		})
	}
}

func TestSealUsesRandomNonce(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, keyOld)
	seen := make(map[string]bool)
	for range 100 {
		sealed := mustSeal(t, k, []byte("same"), []byte("same"))
		if seen[sealed] {
			t.Fatalf("Seal()=%q twice, want distinct ciphertexts", sealed)
		}
		seen[sealed] = true
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 20 {
		entry, err := GenerateKey()
		if err != nil {
			t.Fatalf("GenerateKey() error = %v", err)
		}
		id, enc, ok := strings.Cut(entry, ":")
		if !ok {
			t.Fatalf("GenerateKey()=ID:BASE64 expected, got no ':'")
		}
		if key, err := base64.StdEncoding.Strict().DecodeString(enc); err != nil || len(key) != 32 {
			t.Fatalf("GenerateKey() key decodes to %d bytes, %v, want 32, nil", len(key), err)
		}
		for _, in := range []string{entry, enc} { // the bare key must get the same id
			k, err := ParseKeyring(in)
			if err != nil {
				t.Fatalf("ParseKeyring(GenerateKey()) error = %v", err)
			}
			if got := k.PrimaryID(); got != id {
				t.Fatalf("PrimaryID()=%q, want %q", got, id)
			}
		}
		if seen[id] {
			t.Fatalf("GenerateKey() repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestKeyID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"valid", "v1:k1a2b3c4d:AAAA", "k1a2b3c4d", nil},
		{"empty payload still names key", "v1:main:", "main", nil},
		{"unknown version", "v2:main:AAAA", "", ErrMalformed},
		{"no separators", "garbage", "", ErrMalformed},
		{"missing payload", "v1:main", "", ErrMalformed},
		{"empty id", "v1::AAAA", "", ErrMalformed},
		{"bad id", "v1:a b:AAAA", "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := KeyID(tt.in)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("KeyID()=%q, %v, want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestZeroKeyring(t *testing.T) {
	t.Parallel()
	var k Keyring
	if got, err := k.Seal([]byte("x"), nil); err == nil {
		t.Fatalf("Seal()=%q, want error", got)
	}
	sealed := mustSeal(t, mustKeyring(t, "a:"+keyOld), []byte("x"), nil)
	if _, err := k.Open(sealed, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open() error = %v, want %v", err, ErrUnknownKey)
	}
	if got := k.PrimaryID(); got != "" {
		t.Fatalf("PrimaryID()=%q, want %q", got, "")
	}
}

func TestKeyringFormatHidesKeys(t *testing.T) {
	t.Parallel()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i)
	}
	k := mustKeyring(t, "a:"+base64.StdEncoding.EncodeToString(raw))
	for _, verb := range []string{"%v", "%+v", "%#v", "%x"} {
		out := fmt.Sprintf(verb, *k)
		for _, leak := range []string{"0 1 2 3", "0x0, 0x1, 0x2", "00010203", "AAECAwQF"} {
			if strings.Contains(out, leak) {
				t.Fatalf("Sprintf(%q)=%q, contains key bytes %q", verb, out, leak)
			}
		}
	}
}
