//go:build !purego

package num

import "golang.org/x/sys/cpu"

// haveAddAVX says whether Axpy with alpha = 1 runs add_amd64.s's loops.
// Tests turn it off to compare with gonum's axpy.
var haveAddAVX = cpu.X86.HasAVX

//go:noescape
func add32AVX(y, x *float32, n int)

//go:noescape
func add64AVX(y, x *float64, n int)
