package acp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

func TestNegotiateVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   acp.Version
		code   string
	}{
		{"2025-09-29", acp.V20250929, ""},
		{"2026-04-17", acp.V20260417, ""},
		{"", "", acp.CodeMissingAPIVersion},
		{"2026-01-30", "", acp.CodeUnsupportedAPIVersion},
		{"latest", "", acp.CodeUnsupportedAPIVersion},
		{strings.Repeat("9", 10000), "", acp.CodeUnsupportedAPIVersion},
	}
	for _, tt := range tests {
		v, err := acp.NegotiateVersion(tt.header)
		if tt.code == "" {
			if err != nil || v != tt.want {
				t.Errorf("NegotiateVersion(%q) = %q, %v", tt.header, v, err)
			}
			continue
		}
		var e *acp.Error
		if !errors.As(err, &e) || e.Code != tt.code || e.Type != acp.ErrInvalidRequest {
			t.Errorf("NegotiateVersion(%.20q) error = %v, want code %s", tt.header, err, tt.code)
			continue
		}
		if len(e.Message) > 200 || !strings.Contains(e.Message, "2025-09-29, 2026-04-17") {
			t.Errorf("message %q: want the supported versions, bounded", e.Message)
		}
		b, err := acp.EncodeVersionError(e)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaValidate(t, checkoutSchema(t, acp.V20260417, "Error"), b); err != nil {
			t.Errorf("version error does not validate: %v\n%s", err, b)
		}
		sv, _ := decodeMap(t, b)["supported_versions"].([]any)
		if len(sv) != 2 || sv[0] != "2025-09-29" || sv[1] != "2026-04-17" {
			t.Errorf("supported_versions = %v, want oldest first", sv)
		}
	}
	if acp.VersionErrorStatus != 400 {
		t.Errorf("VersionErrorStatus = %d", acp.VersionErrorStatus)
	}
}

func TestEncodeError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v         acp.Version
		e         acp.Error
		wantType  string
		supported bool
	}{
		{acp.V20250929, acp.Error{Type: acp.ErrInvalidRequest, Code: acp.CodeMissing, Message: "$.items is required", Param: "$.items"}, "invalid_request", false},
		{acp.V20250929, acp.Error{Type: acp.ErrRequestNotIdempotent, Code: "idempotency_conflict", Message: "m"}, "request_not_idempotent", false},
		{acp.V20250929, acp.Error{Type: acp.ErrInvalidRequest, Code: acp.CodeUnsupportedAPIVersion, Message: "m"}, "invalid_request", false},
		{acp.V20260417, acp.Error{Type: acp.ErrRequestNotIdempotent, Code: "idempotency_conflict", Message: "m"}, "invalid_request", false},
		{acp.V20260417, acp.Error{Type: acp.ErrInvalidRequest, Code: "requires_3ds", Message: "m", Param: "$.authentication_result"}, "invalid_request", false},
		{acp.V20260417, acp.Error{Type: acp.ErrServiceUnavailable, Code: "maintenance", Message: "m"}, "service_unavailable", false},
		{acp.V20260417, acp.Error{Type: acp.ErrInvalidRequest, Code: acp.CodeMissingAPIVersion, Message: "m"}, "invalid_request", true},
	}
	for _, tt := range tests {
		b, err := acp.EncodeError(tt.v, &tt.e)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaValidate(t, checkoutSchema(t, tt.v, "Error"), b); err != nil {
			t.Errorf("%s %s: %v\n%s", tt.v, tt.e.Code, err, b)
		}
		m := decodeMap(t, b)
		if m["type"] != tt.wantType {
			t.Errorf("%s %s: type %v, want %s", tt.v, tt.e.Code, m["type"], tt.wantType)
		}
		if _, ok := m["supported_versions"]; ok != tt.supported {
			t.Errorf("%s %s: supported_versions present = %v", tt.v, tt.e.Code, ok)
		}
		if _, ok := m["error"]; ok {
			t.Error("error is wrapped in an envelope")
		}
	}
	for _, bad := range []struct {
		v acp.Version
		e *acp.Error
	}{
		{acp.V20260417, nil},
		{acp.V20260417, &acp.Error{Type: acp.ErrInvalidRequest, Message: "no code"}},
		{acp.V20260417, &acp.Error{Type: "rate_limit_exceeded", Code: "c", Message: "m"}},
		{"2020-01-01", &acp.Error{Type: acp.ErrInvalidRequest, Code: "c", Message: "m"}},
	} {
		if b, err := acp.EncodeError(bad.v, bad.e); err == nil {
			t.Errorf("EncodeError(%s, %+v) = %s", bad.v, bad.e, b)
		}
	}
	if _, err := acp.EncodeVersionError(&acp.Error{Type: acp.ErrInvalidRequest, Code: "invalid", Message: "m"}); err == nil {
		t.Error("EncodeVersionError accepted a non-version code")
	}
}

func TestErrorIsAnError(t *testing.T) {
	t.Parallel()
	_, err := acp.DecodeCreateSession(acp.V20260417, []byte(`{"line_items":[{"id":"a","quantity":0}],"currency":"usd","capabilities":{}}`))
	var e *acp.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T", err)
	}
	if got := err.Error(); got != "acp: invalid_request/invalid at $.line_items[0].quantity: $.line_items[0].quantity must be at least 1" {
		t.Errorf("Error() = %q", got)
	}
	b, err := acp.EncodeError(acp.V20260417, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemaValidate(t, checkoutSchema(t, acp.V20260417, "Error"), b); err != nil {
		t.Error(err)
	}
}
