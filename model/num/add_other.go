//go:build !amd64 || purego

package num

// Without the amd64 assembly Axpy with alpha = 1 is the BLAS's axpy.
var haveAddAVX = false

func add32AVX(y, x *float32, n int) { panic("unreachable") }

func add64AVX(y, x *float64, n int) { panic("unreachable") }
