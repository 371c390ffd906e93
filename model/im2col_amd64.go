//go:build !purego

package model

// The float32 kernels of im2col's and col2im's fast paths (im2col_fast.go:
// masked copies and adds, gathers, stride-2 rows) and of the conv bias
// gradient's plane sums (planeSums), in im2col_amd64.s; they run where
// haveAVX2 is set.

//go:noescape
func andCopy32AVX(dst, src, mask *float32, n int)

//go:noescape
func andAdd32AVX(dst, src, mask *float32, n int)

//go:noescape
func gatherPlane32AVX(out, plane *float32, idx *int32, n int)

//go:noescape
func sum4x4AVX(x *float32, hw, n int, c *[16]float32)

//go:noescape
func maskedPlanes32AVX(dst, src *float32, off int, mask *float32, n, planes, ldd, lds int)

//go:noescape
func andAddPlanes32AVX(dst, src, mask *float32, n, planes, ldd, lds int)

//go:noescape
func stride2Planes32AVX(dst, src *float32, planes, rows, wo, lo, cnt, lds, ldp, lsp int)

//go:noescape
func stride2AddPlanes32AVX(dst, src *float32, planes, rows, wo, cnt, ldd, ldp, lsp int)
