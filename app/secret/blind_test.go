package secret

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestBlindIndex(t *testing.T) {
	t.Parallel()
	before := mustKeyring(t, "old:"+keyOld)
	during := mustKeyring(t, "new:"+keyNew+",old:"+keyOld)
	other := mustKeyring(t, "old:"+keyNew) // same id, another key
	idx := before.BlindIndex("email", "ada@example.com")
	tests := []struct {
		name  string
		got   string
		equal bool
	}{
		{"same key, purpose and value", before.BlindIndex("email", "ada@example.com"), true},
		{"a key's index does not change with the keyring", during.BlindIndexes("email", "ada@example.com")[1], true},
		{"another value", before.BlindIndex("email", "bob@example.com"), false},
		{"another purpose", before.BlindIndex("phone", "ada@example.com"), false},
		{"purpose and value do not run together", before.BlindIndex("emai", "lada@example.com"), false},
		{"another key under the same id", other.BlindIndex("email", "ada@example.com"), false},
		{"the new primary key", during.BlindIndex("email", "ada@example.com"), false},
	}
	for _, tt := range tests {
		if (tt.got == idx) != tt.equal {
			t.Errorf("%s: index %q vs %q, want equal=%v", tt.name, tt.got, idx, tt.equal)
		}
	}
	if len(idx) != 32 || strings.Contains(idx, "ada") {
		t.Errorf("index %q: want 32 hex characters that say nothing of the value", idx)
	}
	all := during.BlindIndexes("email", "ada@example.com")
	if len(all) != 2 || all[0] != during.BlindIndex("email", "ada@example.com") || !slices.Contains(all, idx) {
		t.Errorf("BlindIndexes = %v: want the primary's first, then the old key's %q", all, idx)
	}
	var zero *Keyring
	if zero.BlindIndex("email", "x") != "" || len(zero.BlindIndexes("email", "x")) != 0 {
		t.Error("a nil keyring indexes nothing")
	}
	// The keyring's formatting still prints no key material.
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(f, during); strings.Contains(s, keyNew) {
			t.Errorf("%s prints the key", f)
		}
	}
}
