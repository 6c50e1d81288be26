package delivery

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/pkg/sftp"
)

// maxNameLen leaves room under the usual 255-byte NAME_MAX for the
// temporary name's prefix and suffix.
const maxNameLen = 200

// PushResult describes a completed SFTP push.
type PushResult struct {
	// RemotePath is the final path on the server (Dir/name).
	RemotePath string
	// Bytes is the number of bytes uploaded.
	Bytes int64
	// SHA256 is the lower-case hex SHA-256 of the uploaded bytes.
	SHA256 string
	// Duration runs from dial to the final rename.
	Duration time.Duration
}

// PushSFTP uploads the content of r to Dir/name: written first to a
// temporary name in the same folder (".name.tmp-RANDOM"), fsync'd where the
// server supports it, then renamed over the final name with
// posix-rename@openssh.com when offered (atomic replace), else by moving the
// old file aside, renaming, and removing the old copy. A failure at any
// point removes the temporary file when it can and never leaves a partial
// file under the final name.
//
// Cancelling ctx closes the connection; the upload stops at r's next Read
// (a Read blocked forever cannot be interrupted). Temporary files that a
// dropped connection left behind are removed by a later push once they are
// an hour old. Errors wrap ErrInvalidTarget, ErrHostKeyMismatch or
// ErrAuthFailed where those apply; IsRetryable tells the rest apart.
func PushSFTP(ctx context.Context, t SFTPTarget, name string, r io.Reader) (*PushResult, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("sftp push: %w", err)
	}
	if err := validateName(name); err != nil {
		return nil, fmt.Errorf("sftp push: %w", err)
	}
	if r == nil {
		return nil, fmt.Errorf("sftp push: %w: reader is nil", ErrInvalidTarget)
	}
	log := t.logger().With(slog.String("sftp_addr", t.Addr), slog.String("file", name))
	start := time.Now()

	conn, err := dialSFTP(ctx, t, log)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	final := path.Join(t.Dir, name)
	tmp := path.Join(t.Dir, hiddenName(name, "tmp"))
	removeStale(conn.sftp, t.Dir, name, log)

	n, sum, err := upload(ctx, conn.sftp, tmp, r, log)
	if err == nil {
		err = replace(conn.sftp, tmp, final, log)
	}
	if err != nil {
		discard(conn.sftp, tmp, log)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sftp: push %s: %w: %w", final, context.Cause(ctx), err)
		}
		return nil, fmt.Errorf("sftp: push %s: %w", final, err)
	}
	res := &PushResult{RemotePath: final, Bytes: n, SHA256: sum, Duration: time.Since(start)}
	log.Info("sftp push done", slog.String("remote_path", final), slog.Int64("bytes", n),
		slog.String("sha256", sum), slog.Duration("duration", res.Duration))
	return res, nil
}

// upload writes r to the new file tmp and checks that the server holds all
// of it.
func upload(ctx context.Context, c *sftp.Client, tmp string, r io.Reader, log *slog.Logger) (int64, string, error) {
	// O_EXCL: the name is random, so an existing file means a collision
	// with another writer, which must not be overwritten.
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return 0, "", fmt.Errorf("create %s: %w", tmp, err)
	}
	src := &hashingReader{ctx: ctx, r: r, h: sha256.New()}
	// ReadFrom would fall back to one write at a time for a reader of
	// unknown size; overlapping writes matter for big feeds on a far server.
	if _, err := f.ReadFromWithConcurrency(src, 0); err != nil {
		_ = f.Close()
		if src.err != nil {
			return 0, "", fmt.Errorf("read feed content: %w", src.err)
		}
		return 0, "", fmt.Errorf("write %s: %w", tmp, err)
	}
	if data, ok := c.HasExtension("fsync@openssh.com"); ok && data == "1" {
		// Without it a server crash right after the rename could expose an
		// empty or short file under the final name.
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return 0, "", fmt.Errorf("fsync %s: %w", tmp, err)
		}
	}
	// Close reports write errors the server deferred.
	if err := f.Close(); err != nil {
		return 0, "", fmt.Errorf("close %s: %w", tmp, err)
	}
	// Concurrent writes fail independently; make sure none went missing.
	// Drop boxes that forbid stat skip the check rather than the push.
	fi, err := c.Stat(tmp)
	switch {
	case errors.Is(err, os.ErrPermission) || isUnsupported(err):
		log.Debug("sftp: cannot stat the uploaded file; size not verified", slog.Any("error", err))
	case err != nil:
		return 0, "", fmt.Errorf("stat %s: %w", tmp, err)
	case fi.Size() != src.n:
		return 0, "", transient(fmt.Errorf("%s holds %d bytes after uploading %d", tmp, fi.Size(), src.n))
	}
	return src.n, hex.EncodeToString(src.h.Sum(nil)), nil
}

// hashingReader counts and hashes what passes through, stops once ctx is
// done, and keeps the source's own error apart from the server's.
type hashingReader struct {
	ctx context.Context
	r   io.Reader
	h   hash.Hash
	n   int64
	err error
}

func (s *hashingReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// discard removes the temporary file after a failure. Over a dropped
// connection it cannot; removeStale in a later push catches that file.
func discard(c *sftp.Client, tmp string, log *slog.Logger) {
	if err := c.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Warn("sftp: could not remove temporary file; a later push removes it",
			slog.String("path", tmp), slog.Any("error", err))
	}
}

// validateName accepts a plain file name that cannot escape Dir or collide
// with the hidden names PushSFTP uses for its own files.
func validateName(name string) error {
	switch {
	case name == "":
		return invalidf("file name is required")
	case len(name) > maxNameLen:
		return invalidf("file name is longer than %d bytes", maxNameLen)
	case name == "." || name == "..":
		return invalidf("file name %q is not a file", name)
	case strings.ContainsAny(name, `/\`):
		return invalidf("file name %q must not contain a path separator; use Dir for the folder", name)
	case strings.HasPrefix(name, "."):
		return invalidf("file name %q must not start with a dot (reserved for temporary files)", name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return invalidf("file name %q contains a control character", name)
	}
	return nil
}

// hiddenName returns ".name.kind-RANDOM", a name in the same folder that
// dot-file-ignoring ingesters skip.
func hiddenName(name, kind string) string {
	return "." + name + "." + kind + "-" + rand.Text()[:12]
}
