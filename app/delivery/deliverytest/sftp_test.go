package deliverytest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// client logs in to s with a plain SFTP client.
func client(t *testing.T, s *SFTPServer) *sftp.Client {
	t.Helper()
	tgt := s.Target("")
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s.HostKey()))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            tgt.User,
		Auth:            []ssh.AuthMethod{ssh.Password(tgt.Password)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestSFTPServerPosixRenameSwitch(t *testing.T) {
	t.Parallel()
	for _, disabled := range []bool{false, true} {
		t.Run(map[bool]string{false: "offered", true: "disabled"}[disabled], func(t *testing.T) {
			t.Parallel()
			s := StartSFTP(t, SFTPConfig{})
			s.DisablePosixRename(disabled)
			c := client(t, s)
			if _, ok := c.HasExtension("posix-rename@openssh.com"); ok == disabled {
				t.Errorf("posix-rename advertised = %v with DisablePosixRename(%v)", ok, disabled)
			}
			if _, ok := c.HasExtension("statvfs@openssh.com"); !ok {
				t.Error("filtering dropped other extensions too")
			}
			for _, n := range []string{"a", "b"} {
				if err := os.WriteFile(filepath.Join(s.Root(), n), []byte(n), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Plain rename never overwrites, as on OpenSSH.
			if err := c.Rename("a", "b"); err == nil {
				t.Error("plain Rename replaced an existing file")
			}
			err := c.PosixRename("a", "b")
			if disabled == (err == nil) {
				t.Errorf("PosixRename() error = %v with DisablePosixRename(%v)", err, disabled)
			}
		})
	}
}

func TestSFTPServerConfinedToRoot(t *testing.T) {
	t.Parallel()
	s := StartSFTP(t, SFTPConfig{})
	outside := filepath.Join(filepath.Dir(s.Root()), "outside-"+filepath.Base(s.Root()))
	if err := os.Symlink(filepath.Dir(s.Root()), filepath.Join(s.Root(), "escape")); err != nil {
		t.Fatal(err)
	}
	c := client(t, s)
	for _, p := range []string{"../" + filepath.Base(outside), "/../../" + filepath.Base(outside)} {
		f, err := c.Create(p)
		if err == nil {
			_ = f.Close()
		}
	}
	if _, err := os.Stat(outside); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a write escaped the root: %v", err)
		_ = os.Remove(outside)
	}
	if f, err := c.Create("escape/" + filepath.Base(outside)); err == nil {
		_ = f.Close()
		t.Error("a write through a symlink out of the root succeeded")
		_ = os.Remove(outside)
	}
}

func TestSFTPServerNewAndClose(t *testing.T) {
	t.Parallel()
	s, err := NewSFTPServer(SFTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	root, addr := s.Root(), s.Addr()
	if s.Target("").Password == "" || s.HostKey() == "" {
		t.Error("want a generated password and host key")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close() left the temporary root: %v", err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		_ = conn.Close()
		t.Error("server still accepts connections after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() error = %v", err)
	}
}
