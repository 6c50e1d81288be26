package payment

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"The shared payment granted token 'spt_okNIYsYrblvypEeB' expired", "The shared payment granted token 'spt_[redacted]' expired"},
		{"Invalid API Key provided: sk_test_4eC39HqLyjWDarjtT1zdp7dc", "Invalid API Key provided: sk_test_[redacted]"},
		{"key rk_live_abcdef123456 and pk_test_ABCDEF", "key rk_live_[redacted] and pk_test_[redacted]"},
		{"pi_3MtwBwLkdIwHu7ix28a3tqPa requires_capture", "pi_3MtwBwLkdIwHu7ix28a3tqPa requires_capture"},
		{"desk_abcdefgh is not a key", "desk_abcdefgh is not a key"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
