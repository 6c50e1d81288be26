package delivery

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
)

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"marked transient", transient(errors.New("boom")), true},
		{"connection reset", fmt.Errorf("write: %w", syscall.ECONNRESET), true},
		{"connection refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"sftp connection lost", fmt.Errorf("write: %w", sftp.ErrSSHFxConnectionLost), true},
		{"sftp failure status", &sftp.StatusError{Code: uint32(sftp.ErrSSHFxFailure)}, true},
		{"sftp permission status", &sftp.StatusError{Code: uint32(sftp.ErrSSHFxPermissionDenied)}, false},
		{"not exist", fmt.Errorf("create: %w", os.ErrNotExist), false},
		{"deadline", context.DeadlineExceeded, true},
		{"cancelled", context.Canceled, false},
		{"cancelled over a network error", fmt.Errorf("%w: %w", context.Canceled, syscall.ECONNRESET), false},
		{"auth failed over a network error", fmt.Errorf("%w: %w", ErrAuthFailed, io.EOF), false},
		{"host key mismatch", fmt.Errorf("x: %w", ErrHostKeyMismatch), false},
		{"invalid target", invalidf("Addr"), false},
		{"url error wrapping EOF", &url.Error{Op: "Patch", URL: "u", Err: io.EOF}, true},
		{"url error wrapping bad cert", &url.Error{Op: "Patch", URL: "u", Err: x509.UnknownAuthorityError{}}, false},
		{"url error wrapping plain", &url.Error{Op: "Patch", URL: "u", Err: errors.New("stopped after 10 redirects")}, false},
		{"api 503", fmt.Errorf("x: %w", &APIError{Status: 503}), true},
		{"api 400", fmt.Errorf("x: %w", &APIError{Status: 400}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
