//go:build !purego

package parallel

import "golang.org/x/sys/cpu"

// haveAVX says whether the float32 passes of normsq.go run in
// normsq_amd64.s. Tests turn it off to compare with the portable passes.
var haveAVX = cpu.X86.HasAVX

//go:noescape
func copySumSq32AVX(dst, src *float32, n int) float32

//go:noescape
func diffSumSq32AVX(a, b *float32, n int) float32

//go:noescape
func sumSq32AVX(x *float32, n int) float32

//go:noescape
func addSumSq32AVX(y, x *float32, n int) float32
