//go:build !purego

package model

// The 2×2 max pooling of a fused convolution (convpool.go) on float32, in
// pool_amd64.s; they run where haveAVX2 is set.

//go:noescape
func pool2Plane32AVX(plane, out, id *float32, ph, pw int, scale, bias float32, ww int, relu bool, sum *float32) int

//go:noescape
func unpool2Plane32AVX(dz, z, id, d *float32, ph, pw, ww int, relu bool, sum *float32)

//go:noescape
func add32AVX(dst, src *float32, n int)
