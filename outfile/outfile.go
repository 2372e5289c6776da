// Package outfile writes the command line's output files whole or not at
// all. A file is written to a temporary name in its own directory and
// renamed to its name once complete, so that a failed or interrupted
// write never leaves a partial file under the name asked for; an
// interrupted command removes the temporaries still being written
// (Abort). Paths can be checked before the work that fills them starts.
//
// It is not part of the simulator's core: the package keeps, behind a
// mutex, which files are being written and which are complete, for the
// command's interrupt handler.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// state is every write of this process: temporaries in progress and
// files completed, in completion order.
var state struct {
	mu      sync.Mutex
	temps   map[string]bool
	written []string
	aborted bool
	seq     int // the last temporary's number
}

// ErrAborted is the error of a write that Abort interrupted.
var ErrAborted = errors.New("interrupted; the partial file was removed")

// Write creates path with what write writes: into a temporary file in
// path's directory, renamed to path once write returns without error and
// the file is closed. On any error, or after Abort, the temporary is
// removed and nothing appears at path.
func Write(path string, write func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, base)
	if err != nil {
		return unwrapPath(err)
	}
	tmp := f.Name()

	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}

	state.mu.Lock()
	defer state.mu.Unlock()
	delete(state.temps, tmp)
	switch {
	case state.aborted:
		err = ErrAborted
	case err == nil:
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	state.written = append(state.written, path)
	return nil
}

// createTemp creates a new file beside base in dir, named after it and
// hidden, and records it for Abort. It holds the lock from naming the file
// to recording it, so that an Abort in between cannot miss it. Unlike
// os.CreateTemp (mode 0600) it leaves the mode to the umask, as os.Create
// does, since it becomes the output file.
func createTemp(dir, base string) (*os.File, error) {
	state.mu.Lock()
	defer state.mu.Unlock()
	for {
		if state.aborted {
			return nil, ErrAborted
		}
		state.seq++
		name := filepath.Join(dir, fmt.Sprintf(".%s.partial-%d-%d", base, os.Getpid(), state.seq))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if state.temps == nil {
			state.temps = map[string]bool{}
		}
		state.temps[name] = true
		return f, nil
	}
}

// Abort removes every temporary being written and makes every write,
// under way or to come, fail with ErrAborted. It returns the files
// completed before it, for the command to say what it left.
func Abort() (written []string) {
	state.mu.Lock()
	defer state.mu.Unlock()
	state.aborted = true
	for tmp := range state.temps {
		os.Remove(tmp) // order does not matter: each is removed
	}
	clear(state.temps)
	return append([]string(nil), state.written...)
}

// CheckFile reports, before any work, whether a file can be written at
// path: its directory exists and takes new files, and path is not a
// directory.
func CheckFile(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory; name a file", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the directory %s does not exist", dir)
	case err != nil:
		return unwrapPath(err)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	return checkWritable(dir)
}

// CheckDir reports, before any work, whether files can be written into
// dir: it is a directory that takes new files, or it does not exist yet
// and its nearest existing parent is one (Write's caller creates it).
func CheckDir(dir string) error {
	dir = filepath.Clean(dir)
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) && filepath.Dir(d) != d:
			continue // a parent tells
		case err != nil:
			return unwrapPath(err)
		case !fi.IsDir():
			return fmt.Errorf("%s is not a directory", d)
		}
		err = checkWritable(d)
		if err != nil && d != dir {
			return fmt.Errorf("cannot create %s: %w", dir, err)
		}
		return err
	}
}

// checkWritable creates and removes a file in dir: permission bits alone
// do not tell (a read-only mount, another user's directory, root).
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".simulate-check-*")
	if errors.Is(err, fs.ErrNotExist) {
		// The directory is there, yet a new file in it is not found: a
		// kernel file system's (/proc, /sys), which takes no new files.
		return fmt.Errorf("%s takes no new files (a system directory like /proc or /sys)", dir)
	}
	if err != nil {
		return fmt.Errorf("cannot write into %s: %w", dir, errors.Unwrap(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// unwrapPath words an *fs.PathError as "path: reason".
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
