//go:build !purego

package optim

import "golang.org/x/sys/cpu"

// haveAVX says whether the float32 update loops run in kernels_amd64.s.
// Tests turn it off to compare with the Go loops.
var haveAVX = cpu.X86.HasAVX

//go:noescape
func adam32AVX(p, grad, m, v *float32, n int, c *[8]float32)

//go:noescape
func rmsprop32AVX(p, grad, s, b *float32, n int, c *[8]float32)

//go:noescape
func momentum32AVX(p, grad, v *float32, n int, c *[8]float32, nesterov bool)
