//go:build linux

// Package guardmem hands tests slices that sit against an inaccessible
// page, so that a kernel reading or writing one element past either end
// faults instead of passing silently on whatever memory follows.
package guardmem

import (
	"os"
	"syscall"
	"testing"
	"unsafe"
)

// Slice returns n zero elements in memory of their own, mapped between two
// PROT_NONE pages: the slice's last element ends where the second page
// begins when atEnd is set, else its first begins where the first page
// ends. The mapping is released when the test ends.
func Slice[T any](tb testing.TB, n int, atEnd bool) []T {
	tb.Helper()
	if n == 0 {
		return []T{}
	}
	var z T
	page := os.Getpagesize()
	bytes := n * int(unsafe.Sizeof(z))
	pages := (bytes+page-1)/page + 2
	mem, err := syscall.Mmap(-1, 0, pages*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		tb.Fatal(err)
	}
	if err := syscall.Mprotect(mem[(pages-1)*page:], syscall.PROT_NONE); err != nil {
		tb.Fatal(err)
	}
	off := page
	if atEnd {
		off = (pages-1)*page - bytes
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[off])), n)
}

// Copy is Slice holding a copy of s.
func Copy[T any](tb testing.TB, s []T, atEnd bool) []T {
	tb.Helper()
	g := Slice[T](tb, len(s), atEnd)
	copy(g, s)
	return g
}
