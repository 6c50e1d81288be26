package secret

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix string
	}{
		{"live", "acpb_live"},
		{"test", "acpb_test"},
		{"short", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seen := make(map[string]bool)
			for range 100 {
				key, err := NewAPIKey(tt.prefix)
				if err != nil {
					t.Fatalf("NewAPIKey() error = %v", err)
				}
				if want := len(tt.prefix) + 1 + 43; len(key) != want {
					t.Fatalf("len(NewAPIKey())=%d, want %d", len(key), want)
				}
				body, ok := strings.CutPrefix(key, tt.prefix+"_")
				if !ok {
					t.Fatalf("NewAPIKey() missing prefix %q", tt.prefix+"_")
				}
				if raw, err := base64.RawURLEncoding.Strict().DecodeString(body); err != nil || len(raw) != 32 {
					t.Fatalf("NewAPIKey() body decodes to %d bytes, %v, want 32, nil", len(raw), err)
				}
				if seen[key] {
					t.Fatalf("NewAPIKey() repeated a key")
				}
				seen[key] = true
			}
		})
	}
}

func TestNewAPIKeyBadPrefix(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "acpb-live", "a b", "a:b", "clé"} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			if got, err := NewAPIKey(prefix); err == nil {
				t.Fatalf("NewAPIKey(%q)=%q, want error", prefix, got)
			}
		})
	}
}

func TestHashAPIKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := HashAPIKey(tt.in); got != tt.want {
				t.Fatalf("HashAPIKey(%q)=%q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"both empty", "", "", true},
		{"same", "whsec_abc", "whsec_abc", true},
		{"differ last byte", "whsec_abc", "whsec_abd", false},
		{"differ first byte", "xhsec_abc", "whsec_abc", false},
		{"prefix", "whsec_ab", "whsec_abc", false},
		{"empty vs non-empty", "", "a", false},
		{"case", "ABC", "abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Fatalf("Equal(%q, %q)=%v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"abc", "sha256:ba7816bf"},
		{"", "sha256:e3b0c442"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := Fingerprint(tt.in); got != tt.want {
				t.Fatalf("Fingerprint(%q)=%q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
