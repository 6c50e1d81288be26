package delivery

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/pkg/sftp"
)

// staleAfter is how old a leftover temporary file must be before a push
// removes it. An upload in progress rewrites its file continuously, so an
// hour without change means its writer is gone.
const staleAfter = time.Hour

// replace moves tmp over final so that final always holds either the old
// or the new complete content.
func replace(c *sftp.Client, tmp, final string, log *slog.Logger) error {
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		err := c.PosixRename(tmp, final)
		if err == nil {
			log.Debug("sftp: replaced atomically with posix-rename")
			return nil
		}
		if !isUnsupported(err) {
			return fmt.Errorf("posix-rename %s to %s: %w", tmp, final, err)
		}
		log.Warn("sftp: server offers posix-rename but refused it; using plain rename", slog.Any("error", err))
	}

	// Plain SFTP rename refuses to overwrite on OpenSSH and most servers,
	// so it only succeeds outright for the first push.
	firstErr := c.Rename(tmp, final)
	if firstErr == nil {
		log.Debug("sftp: renamed into place (no previous file)")
		return nil
	}
	if _, err := c.Stat(final); err != nil {
		// Nothing to replace, so the rename failed for another reason.
		return fmt.Errorf("rename %s to %s: %w", tmp, final, firstErr)
	}
	// Move the old file aside rather than deleting it, so that it can be
	// put back if the second rename fails. The final name is missing only
	// between the two renames.
	old := path.Join(path.Dir(final), hiddenName(path.Base(final), "old"))
	if err := c.Rename(final, old); err != nil {
		return fmt.Errorf("move %s aside: %w", final, err)
	}
	if err := c.Rename(tmp, final); err != nil {
		if rerr := c.Rename(old, final); rerr != nil {
			log.Error("sftp: could not restore the previous file; it is kept under a hidden name",
				slog.String("path", old), slog.Any("error", rerr))
			return fmt.Errorf("rename %s to %s: %w (restoring the previous file failed too: %w)", tmp, final, err, rerr)
		}
		return fmt.Errorf("rename %s to %s: %w", tmp, final, err)
	}
	if err := c.Remove(old); err != nil {
		log.Warn("sftp: could not remove the previous file; a later push removes it",
			slog.String("path", old), slog.Any("error", err))
	}
	log.Debug("sftp: replaced by moving the previous file aside (no posix-rename)")
	return nil
}

// isUnsupported reports an SSH_FX_OP_UNSUPPORTED answer.
func isUnsupported(err error) bool {
	var status *sftp.StatusError
	return errors.As(err, &status) && status.FxCode() == sftp.ErrSSHFxOpUnsupported
}

// removeStale deletes temporary and set-aside files of earlier pushes of
// name that died with their connection. It is best effort: drop boxes that
// forbid listing simply keep them.
func removeStale(c *sftp.Client, dir, name string, log *slog.Logger) {
	if dir == "" {
		dir = "."
	}
	entries, err := c.ReadDir(dir)
	if err != nil {
		log.Debug("sftp: cannot list folder to remove stale temporary files", slog.Any("error", err))
		return
	}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, "."+name+".tmp-") && !strings.HasPrefix(n, "."+name+".old-") {
			continue
		}
		if !e.Mode().IsRegular() || time.Since(e.ModTime()) < staleAfter {
			continue
		}
		p := path.Join(dir, n)
		if err := c.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("sftp: could not remove stale temporary file", slog.String("path", p), slog.Any("error", err))
			continue
		}
		log.Info("sftp: removed stale temporary file", slog.String("path", p))
	}
}
