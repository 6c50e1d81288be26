package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SFTPTarget is where and how to log in for an SFTP push. It holds secrets:
// String, GoString and LogValue redact them, so a target can be printed or
// logged as a whole.
type SFTPTarget struct {
	// Addr is the server as host:port.
	Addr string
	// User is the login name.
	User string
	// Password is one of the two credentials; set exactly one of Password
	// and PrivateKeyPEM.
	Password string
	// PrivateKeyPEM is an unencrypted private key (OpenSSH or PEM format).
	PrivateKeyPEM []byte
	// HostKey is the server's public key in authorized_keys format
	// ("ssh-ed25519 AAAA…"); a known_hosts or ssh-keyscan line
	// ("host ssh-ed25519 AAAA…") is accepted too. It is required and
	// pinned: a server presenting any other key is refused before the
	// credentials are sent. There is deliberately no trust-on-first-use.
	HostKey string
	// Dir is the remote folder; empty means the login folder. It must exist.
	Dir string
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// Dial connects to Addr; nil dials through the strictest outbound
	// policy (netguard: public addresses only). The app passes its
	// configured policy's DialContext; tests one that allows loopback.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Validate checks the target without connecting. Errors wrap
// ErrInvalidTarget and name the field at fault.
func (t SFTPTarget) Validate() error {
	if err := validateAddr(t.Addr); err != nil {
		return err
	}
	if strings.TrimSpace(t.User) == "" {
		return invalidf("User is required")
	}
	hasPassword, hasKey := t.Password != "", len(t.PrivateKeyPEM) > 0
	switch {
	case !hasPassword && !hasKey:
		return invalidf("one credential is required: set Password or PrivateKeyPEM")
	case hasPassword && hasKey:
		return invalidf("set only one credential: Password or PrivateKeyPEM, not both")
	case hasKey:
		if _, err := t.signer(); err != nil {
			return err
		}
	}
	if _, err := t.hostKey(); err != nil {
		return err
	}
	if strings.ContainsRune(t.Dir, 0) {
		return invalidf("Dir contains a NUL byte")
	}
	return nil
}

func validateAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return invalidf("Addr %q must be host:port (e.g. sftp.example.com:22): %v", addr, err)
	}
	if host == "" {
		return invalidf("Addr %q has no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return invalidf("Addr %q: port must be a number from 1 to 65535", addr)
	}
	return nil
}

// signer parses PrivateKeyPEM. The parser's messages never quote key
// material, so they are safe to return.
func (t SFTPTarget) signer() (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(t.PrivateKeyPEM)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		return nil, invalidf("PrivateKeyPEM is passphrase-protected; provide an unencrypted key")
	case err != nil:
		return nil, invalidf("PrivateKeyPEM does not parse: %v", err)
	}
	return s, nil
}

// hostKey parses HostKey, accepting exactly one plain public key.
func (t SFTPTarget) hostKey() (ssh.PublicKey, error) {
	line := bytes.TrimSpace([]byte(t.HostKey))
	if len(line) == 0 {
		return nil, invalidf("HostKey is required: the server's public key, e.g. from `ssh-keyscan -t ed25519 host`")
	}
	if bytes.ContainsAny(line, "\r\n") {
		return nil, invalidf("HostKey must hold exactly one key (one line)")
	}
	key, _, _, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		// ssh-keyscan and known_hosts put the host name(s) first.
		marker, _, khKey, _, khRest, kerr := ssh.ParseKnownHosts(line)
		if kerr != nil {
			return nil, invalidf("HostKey does not parse as an authorized_keys line (\"ssh-ed25519 AAAA…\"): %v", err)
		}
		if marker != "" {
			return nil, invalidf("HostKey must be the server's own key, not a @%s line", marker)
		}
		key, rest = khKey, khRest
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, invalidf("HostKey must hold exactly one key")
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return nil, invalidf("HostKey is a certificate; pin the server's plain public key")
	}
	return key, nil
}

// authKind names the credential in use without revealing it.
func (t SFTPTarget) authKind() string {
	switch {
	case t.Password != "":
		return "password"
	case len(t.PrivateKeyPEM) > 0:
		return "private key"
	}
	return "none"
}

// String describes the target without its secrets.
func (t SFTPTarget) String() string {
	fp := "unparsable"
	if k, err := t.hostKey(); err == nil {
		fp = ssh.FingerprintSHA256(k)
	}
	return fmt.Sprintf("sftp://%s@%s/%s (auth: %s, host key %s)", t.User, t.Addr, strings.TrimPrefix(t.Dir, "/"), t.authKind(), fp)
}

// GoString keeps %#v from printing the password or key.
func (t SFTPTarget) GoString() string { return "delivery.SFTPTarget{" + t.String() + "}" }

// LogValue keeps slog from printing the password or key.
func (t SFTPTarget) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("addr", t.Addr),
		slog.String("user", t.User),
		slog.String("dir", t.Dir),
		slog.String("auth", t.authKind()),
	)
}

func (t SFTPTarget) logger() *slog.Logger {
	if t.Logger != nil {
		return t.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// invalidf returns an error wrapping ErrInvalidTarget.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidTarget, fmt.Sprintf(format, args...))
}
