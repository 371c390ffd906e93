//go:build !purego

package model

import "golang.org/x/sys/cpu"

// haveAVX2 says whether the float32 ReLU loops and 2×2 pooling run in
// relu_amd64.s and pool_amd64.s. Tests turn it off to compare with the Go
// loops.
var haveAVX2 = cpu.X86.HasAVX2

//go:noescape
func reluForward32AVX2(z, a *float32, n int)

//go:noescape
func reluBackward32AVX2(a, d *float32, n int)

//go:noescape
func addReLU32AVX(a, x, y *float32, n int)
