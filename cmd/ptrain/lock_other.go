//go:build !unix

package main

import (
	"errors"
	"fmt"
	"os"
)

// fileLock is a lock file created exclusively: the portable fallback where
// flock is missing. Unlike flock it outlives a killed process, so the
// message says how to clear it.
type fileLock struct{ name string }

func lockFile(path string) (*fileLock, error) {
	name := lockName(path)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		b, _ := os.ReadFile(name)
		return nil, fmt.Errorf("%w (if that process is gone, remove %s)", inUse(path, name, b), name)
	}
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	_, _ = f.WriteString(holder())
	f.Close()
	temps.Lock()
	remember(name) // removed by a second interrupt's exit too
	temps.Unlock()
	return &fileLock{name: name}, nil
}

func (l *fileLock) release() {
	forget(l.name)
	os.Remove(l.name)
}
