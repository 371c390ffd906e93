//go:build !amd64 || purego

package parallel

// Without the amd64 assembly the portable passes do all the work.
var haveAVX = false

func copySumSq32AVX(dst, src *float32, n int) float32 { panic("unreachable") }

func diffSumSq32AVX(a, b *float32, n int) float32 { panic("unreachable") }

func sumSq32AVX(x *float32, n int) float32 { panic("unreachable") }

func addSumSq32AVX(y, x *float32, n int) float32 { panic("unreachable") }
