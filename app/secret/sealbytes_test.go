package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func mustSealBytes(t *testing.T, k *Keyring, plaintext, aad []byte) []byte {
	t.Helper()
	sealed, err := k.SealBytes(plaintext, aad)
	if err != nil {
		t.Fatalf("SealBytes() error = %v", err)
	}
	return sealed
}

// flipAt returns a copy of b with the given bits of b[i] flipped; i < 0
// counts from the end.
func flipAt(b []byte, i int, mask byte) []byte {
	c := bytes.Clone(b)
	if i < 0 {
		i += len(c)
	}
	c[i] ^= mask
	return c
}

func TestSealBytesRoundTrip(t *testing.T) {
	t.Parallel()
	k := mustKeyring(t, "primary:"+keyNew+", old:"+keyOld)
	for _, tt := range []struct {
		name           string
		plaintext, aad []byte
	}{
		{"empty", []byte{}, []byte("idempotency_result:1")},
		{"nil plaintext and aad", nil, nil},
		{"binary with colons", []byte{':', 0, 0xff, ':'}, []byte{0, ':'}},
		{"answer", bytes.Repeat([]byte(`{"k":"v"},`), 400), []byte("idempotency_result:42")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sealed := mustSealBytes(t, k, tt.plaintext, tt.aad)
			if want := "b1:primary:"; !bytes.HasPrefix(sealed, []byte(want)) {
				t.Fatalf("SealBytes()=%.20q..., want prefix %q", sealed, want)
			}
			// The raw payload: 12 bytes of nonce, the ciphertext, a 16-byte tag.
			if got, want := len(sealed), len("b1:primary:")+12+len(tt.plaintext)+16; got != want {
				t.Fatalf("len(SealBytes()) = %d, want %d", got, want)
			}
			got, err := k.OpenBytes(sealed, tt.aad)
			if err != nil || !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("OpenBytes()=%.40q, %v, want %.40q", got, err, tt.plaintext)
			}
		})
	}
}

func TestOpenBytesTampered(t *testing.T) {
	t.Parallel()
	aad := []byte("idempotency_result:1")
	// "a" and "c" share one key, so relabelling only fails because the key
	// id is authenticated.
	k := mustKeyring(t, "a:"+keyOld+",c:"+keyOld)
	sealed := mustSealBytes(t, k, []byte(`{"id":"cs_1"}`), aad)
	n := len("b1:a:")
	for _, tt := range []struct {
		name    string
		sealed  []byte
		aad     []byte
		wantErr error
	}{
		{"untouched", sealed, aad, nil},
		{"nonce bit", flipAt(sealed, n, 0x01), aad, ErrDecrypt},
		{"ciphertext bit", flipAt(sealed, n+12, 0x01), aad, ErrDecrypt},
		{"tag bit", flipAt(sealed, -1, 0x01), aad, ErrDecrypt},
		{"key id relabelled to same key", flipAt(sealed, 3, 0x02), aad, ErrDecrypt}, // a -> c
		{"key id unknown", flipAt(sealed, 3, 0x04), aad, ErrUnknownKey},             // a -> e
		{"key id invalid char", flipAt(sealed, 3, 0x01), aad, ErrMalformed},         // a -> `
		{"version", flipAt(sealed, 0, 0x01), aad, ErrMalformed},                     // b -> c
		{"other record", sealed, []byte("idempotency_result:2"), ErrDecrypt},
		{"aad missing", sealed, nil, ErrDecrypt},
		{"truncated payload", sealed[:n+27], aad, ErrMalformed},
		{"no payload separator", []byte("b1:a"), aad, ErrMalformed},
		{"empty", nil, aad, ErrMalformed},
		{"text form", []byte(mustSeal(t, k, []byte(`{"id":"cs_1"}`), aad)), aad, ErrMalformed},
		{"plain JSON", []byte(`{"id":"cs_1"}`), aad, ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := k.OpenBytes(tt.sealed, tt.aad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("OpenBytes() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil && got != nil {
				t.Fatalf("OpenBytes()=%q on error, want nil", got)
			}
		})
	}
}

// TestSealFormsDoNotCross: the version is authenticated, so a ciphertext
// moved from one form to the other (same key, same aad) does not open.
func TestSealFormsDoNotCross(t *testing.T) {
	t.Parallel()
	aad := []byte("idempotency_result:1")
	k := mustKeyring(t, "a:"+keyOld)
	bin := mustSealBytes(t, k, []byte("answer"), aad)
	asText := "v1:a:" + base64.RawURLEncoding.EncodeToString(bin[len("b1:a:"):])
	if got, err := k.Open(asText, aad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("binary value as text: Open()=%q, %v, want ErrDecrypt", got, err)
	}
	text := mustSeal(t, k, []byte("answer"), aad)
	raw, err := base64.RawURLEncoding.DecodeString(text[len("v1:a:"):])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.OpenBytes(append([]byte("b1:a:"), raw...), aad); !errors.Is(err, ErrDecrypt) {
		t.Errorf("text value as binary: OpenBytes()=%q, %v, want ErrDecrypt", got, err)
	}
}

func TestSealBytesRotation(t *testing.T) {
	t.Parallel()
	aad := []byte("idempotency_result:1")
	old := mustSealBytes(t, mustKeyring(t, "old:"+keyOld), []byte("answer"), aad)
	if got, err := mustKeyring(t, "new:"+keyNew+",old:"+keyOld).OpenBytes(old, aad); err != nil || string(got) != "answer" {
		t.Errorf("rotated keyring: OpenBytes()=%q, %v", got, err)
	}
	if _, err := mustKeyring(t, "new:"+keyNew).OpenBytes(old, aad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old key dropped: OpenBytes() error = %v, want ErrUnknownKey", err)
	}
	var zero *Keyring
	if _, err := zero.SealBytes([]byte("x"), aad); err == nil {
		t.Error("nil keyring sealed")
	}
	if _, err := zero.OpenBytes(old, aad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("nil keyring: OpenBytes() error = %v, want ErrUnknownKey", err)
	}
}
