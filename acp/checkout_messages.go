package acp

import (
	"errors"
	"fmt"
)

// MessageType is the kind of a message.
type MessageType string

// Message types. 2025-09-29 has no warning; warnings go to it as info.
const (
	MessageInfo    MessageType = "info"
	MessageWarning MessageType = "warning"
	MessageError   MessageType = "error"
)

// ContentType is the format of a message's content.
type ContentType string

// Content types. Markdown is CommonMark 0.31.2 without raw HTML.
const (
	ContentPlain    ContentType = "plain"
	ContentMarkdown ContentType = "markdown"
)

// MessageCode is the code of an error or warning message.
type MessageCode string

// Error message codes. 2025-09-29 knows only the first six; the others go to
// it as "invalid".
const (
	MessageCodeMissing                 MessageCode = "missing"
	MessageCodeInvalid                 MessageCode = "invalid"
	MessageCodeOutOfStock              MessageCode = "out_of_stock"
	MessageCodePaymentDeclined         MessageCode = "payment_declined"
	MessageCodeRequiresSignIn          MessageCode = "requires_sign_in"
	MessageCodeRequires3DS             MessageCode = "requires_3ds"
	MessageCodeLowStock                MessageCode = "low_stock"
	MessageCodeQuantityExceeded        MessageCode = "quantity_exceeded"
	MessageCodeCouponInvalid           MessageCode = "coupon_invalid"
	MessageCodeCouponExpired           MessageCode = "coupon_expired"
	MessageCodeMinimumNotMet           MessageCode = "minimum_not_met"
	MessageCodeMaximumExceeded         MessageCode = "maximum_exceeded"
	MessageCodeRegionRestricted        MessageCode = "region_restricted"
	MessageCodeAgeVerificationRequired MessageCode = "age_verification_required"
	MessageCodeApprovalRequired        MessageCode = "approval_required"
	MessageCodeUnsupported             MessageCode = "unsupported"
	MessageCodeNotFound                MessageCode = "not_found"
	MessageCodeConflict                MessageCode = "conflict"
	MessageCodeRateLimited             MessageCode = "rate_limited"
	MessageCodeExpired                 MessageCode = "expired"
	MessageCodeInterventionRequired    MessageCode = "intervention_required"
)

// Warning message codes (2026-04-17).
const (
	WarningLowStock            MessageCode = "low_stock"
	WarningHighDemand          MessageCode = "high_demand"
	WarningShippingDelay       MessageCode = "shipping_delay"
	WarningPriceChange         MessageCode = "price_change"
	WarningExpiringPromotion   MessageCode = "expiring_promotion"
	WarningLimitedAvailability MessageCode = "limited_availability"
)

var errorCodes20250929 = []MessageCode{MessageCodeMissing, MessageCodeInvalid, MessageCodeOutOfStock,
	MessageCodePaymentDeclined, MessageCodeRequiresSignIn, MessageCodeRequires3DS}

var errorCodes = append(append([]MessageCode{}, errorCodes20250929...),
	MessageCodeLowStock, MessageCodeQuantityExceeded, MessageCodeCouponInvalid, MessageCodeCouponExpired,
	MessageCodeMinimumNotMet, MessageCodeMaximumExceeded, MessageCodeRegionRestricted,
	MessageCodeAgeVerificationRequired, MessageCodeApprovalRequired, MessageCodeUnsupported,
	MessageCodeNotFound, MessageCodeConflict, MessageCodeRateLimited, MessageCodeExpired,
	MessageCodeInterventionRequired)

var warningCodes = []MessageCode{WarningLowStock, WarningHighDemand, WarningShippingDelay, WarningPriceChange,
	WarningExpiringPromotion, WarningLimitedAvailability,
	"discount_code_expired", "discount_code_invalid", "discount_code_already_applied",
	"discount_code_combination_disallowed", "discount_code_minimum_not_met",
	"discount_code_user_not_logged_in", "discount_code_user_ineligible", "discount_code_usage_limit_reached"}

// Message is a note to the agent or buyer. Business problems (out of stock,
// payment declined, bad email) are messages on a 2xx session, not Errors.
type Message struct {
	Type MessageType
	// Code is required for errors and warnings, empty for info.
	Code MessageCode
	// Param is the JSONPath of the field concerned, e.g. "$.line_items[0]".
	Param       string
	ContentType ContentType
	Content     string
	// Severity (info|low|medium|high|critical) and Resolution
	// (recoverable|requires_buyer_input|requires_buyer_review) are sent by
	// 2026-04-17 only.
	Severity   string
	Resolution string
}

// InfoMessage returns a plain-text info message.
func InfoMessage(content string) Message {
	return Message{Type: MessageInfo, ContentType: ContentPlain, Content: content}
}

// ErrorMessage returns a plain-text error message about param.
func ErrorMessage(code MessageCode, param, content string) Message {
	return Message{Type: MessageError, Code: code, Param: param, ContentType: ContentPlain, Content: content}
}

// Validate checks the message on its own.
func (m Message) Validate() error {
	switch m.Type {
	case MessageInfo:
		if m.Code != "" {
			return errors.New("an info message has no code")
		}
	case MessageWarning:
		if !containsCode(warningCodes, m.Code) {
			return fmt.Errorf("unknown warning code %q", m.Code)
		}
	case MessageError:
		if !containsCode(errorCodes, m.Code) {
			return fmt.Errorf("unknown error code %q", m.Code)
		}
	default:
		return fmt.Errorf("unknown message type %q", m.Type)
	}
	switch m.ContentType {
	case ContentPlain:
	case ContentMarkdown:
		if hasRawHTML(m.Content) {
			return errors.New("markdown content contains raw HTML")
		}
	default:
		return fmt.Errorf("unknown content type %q", m.ContentType)
	}
	if m.Content == "" {
		return errors.New("content is empty")
	}
	if m.Param != "" && !validJSONPath(m.Param) {
		return fmt.Errorf("param %q is not a JSONPath", m.Param)
	}
	switch m.Severity {
	case "", "info", "low", "medium", "high", "critical":
	default:
		return fmt.Errorf("unknown severity %q", m.Severity)
	}
	switch m.Resolution {
	case "", "recoverable", "requires_buyer_input", "requires_buyer_review":
	default:
		return fmt.Errorf("unknown resolution %q", m.Resolution)
	}
	return nil
}

func containsCode(list []MessageCode, c MessageCode) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}
