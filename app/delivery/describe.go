package delivery

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/pkg/sftp"

	"github.com/acpbridge/acpbridge/app/netguard"
)

var (
	// ErrNotFeedAPI reports a 2xx answer that is not the Feed API's shape:
	// the target is not a Feed API (or not only one).
	ErrNotFeedAPI = errors.New("the answer is not a Feed API answer")

	errNotAccepted  = errors.New("the Feed API answered accepted=false")
	errSSHHandshake = errors.New("ssh handshake failed")
)

// stepError names the request that failed ("create feed", "upsert batch
// 3 (500 products)"): our own words, safe to show.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// Describe says what class of thing failed, in words safe to show a
// merchant and to store: timed out, connection refused, address not
// allowed, DNS failure, TLS error, SSH handshake failed, HTTP status…
// Never the remote party's text (which, for a target pointed at an
// internal service, is that service's secrets) and never an address or
// port (which would make the error a port scanner). The full error belongs
// in the server log only. It is the one classifier for feed deliveries
// and agent webhook calls alike.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var step *stepError
	if errors.As(err, &step) {
		return step.step + ": " + describe(err)
	}
	return describe(err)
}

// DescribeStatus words a non-2xx HTTP status; a redirect says it was not
// followed.
func DescribeStatus(status int) string {
	s := "HTTP " + strconv.Itoa(status)
	if text := http.StatusText(status); text != "" {
		s += " " + text
	}
	if status >= 300 && status < 400 {
		s += " (redirects are not followed)"
	}
	return s
}

func describe(err error) string {
	var (
		apiErr *APIError
		dnsErr *net.DNSError
		status *sftp.StatusError
	)
	switch {
	case errors.Is(err, netguard.ErrRefused):
		return "address not allowed: private, loopback, link-local and other non-public addresses are refused"
	case errors.Is(err, ErrInvalidTarget):
		return invalidText(err)
	case errors.Is(err, ErrHostKeyMismatch):
		return "the SSH server's host key does not match the pinned key"
	case errors.As(err, &apiErr):
		s := DescribeStatus(apiErr.Status)
		switch {
		case errors.Is(err, ErrFeedNotFound):
			s += ": feed not found"
		case errors.Is(err, ErrAuthFailed):
			s += ": authentication failed"
		}
		return s
	case errors.Is(err, ErrAuthFailed):
		return "login refused: authentication failed"
	case errors.Is(err, ErrNotFeedAPI):
		return ErrNotFeedAPI.Error()
	case errors.Is(err, errNotAccepted):
		return errNotAccepted.Error()
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "DNS lookup failed: host name not found"
		}
		if dnsErr.IsTimeout {
			return "DNS lookup timed out"
		}
		return "DNS lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case isTimeout(err):
		return "timed out"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case isCertError(err):
		return "TLS error: the server's certificate is not trusted"
	case isTLSError(err):
		return "TLS error: handshake failed"
	case errors.Is(err, errSSHHandshake):
		return "SSH handshake failed"
	case errors.As(err, &status):
		// The code's name is the library's; the server's message is left out.
		return "the SFTP server refused an operation: " + status.FxCode().Error()
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, sftp.ErrSSHFxConnectionLost), errors.Is(err, sftp.ErrSSHFxNoConnection):
		return "the connection was closed by the server"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network error"
	}
	return "delivery failed (details are in the server log)"
}

// invalidText keeps our own validation message (what ErrInvalidTarget
// wraps), dropping whatever was prefixed to it.
func invalidText(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ErrInvalidTarget.Error()); i >= 0 {
		return msg[i:]
	}
	return ErrInvalidTarget.Error()
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	var (
		header tls.RecordHeaderError
		alert  tls.AlertError
		echErr *tls.ECHRejectionError
	)
	if errors.As(err, &header) || errors.As(err, &alert) || errors.As(err, &echErr) {
		return true
	}
	// crypto/tls reports most handshake failures as plain errors whose
	// text starts with "tls: "; that prefix is Go's, not the server's.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.HasPrefix(e.Error(), "tls: ") {
			return true
		}
	}
	return false
}
