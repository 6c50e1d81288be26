package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"time"

	"github.com/pkg/sftp"
)

// SetFile is one file of a set pushed together: its name in Dir and its
// content, opened when the file is uploaded.
type SetFile struct {
	Name string
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// SetResult describes a completed push of a file set.
type SetResult struct {
	Files    []PushResult // the files, then the manifest
	Bytes    int64
	Removed  []string // stale files removed after the manifest
	Duration time.Duration
}

// PushSFTPSet pushes a shard set over one connection so that a reader who
// goes by the manifest never sees a mixed set:
//
//  1. every file is uploaded to a temporary name (as PushSFTP does: hidden,
//     fsync'd, size checked); a failure here removes them all and leaves
//     the previous set untouched;
//  2. each file is then renamed over its final name (atomically with
//     posix-rename);
//  3. the manifest is uploaded and renamed into place last: it is the
//     set's commit point, and lists each file's SHA-256, so a reader who
//     reads it first can tell a file of the next set from one of its own;
//  4. only then are the files stale(name) selects that are not in the set
//     removed: the shards of a previous set of another size.
//
// SFTP has no rename of several files at once, so between steps 2 and 3 a
// reader who lists the folder instead of reading the manifest can see new
// shards beside old ones. When the shard count changes every name changes
// with it, so the old set stays whole until its files are removed in 4.
func PushSFTPSet(ctx context.Context, t SFTPTarget, files []SetFile, manifest SetFile, stale func(name string) bool) (*SetResult, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("sftp push: %w", err)
	}
	all := append(slices.Clip(files), manifest)
	for i, f := range all {
		if err := validateName(f.Name); err != nil {
			return nil, fmt.Errorf("sftp push: %w", err)
		}
		if f.Open == nil {
			return nil, fmt.Errorf("sftp push: %w: no content for %s", ErrInvalidTarget, f.Name)
		}
		if slices.ContainsFunc(all[:i], func(g SetFile) bool { return g.Name == f.Name }) {
			return nil, fmt.Errorf("sftp push: %w: %s twice in the set", ErrInvalidTarget, f.Name)
		}
	}
	log := t.logger().With(slog.String("sftp_addr", t.Addr), slog.String("manifest", manifest.Name), slog.Int("files", len(files)))
	start := time.Now()
	conn, err := dialSFTP(ctx, t, log)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	c := conn.sftp
	for _, f := range all {
		removeStale(c, t.Dir, f.Name, log)
	}

	res := &SetResult{}
	fail := func(err error) (*SetResult, error) {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("sftp: push set to %s: %w: %w", t.Dir, context.Cause(ctx), err)
		}
		return nil, fmt.Errorf("sftp: push set to %s: %w", t.Dir, err)
	}
	// 1. Every shard to a temporary name.
	tmps := make([]string, len(files))
	discardAll := func() {
		for _, tmp := range tmps {
			if tmp != "" {
				discard(c, tmp, log)
			}
		}
	}
	for i, f := range files {
		tmps[i] = path.Join(t.Dir, hiddenName(f.Name, "tmp"))
		r, err := uploadSetFile(ctx, c, tmps[i], f, log)
		if err != nil {
			discardAll()
			return fail(err)
		}
		res.Files = append(res.Files, *r)
	}
	// 2. Each into place.
	for i, f := range files {
		final := path.Join(t.Dir, f.Name)
		if err := replace(c, tmps[i], final, log); err != nil {
			discardAll()
			return fail(err)
		}
		tmps[i] = ""
		res.Files[i].RemotePath = final
	}
	// 3. The manifest, last.
	tmp := path.Join(t.Dir, hiddenName(manifest.Name, "tmp"))
	r, err := uploadSetFile(ctx, c, tmp, manifest, log)
	if err == nil {
		r.RemotePath = path.Join(t.Dir, manifest.Name)
		err = replace(c, tmp, r.RemotePath, log)
	}
	if err != nil {
		discard(c, tmp, log)
		return fail(err)
	}
	res.Files = append(res.Files, *r)
	// 4. Stale files of an earlier set.
	res.Removed = removeStaleSet(c, t.Dir, all, stale, log)
	for _, f := range res.Files {
		res.Bytes += f.Bytes
	}
	res.Duration = time.Since(start)
	log.Info("sftp set push done", slog.Int64("bytes", res.Bytes), slog.Int("removed", len(res.Removed)),
		slog.Duration("duration", res.Duration))
	return res, nil
}

func uploadSetFile(ctx context.Context, c *sftp.Client, tmp string, f SetFile, log *slog.Logger) (*PushResult, error) {
	r, err := f.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	defer r.Close()
	n, sum, err := upload(ctx, c, tmp, r, log)
	if err != nil {
		return nil, err
	}
	return &PushResult{Bytes: n, SHA256: sum}, nil
}

// removeStaleSet removes the files of dir that stale selects and the set
// does not hold, and returns their names. It is best effort, like
// removeStale: a folder that cannot be listed keeps them.
func removeStaleSet(c *sftp.Client, dir string, set []SetFile, stale func(string) bool, log *slog.Logger) []string {
	if stale == nil {
		return nil
	}
	if dir == "" {
		dir = "."
	}
	entries, err := c.ReadDir(dir)
	if err != nil {
		log.Warn("sftp: cannot list folder to remove the previous set's files", slog.Any("error", err))
		return nil
	}
	var removed []string
	for _, e := range entries {
		n := e.Name()
		if !e.Mode().IsRegular() || !stale(n) || slices.ContainsFunc(set, func(f SetFile) bool { return f.Name == n }) {
			continue
		}
		p := path.Join(dir, n)
		if err := c.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("sftp: could not remove a previous set's file", slog.String("path", p), slog.Any("error", err))
			continue
		}
		removed = append(removed, n)
	}
	slices.Sort(removed)
	return removed
}
