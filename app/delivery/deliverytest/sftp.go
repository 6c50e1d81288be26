package deliverytest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/netguard"
)

// SFTPConfig configures an SFTP server. The zero value works: a random
// password for user "acpbridge" over a new temporary folder.
type SFTPConfig struct {
	// User is the login name; default "acpbridge".
	User string
	// Password is accepted for User; empty picks a random one unless
	// AuthorizedKey is set. Read it back from Target.
	Password string
	// AuthorizedKey, in authorized_keys format, is accepted for public-key
	// login as User.
	AuthorizedKey string
	// Root is the folder served as "/"; empty creates a temporary folder
	// that Close removes.
	Root string
	// HostKeyPEM is the server's private host key; empty generates an
	// ed25519 key, so each server has a new identity.
	HostKeyPEM []byte
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
}

// SFTPServer is an SSH server offering only the sftp subsystem, confined
// to its root folder.
type SFTPServer struct {
	cfg      SFTPConfig
	log      *slog.Logger
	ln       net.Listener
	sshCfg   *ssh.ServerConfig
	hostKey  ssh.PublicKey
	userKey  ssh.PublicKey
	root     *os.Root
	ownsRoot bool

	rejectAuth    atomic.Bool
	noPosixRename atomic.Bool
	authAttempts  atomic.Int64

	faultMu   sync.Mutex
	failAfter int64 // bytes left before the cut; < 0 disarmed

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// StartSFTP starts a server for one test, serving t.TempDir() unless
// cfg.Root is set, and closes it when the test ends.
func StartSFTP(tb testing.TB, cfg SFTPConfig) *SFTPServer {
	tb.Helper()
	if cfg.Root == "" {
		cfg.Root = tb.TempDir()
	}
	s, err := NewSFTPServer(cfg)
	if err != nil {
		tb.Fatalf("deliverytest: start SFTP server: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// NewSFTPServer starts a server; the caller must Close it.
func NewSFTPServer(cfg SFTPConfig) (*SFTPServer, error) {
	if cfg.User == "" {
		cfg.User = "acpbridge"
	}
	if cfg.Password == "" && cfg.AuthorizedKey == "" {
		cfg.Password = rand.Text()
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	s := &SFTPServer{cfg: cfg, log: cfg.Logger, failAfter: -1, conns: map[net.Conn]struct{}{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	signer, err := hostSigner(cfg.HostKeyPEM)
	if err != nil {
		return nil, err
	}
	s.hostKey = signer.PublicKey()
	if cfg.AuthorizedKey != "" {
		if s.userKey, _, _, _, err = ssh.ParseAuthorizedKey([]byte(cfg.AuthorizedKey)); err != nil {
			return nil, fmt.Errorf("deliverytest: AuthorizedKey: %w", err)
		}
	}
	s.sshCfg = &ssh.ServerConfig{PasswordCallback: s.checkPassword, PublicKeyCallback: s.checkKey}
	s.sshCfg.AddHostKey(signer)

	dir := cfg.Root
	if dir == "" {
		if dir, err = os.MkdirTemp("", "deliverytest-sftp-"); err != nil {
			return nil, fmt.Errorf("deliverytest: create root folder: %w", err)
		}
		s.cfg.Root, s.ownsRoot = dir, true
	}
	if s.root, err = os.OpenRoot(dir); err != nil {
		s.removeRoot()
		return nil, fmt.Errorf("deliverytest: open root folder: %w", err)
	}
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		_ = s.root.Close()
		s.removeRoot()
		return nil, fmt.Errorf("deliverytest: listen: %w", err)
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

func hostSigner(pemBytes []byte) (ssh.Signer, error) {
	if len(pemBytes) > 0 {
		s, err := ssh.ParsePrivateKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("deliverytest: HostKeyPEM: %w", err)
		}
		return s, nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("deliverytest: generate host key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

// Addr returns the host:port the server listens on.
func (s *SFTPServer) Addr() string { return s.ln.Addr().String() }

// HostKey returns the server's public host key as an authorized_keys line,
// ready for SFTPTarget.HostKey.
func (s *SFTPServer) HostKey() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey)))
}

// Root returns the local folder served as "/".
func (s *SFTPServer) Root() string { return s.root.Name() }

// LoopbackPolicy is the outbound policy the test servers here need: they
// listen on 127.0.0.1.
var LoopbackPolicy = &netguard.Policy{AllowLoopback: true}

// Target returns a delivery target that logs in to this server with its
// password, writing to dir.
func (s *SFTPServer) Target(dir string) delivery.SFTPTarget {
	return delivery.SFTPTarget{Addr: s.Addr(), User: s.cfg.User, Password: s.cfg.Password, HostKey: s.HostKey(), Dir: dir,
		Dial: LoopbackPolicy.DialContext}
}

// AuthAttempts counts the credentials clients presented (password or
// public key); zero proves a client sent none.
func (s *SFTPServer) AuthAttempts() int { return int(s.authAttempts.Load()) }

// FailAfterBytes arms a one-shot fault: once n more bytes of file content
// have been written, the server writes no more and cuts the connection of
// the upload in progress. A negative n disarms it.
func (s *SFTPServer) FailAfterBytes(n int64) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.failAfter = max(n, -1)
}

// RejectAuth makes every login fail while on.
func (s *SFTPServer) RejectAuth(on bool) { s.rejectAuth.Store(on) }

// DisablePosixRename hides the posix-rename@openssh.com extension from
// sessions started while it is on, and refuses the request, like servers
// without it. Plain rename then refuses to overwrite, as OpenSSH's does.
func (s *SFTPServer) DisablePosixRename(on bool) { s.noPosixRename.Store(on) }

// Close stops the server, cuts open connections and waits for them; it
// removes the root folder when the server created it.
func (s *SFTPServer) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	_ = s.root.Close()
	s.removeRoot()
	return err
}

func (s *SFTPServer) removeRoot() {
	if s.ownsRoot {
		_ = os.RemoveAll(s.cfg.Root)
	}
}

// takeBudget says how many of n bytes a write may store and whether the
// connection must be cut after it.
func (s *SFTPServer) takeBudget(n int) (allowed int, cut bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	switch {
	case s.failAfter < 0:
		return n, false
	case s.failAfter >= int64(n):
		s.failAfter -= int64(n)
		return n, false
	}
	allowed, s.failAfter = int(s.failAfter), -1
	return allowed, true
}

func (s *SFTPServer) checkPassword(c ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
	s.authAttempts.Add(1)
	userOK := subtle.ConstantTimeCompare([]byte(c.User()), []byte(s.cfg.User)) == 1
	passOK := s.cfg.Password != "" && subtle.ConstantTimeCompare(password, []byte(s.cfg.Password)) == 1
	if s.rejectAuth.Load() || !userOK || !passOK {
		return nil, errors.New("deliverytest: wrong user or password")
	}
	return nil, nil
}

func (s *SFTPServer) checkKey(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	s.authAttempts.Add(1)
	if s.rejectAuth.Load() || s.userKey == nil || c.User() != s.cfg.User ||
		subtle.ConstantTimeCompare(key.Marshal(), s.userKey.Marshal()) != 1 {
		return nil, errors.New("deliverytest: key not authorized")
	}
	return nil, nil
}

func (s *SFTPServer) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return // listener closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handleConn(conn)
	}
}

// handleConn runs the SSH handshake and serves the connection's sessions.
func (s *SFTPServer) handleConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		_ = conn.Close()
	}()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(conn, s.sshCfg)
	if err != nil {
		s.log.Debug("deliverytest: ssh handshake failed", slog.Any("error", err))
		return
	}
	defer sc.Close()
	_ = conn.SetDeadline(time.Time{})
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions are served")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go s.handleSession(conn, ch, creqs)
	}
}

// handleSession starts the sftp subsystem when asked and refuses
// everything else (no shell, no exec).
func (s *SFTPServer) handleSession(conn net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer s.wg.Done()
	defer ch.Close()
	started := false
	for req := range reqs {
		ok := !started && req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
		_ = req.Reply(ok, nil)
		if ok {
			started = true
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serveSFTP(conn, ch)
				_ = ch.Close()
			}()
		}
	}
}

func (s *SFTPServer) serveSFTP(conn net.Conn, ch ssh.Channel) {
	noPosix := s.noPosixRename.Load()
	var rwc = ssh.Channel(ch)
	if noPosix {
		rwc = &extensionFilter{Channel: ch, drop: "posix-rename@openssh.com"}
	}
	h := &fsHandlers{s: s, conn: conn, noPosixRename: noPosix}
	rs := sftp.NewRequestServer(rwc, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
	if err := rs.Serve(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("deliverytest: sftp session ended", slog.Any("error", err))
	}
	_ = rs.Close()
}
