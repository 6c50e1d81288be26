package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/acpbridge/acpbridge/app/netguard"
)

const (
	// dialTimeout bounds the TCP connect.
	dialTimeout = 15 * time.Second
	// handshakeTimeout bounds key exchange and login, which x/crypto/ssh
	// does not bound itself: a server that accepts TCP and then says nothing
	// would otherwise hang the push.
	handshakeTimeout = 30 * time.Second
	// keepaliveEvery and keepaliveTimeout detect a peer that vanished
	// mid-upload (a NAT or firewall dropping the flow) long before TCP would.
	keepaliveEvery   = 15 * time.Second
	keepaliveTimeout = 45 * time.Second
)

// sftpConn is a logged-in SFTP session and what it takes to tear it down.
type sftpConn struct {
	ssh   *ssh.Client
	sftp  *sftp.Client
	stop  func() bool // unregisters the close-on-cancel hook
	done  chan struct{}
	close sync.Once
}

// Close ends the session; safe to call twice.
func (c *sftpConn) Close() {
	c.close.Do(func() {
		c.stop()
		close(c.done)
		_ = c.sftp.Close()
		_ = c.ssh.Close()
	})
}

// dialSFTP connects, verifies the pinned host key, logs in and starts the
// SFTP subsystem. Cancelling ctx at any point closes the connection.
func dialSFTP(ctx context.Context, t SFTPTarget, log *slog.Logger) (*sftpConn, error) {
	pinned, err := t.hostKey()
	if err != nil {
		return nil, err
	}
	auth, err := t.authMethods()
	if err != nil {
		return nil, err
	}
	var mismatch atomic.Bool
	cfg := &ssh.ClientConfig{
		User: t.User,
		Auth: auth,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if key.Type() == pinned.Type() && bytes.Equal(key.Marshal(), pinned.Marshal()) {
				return nil
			}
			mismatch.Store(true)
			return fmt.Errorf("%w: server presented %s %s, pinned %s %s", ErrHostKeyMismatch,
				key.Type(), ssh.FingerprintSHA256(key), pinned.Type(), ssh.FingerprintSHA256(pinned))
		},
		// Ask only for the pinned key's algorithm: a server holding several
		// host keys would otherwise present whichever it prefers and look
		// like an impostor.
		HostKeyAlgorithms: hostKeyAlgorithms(pinned),
	}

	dial := t.Dial
	if dial == nil {
		dial = (*netguard.Policy)(nil).DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := dial(dctx, "tcp", t.Addr)
	cancel()
	if err != nil {
		if errors.Is(err, netguard.ErrRefused) {
			return nil, fmt.Errorf("sftp: dial %s: %w", t.Addr, err) // permanent: the address is not allowed
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sftp: dial %s: %w", t.Addr, context.Cause(ctx))
		}
		return nil, transient(fmt.Errorf("sftp: dial %s: %w", t.Addr, err))
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	cc, chans, reqs, err := ssh.NewClientConn(conn, t.Addr, cfg)
	if err != nil {
		stop()
		_ = conn.Close()
		return nil, classifyHandshake(ctx, t.Addr, err, mismatch.Load())
	}
	client := ssh.NewClient(cc, chans, reqs)
	sc, err := sftp.NewClient(client, sftp.UseConcurrentWrites(true))
	if err != nil {
		stop()
		_ = client.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sftp: start subsystem on %s: %w", t.Addr, context.Cause(ctx))
		}
		// A server without the sftp subsystem answers with an error, not a
		// dropped connection; retrying will not help then, so only mark
		// what looks like the network.
		err = fmt.Errorf("sftp: start subsystem on %s: %w", t.Addr, err)
		if IsRetryable(err) {
			err = transient(err)
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	c := &sftpConn{ssh: client, sftp: sc, stop: stop, done: make(chan struct{})}
	go keepalive(client, c.done, log)
	return c, nil
}

// classifyHandshake turns an ssh handshake failure into one of the
// package's error kinds.
func classifyHandshake(ctx context.Context, addr string, err error, mismatch bool) error {
	msg := err.Error()
	switch {
	case mismatch || errors.Is(err, ErrHostKeyMismatch):
		if !errors.Is(err, ErrHostKeyMismatch) {
			err = fmt.Errorf("%w: %w", ErrHostKeyMismatch, err)
		}
		return fmt.Errorf("sftp: connect %s: %w", addr, err)
	case strings.Contains(msg, "no common algorithm for host key"):
		// The server has no key of the pinned type at all.
		return fmt.Errorf("sftp: connect %s: %w: server offers no host key of the pinned type: %w", addr, ErrHostKeyMismatch, err)
	case strings.Contains(msg, "unable to authenticate"):
		// x/crypto/ssh exports no error type for this; its message has
		// been stable for years and is pinned by its own tests.
		return fmt.Errorf("sftp: log in to %s: %w: %w", addr, ErrAuthFailed, err)
	case ctx.Err() != nil:
		return fmt.Errorf("sftp: connect %s: %w", addr, context.Cause(ctx))
	}
	return transient(fmt.Errorf("sftp: connect %s: %w: %w", addr, errSSHHandshake, err))
}

// authMethods builds the login methods from the one configured credential.
func (t SFTPTarget) authMethods() ([]ssh.AuthMethod, error) {
	if t.Password != "" {
		pw := t.Password
		return []ssh.AuthMethod{
			ssh.Password(pw),
			// Many servers offer only keyboard-interactive for passwords;
			// answer its single password prompt too.
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}),
		}, nil
	}
	s, err := t.signer()
	if err != nil {
		return nil, err
	}
	return []ssh.AuthMethod{ssh.PublicKeys(s)}, nil
}

// hostKeyAlgorithms lists the signature algorithms that prove possession of
// key; an RSA key signs with SHA-2 (ssh-rsa/SHA-1 is refused by modern
// servers).
func hostKeyAlgorithms(key ssh.PublicKey) []string {
	if key.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{key.Type()}
}

// keepalive pings the server until done is closed and closes the client
// when a ping goes unanswered, which fails the upload instead of hanging it.
func keepalive(client *ssh.Client, done <-chan struct{}, log *slog.Logger) {
	tick := time.NewTicker(keepaliveEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		answered := make(chan error, 1)
		go func() {
			// Servers answer unknown global requests with a failure,
			// which still proves the peer is alive.
			_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
			answered <- err
		}()
		select {
		case <-done:
			return
		case err := <-answered:
			if err != nil {
				return // the connection is already gone; the upload reports it
			}
		case <-time.After(keepaliveTimeout):
			log.Warn("sftp keepalive unanswered, closing the connection", slog.Duration("waited", keepaliveTimeout))
			_ = client.Close()
			return
		}
	}
}
