//go:build !amd64 || purego

package optim

// Without the amd64 assembly the Go loops do all the work.
var haveAVX = false

func adam32AVX(p, grad, m, v *float32, n int, c *[8]float32) { panic("unreachable") }

func rmsprop32AVX(p, grad, s, b *float32, n int, c *[8]float32) { panic("unreachable") }

func momentum32AVX(p, grad, v *float32, n int, c *[8]float32, nesterov bool) {
	panic("unreachable")
}
