//go:build !purego

package model

// Batch norm's float32 passes in batchnorm_amd64.s; they run where
// haveAVX2 is set.

//go:noescape
func affine32AVX(x, z *float32, n int, a, b float32)

//go:noescape
func inputGrad32AVX(x, dz, dx *float32, n int, t *[5]float64)

//go:noescape
func sum32AVX(x *float32, n int) float64

//go:noescape
func sqDev32AVX(x *float32, n int, m float64) float64

//go:noescape
func gradSums32AVX(dy, x *float32, n int, m float64) (sdy, sdyx float64)

//go:noescape
func affineReLU32AVX(x, z *float32, n int, a, b float32)

//go:noescape
func affine2AddReLU32AVX(a, x, y *float32, n int, ax, bx, ay, by float32)

//go:noescape
func reluMask32AVX(x, d *float32, n int, a, b float32)
