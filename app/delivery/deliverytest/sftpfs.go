package deliverytest

import (
	"errors"
	"io"
	"net"
	"os"
	"path"
	"time"

	"github.com/pkg/sftp"
)

// fsHandlers serves SFTP requests from the server's root folder. os.Root
// keeps every path, ".." and symlinks included, inside it.
type fsHandlers struct {
	s             *SFTPServer
	conn          net.Conn // cut by the FailAfterBytes fault
	noPosixRename bool
}

// rel maps an SFTP path (absolute from "/", the root) to an os.Root name.
func rel(p string) string {
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// Fileread opens a file for download.
func (h *fsHandlers) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return h.s.root.Open(rel(r.Filepath))
}

// Filewrite opens a file for upload with the client's open flags.
func (h *fsHandlers) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	fl := r.Pflags()
	flags := os.O_WRONLY
	if fl.Read {
		flags = os.O_RDWR
	}
	if fl.Creat {
		flags |= os.O_CREATE
	}
	if fl.Trunc {
		flags |= os.O_TRUNC
	}
	if fl.Excl {
		flags |= os.O_EXCL
	}
	// No O_APPEND: the request server writes with WriteAt, which it forbids.
	f, err := h.s.root.OpenFile(rel(r.Filepath), flags, 0o644)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, h: h}, nil
}

// Filecmd runs the commands that change the tree.
func (h *fsHandlers) Filecmd(r *sftp.Request) error {
	root, name := h.s.root, rel(r.Filepath)
	switch r.Method {
	case "Setstat":
		return h.setstat(r, name)
	case "Rename":
		// OpenSSH renames with link+unlink, which refuses to replace an
		// existing file; emulating that is what makes the client's
		// fallback path testable.
		if err := root.Link(name, rel(r.Target)); err != nil {
			return err
		}
		return root.Remove(name)
	case "Remove", "Rmdir":
		return root.Remove(name)
	case "Mkdir":
		return root.Mkdir(name, 0o755)
	}
	return sftp.ErrSSHFxOpUnsupported // Link, Symlink
}

// PosixRename replaces the target atomically, unless switched off.
func (h *fsHandlers) PosixRename(r *sftp.Request) error {
	if h.noPosixRename {
		return sftp.ErrSSHFxOpUnsupported
	}
	return h.s.root.Rename(rel(r.Filepath), rel(r.Target))
}

func (h *fsHandlers) setstat(r *sftp.Request, name string) error {
	flags, attrs := r.AttrFlags(), r.Attributes()
	if flags.Size {
		f, err := h.s.root.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		err = f.Truncate(int64(attrs.Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	if flags.Permissions {
		if err := h.s.root.Chmod(name, attrs.FileMode().Perm()); err != nil {
			return err
		}
	}
	if flags.Acmodtime {
		return h.s.root.Chtimes(name, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0))
	}
	return nil
}

// Filelist answers directory listings and stat.
func (h *fsHandlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	name := rel(r.Filepath)
	switch r.Method {
	case "List":
		d, err := h.s.root.Open(name)
		if err != nil {
			return nil, err
		}
		defer d.Close()
		infos, err := d.Readdir(-1)
		if err != nil {
			return nil, err
		}
		return listerAt(infos), nil
	case "Stat":
		fi, err := h.s.root.Stat(name)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported // Readlink
}

// Lstat answers lstat without following a final symlink.
func (h *fsHandlers) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := h.s.root.Lstat(rel(r.Filepath))
	if err != nil {
		return nil, err
	}
	return listerAt{fi}, nil
}

type listerAt []os.FileInfo

// ListAt copies entries from offset on.
func (l listerAt) ListAt(ls []os.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(ls, l[offset:])
	if n < len(ls) {
		return n, io.EOF
	}
	return n, nil
}

// faultFile is an upload target that honours FailAfterBytes.
type faultFile struct {
	*os.File
	h *fsHandlers
}

// WriteAt stores what the fault budget allows and, once it is spent, cuts
// the connection, leaving a partial file behind as a real outage would.
func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	allowed, cut := f.h.s.takeBudget(len(p))
	n, err := f.File.WriteAt(p[:allowed], off)
	if err != nil {
		return n, err
	}
	if cut {
		_ = f.h.conn.Close()
		return n, errors.New("deliverytest: connection cut by FailAfterBytes")
	}
	return n, nil
}
