//go:build !amd64 || purego

package model

func andCopy32AVX(dst, src, mask *float32, n int) { panic("unreachable") }

func andAdd32AVX(dst, src, mask *float32, n int) { panic("unreachable") }

func gatherPlane32AVX(out, plane *float32, idx *int32, n int) { panic("unreachable") }

func sum4x4AVX(x *float32, hw, n int, c *[16]float32) { panic("unreachable") }

func maskedPlanes32AVX(dst, src *float32, off int, mask *float32, n, planes, ldd, lds int) {
	panic("unreachable")
}

func andAddPlanes32AVX(dst, src, mask *float32, n, planes, ldd, lds int) { panic("unreachable") }

func stride2Planes32AVX(dst, src *float32, planes, rows, wo, lo, cnt, lds, ldp, lsp int) {
	panic("unreachable")
}

func stride2AddPlanes32AVX(dst, src *float32, planes, rows, wo, cnt, ldd, ldp, lsp int) {
	panic("unreachable")
}
