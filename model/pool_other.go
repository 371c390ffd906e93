//go:build !amd64 || purego

package model

func pool2Plane32AVX(plane, out, id *float32, ph, pw int, scale, bias float32, ww int, relu bool, sum *float32) int {
	panic("unreachable")
}

func unpool2Plane32AVX(dz, z, id, d *float32, ph, pw, ww int, relu bool, sum *float32) {
	panic("unreachable")
}

func add32AVX(dst, src *float32, n int) { panic("unreachable") }
