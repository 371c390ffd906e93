//go:build !amd64 || purego

package model

func pool2Row32AVX(r0, r1, out, id *float32, n int, bias float32, idx0, ww int, relu bool, sum *float32) int {
	panic("unreachable")
}

func unpool2Row32AVX(dz, z, id, r0, r1 *float32, n int, idx0, ww int, relu bool, sum *float32) int {
	panic("unreachable")
}
