//go:build !amd64 || purego

package data

// Without the amd64 assembly the Go loop does all the work.
var haveAVX = false

func u8AffineF32AVX(src *uint8, scale, shift *float64, dst *float32, n int) { panic("unreachable") }
