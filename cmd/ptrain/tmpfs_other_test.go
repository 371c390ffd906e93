//go:build !linux

package main

// ramTempDir leaves TMPDIR as it is: see tmpfs_linux_test.go.
func ramTempDir() (cleanup func()) { return func() {} }
