package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"

	"github.com/pkg/sftp"

	"github.com/acpbridge/acpbridge/app/netguard"
)

// Sentinel errors, matched with errors.Is. None of them is retryable: each
// needs a person to change the configuration.
var (
	// ErrInvalidTarget reports a target or file name that cannot work as
	// configured; the wrapping message names the field.
	ErrInvalidTarget = errors.New("invalid delivery target")
	// ErrHostKeyMismatch reports that the SFTP server did not present the
	// pinned host key. Nothing was sent to it: the check happens before
	// authentication.
	ErrHostKeyMismatch = errors.New("sftp host key does not match the pinned key")
	// ErrAuthFailed reports rejected credentials (SFTP login, or HTTP 401/403
	// from the Feed API).
	ErrAuthFailed = errors.New("authentication failed")
	// ErrFeedNotFound reports a Feed API 404 for the configured feed id: the
	// caller should forget the id and create a new feed.
	ErrFeedNotFound = errors.New("feed not found")
)

// retryableError marks a failure known to be transient at the place it
// happened (a dropped connection, a server hiccup), where the generic checks
// in IsRetryable could not tell.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// transient marks err as retryable; nil stays nil.
func transient(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err: err}
}

// IsRetryable reports whether trying the same delivery again later may
// succeed: network failures and timeouts (an expired context deadline
// included), dropped connections, HTTP 429 and 5xx. Bad configuration,
// rejected credentials, a host key mismatch, a rejected payload, a
// certificate problem, an address the outbound policy refuses and a
// cancelled context are not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	// Permanent causes win over transient ones found deeper in the chain.
	for _, permanent := range []error{ErrInvalidTarget, ErrHostKeyMismatch, ErrAuthFailed, ErrFeedNotFound, netguard.ErrRefused, context.Canceled} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var marked *retryableError
	if errors.As(err, &marked) {
		return true
	}
	var status *sftp.StatusError
	if errors.As(err, &status) {
		// SSH_FX_FAILURE is what OpenSSH answers for a full disk or quota,
		// which can clear up; the other codes (permission, no such file,
		// unsupported) will fail the same way next time.
		switch status.FxCode() {
		case sftp.ErrSSHFxFailure, sftp.ErrSSHFxConnectionLost, sftp.ErrSSHFxNoConnection:
			return true
		}
		return false
	}
	if isCertError(err) {
		return false // a certificate problem needs a person, not a retry
	}
	for _, netErr := range []error{
		sftp.ErrSSHFxConnectionLost, sftp.ErrSSHFxNoConnection,
		io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
		context.DeadlineExceeded,
	} {
		if errors.Is(err, netErr) {
			return true
		}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// *url.Error is itself a net.Error whatever it wraps (a bad URL,
		// too many redirects); judge the cause instead.
		err = ue.Err
	}
	var ne net.Error
	return errors.As(err, &ne)
}

func isCertError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
