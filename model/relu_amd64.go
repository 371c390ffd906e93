//go:build !purego

package model

import "golang.org/x/sys/cpu"

// haveAVX2 says whether the float32 loops that have an AVX2 twin in this
// package's assembly (ReLU, pooling, batch norm, im2col and col2im, the
// conv bias gradient's sums) run in it. Tests turn it off to compare with
// the Go loops.
var haveAVX2 = cpu.X86.HasAVX2

//go:noescape
func reluForward32AVX2(z, a *float32, n int)

//go:noescape
func reluBackward32AVX2(a, d *float32, n int)

//go:noescape
func addReLU32AVX(a, x, y *float32, n int)
