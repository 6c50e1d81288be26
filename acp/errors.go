package acp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Codes of the request errors this package produces. The protocol leaves
// Error.code implementation-defined; these are ours, and every one of them
// comes with Type ErrInvalidRequest.
const (
	// CodeInvalidJSON: the body is not one well-formed JSON object, or it is
	// nested too deeply.
	CodeInvalidJSON = "invalid_json"
	// CodeTooLarge: the body is larger than MaxBodyBytes, or has more than
	// MaxValues values.
	CodeTooLarge = "request_too_large"
	// CodeMissing: a required field is absent. Param names the field.
	CodeMissing = "missing"
	// CodeInvalidType: a field has the wrong JSON type (null included).
	CodeInvalidType = "invalid_type"
	// CodeInvalid: a field has the right type but a bad value: out of range,
	// not in the enum, malformed (email, phone, country, currency, date-time),
	// too long, or an empty list where one entry is needed.
	CodeInvalid = "invalid"
	// CodeUnknownField: a field of a complete's payment_data that the
	// version does not define (the one place unknown fields are refused:
	// elsewhere they are ignored and reported, see Ignored). Param names
	// the field itself.
	CodeUnknownField = "unknown_field"
	// CodeDuplicateField: the same key appears twice in one JSON object.
	CodeDuplicateField = "duplicate_field"
	// CodeUnsupported: well-formed, but asks for something this app does
	// not do (a purchase-order payment, a credential other than "spt").
	CodeUnsupported = "unsupported"

	// CodeMissingAPIVersion and CodeUnsupportedAPIVersion are the well-known
	// codes of the RFC for a missing or unsupported API-Version header.
	CodeMissingAPIVersion     = "missing_api_version"
	CodeUnsupportedAPIVersion = "unsupported_api_version"
)

// VersionErrorStatus is the HTTP status of a version negotiation error.
const VersionErrorStatus = http.StatusBadRequest

// Error makes *Error an error, so that decoders can return it as one and
// callers can find it with errors.As.
func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("acp: %s/%s at %s: %s", e.Type, e.Code, e.Param, e.Message)
	}
	return fmt.Sprintf("acp: %s/%s: %s", e.Type, e.Code, e.Message)
}

// invalid builds an invalid_request error.
func invalid(code, param, format string, args ...any) *Error {
	return &Error{Type: ErrInvalidRequest, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// NegotiateVersion reads the value of the API-Version header. It returns the
// version, or an error (an *Error: invalid_request with code
// missing_api_version or unsupported_api_version) that the caller answers
// with VersionErrorStatus and the body of EncodeVersionError.
func NegotiateVersion(header string) (Version, error) {
	if header == "" {
		return "", invalid(CodeMissingAPIVersion, "", "the API-Version header is required; supported versions: %s", supportedList())
	}
	v, ok := ParseVersion(header)
	if !ok {
		return "", invalid(CodeUnsupportedAPIVersion, "", "API-Version %s is not supported; supported versions: %s", quoteBounded(header, 40), supportedList())
	}
	return v, nil
}

func supportedList() string {
	s := ""
	for i, v := range SupportedVersions {
		if i > 0 {
			s += ", "
		}
		s += string(v)
	}
	return s
}

// wireError is the error object of both versions. SupportedVersions exists
// only in the 2026-04-17 JSON Schema (not in its OpenAPI, not in 2025-09-29).
type wireError struct {
	Type              ErrorType `json:"type"`
	Code              string    `json:"code"`
	Message           string    `json:"message"`
	Param             string    `json:"param,omitempty"`
	SupportedVersions []Version `json:"supported_versions,omitempty"`
}

// EncodeError returns the flat error object of version v (no envelope). The
// 2026-04-17 shape adds supported_versions to version negotiation errors;
// 2025-09-29 forbids the field. The type request_not_idempotent, removed in
// 2026-04-17, is sent there as invalid_request.
func EncodeError(v Version, e *Error) ([]byte, error) {
	if e == nil {
		return nil, errors.New("acp: EncodeError: nil error")
	}
	if e.Code == "" || e.Message == "" {
		return nil, errors.New("acp: EncodeError: code and message are required")
	}
	w := wireError{Type: e.Type, Code: e.Code, Message: e.Message, Param: e.Param}
	switch v {
	case V20250929:
		switch e.Type {
		case ErrInvalidRequest, ErrRequestNotIdempotent, ErrProcessingError, ErrServiceUnavailable:
		default:
			return nil, fmt.Errorf("acp: EncodeError: type %q is not a %s error type", e.Type, v)
		}
	case V20260417:
		switch e.Type {
		case ErrInvalidRequest, ErrProcessingError, ErrServiceUnavailable:
		case ErrRequestNotIdempotent:
			w.Type = ErrInvalidRequest
		default:
			return nil, fmt.Errorf("acp: EncodeError: type %q is not a %s error type", e.Type, v)
		}
		if e.Code == CodeMissingAPIVersion || e.Code == CodeUnsupportedAPIVersion {
			w.SupportedVersions = SupportedVersions
		}
	default:
		return nil, fmt.Errorf("acp: EncodeError: unsupported version %q", v)
	}
	return json.Marshal(w)
}

// EncodeVersionError returns the body of a version negotiation error (see
// NegotiateVersion). No version was agreed, so it uses the newest error shape,
// which carries supported_versions (oldest first).
func EncodeVersionError(e *Error) ([]byte, error) {
	if e == nil {
		return nil, errors.New("acp: EncodeVersionError: nil error")
	}
	w := *e
	w.Type = ErrInvalidRequest
	if w.Code != CodeMissingAPIVersion && w.Code != CodeUnsupportedAPIVersion {
		return nil, fmt.Errorf("acp: EncodeVersionError: code %q is not a version error code", w.Code)
	}
	b, err := EncodeError(V20260417, &w)
	return b, err
}
