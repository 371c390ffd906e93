//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// fileLock is an advisory lock (flock) on a path's lock file, held while
// the file is open; the kernel drops it when the process dies, however it
// dies, so a killed run never blocks the next one.
type fileLock struct {
	f    *os.File
	name string
}

// lockFile takes path's lock or fails at once, naming the process that
// holds it.
func lockFile(path string) (*fileLock, error) {
	name := lockName(path)
	for range 10 {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			b, _ := io.ReadAll(io.LimitReader(f, 64))
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, inUse(path, name, b)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		// The last holder removes the lock file before it unlocks; if it
		// did so between our open and our flock, we hold a lock on a file
		// nobody else will open, and must start again.
		fi, err1 := f.Stat()
		cur, err2 := os.Stat(name)
		if err1 == nil && err2 == nil && os.SameFile(fi, cur) {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(holder()), 0)
			temps.Lock()
			remember(name) // removed by a second interrupt's exit too
			temps.Unlock()
			return &fileLock{f: f, name: name}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("locking %s: its lock file %s keeps being replaced", path, name)
}

func (l *fileLock) release() {
	forget(l.name)
	os.Remove(l.name) // before unlocking: see lockFile
	l.f.Close()
}
