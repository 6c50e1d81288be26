// Package acp is the Agentic Commerce Protocol as this app speaks it: the
// protocol versions, wire types and their validation. It imports only the
// standard library, so every other package can depend on it and it on
// nothing of ours.
package acp

import "slices"

// Version is an ACP API version, sent by agents in the API-Version header.
type Version string

// The versions this app speaks.
const (
	// V20250929 is the launch version of ChatGPT Instant Checkout.
	V20250929 Version = "2025-09-29"
	// V20260417 is the newest stable version.
	V20260417 Version = "2026-04-17"
)

// SupportedVersions lists the versions this app answers, oldest first.
var SupportedVersions = []Version{V20250929, V20260417}

// ParseVersion returns the version named by an API-Version header value, or
// false when it is missing or not supported.
func ParseVersion(s string) (Version, bool) {
	v := Version(s)
	return v, slices.Contains(SupportedVersions, v)
}

// ErrorType is the coarse class of an ACP error.
type ErrorType string

// Error types, as the protocol defines them.
const (
	ErrInvalidRequest       ErrorType = "invalid_request"
	ErrRequestNotIdempotent ErrorType = "request_not_idempotent"
	ErrProcessingError      ErrorType = "processing_error"
	ErrServiceUnavailable   ErrorType = "service_unavailable"
)

// Error is the protocol's error object, the body of every non-2xx answer.
type Error struct {
	Type    ErrorType `json:"type"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	// Param is a JSONPath to the offending field, when there is one.
	Param string `json:"param,omitempty"`
}
