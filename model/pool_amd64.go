//go:build !purego

package model

// The 2×2 max pooling of a fused convolution (convpool.go) on float32, in
// pool_amd64.s; they run where haveAVX2 is set.

//go:noescape
func pool2Row32AVX(r0, r1, out, id *float32, n int, bias float32, idx0, ww int, relu bool, sum *float32) int

//go:noescape
func unpool2Row32AVX(dz, z, id, r0, r1 *float32, n int, idx0, ww int, relu bool, sum *float32) int
