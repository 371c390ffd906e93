package safetensors

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes what write produces to path so that path holds
// either its previous content or the whole new one, whatever happens: the
// bytes go to a temporary file named TempPrefix(path)+digits beside path,
// which is fsynced, made 0644 and renamed over path, and the directory is
// fsynced, so that when it returns the file is durable. A failed write
// removes the temporary file and leaves path as it was. It writes any
// file, not only safetensors.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return AtomicWriter{}.WriteFile(path, write)
}

// TempPrefix is how the names of WriteFileAtomic's temporary files for
// path begin: ".NAME.tmp", NAME being path's base name. A program can
// remove those a killed writer left (holding a lock on path, so that
// they are not a live writer's).
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp" }

// AtomicWriter is WriteFileAtomic with hooks, for a program that removes
// its own temporary files when it is killed in the middle of a write (the
// ptrain command does on a second interrupt). The zero value is
// WriteFileAtomic.
type AtomicWriter struct {
	// CreateTemp makes the temporary file, as os.CreateTemp(dir, pattern)
	// does; nil is os.CreateTemp. A program that tracks its temporary
	// files records the name here, under the lock its clean-up takes, so
	// that none escapes it.
	CreateTemp func(dir, pattern string) (*os.File, error)
	// Done, if not nil, is called with the temporary file's name once it
	// is gone: renamed over path, or removed after a failure.
	Done func(name string)
}

// WriteFile is WriteFileAtomic with a's hooks.
func (a AtomicWriter) WriteFile(path string, write func(io.Writer) error) error {
	create := a.CreateTemp
	if create == nil {
		create = os.CreateTemp
	}
	dir := filepath.Dir(path)
	tmp, err := create(dir, TempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		os.Remove(tmp.Name()) // after the rename this fails harmlessly
		if a.Done != nil {
			a.Done(tmp.Name())
		}
	}()
	err = write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644) // CreateTemp makes it 0600
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}
