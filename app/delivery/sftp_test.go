package delivery_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/delivery/deliverytest"
)

const testPassword = "pa55-w0rd-never-logged"

// startSFTP starts a server and returns a target for it whose log goes to
// logs.
func startSFTP(t *testing.T, logs io.Writer) (*deliverytest.SFTPServer, delivery.SFTPTarget) {
	t.Helper()
	srv := deliverytest.StartSFTP(t, deliverytest.SFTPConfig{Password: testPassword})
	tgt := srv.Target("")
	if logs == nil {
		logs = io.Discard
	}
	tgt.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return srv, tgt
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// dirNames lists a local folder, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func otherHostKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

func TestPushSFTPRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dir      string // remote folder
		localDir string // the same folder under Root
		size     int
	}{
		{"login folder", "", "", 3<<20 + 17},
		{"absolute folder", "/upload", "upload", 1 << 20},
		{"relative folder", "upload", "upload", 10},
		{"empty file", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			srv, tgt := startSFTP(t, &logs)
			tgt.Dir = tt.dir
			if tt.localDir != "" {
				if err := os.Mkdir(filepath.Join(srv.Root(), tt.localDir), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			data := randomBytes(t, tt.size)
			res, err := delivery.PushSFTP(t.Context(), tgt, "products.jsonl.gz", bytes.NewReader(data))
			if err != nil {
				t.Fatalf("PushSFTP() error = %v", err)
			}
			got, err := os.ReadFile(filepath.Join(srv.Root(), tt.localDir, "products.jsonl.gz"))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			if !bytes.Equal(got, data) {
				t.Errorf("remote file differs: %d bytes, want %d", len(got), len(data))
			}
			if res.SHA256 != hex.EncodeToString(sum[:]) || res.Bytes != int64(len(data)) {
				t.Errorf("result = %+v, want %d bytes, sha256 %x", res, len(data), sum)
			}
			if want := strings.TrimPrefix(tt.dir+"/products.jsonl.gz", "/"); tt.dir == "" && res.RemotePath != want {
				t.Errorf("RemotePath = %q, want %q", res.RemotePath, want)
			}
			if names := dirNames(t, filepath.Join(srv.Root(), tt.localDir)); !slices.Equal(names, []string{"products.jsonl.gz"}) {
				t.Errorf("folder holds %q, want only the final file", names)
			}
			if strings.Contains(logs.String(), testPassword) {
				t.Error("log contains the password")
			}
		})
	}
}

func TestPushSFTPOverwritesInPlace(t *testing.T) {
	t.Parallel()
	for _, posix := range []bool{true, false} {
		name := "posix-rename"
		if !posix {
			name = "fallback without posix-rename"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, tgt := startSFTP(t, nil)
			srv.DisablePosixRename(!posix)
			old := randomBytes(t, 200_000)
			updated := []byte("shorter new content\n") // shorter, so a missing truncate would show
			for _, content := range [][]byte{old, updated} {
				if _, err := delivery.PushSFTP(t.Context(), tgt, "feed.csv.gz", bytes.NewReader(content)); err != nil {
					t.Fatalf("PushSFTP() error = %v", err)
				}
			}
			got, err := os.ReadFile(filepath.Join(srv.Root(), "feed.csv.gz"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, updated) {
				t.Errorf("remote file = %q, want the second push", got)
			}
			if names := dirNames(t, srv.Root()); !slices.Equal(names, []string{"feed.csv.gz"}) {
				t.Errorf("folder holds %q, want only the final file (no temporary files)", names)
			}
		})
	}
}

func TestPushSFTPHostKeyMismatch(t *testing.T) {
	t.Parallel()
	srv, tgt := startSFTP(t, nil)
	tgt.HostKey = otherHostKey(t)
	_, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("data"))
	if !errors.Is(err, delivery.ErrHostKeyMismatch) {
		t.Fatalf("PushSFTP() error = %v, want ErrHostKeyMismatch", err)
	}
	if delivery.IsRetryable(err) {
		t.Error("IsRetryable() = true for a host key mismatch")
	}
	if n := srv.AuthAttempts(); n != 0 {
		t.Errorf("server saw %d credential attempts, want 0: credentials went to an unverified host", n)
	}
	if names := dirNames(t, srv.Root()); len(names) != 0 {
		t.Errorf("folder holds %q, want nothing written", names)
	}
}

func TestPushSFTPAuthFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*deliverytest.SFTPServer, *delivery.SFTPTarget)
	}{
		{"wrong password", func(_ *deliverytest.SFTPServer, tgt *delivery.SFTPTarget) { tgt.Password = "wrong-" + testPassword }},
		{"wrong user", func(_ *deliverytest.SFTPServer, tgt *delivery.SFTPTarget) { tgt.User = "someone" }},
		{"server rejects all", func(s *deliverytest.SFTPServer, _ *delivery.SFTPTarget) { s.RejectAuth(true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt := startSFTP(t, nil)
			tt.mutate(srv, &tgt)
			_, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("data"))
			if !errors.Is(err, delivery.ErrAuthFailed) {
				t.Fatalf("PushSFTP() error = %v, want ErrAuthFailed", err)
			}
			if delivery.IsRetryable(err) {
				t.Error("IsRetryable() = true for an auth failure")
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Error("error message contains the password")
			}
			if names := dirNames(t, srv.Root()); len(names) != 0 {
				t.Errorf("folder holds %q, want nothing written", names)
			}
		})
	}
}

func TestPushSFTPPrivateKeyAuth(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	srv := deliverytest.StartSFTP(t, deliverytest.SFTPConfig{AuthorizedKey: string(ssh.MarshalAuthorizedKey(sshPub))})
	tgt := srv.Target("")
	tgt.Password = ""
	tgt.PrivateKeyPEM = pemEncode(block.Type, block.Bytes)
	if _, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("hello")); err != nil {
		t.Fatalf("PushSFTP() error = %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(srv.Root(), "feed.jsonl.gz")); string(got) != "hello" {
		t.Errorf("remote file = %q, want %q", got, "hello")
	}
}

func TestPushSFTPConnectionCutMidUpload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		old  []byte // pushed first; nil for a first push
	}{
		{"first push", nil},
		{"second push keeps old content", []byte("old complete feed\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt := startSFTP(t, nil)
			final := filepath.Join(srv.Root(), "feed.jsonl.gz")
			if tt.old != nil {
				if _, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", bytes.NewReader(tt.old)); err != nil {
					t.Fatalf("first PushSFTP() error = %v", err)
				}
			}
			srv.FailAfterBytes(100_000)
			_, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", bytes.NewReader(randomBytes(t, 1<<20)))
			if err == nil {
				t.Fatal("PushSFTP() succeeded through a cut connection")
			}
			if !delivery.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = false, want true", err)
			}
			got, readErr := os.ReadFile(final)
			switch {
			case tt.old == nil && !errors.Is(readErr, os.ErrNotExist):
				t.Errorf("final name exists after a failed first push (%d bytes, err %v)", len(got), readErr)
			case tt.old != nil && !bytes.Equal(got, tt.old):
				t.Errorf("final name holds %d bytes, want the old %d-byte content", len(got), len(tt.old))
			}

			// The fault is one-shot: the next push goes through.
			want := []byte("recovered\n")
			if _, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", bytes.NewReader(want)); err != nil {
				t.Fatalf("PushSFTP() after the cut error = %v", err)
			}
			if got, _ := os.ReadFile(final); !bytes.Equal(got, want) {
				t.Errorf("final name = %q after recovery, want %q", got, want)
			}
		})
	}
}

// endlessReader yields bytes forever and calls cancel once after limit.
type endlessReader struct {
	n, limit int
	cancel   func()
}

func (r *endlessReader) Read(p []byte) (int, error) {
	r.n += len(p)
	if r.n > r.limit && r.cancel != nil {
		r.cancel()
		r.cancel = nil
	}
	return len(p), nil
}

func TestPushSFTPContextCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int // bytes read before the cancel; -1 cancels before the push
	}{
		{"cancelled mid-upload", 512 << 10},
		{"cancelled before", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, tgt := startSFTP(t, nil)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.limit < 0 {
				cancel()
			}
			start := time.Now()
			_, err := delivery.PushSFTP(ctx, tgt, "feed.jsonl.gz", &endlessReader{limit: tt.limit, cancel: cancel})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("PushSFTP() error = %v, want context.Canceled", err)
			}
			if delivery.IsRetryable(err) {
				t.Error("IsRetryable() = true for a cancelled push")
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("PushSFTP() took %s to stop", d)
			}
			if _, err := os.Stat(filepath.Join(srv.Root(), "feed.jsonl.gz")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("final name exists after a cancelled push: %v", err)
			}
		})
	}
}

func TestPushSFTPRemovesStaleTemporaryFiles(t *testing.T) {
	t.Parallel()
	srv, tgt := startSFTP(t, nil)
	stale := filepath.Join(srv.Root(), ".feed.jsonl.gz.tmp-STALE")
	fresh := filepath.Join(srv.Root(), ".feed.jsonl.gz.tmp-INPROGRESS")
	other := filepath.Join(srv.Root(), ".other.tmp-STALE")
	for _, p := range []string{stale, fresh, other} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{stale, other} {
		if err := os.Chtimes(p, twoHoursAgo, twoHoursAgo); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("new")); err != nil {
		t.Fatalf("PushSFTP() error = %v", err)
	}
	want := []string{".feed.jsonl.gz.tmp-INPROGRESS", ".other.tmp-STALE", "feed.jsonl.gz"}
	if names := dirNames(t, srv.Root()); !slices.Equal(names, want) {
		t.Errorf("folder holds %q, want %q (only this feed's stale file removed)", names, want)
	}
}

func TestPushSFTPMissingFolder(t *testing.T) {
	t.Parallel()
	_, tgt := startSFTP(t, nil)
	tgt.Dir = "/does-not-exist"
	_, err := delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("x"))
	if err == nil {
		t.Fatal("PushSFTP() into a missing folder succeeded")
	}
	if delivery.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true for a missing folder", err)
	}
}

func TestPushSFTPNoServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	tgt := delivery.SFTPTarget{Addr: addr, User: "u", Password: "p", HostKey: otherHostKey(t), Dial: deliverytest.LoopbackPolicy.DialContext}
	_, err = delivery.PushSFTP(t.Context(), tgt, "feed.jsonl.gz", strings.NewReader("x"))
	if err == nil || !delivery.IsRetryable(err) {
		t.Fatalf("PushSFTP() to a closed port error = %v, want a retryable error", err)
	}
}

func TestPushSFTPRejectsBadNames(t *testing.T) {
	t.Parallel()
	tgt := delivery.SFTPTarget{Addr: "127.0.0.1:1", User: "u", Password: "p", HostKey: otherHostKey(t)}
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, ".hidden", "bad\nname", strings.Repeat("x", 201)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := delivery.PushSFTP(t.Context(), tgt, name, strings.NewReader("x"))
			if !errors.Is(err, delivery.ErrInvalidTarget) {
				t.Errorf("PushSFTP(name %q) error = %v, want ErrInvalidTarget", name, err)
			}
		})
	}
}
