package parallel

import "github.com/ptrain/ptrain/model/num"

// The two passes the optimizer phase adds per block when statistics are
// on (applyChunk): before the update, copy θ and sum θ²; after it, sum
// (θ_old − θ_new)². In float32 on amd64 each is one AVX pass (16 lanes of
// float32 partial sums over a block of at most applyBlock elements, then
// float64); elsewhere they are the BLAS's copy, dot and axpy.

// copySumSq copies src to dst and returns Σ src².
func copySumSq[T num.Float](dst, src []T) float64 {
	dst = dst[:len(src)]
	if !num.Is32[T]() || !haveAVX || len(src) < 16 {
		copy(dst, src)
		return float64(num.Dot(dst, dst))
	}
	n := len(src) &^ 15
	s := float64(copySumSq32AVX(&num.As32(dst)[0], &num.As32(src)[0], n))
	copy(dst[n:], src[n:])
	for _, v := range src[n:] {
		s += float64(v) * float64(v)
	}
	return s
}

// diffSumSq returns Σ (a − b)². It may overwrite a.
func diffSumSq[T num.Float](a, b []T) float64 {
	a = a[:len(b)]
	if !num.Is32[T]() || !haveAVX || len(b) < 16 {
		num.Axpy(-1, b, a)
		return float64(num.Dot(a, a))
	}
	n := len(b) &^ 15
	s := float64(diffSumSq32AVX(&num.As32(a)[0], &num.As32(b)[0], n))
	for i := n; i < len(b); i++ {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}
