package acp_test

import (
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want acp.Version
		ok   bool
	}{
		{"2025-09-29", acp.V20250929, true},
		{"2026-04-17", acp.V20260417, true},
		{"", "", false},
		{"2025-12-12", "", false}, // a real ACP version we do not speak
		{" 2026-04-17", "", false},
	}
	for _, tt := range tests {
		got, ok := acp.ParseVersion(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
